/**
 * Decoding the agents' raw actions into a feasible allocation, by construction:
 * every twin on exactly one BS (18b), batch sizes in [b_min, b_max] (18d) and high enough for theta_th (18a),
 * sum_i tau_{i,c} <= 1 on every subchannel (18c), and uplink time for every BS that hosts twins.
 *
 * Raw action of BS i (the actor's output, every entry in [0, 1]), a_i = (K_i, b_i, tau_i) of Section IV-A, each a
 * tilt around the centre of the action box, where the decoder already gives a sound allocation (decoder "cpu-balanced"):
 *   [0] load: K_i is proportional to f_i * exp(LOAD_SHARPNESS * (load - 1/2)) for the available CPU f_i of BS i
 *       (largest remainder over the N twins): at the centre, twins in proportion to the CPUs;
 *   [1] batch level: the batch sizes of the twins on BS i equalise the local training time (Eq. 12) across the BSs
 *       as if BS i had the CPU f_i * exp(BATCH_SHARPNESS * (level - 1/2)), at the data-weighted mean b_req, the
 *       smallest that reaches theta_th (18a): the objective (Eq. 18) rises with every batch size, so no optimal
 *       allocation spends more. At the centre, the exact water-filling of {@link balancedBatchLevels};
 *   [2] bandwidth demand: BS i asks for uplink capacity for d_i = K_i * exp(DEMAND_SHARPNESS * (demand - 1/2))
 *       models. The subchannel shares tau_i are the market clearing of all BSs' demands: the linear program of
 *       {@link optimalTau} gives every BS the same rate per unit of demand, as high as the subchannels allow.
 *       Every BS computes the same tau from the joint action it reads on the chain.
 * The first decoder ("uniform") tilted loads and batch levels around equal values instead: its centre action was
 * 11-15 % above the lower bound, and training spent itself recovering what the CPUs already say (docs/model.md).
 * Choosing tau per subchannel directly (M x C outputs) left MADDPG far behind even the average association in our
 * trials (docs/model.md); a demand per BS keeps tau_i the agent's choice in one number it can learn.
 */
import type { Scenario } from "../../twins/scenario";
import type { Allocation, SlotState } from "../../twins/state";
import { availableCpuHz } from "../../twins/state";
import { optimalTau } from "./subchannels";

/** Length of one agent's raw action vector: load, batch level, bandwidth demand. */
export function rawActionSize(_scenario: Scenario): number {
  return RAW_ACTION_SIZE;
}
export const RAW_ACTION_SIZE = 3;

/**
 * Loads, relative batch sizes and demand weights span factors exp(sharpness) between the ends of the action box.
 * Small ranges keep the objective smooth in the actions: the system cost is a max over BSs, so exploration noise on
 * sharp actions makes some BS a straggler in almost every slot.
 */
export const LOAD_SHARPNESS = 1.5;
export const BATCH_SHARPNESS = 0.5;
export const DEMAND_SHARPNESS = 1;
/** Name of the decoder's centre (kept in every saved policy: a policy acts only with the decoder it learned). */
export const DECODER_CENTRE = "cpu-balanced";
/** The joint raw action at the centre of every BS's action box: what untrained actors output (the decoder's centre). */
export function centreAction(m: number): number[][] {
  return Array.from({ length: m }, () => new Array<number>(RAW_ACTION_SIZE).fill(0.5));
}

const unit = (x: number) => Math.min(1, Math.max(0, x));
const weight = (x: number, sharpness: number) => Math.exp(sharpness * (unit(x) - 0.5));

/** Counts summing to `total` proportional to `weights` (largest-remainder method). */
export function apportion(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((s, w) => s + w, 0);
  const exact = weights.map((w) => (w / sum) * total);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((s, c) => s + c, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) counts[order[k].i]++;
  return counts;
}

/**
 * Twin n -> BS with K_i twins on BS i: each BS first keeps its previous twins (lowest ids first) up to K_i, the rest
 * fill the BSs with room left in order. Sticky, so re-association only moves what the counts require.
 */
export function assignTwins(counts: readonly number[], previous: readonly number[]): number[] {
  const association = new Array<number>(previous.length).fill(-1);
  const room = counts.slice();
  previous.forEach((bs, n) => {
    if (bs >= 0 && bs < room.length && room[bs] > 0) {
      association[n] = bs;
      room[bs]--;
    }
  });
  let bs = 0;
  association.forEach((a, n) => {
    if (a >= 0) return;
    while (room[bs] === 0) bs++;
    association[n] = bs;
    room[bs]--;
  });
  return association;
}

/** Mean batch size b_req with theta_G(b_req) = theta_th; throws if b_max cannot reach it. */
export function requiredMeanBatch(scenario: Scenario): number {
  const k = scenario.constants;
  if (k.thetaThreshold >= k.thetaMax) {
    throw new Error(`theta_th = ${k.thetaThreshold} is unreachable: theta_G never exceeds theta_max = ${k.thetaMax}.`);
  }
  const b = -k.thetaBatchScale * Math.log(1 - k.thetaThreshold / k.thetaMax);
  if (b > k.maxBatchSize) {
    throw new Error(`theta_th = ${k.thetaThreshold} needs a mean batch of ${b.toFixed(1)} samples, above b_max = ${k.maxBatchSize}.`);
  }
  return b;
}

