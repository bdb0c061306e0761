/**
 * Decoding the agents' raw actions into a feasible allocation, by construction:
 * every twin on exactly one BS (18b), batch sizes in [b_min, b_max] (18d) and high enough for theta_th (18a),
 * sum_i tau_{i,c} <= 1 on every subchannel (18c), and uplink time for every BS that hosts twins.
 *
 * Raw action of BS i (the actor's output, every entry in [0, 1]), a_i = (K_i, b_i, tau_i) of Section IV-A:
 *   [0] load: K_i is proportional to exp(LOAD_SHARPNESS * (load - 1/2)) (largest remainder over the N twins);
 *   [1] batch level: the relative batch size exp(BATCH_SHARPNESS * (level - 1/2)) of the twins on BS i; the decoder
 *       scales all batch sizes by one
 *       factor so that their data-weighted mean is exactly b_req, the smallest that reaches theta_th (18a):
 *       the objective (Eq. 18) rises with every batch size, so no optimal allocation spends more;
 *   [2] bandwidth demand: BS i asks for uplink capacity for d_i = K_i * exp(DEMAND_SHARPNESS * (demand - 1/2))
 *       models. The subchannel shares tau_i are the market clearing of all BSs' demands: the linear program of
 *       {@link optimalTau} gives every BS the same rate per unit of demand, as high as the subchannels allow.
 *       Every BS computes the same tau from the joint action it reads on the chain.
 * Choosing tau per subchannel directly (M x C outputs) left MADDPG far behind even the average association in our
 * trials (docs/model.md); a demand per BS keeps tau_i the agent's choice in one number it can learn.
 */
import type { Scenario } from "../../twins/scenario";
import type { Allocation, SlotState } from "../../twins/state";
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
export const LOAD_SHARPNESS = 2;
export const BATCH_SHARPNESS = 1.5;
export const DEMAND_SHARPNESS = 1;
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
 * Scale relative batch sizes by one common factor so the data-weighted mean is b_req (clamped to [b_min, b_max],
 * factor found by bisection), round, and lift to theta_th if rounding fell short.
 */
export function scaleBatchesToTarget(scenario: Scenario, dataSamples: readonly number[], relative: readonly number[]): number[] {
  const k = scenario.constants;
  const need = targetMeanBatch(scenario);
  const total = dataSamples.reduce((s, d) => s + d, 0);
  const at = (f: number) => relative.map((b) => Math.min(k.maxBatchSize, Math.max(k.minBatchSize, b * f)));
  const mean = (b: number[]) => b.reduce((s, x, n) => s + x * dataSamples[n], 0) / total;
  let lo = 0;
  let hi = k.maxBatchSize / Math.max(1e-9, Math.min(...relative));
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    if (mean(at(mid)) >= need) hi = mid;
    else lo = mid;
  }
  return repairBatches(scenario, dataSamples, at(hi).map((b) => Math.floor(b)));
}

/** Decode the M raw actions (each of length 3, entries in [0, 1]) into a feasible allocation. */
export function decodeJointAction(scenario: Scenario, state: SlotState, raw: readonly (readonly number[])[]): Allocation {
  const m = scenario.bss.length;
  if (raw.length !== m) throw new Error(`Expected ${m} raw actions (one per BS), got ${raw.length}.`);
  raw.forEach((r, i) => {
    if (r.length !== RAW_ACTION_SIZE) throw new Error(`Raw action of BS ${i} has ${r.length} entries; expected ${RAW_ACTION_SIZE}.`);
    r.forEach((x, j) => {
      if (!Number.isFinite(x)) throw new Error(`Raw action of BS ${i} has a non-finite entry at ${j}: ${x}.`);
    });
  });
  const counts = apportion(raw.map((r) => weight(r[0], LOAD_SHARPNESS)), state.dataSamples.length);
  const association = assignTwins(counts, state.association);
  const perBsBatch = raw.map((r) => weight(r[1], BATCH_SHARPNESS));
  const batchSize = scaleBatchesToTarget(scenario, state.dataSamples, association.map((bs) => perBsBatch[bs]));
  const demands = counts.map((K, i) => K * weight(raw[i][2], DEMAND_SHARPNESS));
  const { tau } = optimalTau(scenario, state, demands);
  return { association, batchSize, tau };
}
