/**
 * `dtwn ipfs add` / `dtwn ipfs cat`: in-process for the logic and its errors (bin/dtwn.js turns them into
 * "dtwn: message" and exit code 1, as test/model/cli.test.ts checks), and as a user runs it for binary-safe stdout.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ipfsAdd, ipfsCat } from "../../src/cli/ipfs";

const ROOT = path.resolve(__dirname, "..", "..");

function dtwn(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "dtwn.js"), ...args], { cwd: ROOT, env: { ...process.env, IPFS_API_URL: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout: Buffer.concat(out), stderr }));
  });
}

describe("dtwn ipfs (CLI)", function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-ipfs-cli-"));
  const repo = path.join(dir, "repo");
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // Every byte value, 300 KB: two chunks, and any text-mode mangling of stdout would show.
  const binary = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 131 + (i >> 8)) & 0xff));
  const binFile = path.join(dir, "blob.bin");
  fs.writeFileSync(binFile, binary);

  it("add prints Kubo's CID; cat returns the bytes; --only-hash stores nothing", async () => {
    const hello = path.join(dir, "hello.txt");
    fs.writeFileSync(hello, "hello world\n");
    expect(await ipfsAdd(hello, { repo, onlyHash: true })).to.equal("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
    expect(fs.existsSync(repo)).to.equal(false);
    expect(await ipfsAdd(hello, { repo })).to.equal("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
    expect(Buffer.from(await ipfsCat("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", { repo })).toString()).to.equal("hello world\n");
  });

  it("names a missing file, a directory and a malformed CID", async () => {
    for (const [run, re] of [
      [() => ipfsAdd(path.join(dir, "nope.bin"), { repo }), /^Cannot add .*nope\.bin: no such file\.$/],
      [() => ipfsAdd(dir, { repo }), /is a directory; dtwn ipfs add takes one file/],
      [() => ipfsCat("Qm123", { repo }), /^Not a valid CID: "Qm123"/],
      [() => ipfsCat("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", { api: "http://127.0.0.1:5001", peer: ["/ip4/127.0.0.1/tcp/1"] }), /--peer applies to the embedded store/],
    ] as const) {
      await run().then(
        () => expect.fail(`no error, expected ${re}`),
        (e: Error) => expect(e.message).to.match(re),
      );
    }
  });

  it("as a command: cat writes binary bytes to stdout unchanged", async () => {
    const cid = await ipfsAdd(binFile, { repo });
    const r = await dtwn(["ipfs", "cat", cid], { DTWN_IPFS_REPO: repo });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.equals(binary)).to.equal(true);
  });

  it("an unknown CID is refused at once with where it looked and what to do", async () => {
    await ipfsCat("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", { repo }).then(
      () => expect.fail("found an unknown CID"),
      (e: Error) =>
        expect(e.message).to.equal(
          `IPFS QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH is not in the local store ${repo} and this store is offline. Add the file here first, or fetch it from the node that has it (dtwn ipfs cat QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH --peer /ip4/127.0.0.1/tcp/PORT/p2p/ID).`,
        ),
    );
  });
});
