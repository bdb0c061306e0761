/**
 * Benchmark: how far the heuristic, the decoder's centre action and the relaxation lower bound are from the exact
 * optimum of the per-slot problem, on small instances (M = 3 BSs, N = 8 users: 3^8 = 6561 associations enumerated),
 * 5 seeds x 5 slots. Prints the mean ratios and the solve times.
 *   npx ts-node --transpile-only scripts/bench-optimum.ts
 */
import { generateScenario } from "../src/twins/scenario";
import { initialState, nextState } from "../src/twins/mdp";
import { mulberry32 } from "../src/twins/random";
import { timeCost } from "../src/twins/timeCost";
import { averageAllocation, exactOptimum, heuristicAllocation, objectiveLowerBound } from "../src/agents/association/baselines";
import { centreAction, decodeJointAction } from "../src/agents/association/decode";
import { interval95 } from "../src/eval/stats";

const ratios = { heuristic: [] as number[], centre: [] as number[], average: [] as number[], lowerBound: [] as number[] };
const ms = { exact: [] as number[], heuristic: [] as number[] };
for (let seed = 1; seed <= 5; seed++) {
  const scenario = generateScenario({ seed, users: 8, bsCpuHz: [2.6e9, 1.8e9, 3.6e9] });
  const rng = mulberry32(seed);
  let state = initialState(scenario, rng);
  for (let slot = 0; slot < 5; slot++) {
    let t0 = performance.now();
    const opt = exactOptimum(scenario, state);
    ms.exact.push(performance.now() - t0);
    t0 = performance.now();
    const heuristic = heuristicAllocation(scenario, state);
    ms.heuristic.push(performance.now() - t0);
    const cost = (a: Parameters<typeof timeCost>[2]) => timeCost(scenario, state, a).objectiveSeconds;
    ratios.heuristic.push(cost(heuristic) / opt.objectiveSeconds);
    ratios.centre.push(cost(decodeJointAction(scenario, state, centreAction(scenario.bss.length))) / opt.objectiveSeconds);
    ratios.average.push(cost(averageAllocation(scenario, state)) / opt.objectiveSeconds);
    ratios.lowerBound.push(objectiveLowerBound(scenario, state) / opt.objectiveSeconds);
    state = nextState(scenario, state, opt.allocation, rng);
  }
}
const fmt = (xs: number[], d = 3) => {
  const i = interval95(xs);
  return `${i.mean.toFixed(d)} [${i.lower.toFixed(d)}, ${i.upper.toFixed(d)}], worst ${Math.max(...xs).toFixed(d)}`;
};
console.log(`small instances (M = 3, N = 8), 5 seeds x 5 slots; objective / exact optimum, mean [95% CI]:`);
console.log(`  heuristic          ${fmt(ratios.heuristic)}`);
console.log(`  centre action      ${fmt(ratios.centre)}`);
console.log(`  average assoc.     ${fmt(ratios.average)}`);
console.log(`  lower bound        ${fmt(ratios.lowerBound)} (<= 1 by construction)`);
console.log(`solve time per slot: exact ${fmt(ms.exact, 1)} ms; heuristic ${fmt(ms.heuristic, 1)} ms`);
