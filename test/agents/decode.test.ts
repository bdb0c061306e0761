/** Decoding raw agent actions: feasible by construction for any input in the action box. */
import { expect } from "chai";
import { generateScenario } from "../../src/twins/scenario";
import { initialState } from "../../src/twins/mdp";
import { checkAllocation, thetaG } from "../../src/twins/timeCost";
import { mulberry32 } from "../../src/twins/random";
import { apportion, assignTwins, decodeJointAction, rawActionSize, requiredMeanBatch, scaleBatchesToTarget } from "../../src/agents/decode";

describe("decoding joint actions", () => {
  const scenario = generateScenario({ seed: 3 });
  const m = scenario.bss.length;

  it("is feasible (18a-18d) for 500 random raw actions, including the box's corners", () => {
    const rng = mulberry32(5);
    for (let trial = 0; trial < 500; trial++) {
      const state = initialState(scenario, rng);
      const corner = trial % 5 === 0;
      const raw = Array.from({ length: m }, () => Array.from({ length: rawActionSize(scenario) }, () => (corner ? Math.round(rng()) : rng())));
      const a = decodeJointAction(scenario, state, raw);
      checkAllocation(scenario, state, a); // throws on any violation
      expect(new Set(a.association.map((bs) => bs >= 0 && bs < m))).to.deep.equal(new Set([true]));
      for (let c = 0; c < scenario.constants.subchannels; c++) {
        expect(a.tau.reduce((s, row) => s + row[c], 0)).to.be.at.most(1 + 1e-9);
        for (let i = 0; i < m; i++) expect(a.tau[i][c]).to.be.above(0);
      }
      // The batches sit exactly at the smallest mean meeting theta_th (up to integer rounding).
      const { meanBatch } = thetaG(scenario, state.dataSamples, a.batchSize);
      expect(meanBatch).to.be.within(requiredMeanBatch(scenario), requiredMeanBatch(scenario) + 1);
    }
  });

  it("rejects raw actions of the wrong shape or with non-finite entries", () => {
    const state = initialState(scenario, mulberry32(1));
    const ok = Array.from({ length: m }, () => new Array<number>(rawActionSize(scenario)).fill(0.5));
    expect(() => decodeJointAction(scenario, state, ok.slice(1))).to.throw(/Expected 5 raw actions/);
    expect(() => decodeJointAction(scenario, state, [ok[0].slice(1), ...ok.slice(1)])).to.throw(/BS 0 has 11 entries; expected 12/);
    const bad = ok.map((r) => r.slice());
    bad[2][3] = Number.NaN;
    expect(() => decodeJointAction(scenario, state, bad)).to.throw(/BS 2 has a non-finite entry at 3/);
  });

  it("apportion gives counts summing to the total, proportional by largest remainder", () => {
    expect(apportion([1, 1, 2], 8)).to.deep.equal([2, 2, 4]);
    expect(apportion([1, 1, 1], 10)).to.deep.equal([4, 3, 3]);
    expect(apportion([0.2, 0.3, 0.5], 1)).to.deep.equal([0, 0, 1]);
  });

  it("assignTwins keeps previous twins where the counts allow (sticky re-association)", () => {
    expect(assignTwins([2, 1], [0, 0, 1])).to.deep.equal([0, 0, 1]);
    expect(assignTwins([1, 2], [0, 0, 1])).to.deep.equal([0, 1, 1]);
    expect(assignTwins([3, 0], [1, 1, 1])).to.deep.equal([0, 0, 0]);
  });

  it("scaleBatchesToTarget keeps the relative order and reaches b_req", () => {
    const data = [600, 600, 600, 600];
    const b = scaleBatchesToTarget(scenario, data, [10, 20, 40, 80]);
    expect(b[0]).to.be.at.most(b[1]);
    expect(b[1]).to.be.at.most(b[2]);
    expect(b[2]).to.be.at.most(b[3]);
    expect(thetaG(scenario, data, b).theta).to.be.at.least(scenario.constants.thetaThreshold);
  });
});
