/** Baselines, the exact optimum of small instances and the lower bound: feasible and correctly ordered. */
import { expect } from "chai";
import { generateScenario } from "../../../src/twins/scenario";
import { initialState } from "../../../src/twins/mdp";
import { mulberry32 } from "../../../src/twins/random";
import { checkAllocation, timeCost } from "../../../src/twins/timeCost";
import {
  averageAllocation,
  exactOptimum,
  heuristicAllocation,
  objectiveLowerBound,
  randomAllocation,
} from "../../../src/agents/association/baselines";
import { balancedBatchLevels, decodeJointAction } from "../../../src/agents/association/decode";
import { availableCpuHz } from "../../../src/twins/state";

describe("baselines", () => {
  const scenario = generateScenario({ seed: 4 });

  it("average, random and heuristic allocations are feasible and never beat the lower bound", () => {
    const rng = mulberry32(9);
    for (let trial = 0; trial < 5; trial++) {
      const state = initialState(scenario, rng);
      const lb = objectiveLowerBound(scenario, state);
      for (const a of [averageAllocation(scenario, state), randomAllocation(scenario, state, rng), heuristicAllocation(scenario, state)]) {
        checkAllocation(scenario, state, a);
        expect(timeCost(scenario, state, a).objectiveSeconds).to.be.at.least(lb);
      }
    }
  });

  it("the heuristic beats the average association, which beats the random one, on the default size", () => {
    const state = initialState(scenario, mulberry32(2));
    const cost = (a: Parameters<typeof timeCost>[2]) => timeCost(scenario, state, a).objectiveSeconds;
    expect(cost(heuristicAllocation(scenario, state))).to.be.below(cost(averageAllocation(scenario, state)));
    expect(cost(averageAllocation(scenario, state))).to.be.below(cost(randomAllocation(scenario, state, mulberry32(3))));
  });

  it("balanced batch levels equalise Eq. 12 across unclamped BSs at exactly b_req", () => {
    const state = initialState(scenario, mulberry32(5));
    const association = state.dataSamples.map((_, n) => n % scenario.bss.length);
    const b = balancedBatchLevels(scenario, state, association);
    const cpu = availableCpuHz(scenario.bss.map((x) => x.cpuHz), state);
    const work = new Array<number>(scenario.bss.length).fill(0);
    association.forEach((bs, n) => (work[bs] += b[n] * state.dataSamples[n]));
    const times = work.map((w, i) => w / cpu[i]);
    times.forEach((t) => expect(t).to.be.closeTo(times[0], times[0] * 1e-9));
  });

  it("with the calibrated terms of Eq. 12 (b^0, f^T) the balanced levels still equalise Eq. 12, and the bound stays below every allocation", () => {
    const calibrated = { ...scenario, constants: { ...scenario.constants, trainStepSamples: 30, trainTwinCycles: 2e8 } };
    const rng = mulberry32(5);
    const state = initialState(calibrated, rng);
    const association = state.dataSamples.map((_, n) => n % calibrated.bss.length);
    const b = balancedBatchLevels(calibrated, state, association);
    const k = calibrated.constants;
    const unclamped = calibrated.bss.map((_, i) => i).filter((i) => association.some((bs, n) => bs === i && b[n] > k.minBatchSize && b[n] < k.maxBatchSize));
    expect(unclamped.length).to.be.at.least(2);
    const perBs = timeCost(calibrated, state, { ...averageAllocation(calibrated, state), association, batchSize: b }).perBs.filter((c) => unclamped.includes(c.bs)).map((c) => c.localTrainingSeconds);
    perBs.forEach((t) => expect(t).to.be.closeTo(perBs[0], perBs[0] * 1e-9));
    expect(perBs[0]).to.be.above(timeCost(scenario, state, { ...averageAllocation(scenario, state), association, batchSize: b }).perBs[0].localTrainingSeconds); // the terms cost time
    const lb = objectiveLowerBound(calibrated, state);
    for (const a of [averageAllocation(calibrated, state), randomAllocation(calibrated, state, rng), heuristicAllocation(calibrated, state)]) expect(timeCost(calibrated, state, a).objectiveSeconds).to.be.at.least(lb);
  });
});

describe("exact optimum (small instances)", () => {
  const small = generateScenario({ seed: 6, users: 7, bsCpuHz: [2.6e9, 1.8e9, 3.6e9] });

  it("is feasible, below the heuristic and every decoded random action, and above the lower bound", () => {
    const rng = mulberry32(12);
    for (let trial = 0; trial < 3; trial++) {
      const state = initialState(small, rng);
      const opt = exactOptimum(small, state);
      expect(opt.associations).to.equal(3 ** 7);
      checkAllocation(small, state, opt.allocation);
      expect(timeCost(small, state, opt.allocation).objectiveSeconds).to.be.closeTo(opt.objectiveSeconds, 1e-9);
      expect(opt.objectiveSeconds).to.be.at.least(objectiveLowerBound(small, state) * (1 - 1e-12));
      expect(opt.objectiveSeconds).to.be.at.most(timeCost(small, state, heuristicAllocation(small, state)).objectiveSeconds);
      expect(opt.objectiveSeconds).to.be.at.most(timeCost(small, state, averageAllocation(small, state)).objectiveSeconds);
      for (let k = 0; k < 100; k++) {
        const raw = small.bss.map(() => [rng(), rng(), rng()]);
        expect(opt.objectiveSeconds).to.be.at.most(timeCost(small, state, decodeJointAction(small, state, raw)).objectiveSeconds + 1e-9);
      }
    }
  });

  it("refuses instances too large to enumerate and points to the lower bound", () => {
    const big = generateScenario({ seed: 1 });
    expect(() => exactOptimum(big, initialState(big, mulberry32(1)))).to.throw(/5\^100 .* use objectiveLowerBound/);
  });
});
