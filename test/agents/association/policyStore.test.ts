/** Saving trained actors, loading them in another process-like context, and the error paths. */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { initBackend } from "../../../src/ml/backend";
import { generateScenario } from "../../../src/twins/scenario";
import { Maddpg, resolveMaddpgConfig } from "../../../src/agents/association/maddpg";
import { loadPolicy, savePolicy } from "../../../src/agents/association/policyStore";
import { observe } from "../../../src/agents/association/observation";
import { initialState } from "../../../src/twins/mdp";
import { mulberry32 } from "../../../src/twins/random";

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: Error) => e,
  );
}

describe("policy files", function () {
  this.timeout(60_000);
  const scenario = generateScenario({ seed: 1 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-policy-"));
  let system: Maddpg;

  before(async () => {
    await initBackend("auto", () => undefined);
    system = new Maddpg(scenario, resolveMaddpgConfig({ episodes: 1, slotsPerEpisode: 12, warmupSlots: 8, batchSize: 8, hidden: [16] }));
    system.train();
    await savePolicy(dir, scenario, system.agents.map((a) => a.actor), system.config, 1);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("round-trips: the loaded actors act exactly like the trained ones, jointly and one BS at a time", async () => {
    const policy = await loadPolicy(dir, scenario);
    const obs = observe(scenario, initialState(scenario, mulberry32(4)));
    const want = system.act(obs);
    expect(policy.act(obs)).to.deep.equal(want);
    const one = await loadPolicy(dir, scenario, [3]);
    expect(one.actBs(3, obs)).to.deep.equal(want[3]);
    expect(() => one.actBs(0, obs)).to.throw(/loaded without the actor of BS 0/);
    expect(() => one.actBs(3, obs.subarray(1))).to.throw(/Observation has 25 entries; the policy expects 26/);
    policy.dispose();
    one.dispose();
  });

  it("refuses a missing directory, another scenario shape, a damaged weights file and unknown BSs", async () => {
    expect((await rejection(loadPolicy(path.join(dir, "nope"), scenario))).message).to.match(/No policy at .*policy\.json is missing\. Train one with `dtwn train-policy/);
    const other = generateScenario({ seed: 1, users: 50 });
    expect((await rejection(loadPolicy(dir, other))).message).to.match(/trained for users = 100, but the scenario has users = 50/);
    expect((await rejection(loadPolicy(dir, scenario, [7]))).message).to.match(/BS 7 is not in this policy/);
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-policy-broken-"));
    try {
      for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(broken, f));
      fs.truncateSync(path.join(broken, "actor-2.weights.bin"), 100);
      expect((await rejection(loadPolicy(broken, scenario))).message).to.match(/Weights of BS 2 .* have 100 bytes; the manifest needs \d+\. The policy files are damaged/);
      // A policy saved by the first decoder (no named centre, other sharpness) must not act through this one.
      fs.copyFileSync(path.join(dir, "actor-2.weights.bin"), path.join(broken, "actor-2.weights.bin"));
      const meta = JSON.parse(fs.readFileSync(path.join(dir, "policy.json"), "utf8"));
      fs.writeFileSync(path.join(broken, "policy.json"), JSON.stringify({ ...meta, decoder: { loadSharpness: 2, batchSharpness: 1.5, demandSharpness: 1 } }));
      expect((await rejection(loadPolicy(broken, scenario))).message).to.match(/trained with decoder \{"centre":"uniform",.*this build decodes with \{"centre":"cpu-balanced",.*Retrain it/);
      fs.writeFileSync(path.join(broken, "policy.json"), JSON.stringify({ format: "something else" }));
      expect((await rejection(loadPolicy(broken, scenario))).message).to.match(/is not a dtwn policy \(format: /);
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });
});

describe("MADDPG configuration", () => {
  it("applies overrides to the defaults and names every bad field", () => {
    expect(resolveMaddpgConfig({ gamma: 0.5 }).gamma).to.equal(0.5);
    let message = "";
    try {
      resolveMaddpgConfig({ gamma: 1, hidden: [], batchSize: -1, typo: 3 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/^Invalid MADDPG configuration:/);
    for (const field of ["gamma", "hidden", "batchSize", "typo"]) expect(message).to.include(field);
    expect(() => resolveMaddpgConfig({ batchSize: 64, replayCapacity: 32 })).to.throw(/batchSize 64 exceeds replayCapacity 32/);
    expect(() => resolveMaddpgConfig({ rewardScale: "log" })).to.throw(/rewardScale/);
  });
});
