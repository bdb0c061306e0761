/**
 * The deployment path a user takes, end to end, with real processes: `npx hardhat node` as a separate JSON-RPC
 * process on 127.0.0.1, the `dtwn-deploy` task against it (Ignition + deployments file + bootstrap), then the plain
 * ethers v6 script (no Hardhat) reading the deployments file and listing the BSs and their coins.
 */
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

async function waitForRpc(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`hardhat node at ${url} did not start within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("deployment against a standalone `npx hardhat node`", function () {
  this.timeout(180_000);
  let node: ChildProcess | undefined;
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-deploy-"));
  const out = path.join(dir, "localhost.json");

  before(async () => {
    node = spawn("npx", ["hardhat", "node", "--hostname", "127.0.0.1", "--port", String(port)], {
      cwd: ROOT,
      stdio: "ignore",
      detached: true,
    });
    await waitForRpc(url, 60_000);
  });

  after(() => {
    if (node?.pid) process.kill(-node.pid, "SIGTERM");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("deploys with Ignition, writes the deployments file, and a plain ethers script lists the BSs and coins", () => {
    const env = { ...process.env, DTWN_LOCAL_RPC_URL: url };
    const deploy = spawnSync(
      "npx",
      ["hardhat", "dtwn-deploy", "--network", "localhost", "--bootstrap", "--users", "12", "--bss", "5", "--out", out],
      { cwd: ROOT, env, encoding: "utf8" },
    );
    expect(deploy.status, deploy.stderr + deploy.stdout).to.equal(0);
    const file = JSON.parse(fs.readFileSync(out, "utf8"));
    expect(file.network).to.equal("localhost");
    expect(file.chainId).to.equal(31337);
    expect(file.rpcUrl).to.equal(url);
    expect(Object.keys(file.contracts)).to.have.length(11);

    const list = spawnSync("npx", ["ts-node", "--transpile-only", "scripts/list-bss.ts", out, "--json"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(list.status, list.stderr).to.equal(0);
    expect(list.stdout).to.not.match(/hardhat/i);
    const status = JSON.parse(list.stdout) as {
      totalSupply: string;
      bss: { address: string; coins: string; bonded: string; dataSamples: string; twins: string }[];
    };
    expect(status.bss).to.have.length(5);
    const totalSamples = status.bss.reduce((s, b) => s + BigInt(b.dataSamples), 0n);
    expect(status.bss.reduce((s, b) => s + Number(b.twins), 0)).to.equal(12);
    const initialSupply = BigInt(file.params.initialSupply);
    let sum = 0n;
    for (const b of status.bss) {
      // Eq. 6: S_i = S_ini * D_i / sum_k D_k (rounded down), paid bonded: all of it weighs votes and verdicts.
      expect(BigInt(b.coins)).to.equal((initialSupply * BigInt(b.dataSamples)) / totalSamples);
      expect(b.bonded).to.equal(b.coins);
      sum += BigInt(b.coins);
    }
    expect(BigInt(status.totalSupply)).to.equal(sum);

    // The CLI shows the same BSs and coins.
    const cli = spawnSync("node", ["bin/dtwn.js", "chain", "status", "-d", out, "--json"], { cwd: ROOT, encoding: "utf8" });
    expect(cli.status, cli.stderr).to.equal(0);
    const viaCli = JSON.parse(cli.stdout) as typeof status;
    expect(viaCli.bss.map((b) => [b.address, b.coins])).to.deep.equal(status.bss.map((b) => [b.address, b.coins]));
  });

  it("the plain script fails with a clear message when the deployments file is missing", () => {
    const list = spawnSync("npx", ["ts-node", "--transpile-only", "scripts/list-bss.ts", path.join(dir, "nope.json")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(list.status).to.equal(1);
    expect(list.stderr).to.match(/No deployment file at .*nope\.json\. Deploy first/);
  });
});
