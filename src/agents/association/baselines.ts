/**
 * Baselines for edge association, each returning a feasible allocation for a slot state:
 * - random association (the paper's): every twin on a uniformly random BS, random batch sizes, random shares;
 * - average association (the paper's): twins split evenly over the BSs, equal subchannel shares, one batch size;
 * - a heuristic: CPU-proportional load balancing, compute-equalising batch sizes, subchannel shares from the linear
 *   program of {@link optimalTau}, then local search moving single twins between BSs;
 * - the exact optimum of the per-slot problem for small instances (every association enumerated; batch sizes and
 *   shares are then the optimal solutions of their own convex subproblems), and
 * - a relaxation lower bound on the Eq. 18 objective (fractional twins and shares) for any size,
 *   so the distance to the best achievable is known.
 * Batch sizes always reach theta_th (18a) at the smallest data-weighted mean that does so, b_req.
 */
import type { Scenario } from "../../twins/scenario";
import type { Allocation, SlotState } from "../../twins/state";
import { availableCpuHz } from "../../twins/state";
import { thetaG, timeCost } from "../../twins/timeCost";
import { uplinkSpectralEfficiency, downlinkRatesBps } from "../../twins/wireless";
import { randInt, type Rng } from "../../twins/random";
import { apportion, assignTwins, balancedBatchLevels, repairBatches, targetMeanBatch } from "./decode";
import { optimalTau } from "./subchannels";

function equalTau(m: number, c: number): number[][] {
  return Array.from({ length: m }, () => new Array<number>(c).fill(1 / m));
}

/** The smallest uniform batch size meeting theta_th, within [b_min, b_max]. */
function uniformBatch(scenario: Scenario, n: number, dataSamples: readonly number[]): number[] {
  return repairBatches(scenario, dataSamples, new Array<number>(n).fill(scenario.constants.minBatchSize));
}

/** Average association: twin n on BS n mod M, equal shares 1/M of every subchannel, the smallest uniform batch. */
export function averageAllocation(scenario: Scenario, state: SlotState): Allocation {
  const m = scenario.bss.length;
  const n = state.dataSamples.length;
  return {
    association: state.dataSamples.map((_, i) => i % m),
    batchSize: uniformBatch(scenario, n, state.dataSamples),
    tau: equalTau(m, scenario.constants.subchannels),
  };
}

/** Random association: uniform BS per twin, uniform batch sizes (lifted to theta_th), random shares per subchannel. */
export function randomAllocation(scenario: Scenario, state: SlotState, rng: Rng): Allocation {
  const m = scenario.bss.length;
  const k = scenario.constants;
  const association = state.dataSamples.map(() => randInt(rng, 0, m - 1));
  const batchSize = repairBatches(scenario, state.dataSamples, state.dataSamples.map(() => randInt(rng, k.minBatchSize, k.maxBatchSize)));
  const tau = Array.from({ length: m }, () => new Array<number>(k.subchannels).fill(0));
  for (let c = 0; c < k.subchannels; c++) {
    const w = Array.from({ length: m }, () => 0.01 + rng());
    const sum = w.reduce((s, x) => s + x, 0);
    w.forEach((x, i) => (tau[i][c] = x / sum));
  }
  return { association, batchSize, tau };
}

/** {@link balancedBatchLevels} rounded to whole samples and lifted to theta_th if rounding fell short. */
export function balancedBatches(scenario: Scenario, state: SlotState, association: readonly number[]): number[] {
  return repairBatches(scenario, state.dataSamples, balancedBatchLevels(scenario, state, association));
}

/** The heuristic: load balancing by CPU, balanced batches, LP subchannel shares, then single-twin moves. */
export function heuristicAllocation(scenario: Scenario, state: SlotState, maxMoves = 200): Allocation {
  const m = scenario.bss.length;
  const n = state.dataSamples.length;
  const build = (counts: number[]): Allocation => {
    const association = assignTwins(counts, state.association);
    return { association, batchSize: balancedBatches(scenario, state, association), tau: optimalTau(scenario, state, counts).tau };
  };
  let counts = apportion(scenario.bss.map((b, i) => b.cpuHz * state.cpuAvailability[i]), n);
  let best = build(counts);
  let bestCost = timeCost(scenario, state, best);
  for (let move = 0; move < maxMoves; move++) {
    let improved = false;
    const order = bestCost.perBs.map((c) => c.bs).sort((a, b) => bestCost.perBs[b].totalSeconds - bestCost.perBs[a].totalSeconds);
    for (const from of order) {
      if (counts[from] === 0) continue;
      for (let to = 0; to < m && !improved; to++) {
        if (to === from) continue;
        const next = counts.slice();
        next[from]--;
        next[to]++;
        const candidate = build(next);
        const cost = timeCost(scenario, state, candidate);
        if (cost.objectiveSeconds < bestCost.objectiveSeconds - 1e-12) {
          counts = next;
          best = candidate;
          bestCost = cost;
          improved = true;
        }
      }
      if (improved) break;
    }
    if (!improved) break;
  }
  return best;
}

