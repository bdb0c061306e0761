/** The association policies agents run: the rules every agent derives alike from s(t). */
import { expect } from "chai";
import { generateScenario } from "../../src/twins/scenario";
import { initialState } from "../../src/twins/mdp";
import { mulberry32 } from "../../src/twins/random";
import { heuristicAllocation } from "../../src/agents/association/baselines";
import { jointActionRule, POLICY_NAMES, ruleOnlyPolicy } from "../../src/agents/policies";

describe("src/agents/policies", () => {
  const scenario = generateScenario({ seed: 3, users: 20 });

  it("the heuristic is a policy of the running system: every agent derives the same allocation from s(t) and proposes nothing", () => {
    expect(POLICY_NAMES).to.include("heuristic");
    const state = initialState(scenario, mulberry32(4));
    const rule = jointActionRule("heuristic", scenario, 1);
    expect(rule.proposes).to.equal(false);
    const a = rule.decide(state, []);
    expect(a).to.deep.equal(heuristicAllocation(scenario, state));
    expect(jointActionRule("heuristic", scenario, 99).decide(state, [])).to.deep.equal(a); // no seed in it
    expect(() => ruleOnlyPolicy("heuristic", scenario, 1).propose(state, 0)).to.throw(/heuristic association proposes no raw action/);
  });
});
