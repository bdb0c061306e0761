/**
 * Baselines for edge association, each returning a feasible allocation for a slot state:
 * - random association (the paper's): every twin on a uniformly random BS, random batch sizes, random shares;
 * - average association (the paper's): twins split evenly over the BSs, equal subchannel shares, one batch size;
 * - a heuristic: CPU-proportional load balancing, compute-equalising batch sizes, greedy water-filling of the
 *   subchannels, then local search moving single twins off the slowest BS;
 * - a relaxation lower bound on the Eq. 18 objective (fractional twins and shares), so the distance to the best
 *   achievable is known.
 * Batch sizes always reach theta_th (18a) at the smallest data-weighted mean that does so, b_req.
 */
import type { Scenario } from "../twins/scenario";
import type { Allocation, SlotState } from "../twins/state";
import { availableCpuHz } from "../twins/state";
import { thetaG, timeCost } from "../twins/timeCost";
import { uplinkSpectralEfficiency, downlinkRatesBps } from "../twins/wireless";
import { randInt, type Rng } from "../twins/random";
import { apportion, assignTwins, repairBatches, targetMeanBatch } from "./decode";

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

/**
 * Greedy water-filling of the subchannels for given twin counts: time is handed out in slices of 1/steps of a
 * subchannel, each to the BS whose upload (Eq. 15) currently takes longest, on its best subchannel with time left.
 */
export function waterFillTau(scenario: Scenario, state: SlotState, counts: readonly number[], steps = 50): number[][] {
  const m = scenario.bss.length;
  const C = scenario.constants.subchannels;
  const se = uplinkSpectralEfficiency(scenario, state.channel);
  const w = scenario.constants.subchannelBandwidthHz;
  const tau = Array.from({ length: m }, () => new Array<number>(C).fill(0));
  const left = new Array<number>(C).fill(steps);
  const rate = new Array<number>(m).fill(0);
  for (let slice = 0; slice < C * steps; slice++) {
    let worst = -1;
    let worstTime = -1;
    for (let i = 0; i < m; i++) {
      if (counts[i] === 0) continue;
      const t = rate[i] > 0 ? counts[i] / rate[i] : Infinity;
      if (t > worstTime) {
        worstTime = t;
        worst = i;
      }
    }
    if (worst < 0) break;
    let best = -1;
    for (let c = 0; c < C; c++) if (left[c] > 0 && (best < 0 || se[worst][c] > se[worst][best])) best = c;
    if (best < 0) break;
    left[best]--;
    tau[worst][best] += 1 / steps;
    rate[worst] += (w * se[worst][best]) / steps;
  }
  // Leftover time (only when some BS hosts nothing) stays unused; clean floating error.
  return tau.map((row) => row.map((t) => Math.min(1, Math.round(t * steps) / steps)));
}

/**
 * Batch sizes that equalise the local training time (Eq. 12) across BSs at the data-weighted mean b_req: BS i gets
 * b_i proportional to f_i / (its samples), clamped to [b_min, b_max], then lifted to theta_th if rounding fell short.
 */
export function balancedBatches(scenario: Scenario, state: SlotState, association: readonly number[]): number[] {
  const m = scenario.bss.length;
  const k = scenario.constants;
  const need = targetMeanBatch(scenario);
  const cpu = availableCpuHz(scenario.bss.map((b) => b.cpuHz), state);
  const samples = new Array<number>(m).fill(0);
  association.forEach((bs, n) => (samples[bs] += state.dataSamples[n]));
  const total = samples.reduce((s, x) => s + x, 0);
  // Bisection on the common time lambda: sum_i clamp(lambda f_i / S_i) S_i = need * total.
  const batchAt = (lambda: number) => samples.map((s, i) => (s === 0 ? k.minBatchSize : Math.min(k.maxBatchSize, Math.max(k.minBatchSize, (lambda * cpu[i]) / s))));
  const work = (b: number[]) => b.reduce((acc, x, i) => acc + x * samples[i], 0);
  let lo = 0;
  let hi = (k.maxBatchSize * total) / Math.min(...cpu) + 1;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (work(batchAt(mid)) >= need * total) hi = mid;
    else lo = mid;
  }
  const perBs = batchAt(hi);
  return repairBatches(scenario, state.dataSamples, association.map((bs) => perBs[bs]));
}

/** The heuristic: load balancing by CPU, balanced batches, water-filled subchannels, then single-twin moves. */
export function heuristicAllocation(scenario: Scenario, state: SlotState, maxMoves = 200): Allocation {
  const m = scenario.bss.length;
  const n = state.dataSamples.length;
  const build = (counts: number[]): Allocation => {
    const association = assignTwins(counts, state.association);
    return { association, batchSize: balancedBatches(scenario, state, association), tau: waterFillTau(scenario, state, counts) };
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
  const compute = (bMean * samples * k.trainCyclesPerSample) / cpuTotal;
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
