/** MADDPG's own contracts with a tiny budget: centre start, updates, checkpoint selection, logs. */
import { expect } from "chai";
import { initBackend } from "../../../src/ml/backend";
import { generateScenario } from "../../../src/twins/scenario";
import { Maddpg, resolveMaddpgConfig } from "../../../src/agents/association/maddpg";
import { observe } from "../../../src/agents/association/observation";
import { initialState } from "../../../src/twins/mdp";
import { mulberry32 } from "../../../src/twins/random";
import { decodeJointAction } from "../../../src/agents/association/decode";
import { objectiveLowerBound } from "../../../src/agents/association/baselines";
import { timeCost } from "../../../src/twins/timeCost";

describe("MADDPG (Algorithm 1) mechanics", function () {
  this.timeout(120_000);
  const scenario = generateScenario({ seed: 1 });
  const tiny = { slotsPerEpisode: 10, warmupSlots: 16, batchSize: 16, hidden: [16], validationSlots: 4 };

  before(async () => {
    await initBackend("auto", () => undefined);
  });

  it("untrained actors act at the centre of the action box", () => {
    const system = new Maddpg(scenario, resolveMaddpgConfig({ ...tiny, episodes: 1 }));
    const raw = system.act(observe(scenario, initialState(scenario, mulberry32(2))));
    expect(raw).to.have.length(5);
    for (const a of raw) for (const x of a) expect(x).to.be.closeTo(0.5, 0.02);
  });

  it("logs every episode, updates only after the warm-up, validates on schedule and keeps the best actors", () => {
    const system = new Maddpg(scenario, resolveMaddpgConfig({ ...tiny, episodes: 6, validateEvery: 2 }));
    const logs = system.train();
    expect(logs.map((l) => l.episode)).to.deep.equal([0, 1, 2, 3, 4, 5]);
    expect(logs[0].criticLoss).to.equal(0); // 10 slots < 16 warm-up slots
    expect(logs[5].criticLoss).to.be.above(0);
    const validated = logs.filter((l) => l.validationObjectiveSeconds !== undefined).map((l) => l.episode);
    expect(validated).to.deep.equal([1, 3, 5]);
    const best = logs.reduce((b, l) => ((l.validationObjectiveSeconds ?? Infinity) < (b.validationObjectiveSeconds ?? Infinity) ? l : b));
    expect(system.selectedEpisode).to.equal(best.episode);
    // The kept actors reproduce the best validation exactly.
    expect(system.validate()).to.be.closeTo(best.validationObjectiveSeconds as number, 1e-9);
    for (const l of logs) {
      expect(l.meanObjectiveSeconds).to.be.above(0);
      expect(l.meanRatioToLowerBound).to.be.at.least(1);
    }
  });

  it("is reproducible from its seed", () => {
    const run = () => new Maddpg(scenario, resolveMaddpgConfig({ ...tiny, episodes: 3, seed: 9, validateEvery: 0 })).train().map((l) => l.meanObjectiveSeconds);
    expect(run()).to.deep.equal(run());
  });

  it("the centre-advantage reward is 0 at the centre action and ranks joint actions as -objective does", () => {
    const system = new Maddpg(scenario, resolveMaddpgConfig({ ...tiny, episodes: 1, rewardScale: "centre-advantage" }));
    const rng = mulberry32(11);
    const state = initialState(scenario, rng);
    const lb = objectiveLowerBound(scenario, state);
    const price = (raw: number[][]) => timeCost(scenario, state, decodeJointAction(scenario, state, raw)).objectiveSeconds;
    const centre = price(scenario.bss.map(() => [0.5, 0.5, 0.5]));
    expect(system.reward(state, centre, lb, -centre)).to.be.closeTo(0, 1e-12);
    const actions = Array.from({ length: 12 }, () => scenario.bss.map(() => [rng(), rng(), rng()]));
    const objectives = actions.map(price);
    const rewards = objectives.map((o) => system.reward(state, o, lb, -o));
    const byObjective = [...objectives.keys()].sort((x, y) => objectives[x] - objectives[y]);
    const byReward = [...rewards.keys()].sort((x, y) => rewards[y] - rewards[x]);
    expect(byReward).to.deep.equal(byObjective);
    expect(rewards.every((r, k) => Math.sign(r) === Math.sign(centre - objectives[k]))).to.equal(true);
  });
});