/** The data-weighted mean batch an optimal allocation uses: b_req, or b_min when b_min already reaches theta_th. */
export function targetMeanBatch(scenario: Scenario): number {
  return Math.max(requiredMeanBatch(scenario), scenario.constants.minBatchSize);
}

/**
 * Raise batch sizes just enough that the data-weighted mean reaches b_req (18a), keeping them integer and <= b_max:
 * every batch below the water level L is lifted to L, with L found by bisection.
 */
export function repairBatches(scenario: Scenario, dataSamples: readonly number[], batch: readonly number[]): number[] {
  const k = scenario.constants;
  const need = requiredMeanBatch(scenario);
  const total = dataSamples.reduce((s, d) => s + d, 0);
  const mean = (b: readonly number[]) => b.reduce((s, x, n) => s + x * dataSamples[n], 0) / total;
  const clamp = (b: number) => Math.min(k.maxBatchSize, Math.max(k.minBatchSize, Math.round(b)));
  const base = batch.map(clamp);
  if (mean(base) >= need) return base;
  let lo = k.minBatchSize;
  let hi = k.maxBatchSize;
  const lifted = (level: number) => base.map((b) => Math.max(b, level));
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (mean(lifted(mid)) >= need) hi = mid;
    else lo = mid + 1;
  }
  return lifted(lo);
}

/**
 * Batch sizes that equalise the local training time (Eq. 12) across BSs at the data-weighted mean b_req, before
 * rounding: BS i gets b_i = clamp(lambda f_i / S_i) for its S_i samples, with the common time lambda found by
 * bisection. For a fixed association this minimises max_i of Eq. 12 under 18a and 18d exactly (a water-filling
 * problem), so the exact optimum uses it unrounded. With `cpuTilt`, BS i is balanced as if its CPU were f_i * tilt_i
 * (the MADDPG decoder's batch action: a BS asks for more or less local work than the equal-time split, the
 * data-weighted mean staying at b_req).
 */
export function balancedBatchLevels(scenario: Scenario, state: SlotState, association: readonly number[], cpuTilt?: readonly number[]): number[] {
  const m = scenario.bss.length;
  const k = scenario.constants;
  const need = targetMeanBatch(scenario);
  const cpu = availableCpuHz(scenario.bss.map((b) => b.cpuHz), state).map((f, i) => f * (cpuTilt?.[i] ?? 1));
  const samples = new Array<number>(m).fill(0);
  association.forEach((bs, n) => (samples[bs] += state.dataSamples[n]));
  const total = samples.reduce((s, x) => s + x, 0);
  const twins = new Array<number>(m).fill(0);
  association.forEach((bs) => twins[bs]++);
  // Eq. 12 (with its calibrated terms): T_i = ((b_i + b^0) S_i f^C + K_i f^T) / f_i = lambda f^C  =>  b_i = (lambda f_i - K_i f^T / f^C) / S_i - b^0
  const b0 = k.trainStepSamples ?? 0;
  const perTwin = (k.trainTwinCycles ?? 0) / k.trainCyclesPerSample;
  const batchAt = (lambda: number) => samples.map((s, i) => (s === 0 ? k.minBatchSize : Math.min(k.maxBatchSize, Math.max(k.minBatchSize, (lambda * cpu[i] - twins[i] * perTwin) / s - b0))));
  const work = (b: number[]) => b.reduce((acc, x, i) => acc + x * samples[i], 0);
  let lo = 0;
  let hi = ((k.maxBatchSize + b0) * total + association.length * perTwin) / Math.min(...cpu) + 1;
  for (let it = 0; it < 100; it++) {
    const mid = (lo + hi) / 2;
    if (work(batchAt(mid)) >= need * total) hi = mid;
    else lo = mid;
  }
  const perBs = batchAt(hi);
  return association.map((bs) => perBs[bs]);
}

/** Decode the M raw actions (each of length 3, entries in [0, 1]) into a feasible allocation (Eq. 18b-18d). */
export function decodeJointAction(scenario: Scenario, state: SlotState, raw: readonly (readonly number[])[]): Allocation {
  const m = scenario.bss.length;
  if (raw.length !== m) throw new Error(`Expected ${m} raw actions (one per BS), got ${raw.length}.`);
  raw.forEach((r, i) => {
    if (r.length !== RAW_ACTION_SIZE) throw new Error(`Raw action of BS ${i} has ${r.length} entries; expected ${RAW_ACTION_SIZE}.`);
    r.forEach((x, j) => {
      if (!Number.isFinite(x)) throw new Error(`Raw action of BS ${i} has a non-finite entry at ${j}: ${x}.`);
    });
  });
  const cpu = availableCpuHz(scenario.bss.map((b) => b.cpuHz), state);
  const counts = apportion(raw.map((r, i) => cpu[i] * weight(r[0], LOAD_SHARPNESS)), state.dataSamples.length);
  const association = assignTwins(counts, state.association);
  const levels = balancedBatchLevels(scenario, state, association, raw.map((r) => weight(r[1], BATCH_SHARPNESS)));
  const batchSize = repairBatches(scenario, state.dataSamples, levels);
  const demands = counts.map((K, i) => K * weight(raw[i][2], DEMAND_SHARPNESS));
  const { tau } = optimalTau(scenario, state, demands);
  return { association, batchSize, tau };
}
