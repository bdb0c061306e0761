/**
 * src/chain/blockTime: the windows a run needs, checked against the chain's block time, and the block time read from
 * real nodes (anvil's interval, automine, and blocks measured on `hardhat node` with interval mining).
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { blockTimeProblems, checkWindowsFitBlockTime, detectBlockTime, MIN_BLOCKS_PER_WINDOW, type ProtocolWindows } from "../../src/chain/blockTime";
import { freeLocalPort, startLocalNode } from "../../src/chain/localNode";
import { localProvider } from "../../src/chain/provider";

const ROOT = path.resolve(__dirname, "..", "..");
/** The windows of a default `dtwn run` (src/system/options.ts, the protocol's reveal window). */
const DEFAULTS: ProtocolWindows = { slotSeconds: 4, verificationWindowSeconds: 60, revealWindowSeconds: 30, firstRoundSeconds: 120, minRoundSeconds: 20, proposalWindowSeconds: 20 };

describe("src/chain/blockTime: windows against the chain's block time", function () {
  this.timeout(60_000);

  it("on automine (block time 0) every window fits", () => {
    expect(blockTimeProblems({ ...DEFAULTS, slotSeconds: 1, minRoundSeconds: 5 }, { seconds: 0, how: "automine" })).to.deep.equal([]);
  });

  it("at 2 s blocks the defaults fit; a 1 s slot or a 5 s window does not", () => {
    expect(blockTimeProblems(DEFAULTS, { seconds: 2, how: "t" })).to.deep.equal([]);
    const problems = blockTimeProblems({ ...DEFAULTS, slotSeconds: 1, minRoundSeconds: 5 }, { seconds: 2, how: "t" });
    expect(problems).to.have.length(2);
    expect(problems[0]).to.equal("a DPoS slot of 1 s holds fewer than 2 blocks of 2 s: a block proposed in it must be read by the other producers (1 confirmation) and approved before the slot ends; use --slot-seconds 4 or more");
    expect(problems[1]).to.equal(`minRoundSeconds = 5 s spans fewer than ${MIN_BLOCKS_PER_WINDOW} blocks of 2 s: set --min-round-seconds to 6 or more`);
  });

  it("at 12 s blocks (a public testnet) the defaults are refused, each window with the value that would work", () => {
    expect(() => checkWindowsFitBlockTime(DEFAULTS, { seconds: 12, how: "a testnet" })).to.throw(
      [
        "The chain mines a block every 12 s (a testnet); these windows cannot work with it:",
        "  - a DPoS slot of 4 s holds fewer than 2 blocks of 12 s: a block proposed in it must be read by the other producers (1 confirmation) and approved before the slot ends; use --slot-seconds 24 or more",
        "  - revealWindowSeconds = 30 s spans fewer than 3 blocks of 12 s: set --reveal-window-seconds to 36 or more",
        "  - minRoundSeconds = 20 s spans fewer than 3 blocks of 12 s: set --min-round-seconds to 36 or more",
        "  - proposalWindowSeconds = 20 s spans fewer than 3 blocks of 12 s: set --proposal-window-seconds to 36 or more",
      ].join("\n"),
    );
  });

  it("with c confirmations a DPoS slot must hold c + 1 blocks (proposed, read c - 1 blocks later, approved in the next)", () => {
    expect(blockTimeProblems({ ...DEFAULTS, slotSeconds: 8 }, { seconds: 2, how: "t" }, MIN_BLOCKS_PER_WINDOW, 3)).to.deep.equal([]);
    expect(blockTimeProblems(DEFAULTS, { seconds: 2, how: "t" }, MIN_BLOCKS_PER_WINDOW, 3)).to.deep.equal([
      "a DPoS slot of 4 s holds fewer than 4 blocks of 2 s: a block proposed in it must be read by the other producers (3 confirmations) and approved before the slot ends; use --slot-seconds 8 or more",
    ]);
    expect(blockTimeProblems({ ...DEFAULTS, slotSeconds: 12, revealWindowSeconds: 36, minRoundSeconds: 36, proposalWindowSeconds: 36 }, { seconds: 12, how: "t" }, MIN_BLOCKS_PER_WINDOW, 2)[0]).to.match(/use --slot-seconds 36 or more$/);
  });

  it("reads anvil's interval, and 0 on automine", async () => {
    for (const blockTimeSeconds of [undefined, 2]) {
      const node = await startLocalNode({ client: "anvil", port: await freeLocalPort(), blockTimeSeconds });
      const provider = localProvider(node.url);
      try {
        expect((await detectBlockTime(provider)).seconds).to.equal(blockTimeSeconds ?? 0);
      } finally {
        provider.destroy();
        await node.stop();
      }
    }
  });

  it("measures it from block timestamps where the node does not say (`hardhat node` with interval mining)", async () => {
    const node = await startLocalNode({ client: "hardhat", port: await freeLocalPort(), blockTimeSeconds: 1 });
    const provider = localProvider(node.url);
    try {
      const t = await detectBlockTime(provider, { samples: 3, timeoutMs: 20_000 });
      expect(t.seconds).to.equal(1);
      expect(t.how).to.match(/^the median gap of blocks \d+-\d+$/);
    } finally {
      provider.destroy();
      await node.stop();
    }
  });

  it("`dtwn run --network localhost` on a chain of 12 s blocks refuses the default windows before deploying anything", async () => {
    const node = await startLocalNode({ client: "anvil", port: await freeLocalPort(), blockTimeSeconds: 12 });
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-blocktime-"));
    try {
      const r = spawnSync(process.execPath, ["bin/dtwn.js", "run", "--network", "localhost", "--users", "6", "--bss", "3", "-o", out], { cwd: ROOT, encoding: "utf8", env: { ...process.env, DTWN_LOCAL_RPC_URL: node.url }, timeout: 60_000 });
      expect(r.status, r.stdout + r.stderr).to.equal(1);
      expect(r.stderr).to.include("The chain mines a block every 12 s (anvil's interval mining); these windows cannot work with it:");
      expect(r.stderr).to.include("use --slot-seconds 24 or more");
      expect(fs.existsSync(path.join(out, "deployment.json")), "nothing deployed").to.equal(false);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
      await node.stop();
    }
  });
});
