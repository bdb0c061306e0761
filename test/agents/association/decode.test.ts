/** Decoding raw agent actions: feasible by construction for any input in the action box. */
import { expect } from "chai";
import { generateScenario } from "../../../src/twins/scenario";
import { initialState } from "../../../src/twins/mdp";
import { checkAllocation, thetaG } from "../../../src/twins/timeCost";
import { mulberry32 } from "../../../src/twins/random";
import { uplinkRatesBps } from "../../../src/twins/wireless";
import { apportion, assignTwins, balancedBatchLevels, decodeJointAction, rawActionSize, repairBatches, requiredMeanBatch } from "../../../src/agents/association/decode";
import { optimalTau } from "../../../src/agents/association/subchannels";
import { availableCpuHz } from "../../../src/twins/state";

describe("decoding joint actions", () => {
  const scenario = generateScenario({ seed: 3 });
  const m = scenario.bss.length;

  it("is feasible (18a-18d) for 300 random raw actions, including the box's corners", () => {
    const rng = mulberry32(5);
    for (let trial = 0; trial < 300; trial++) {
      const state = initialState(scenario, rng);
      const corner = trial % 5 === 0;
      const raw = Array.from({ length: m }, () => Array.from({ length: rawActionSize(scenario) }, () => (corner ? Math.round(rng()) : rng())));
      const a = decodeJointAction(scenario, state, raw);
      checkAllocation(scenario, state, a); // throws on any violation
      expect(a.association.every((bs) => bs >= 0 && bs < m)).to.equal(true);
      const overfull = a.tau[0].map((_, c) => a.tau.reduce((s, row) => s + row[c], 0)).filter((sum) => sum > 1 + 1e-9);
      expect(overfull).to.deep.equal([]);
      // Every BS that hosts twins gets uplink time.
      const starved = a.association.filter((bs) => !(a.tau[bs].reduce((s, t) => s + t, 0) > 0));
      expect(starved).to.deep.equal([]);
      // The batches sit exactly at the smallest mean meeting theta_th (up to integer rounding).
      const { meanBatch } = thetaG(scenario, state.dataSamples, a.batchSize);
      expect(meanBatch).to.be.within(requiredMeanBatch(scenario), requiredMeanBatch(scenario) + 1);
    }
  });

  it("rejects raw actions of the wrong shape or with non-finite entries", () => {
    const state = initialState(scenario, mulberry32(1));
    const ok = Array.from({ length: m }, () => new Array<number>(rawActionSize(scenario)).fill(0.5));
    expect(() => decodeJointAction(scenario, state, ok.slice(1))).to.throw(/Expected 5 raw actions/);
    expect(() => decodeJointAction(scenario, state, [ok[0].slice(1), ...ok.slice(1)])).to.throw(/BS 0 has 2 entries; expected 3/);
    const bad = ok.map((r) => r.slice());
    bad[2][1] = Number.NaN;
    expect(() => decodeJointAction(scenario, state, bad)).to.throw(/BS 2 has a non-finite entry at 1/);
  });

  it("load, batch level and demand each act in the direction they name", () => {
    const state = initialState(scenario, mulberry32(2));
    const mid = () => Array.from({ length: m }, () => [0.5, 0.5, 0.5]);
    const base = decodeJointAction(scenario, state, mid());
    const count = (a: typeof base, i: number) => a.association.filter((bs) => bs === i).length;
    const heavier = mid();
    heavier[1][0] = 1;
    expect(count(decodeJointAction(scenario, state, heavier), 1)).to.be.above(count(base, 1));
    const bigger = mid();
    bigger[1][1] = 1;
    const withBig = decodeJointAction(scenario, state, bigger);
    const meanOn = (a: typeof base, i: number) => {
      const b = a.batchSize.filter((_, n) => a.association[n] === i);
      return b.reduce((s, x) => s + x, 0) / b.length;
    };
    expect(meanOn(withBig, 1)).to.be.above(meanOn(base, 1));
    const greedy = mid();
    greedy[1][2] = 1;
    const share = (a: typeof base, i: number) => a.tau[i].reduce((s, t) => s + t, 0);
    const rates = (a: typeof base) => uplinkRatesBps(scenario, state.channel, a.tau);
    expect(rates(decodeJointAction(scenario, state, greedy))[1]).to.be.above(rates(base)[1]);
    expect(share(base, 1)).to.be.above(0);
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

  it("the centre action is the CPU-proportional load, the water-filled batches and the LP shares of the counts", () => {
    const state = initialState(scenario, mulberry32(4));
    const a = decodeJointAction(scenario, state, Array.from({ length: m }, () => [0.5, 0.5, 0.5]));
    const counts = apportion(availableCpuHz(scenario.bss.map((b) => b.cpuHz), state), state.dataSamples.length);
    expect(scenario.bss.map((_, i) => a.association.filter((bs) => bs === i).length)).to.deep.equal(counts);
    expect(a.batchSize).to.deep.equal(repairBatches(scenario, state.dataSamples, balancedBatchLevels(scenario, state, a.association)));
    expect(a.tau).to.deep.equal(optimalTau(scenario, state, counts).tau);
  });

  it("a BS's batch tilt moves local work between BSs at the same data-weighted mean", () => {
    const state = initialState(scenario, mulberry32(6));
    const association = state.dataSamples.map((_, n) => n % m);
    const even = balancedBatchLevels(scenario, state, association);
    const tilt = new Array<number>(m).fill(1);
    tilt[2] = 1.3;
    const tilted = balancedBatchLevels(scenario, state, association, tilt);
    const mean = (b: number[]) => b.reduce((s, x, n) => s + x * state.dataSamples[n], 0) / state.dataSamples.reduce((s, d) => s + d, 0);
    expect(mean(tilted)).to.be.closeTo(mean(even), 1e-6);
    expect(tilted[2]).to.be.above(even[2]);
    expect(tilted[0]).to.be.below(even[0]);
  });
});