/** Largest number of associations (M^N) {@link exactOptimum} enumerates. */
export const EXACT_MAX_ASSOCIATIONS = 200_000;

/**
 * The exact optimum of the per-slot problem (Eq. 18 under 18a-18d) for a small instance, by enumerating all M^N
 * associations. For a fixed association the rest separates: the mean batch is b_req (the objective rises with it),
 * the batch sizes that minimise Eq. 12's max are the balanced levels (exact, unrounded: 18d allows any size in
 * [b_min, b_max]), and the shares that minimise Eq. 15's max are the LP of {@link optimalTau}; aggregation and block
 * terms are fixed by the association and the state. Throws when M^N exceeds {@link EXACT_MAX_ASSOCIATIONS}.
 */
export function exactOptimum(scenario: Scenario, state: SlotState): { allocation: Allocation; objectiveSeconds: number; associations: number } {
  const m = scenario.bss.length;
  const n = state.dataSamples.length;
  const total = m ** n;
  if (total > EXACT_MAX_ASSOCIATIONS) {
    throw new Error(`exactOptimum: ${m}^${n} = ${total} associations exceed ${EXACT_MAX_ASSOCIATIONS}; use objectiveLowerBound for this size.`);
  }
  const tauByCounts = new Map<string, number[][]>();
  let best: Allocation | undefined;
  let bestCost = Infinity;
  const association = new Array<number>(n).fill(0);
  for (let code = 0; code < total; code++) {
    for (let t = 0, c = code; t < n; t++, c = Math.floor(c / m)) association[t] = c % m;
    const counts = new Array<number>(m).fill(0);
    association.forEach((bs) => counts[bs]++);
    const key = counts.join(",");
    let tau = tauByCounts.get(key);
    if (!tau) {
      tau = optimalTau(scenario, state, counts).tau;
      tauByCounts.set(key, tau);
    }
    const candidate = { association: association.slice(), batchSize: balancedBatchLevels(scenario, state, association), tau };
    const cost = timeCost(scenario, state, candidate).objectiveSeconds;
    if (cost < bestCost) {
      bestCost = cost;
      best = candidate;
    }
  }
  return { allocation: best as Allocation, objectiveSeconds: bestCost, associations: total };
}

/**
 * A lower bound on the Eq. 18 objective of any feasible allocation in `state`: each max term of Eq. 17 is bounded by
 * its fractional optimum on its own (compute spread over all CPUs at the smallest mean batch, every model sent at
 * the best BS's rate on every subchannel), and theta_G by theta_th.
 */
export function objectiveLowerBound(scenario: Scenario, state: SlotState): number {
  const k = scenario.constants;
  const m = scenario.bss.length;
  const n = state.dataSamples.length;
  const cpu = availableCpuHz(scenario.bss.map((b) => b.cpuHz), state);
  const cpuTotal = cpu.reduce((s, f) => s + f, 0);
  const bMean = targetMeanBatch(scenario);
  const samples = state.dataSamples.reduce((s, d) => s + d, 0);
  const compute = ((bMean + (k.trainStepSamples ?? 0)) * samples * k.trainCyclesPerSample + n * (k.trainTwinCycles ?? 0)) / cpuTotal;
  const aggregation = (n * k.modelSizeBits * k.aggregationCyclesPerBit) / cpuTotal;
  const se = uplinkSpectralEfficiency(scenario, state.channel);
  let bestRate = 0;
  for (let c = 0; c < k.subchannels; c++) bestRate += k.subchannelBandwidthHz * Math.max(...se.map((row) => row[c]));
  const transmission = (k.xi * Math.log2(m) * n * k.modelSizeBits) / bestRate;
  const down = downlinkRatesBps(scenario, state.channel);
  const blocks = Math.max(...down.map((r) => (k.xi * Math.log2(k.blockProducers) * k.blockSizeBits) / r)) + Math.max(...cpu.map((f) => (k.blockSizeBits * k.validationCyclesPerBit) / f));
  const { theta } = thetaG(scenario, [1], [bMean]);
  return (compute + aggregation + transmission + blocks) / (1 - theta);
}
