/**
 * End to end against a standalone node, on each client (`hardhat node` and anvil, src/chain/localNode.ts): the node as
 * its own process (on a free 127.0.0.1 port), then `dtwn run --network localhost` with the MBS in its process and one
 * `dtwn agent` OS process per BS, 3 BSs, 12 users, 2 rounds. BS 0's agent process is SIGKILLed right after it trained
 * in round 2 (before it uploaded). Checked from the run folder, the node and BS 0's IPFS repo:
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
import { freeLocalPort, LOCAL_CLIENTS, startLocalNode, type LocalNode } from "../../src/chain/localNode";
import { dtwnRun, failingVerdicts } from "./dtwnRun";

for (const client of LOCAL_CLIENTS) {
  describe(`dtwn run --network localhost on the ${client} node (agent processes; one is SIGKILLed mid-round)`, function () {
    this.timeout(540_000);
    let node: LocalNode | undefined;
    let url: string;
    let out: string;
    let stdout: string;
    let m: RunMetrics;

    before(async () => {
      node = await startLocalNode({ client, port: await freeLocalPort() });
      url = node.url;
      ({ out, stdout, metrics: m } = dtwnRun(
        [
          "--network", "localhost", "--users", "12", "--bss", "3", "--rounds", "2", "--policy", "average", "--local-steps", "3",
          "--test-images", "300", "--held-out-per-bs", "60", "--first-round-seconds", "120", "--min-round-seconds", "60", "--verification-window-seconds", "45",
          "--workers", "1", "--kill", "0:2:train",
        ],
        { prefix: "dtwn-node-", env: { DTWN_LOCAL_RPC_URL: url }, timeoutMs: 500_000 },
      ));
    });

    after(async () => {
      await node?.stop();
      if (out) fs.rmSync(out, { recursive: true, force: true });
    });

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
