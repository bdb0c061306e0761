/**
 * End to end: BSs that host one twin each. Eq. 4 of a single twin model is that model, so the BS's submitted CID is
 * its twin model's CID. Verifiers recompute a BS's model from its twin models and do not fetch the submitted model
 * itself; before this test, they refused that CID as a twin model too and failed every honest BS with K_i = 1 (the
 * random association on the testbed did that to 21 honest models in 3 rounds).
 */
import fs from "node:fs";
import { expect } from "chai";
import type { RunMetrics } from "../../src/system/metrics";
import { dtwnRun } from "./dtwnRun";

describe("dtwn run with one twin per BS (K_i = 1: the BS model's CID is its twin model's)", function () {
  this.timeout(300_000);
  let out: string;
  let metrics: RunMetrics;

  before(() => {
    ({ out, metrics } = dtwnRun(["--users", "3", "--bss", "3", "--rounds", "1", "--policy", "average", "--local-steps", "2", "--test-images", "200", "--held-out-per-bs", "60", "--workers", "1", "-q", "--verification-window-seconds", "120"], { prefix: "dtwn-k1-" }));
  });

  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it("passes every honest BS's model, each verified by recomputing Eq. 4 from its single twin model", () => {
    const [r] = metrics.rounds;
    expect(r.agents.map((a) => a.twins)).to.deep.equal([1, 1, 1]);
    for (const a of r.agents) {
      expect(a.outcome, `BS ${a.bs}`).to.equal("passed");
      expect(a.verdicts.map((v) => v.bs)).to.have.members([0, 1, 2].filter((b) => b !== a.bs));
      for (const v of a.verdicts) expect(v, `BS ${a.bs} on BS ${v.bs}`).to.include({ pass: true }).and.not.have.property("error");
    }
    expect(r.mbs.failed).to.deep.equal([]);
  });
});
