/**
 * End to end against a standalone node (node.hardhat.e2e.test.ts, node.anvil.e2e.test.ts), on each client (`hardhat node` and anvil, src/chain/localNode.ts): the node as
 * its own process (on a free 127.0.0.1 port), then `dtwn run --network localhost` with the MBS in its process and one
 * `dtwn agent` OS process per BS, 3 BSs, 12 users, 2 rounds. `hardhat node` mines a block per transaction; anvil
 * mines a block every 2 s, as a public chain does, the run acts on blocks 2 deep (`--confirmations 3`), and the test
 * reorganises the chain 2 blocks deep (`anvil_reorg`) right after the first model record of round 1 is mined.
 * BS 0's agent process is SIGKILLed right after it trained in round 2 (before it uploaded). Checked from the run
 * folder, the node and BS 0's IPFS repo:
 * - on anvil, the reorg dropped a model record of round 1; its BS sent the same signed transaction again, every BS's
 *   model of round 1 is recorded once and passed, and no agent acted twice (no refusal of a repeated action);
 * - round 2 closes at its deadline with the other two BSs' models;
 * - the restarted process resumes round 2 from the chain (its committed action is found there), submits nothing
 *   late and nothing twice;
 * - its round-1 model record and the weights pinned in its repo survive the kill.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { localProvider } from "../../src/chain/provider";
import { readDeployment } from "../../src/chain/deployment";
import { bytesToCid } from "../../src/chain/cid";
import type { RunMetrics } from "../../src/system/metrics";
import { decide } from "../../src/fl/acceptance";
import { connectProtocol } from "../../src/system/protocol";
import { freeLocalPort, startLocalNode, type LocalClient, type LocalNode } from "../../src/chain/localNode";
import { dtwnRunAsync, failingVerdicts } from "./dtwnRun";

/** How each client runs: `hardhat node` on automine, anvil with 2 s blocks, 3 confirmations and a 2-block reorg. */
const CASES: Record<LocalClient, { blockTimeSeconds?: number; confirmations: number; reorgDepth?: number }> = {
  hardhat: { confirmations: 1 },
  anvil: { blockTimeSeconds: 2, confirmations: 3, reorgDepth: 2 },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the reorg removed: the model records of round 1 in the dropped blocks (their transactions' hashes). */
interface Reorg {
  depth: number;
  atBlock: number;
  droppedSubmissions: { bs: string; tx: string }[];
}

/**
 * Watch the node until the first model record of round 1 is mined, then reorganise the chain `depth` blocks deep at
 * once (the new blocks hold none of the dropped transactions; their senders must send them again).
 */
async function reorgAtFirstSubmission(url: string, deploymentFile: string, depth: number, stop: () => boolean): Promise<Reorg | undefined> {
  const provider = localProvider(url, 31337);
  try {
    while (!stop()) {
      let deployment: ReturnType<typeof readDeployment> | undefined;
      try {
        deployment = readDeployment(deploymentFile);
      } catch {
        // not written yet (or half written)
      }
      if (deployment) {
        const p = connectProtocol(deployment, provider);
        const events = await p.rounds.queryFilter(p.rounds.filters.ModelSubmitted(1)).catch(() => []);
        if (events.length > 0) {
          const head = await provider.getBlockNumber();
          const dropped = events.filter((e) => e.blockNumber > head - depth);
          if (dropped.length > 0) {
            await provider.send("anvil_reorg", [depth, []]);
            return { depth, atBlock: head, droppedSubmissions: dropped.map((e) => ({ bs: e.args.bs, tx: e.transactionHash })) };
          }
        }
      }
      await sleep(200);
    }
    return undefined;
  } finally {
    provider.destroy();
  }
}

/** The end-to-end run against a `client` node (one file per client, so that `npm test` runs them in parallel). */
export function describeNodeRun(client: LocalClient): void {
  const c = CASES[client];
  describe(`dtwn run --network localhost on the ${client} node (${c.blockTimeSeconds ? `a block every ${c.blockTimeSeconds} s, ${c.confirmations} confirmations, a ${c.reorgDepth}-block reorg` : "a block per transaction"}; agent processes, one SIGKILLed mid-round)`, function () {
    this.timeout(600_000);
    let node: LocalNode | undefined;
    let url: string;
    let out: string;
    let stdout: string;
    let m: RunMetrics;
    let reorg: Reorg | undefined;

    before(async () => {
      node = await startLocalNode({ client, port: await freeLocalPort(), ...(c.blockTimeSeconds ? { blockTimeSeconds: c.blockTimeSeconds } : {}) });
      url = node.url;
      let finished = false;
      const run = dtwnRunAsync(
        [
          "--network", "localhost", "--users", "12", "--bss", "3", "--rounds", "2", "--policy", "average", "--local-steps", "3",
          "--test-images", "300", "--held-out-per-bs", "60", "--first-round-seconds", "120", "--min-round-seconds", "60", "--verification-window-seconds", "45",
          "--workers", "1", "--kill", "0:2:train", "--confirmations", String(c.confirmations),
        ],
        { prefix: `dtwn-node-${client}-`, env: { DTWN_LOCAL_RPC_URL: url }, timeoutMs: 560_000 },
      );
      out = run.out;
      const done = run.done.finally(() => (finished = true));
      const reorged = c.reorgDepth ? reorgAtFirstSubmission(url, path.join(out, "deployment.json"), c.reorgDepth, () => finished) : Promise.resolve(undefined);
      ({ stdout, metrics: m } = await done);
      reorg = await reorged;
    });

    after(async () => {
      await node?.stop();
      if (out) fs.rmSync(out, { recursive: true, force: true });
    });

    if (c.reorgDepth) {
      it(`survives a ${c.reorgDepth}-block reorg in round 1: the dropped model record is sent again, every model is recorded once and passes, no agent acts twice`, async () => {
        expect(reorg, "the reorg happened").to.not.equal(undefined);
        expect(reorg!.droppedSubmissions.length).to.be.at.least(1);
        const p = connectProtocol(readDeployment(path.join(out, "deployment.json")), localProvider(url, 31337));
        try {
          const records = await p.rounds.queryFilter(p.rounds.filters.ModelSubmitted(1));
          expect(records.map((e) => e.args.bs).sort()).to.deep.equal([...m.bsAddresses].sort()); // each BS once
          for (const d of reorg!.droppedSubmissions) {
            // the same signed transaction (same hash, so the same nonce) is on the canonical chain now
            const receipt = await p.rounds.runner!.provider!.getTransactionReceipt(d.tx);
            expect(receipt?.status, `the dropped record of ${d.bs} was sent again`).to.equal(1);
            expect(receipt!.blockNumber).to.be.greaterThan(reorg!.atBlock - reorg!.depth);
          }
          const actions = await p.ledger.queryFilter(p.ledger.filters.ActionCommitted(1));
          expect(actions.map((e) => e.args.bs).sort()).to.deep.equal([...m.bsAddresses].sort());
        } finally {
          p.rounds.runner?.provider?.destroy();
        }
        expect(m.rounds[0].mbs.passed, failingVerdicts(m)).to.have.members(m.bsAddresses);
        // an agent acting twice on a block the reorg undid would be refused by the chain
        expect(stdout).to.not.match(/AlreadySubmitted|ActionAlreadyCommitted|ActionAlreadyProposed|AlreadyCommitted|AlreadyRevealed|AlreadyAttested/);
      });
    }

    it("runs the MBS and every BS agent as separate OS processes", () => {
      expect(m.network).to.include(`localhost (${url}), 3 BS agent processes`);
      const pids = new Set([...stdout.matchAll(/\[BS (\d) pid (\d+)\]/g)].map((x) => `${x[1]}:${x[2]}`));
      expect([...pids].filter((p) => !p.startsWith("0:"))).to.have.length(2);
      expect([...pids].filter((p) => p.startsWith("0:"))).to.have.length(2); // BS 0: the killed process and its successor
      expect(m.rounds.map((r) => r.round)).to.deep.equal([1, 2]);
      expect(m.rounds[0].mbs.passed, failingVerdicts(m)).to.have.members(m.bsAddresses);
    });

    it("kills BS 0's process after it trained in round 2 (SIGKILL, no cleanup)", () => {
      expect(stdout).to.match(/\[BS 0 pid \d+\] BS 0 crashed in round 2 after train \(injected fault\): SIGKILL to this process/);
      expect(stdout).to.match(/\[BS 0 pid \d+\] exited \(code null, signal SIGKILL\)/);
      expect(m.restarts).to.have.length(1);
      expect(m.restarts[0]).to.include({ bs: 0, round: 2, after: "SIGKILL after train" });
    });

    it("closes round 2 at its deadline; the other BSs' models are decided by the stake rule without BS 0's ballot", async () => {
      const r2 = m.rounds[1].mbs;
      expect(r2.submitted).to.equal(2);
      // BS 0 gave no ballot: each of the other two models is decided only if the one remaining verifier holds the
      // quorum of the stake of every member but the submitter (src/fl/acceptance.ts, the chain's rule).
      const p = connectProtocol(readDeployment(path.join(out, "deployment.json")), localProvider(url, 31337));
      const round = await p.rounds.getRound(2);
      const stakes = new Map<string, bigint>();
      for (const bs of m.bsAddresses) stakes.set(bs, await p.stake.bondedAt(bs, round.snapshot));
      const total = [...stakes.values()].reduce((a, b) => a + b, 0n);
      expect((await p.rounds.ballot(2, m.bsAddresses[0])).commitment).to.equal("0x" + "0".repeat(64));
      for (const bs of [m.bsAddresses[1], m.bsAddresses[2]]) {
        const s = await p.rounds.submission(2, bs);
        expect(s.failStake).to.equal(0n); // honest verdicts
        const expected = decide(s.passStake, s.failStake, total - (stakes.get(bs) ?? 0n), await p.rounds.quorumBps());
        expect(["pending", "passed", "failed", "unverified"][Number(s.outcome)]).to.equal(expected);
        expect(r2.passed.includes(bs)).to.equal(expected === "passed");
      }
      p.rounds.runner?.provider?.destroy();
      // it waited out the deadline (no early close: BS 0 had committed an action but never submitted)
      expect(r2.phases.submit).to.be.at.least(r2.deadlineSeconds - 1);
      expect(r2.newGlobalCid).to.match(/^Qm/);
      if (r2.passed.length > 0) expect(r2.newGlobalCid).to.not.equal(r2.globalCid);
      else expect(r2.newGlobalCid).to.equal(r2.globalCid); // nothing passed: the global model stays
    });

    it("the restarted process resumes round 2 from the chain and submits nothing late or twice", async () => {
      const a0 = m.rounds[1].agents.find((a) => a.bs === 0);
      expect(a0?.resumed).to.include("commit");
      expect(a0?.submitted).to.equal(false);
      expect(a0?.skipped).to.match(/round 2 closed to submissions while this BS was down/);
      const p = connectProtocol(readDeployment(path.join(out, "deployment.json")), localProvider(url, 31337));
      const mine = await p.rounds.queryFilter(p.rounds.filters.ModelSubmitted(undefined, m.bsAddresses[0]));
      expect(mine.map((e) => Number(e.args.round))).to.deep.equal([1]); // its round-1 record, and nothing since
      expect((await p.rounds.submitters(2)).length).to.equal(2);
      expect(await p.ledger.actionHash(2, m.bsAddresses[0])).to.not.equal("0x" + "0".repeat(64)); // its commitment stays
      p.rounds.runner?.provider?.destroy();
    });

    it("keeps BS 0's round-1 record and pinned weights through the kill", async () => {
      const p = connectProtocol(readDeployment(path.join(out, "deployment.json")), localProvider(url, 31337));
      const cid = bytesToCid((await p.rounds.submission(1, m.bsAddresses[0])).cid);
      p.rounds.runner?.provider?.destroy();
      expect(cid).to.equal(m.rounds[0].agents.find((a) => a.bs === 0)?.cid);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { HeliaWeightsStore } = require("../../src/ipfs/helia") as typeof import("../../src/ipfs/helia");
      const store = await HeliaWeightsStore.open({ repo: path.join(out, "ipfs", "bs-0") });
      try {
        expect(await store.isPinned(cid)).to.equal(true);
        const bytes = await store.cat(cid);
        expect(bytes.length).to.be.greaterThan(1_000_000);
      } finally {
        await store.close();
      }
    });
  });
}
