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
import { loadPolicy, savePolicy } from "../../../src/agents/association/policyStore";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

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

  describe("ablations", () => {
    const obsOf = (seed: number) => observe(scenario, initialState(scenario, mulberry32(seed)));

    it("refuses parameter sharing without the centralised critic, naming both fields", () => {
      expect(() => resolveMaddpgConfig({ parameterSharing: true, critic: "independent" })).to.throw(/parameterSharing.*critic/);
      expect(() => resolveMaddpgConfig({ critic: "local" })).to.throw(/critic/);
    });

    it("independent DDPG: each critic sees the state and its own action only, and learns", () => {
      const system = new Maddpg(scenario, resolveMaddpgConfig({ ...tiny, episodes: 3, validateEvery: 0, critic: "independent" }));
      expect(system.agents).to.have.length(5);
      for (const a of system.agents) expect(a.critic.inputs[0].shape[1]).to.equal(system.obsDim + system.actDim);
      const central = new Maddpg(scenario, resolveMaddpgConfig({ ...tiny, episodes: 1 }));
      expect(central.agents[0].critic.inputs[0].shape[1]).to.equal(central.obsDim + 5 * central.actDim);
      const before = system.act(obsOf(4));
      const logs = system.train();
      expect(logs[2].criticLoss).to.be.above(0);
      expect(system.act(obsOf(4))).to.not.deep.equal(before);
    });

    it("parameter sharing: one learner acts for every BS, and the exported per-BS actors (saved and loaded) act exactly as it does", async () => {
      const system = new Maddpg(scenario, resolveMaddpgConfig({ ...tiny, episodes: 3, validateEvery: 0, parameterSharing: true, actorLearningRate: 0.01 }));
      expect(system.agents).to.have.length(1);
      expect(system.agents[0].actor.inputs[0].shape[1]).to.equal(system.obsDim + 5);
      system.train();
      const obs = obsOf(5);
      const joint = system.act(obs);
      // The one-hot id lets the BSs act differently although they share every weight.
      expect(new Set(joint.map((a) => a.map((x) => x.toFixed(6)).join())).size).to.be.above(1);
      const exported = system.exportActors();
      expect(exported).to.have.length(5);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-shared-policy-"));
      try {
        await savePolicy(dir, scenario, exported, system.config, 3);
        const loaded = await loadPolicy(dir, scenario);
        const again = loaded.act(obs);
        loaded.dispose();
        joint.forEach((a, i) => a.forEach((x, k) => expect(again[i][k]).to.be.closeTo(x, 1e-6)));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        exported.forEach((a) => a.dispose());
      }
    });
  });
});
