/**
 * The deployment path a user takes, end to end, with real processes, on both node clients: `hardhat node` and anvil
 * as a separate JSON-RPC process on 127.0.0.1 (src/chain/localNode.ts, as `npm run node` starts them), the `dtwn-deploy` task against it (Ignition + deployments file + bootstrap), then the plain
 * ethers v6 script (no Hardhat) reading the deployments file and listing the BSs and their coins.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { freeLocalPort, LOCAL_CLIENTS, startLocalNode, type LocalNode } from "../../src/chain/localNode";

const ROOT = path.resolve(__dirname, "..", "..");

for (const client of LOCAL_CLIENTS) {
  describe(`deployment against a standalone ${client} node (\`npm run node -- --client ${client}\`)`, function () {
    this.timeout(180_000);
    let node: LocalNode | undefined;
    let url: string;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-deploy-"));
    const out = path.join(dir, "localhost.json");

    before(async () => {
      node = await startLocalNode({ client, port: await freeLocalPort() });
      url = node.url;
    });

    after(async () => {
      await node?.stop();
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
  });
}

describe("the plain ethers script without a deployment", () => {
  it("the plain script fails with a clear message when the deployments file is missing", () => {
    const list = spawnSync("npx", ["ts-node", "--transpile-only", "scripts/list-bss.ts", path.join(os.tmpdir(), "dtwn-no-such-deployment", "nope.json")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(list.status).to.equal(1);
    expect(list.stderr).to.match(/No deployment file at .*nope\.json\. Deploy first/);
  });
});
