/**
 * End to end (issue 5, bad input): one round of `dtwn run` with 4 BSs in which BS 1 submits the CID of weights it
 * never stored, BS 2 submits weights of another architecture and BS 3 submits after the deadline. The honest BS 0's
 * model passes and becomes the global model; the others get a clear rejection each, and the round goes on.
 */
import fs from "node:fs";
import { expect } from "chai";
import type { RunMetrics } from "../../src/system/metrics";
import { dtwnRun } from "./dtwnRun";

describe("dtwn run with faulty submissions (unknown CID, wrong shape, late)", function () {
  this.timeout(300_000);
  let out: string;
  let m: RunMetrics;

  before(() => {
    ({ out, metrics: m } = dtwnRun(
      [
        "--users", "12", "--bss", "4", "--rounds", "1", "--policy", "average", "--local-steps", "2", "--test-images", "200",
        "--held-out-per-bs", "50", "--first-round-seconds", "40", "--fault", "1:unknown-cid", "--fault", "2:wrong-shape",
        "--fault", "3:late", "--verification-window-seconds", "60", "-q",
      ],
      { prefix: "dtwn-faults-" },
    ));
  });

  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it("the honest model passes and is the only one aggregated; the round is finalised", () => {
    const r = m.rounds[0];
    expect(r.mbs.passed).to.deep.equal([m.bsAddresses[0]]);
    expect(r.mbs.newGlobalCid).to.match(/^Qm/).and.not.equal(r.mbs.globalCid);
  });

  it("an unknown CID and weights of another shape fail verification with the reason", () => {
    const r = m.rounds[0];
    expect(r.mbs.failed).to.have.members([m.bsAddresses[1], m.bsAddresses[2]]);
    const verdictsOn = (bs: number) => r.agents.flatMap((a) => a.verdicts.filter((v) => v.bs === bs));
    expect(verdictsOn(1).length).to.be.greaterThan(0);
    for (const v of verdictsOn(1)) {
      expect(v.pass).to.equal(false);
      // recomputed from its twin models (Eq. 4), the model's CID is not the one submitted (never stored)
      expect(v.error).to.match(/^not Eq\. 4 of its twin model records: the recomputed model's CID is Qm\w+; the recorded model Qm\w+ is not in any store/);
    }
    expect(verdictsOn(2).length).to.be.greaterThan(0);
    for (const v of verdictsOn(2)) {
      expect(v.pass).to.equal(false);
      expect(v.error).to.match(/^not Eq\. 4 of its twin model records: the recomputed model's CID is Qm\w+/);
    }
    expect(r.agents.find((a) => a.bs === 1)?.outcome).to.equal("failed");
  });

  it("a late submission is refused on chain (SubmissionTooLate) and the BS is neither paid nor slashed", () => {
    const late = m.rounds[0].agents.find((a) => a.bs === 3);
    expect(late?.submitted).to.equal(false);
    expect(late?.skipped).to.match(/SubmissionTooLate/);
    expect(late?.outcome).to.equal("none");
  });
});
