/**
 * A testnet rehearsal without dev keys (issue 13), recorded in results/:
 *   npx ts-node --transpile-only scripts/rehearse-testnet.ts [--block-time 12] [--out results/system/testnet-rehearsal] [-- dtwn run options]
 * Starts anvil on 127.0.0.1 with a random mnemonic and a block every `--block-time` seconds, takes its first account
 * as the operator, writes a fresh key per BS into its own encrypted keystore (ethers' default scrypt), then runs
 * `dtwn run --network testnet` with those in the environment only (DTWN_RPC_URL, DTWN_DEPLOYER_KEY,
 * DTWN_BS<i>_KEYSTORE, DTWN_KEYSTORE_PASSWORD), the BSs funded by the operator (`--fund-bs-ether`). Afterwards it
 * checks that no key or password is in any file of the run folder, and removes the keys and the node. The run's
 * options after `--` are passed on (defaults below: 3 BSs, 12 users, 3 rounds, windows for 12 s blocks).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { filesHolding } from "../src/io/secretScan";
import { freeLocalPort, readNodeAccounts, startLocalNode } from "../src/chain/localNode";

const ROOT = path.resolve(__dirname, "..");

function arg(name: string, fallback: string): string {
  const k = process.argv.indexOf(name);
  return k >= 0 && k + 1 < process.argv.length ? process.argv[k + 1] : fallback;
}

async function main(): Promise<void> {
  const blockTime = Number(arg("--block-time", "12"));
  const out = path.resolve(arg("--out", path.join(ROOT, "results", "system", "testnet-rehearsal")));
  const bss = Number(arg("--bss", "3"));
  const passThrough = process.argv.includes("--") ? process.argv.slice(process.argv.indexOf("--") + 1) : [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-rehearsal-"));
  const node = await startLocalNode({ client: "anvil", port: await freeLocalPort(), blockTimeSeconds: blockTime, randomAccountsFile: path.join(dir, "accounts.json") });
  try {
    const operator = readNodeAccounts(path.join(dir, "accounts.json"))[0].privateKey;
    fs.rmSync(path.join(dir, "accounts.json"));
    const password = randomBytes(16).toString("hex");
    const env: NodeJS.ProcessEnv = { ...process.env, DTWN_RPC_URL: node.url, DTWN_DEPLOYER_KEY: operator, DTWN_KEYSTORE_PASSWORD: password };
    const secrets = [operator, password];
    for (let i = 0; i < bss; i++) {
      const w = Wallet.createRandom();
      const file = path.join(dir, `bs-${i}.json`);
      fs.writeFileSync(file, await w.encrypt(password));
      env[`DTWN_BS${i}_KEYSTORE`] = file;
      secrets.push(w.privateKey);
    }
    console.log(`anvil on ${node.url}: a block every ${blockTime} s, accounts of a random mnemonic; ${bss} BS keystores in ${dir}`);
    const s = blockTime;
    const args = [
      "bin/dtwn.js", "run", "--network", "testnet", "--bss", String(bss), "--users", "12", "--rounds", "3", "--policy", "average",
      // windows in blocks (every transaction waits a block or two; they close early once every BS is done); a DPoS
      // slot of c + 1 = 3 blocks (src/chain/blockTime.ts)
      "--fund-bs-ether", "1", "--confirmations", "2", "--slot-seconds", String(3 * s), "--proposal-window-seconds", String(Math.max(20, 4 * s)),
      "--reveal-window-seconds", String(Math.max(30, 5 * s)), "--first-round-seconds", String(Math.max(120, 25 * s)), "--min-round-seconds", String(Math.max(60, 15 * s)),
      "--verification-window-seconds", String(Math.max(60, 10 * s)), "--test-images", "1000", "--held-out-per-bs", "100",
      ...passThrough, "-o", out,
    ];
    const t0 = Date.now();
    const code = await new Promise<number | null>((resolve) => spawn(process.execPath, args, { cwd: ROOT, env, stdio: "inherit" }).once("exit", resolve));
    console.log(`dtwn run exited with ${code} after ${((Date.now() - t0) / 60_000).toFixed(1)} min`);
    const leaked = fs.existsSync(out) ? filesHolding(out, secrets) : [];
    console.log(leaked.length === 0 ? `no key or password in any file of ${out}` : `SECRETS FOUND in: ${leaked.join(", ")}`);
    process.exitCode = code === 0 && leaked.length === 0 ? 0 : 1;
  } finally {
    await node.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
