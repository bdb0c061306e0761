/**
 * End to end (issue 5): `dtwn run` as a user runs it, in its own process with its own in-process chain, 3 BSs with
 * their own keys and IPFS nodes, 12 users, 2 rounds of real training on Fashion-MNIST (few steps), one malicious BS
 * (sign-flip) and one BS that dies right after submitting its round-2 model and is restarted. Checked from the run
 * folder and the restarted BS's IPFS repo:
 * - the malicious model fails verification every round, is slashed and never aggregated;
 * - the restarted BS resumes from the chain: it finds its submission there, submits nothing twice, still verifies;
 * - its pinned weights survive the crash (the CID on chain is pinned in its repo);
 * - the report and its figures are written.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { RunMetrics } from "../../src/system/metrics";
import { dtwnRun, failingVerdicts } from "./dtwnRun";

describe("dtwn run (end to end: chain, IPFS, FL, agents, a crash and a malicious BS)", function () {
  this.timeout(300_000);
  let out: string;
  let metrics: RunMetrics;
  let stdout: string;

  before(() => {
    ({ out, stdout, metrics } = dtwnRun(
      [
        "--users", "12", "--bss", "3", "--rounds", "2", "--policy", "average", "--local-steps", "3", "--test-images", "300",
        "--held-out-per-bs", "60", "--malicious", "1", "--attack", "sign-flip", "--crash", "0:2:upload", "--workers", "2", "-q",
        // generous windows: they close early once every BS is done, and keep a loaded machine (npm test runs files in parallel) from missing them
        "--min-round-seconds", "90", "--verification-window-seconds", "120",
      ],
      { prefix: "dtwn-e2e-" },
    ));
  });

  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it("runs 2 rounds and prints one line per round", () => {
    expect(metrics.rounds.map((r) => r.round)).to.deep.equal([1, 2]);
    expect(stdout).to.match(/round 1: accuracy \d+\.\d+ %/).and.match(/round 2: accuracy \d+\.\d+ %/);
    expect(metrics.malicious).to.deep.equal([2]);
  });

  it("fails, slashes and leaves out the malicious BS's model every round; honest models pass", () => {
    const bad = metrics.bsAddresses[2];
    for (const r of metrics.rounds) {
      expect(r.mbs.failed, `round ${r.round}${failingVerdicts(metrics)}`).to.deep.equal([bad]);
      expect(r.mbs.passed, `round ${r.round}`).to.have.members([metrics.bsAddresses[0], metrics.bsAddresses[1]]);
      const agent = r.agents.find((a) => a.bs === 2);
      expect(agent?.outcome).to.equal("failed");
    }
    // Slashed 10 % per failed model, while honest BSs earn 10 coins per passing model; every BS whose ballot agreed
    // with the outcomes (the malicious one verifies honestly) earns the 1-coin verifier reward.
    const [c1, c2] = metrics.rounds.map((r) => r.coins);
    expect(c2[2]).to.be.closeTo(c1[2] * 0.9 + 1, 0.02); // slashed first, then paid for its ballot
    expect(c2[1]).to.be.closeTo(c1[1] + 10 + 1, 0.02);
  });

  it("restarts the crashed BS, which resumes round 2 from the chain without submitting twice", () => {
    expect(metrics.restarts).to.have.length(1);
    expect(metrics.restarts[0]).to.include({ bs: 0, round: 2, after: "upload" });
    const r2 = metrics.rounds[1];
    const a0 = r2.agents.find((a) => a.bs === 0);
    expect(a0?.resumed).to.include("submit");
    expect(a0?.submitted).to.equal(true);
    expect(a0?.outcome).to.equal("passed");
    expect(a0?.verdicts.map((v) => v.bs)).to.have.members([1, 2]); // it still verified both other models
    expect(r2.mbs.submitted).to.equal(3); // one record per BS: no second submission
  });

  it("keeps the restarted BS's weights pinned in its IPFS repo", async () => {
    const cid = metrics.rounds[1].agents.find((a) => a.bs === 0)?.cid as string;
    expect(cid).to.match(/^Qm/);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { HeliaWeightsStore } = require("../../src/ipfs/helia") as typeof import("../../src/ipfs/helia");
    const store = await HeliaWeightsStore.open({ repo: path.join(out, "ipfs", "bs-0") });
    try {
      expect(await store.isPinned(cid)).to.equal(true);
    } finally {
      await store.close();
    }
  });

  it("writes the report with its figures", () => {
    const md = fs.readFileSync(path.join(out, "report.md"), "utf8");
    expect(md).to.include("Final test accuracy").and.include("## Crashed and restarted agents");
    for (const f of ["time-by-phase", "predicted-vs-measured", "coins", "gas"]) {
      expect(fs.existsSync(path.join(out, `${f}.png`)), f).to.equal(true);
      expect(md).to.include(`(${f}.svg)`);
    }
  });
});
