/**
 * src/chain/localNode: what `npm run node` (`dtwn chain node`) spawns for each client, its refusals, and anvil started
 * for real with interval mining and a state file kept across a restart.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { anvilPath, freeLocalPort, localNodeCommand, startLocalNode, type LocalClient } from "../../src/chain/localNode";

async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result as T;
}

describe("src/chain/localNode: a local node, Hardhat or anvil, on 127.0.0.1", function () {
  this.timeout(60_000);

  it("hardhat: `hardhat node` on 127.0.0.1 with wall-clock blocks, and interval mining through DTWN_BLOCK_TIME_MS", () => {
    const plain = localNodeCommand({ client: "hardhat", port: 8545 });
    expect(plain.command).to.equal(process.execPath);
    expect(plain.args.slice(1)).to.deep.equal(["node", "--hostname", "127.0.0.1", "--port", "8545"]);
    expect(plain.env).to.deep.equal({ DTWN_WALL_CLOCK: "1" });
    expect(localNodeCommand({ client: "hardhat", port: 8545, blockTimeSeconds: 12 }).env).to.deep.equal({ DTWN_WALL_CLOCK: "1", DTWN_BLOCK_TIME_MS: "12000" });
  });

  it("anvil: its binary on 127.0.0.1, chain id 31337, 20 dev accounts, --block-time and --state when asked", () => {
    const bin = () => "/x/anvil";
    expect(localNodeCommand({ client: "anvil", port: 9000 }, bin)).to.deep.equal({
      command: "/x/anvil",
      args: ["--host", "127.0.0.1", "--port", "9000", "--chain-id", "31337", "--accounts", "20"],
      env: {},
    });
    expect(localNodeCommand({ client: "anvil", port: 9000, blockTimeSeconds: 2, stateFile: "/s.json" }, bin).args.slice(-5)).to.deep.equal(["--block-time", "2", "--state", "/s.json", "--preserve-historical-states"]);
    expect(localNodeCommand({ client: "anvil", port: 9000, randomAccountsFile: "/a.json" }, bin).args.slice(-3)).to.deep.equal(["--mnemonic-random", "--config-out", "/a.json"]);
    expect(fs.existsSync(anvilPath()), "the pinned @foundry-rs/anvil ships this platform's binary").to.equal(true);
  });

  it("refuses an unknown client, a port out of range, a fractional or zero block time, and a state file for hardhat, saying what to use", () => {
    expect(() => localNodeCommand({ client: "geth" as LocalClient, port: 1 })).to.throw(/Unknown node client "geth": use one of hardhat, anvil/);
    expect(() => localNodeCommand({ client: "anvil", port: 70_000 })).to.throw(/not a TCP port/);
    expect(() => localNodeCommand({ client: "anvil", port: 1, blockTimeSeconds: 0.5 })).to.throw(/whole number of seconds, at least 1/);
    expect(() => localNodeCommand({ client: "anvil", port: 1, blockTimeSeconds: 0 })).to.throw(/at least 1/);
    expect(() => localNodeCommand({ client: "hardhat", port: 1, stateFile: "s.json" })).to.throw(/use --client anvil for a state file/);
    expect(() => localNodeCommand({ client: "hardhat", port: 1, randomAccountsFile: "a.json" })).to.throw(/use --client anvil for random accounts/);
  });

  it("anvil with --block-time 1 mines blocks with no transaction, and a restart with its state file keeps the chain", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-anvil-"));
    const state = path.join(dir, "state.json");
    try {
      const first = await startLocalNode({ client: "anvil", port: await freeLocalPort(), blockTimeSeconds: 1, stateFile: state });
      const b0 = Number(await rpc<string>(first.url, "eth_blockNumber"));
      await new Promise((r) => setTimeout(r, 2_500));
      const b1 = Number(await rpc<string>(first.url, "eth_blockNumber"));
      expect(b1 - b0, "blocks mined in 2.5 s at one per second").to.be.within(2, 3);
      await first.stop();
      expect(fs.existsSync(state), "anvil dumped its state on SIGTERM").to.equal(true);
      const second = await startLocalNode({ client: "anvil", port: await freeLocalPort(), stateFile: state });
      try {
        expect(Number(await rpc<string>(second.url, "eth_blockNumber"))).to.be.at.least(b1);
      } finally {
        await second.stop();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("hardhat with --block-time 1 mines blocks with no transaction too (interval mining)", async () => {
    const node = await startLocalNode({ client: "hardhat", port: await freeLocalPort(), blockTimeSeconds: 1 });
    try {
      const b0 = Number(await rpc<string>(node.url, "eth_blockNumber"));
      await new Promise((r) => setTimeout(r, 2_500));
      expect(Number(await rpc<string>(node.url, "eth_blockNumber")) - b0).to.be.within(2, 3);
    } finally {
      await node.stop();
    }
  });

  it("a port another node holds is refused before anything starts (that node would answer for this one)", async () => {
    const port = await freeLocalPort();
    const first = await startLocalNode({ client: "anvil", port });
    try {
      await startLocalNode({ client: "anvil", port }, { timeoutMs: 20_000 }).then(
        (n) => n.stop().then(() => expect.fail("a second node started on a taken port")),
        (e: Error) => expect(e.message).to.equal(`Port ${port} on 127.0.0.1 is taken (another node?): stop that process or choose another port (--port).`),
      );
    } finally {
      await first.stop();
    }
  });
});
