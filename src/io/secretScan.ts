/** Finding secrets written where they must not be (a run folder): a check for tests and the testnet rehearsal. */
import fs from "node:fs";
import path from "node:path";

/** Files under `dir` (recursively) whose bytes hold one of `secrets` (hex keys without 0x, in lower or upper case). */
export function filesHolding(dir: string, secrets: readonly string[]): string[] {
  const needles = secrets.flatMap((s) => [s.replace(/^0x/, ""), s.replace(/^0x/, "").toUpperCase()]).map((s) => Buffer.from(s));
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.isFile()) {
        const bytes = fs.readFileSync(f); // once per file, not once per needle (IPFS repositories hold GBs)
        if (needles.some((n) => bytes.includes(n))) hits.push(f);
      }
    }
  };
  walk(dir);
  return hits;
}
