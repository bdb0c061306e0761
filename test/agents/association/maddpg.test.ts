/** MADDPG's own contracts with a tiny budget: centre start, updates, checkpoint selection, logs. */
import { expect } from "chai";
import { initBackend } from "../../../src/ml/backend";
import { generateScenario } from "../../../src/twins/scenario";
import { Maddpg, resolveMaddpgConfig } from "../../../src/agents/association/maddpg";
import { observe } from "../../../src/agents/association/observation";
import { initialState } from "../../../src/twins/mdp";
import { mulberry32 } from "../../../src/twins/random";

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
});
