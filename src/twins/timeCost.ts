/**
 * The time cost of one federated-learning iteration (paper Section III, Eqs. 12-18) and the feasibility of an
 * allocation (constraints 18a-18d).
 *
 * Choices where the paper is ambiguous (docs/model.md):
 * - Eq. 12 charges b_j * D_DTj * f^C cycles for twin j: we read f^C as cycles per sample per unit of batch size, so
 *   a larger batch costs proportionally more computation (as Section III states) on top of the twin's data size.
 * - theta_G, the global accuracy level reached, grows with the data-weighted mean batch size b:
 *   theta_G = theta_max * (1 - exp(-b / b0)). Constraint (18a) then sets a floor on the batch sizes, and the
 *   objective T / (1 - theta_G) of Eq. 18 rises with them: the optimizer must find the cheapest batches that
 *   still reach theta_th, and place the large ones on fast BSs.
 * - Eq. 16's broadcast term uses R^D_i of "the" BS: we take the slowest BS (max over i), like its validation term.
 * - Eq. 17 drops the BS aggregation time (Eqs. 13-14) as negligible; we keep it as its own max term (it is small
 *   with the default f^Cb) so every equation is visible in the breakdown.
 * - Extension (constants.twinSyncBitsPerSample, absent in the paper's model): a twin whose BS changes from the
 *   previous slot's association has its data synchronised to the new BS first, over R^D_i; the slot pays
 *   max_i (bits of BS i's incoming twins) / R^D_i once, on top of Eq. 18. Today's association then constrains
 *   tomorrow's: the problem is sequential, not a bandit.
 */
import type { Scenario } from "./scenario";
import { availableCpuHz, twinsPerBs, type Allocation, type SlotState } from "./state";
import { downlinkRatesBps, uplinkRatesBps } from "./wireless";
import { twinTrainCycles } from "./work";

export type ConstraintName = "shape" | "18a" | "18b" | "18c" | "18d" | "uplink";

/** An allocation that violates a constraint; `constraint` names it, the message says what to change. */
export class InfeasibleAllocationError extends Error {
  constructor(
    readonly constraint: ConstraintName,
    message: string,
  ) {
    super(`Infeasible allocation (constraint ${constraint}): ${message}`);
    this.name = "InfeasibleAllocationError";
  }
}

/** Per-BS terms, seconds unless the name says otherwise. */
export interface BsCost {
  bs: number;
  /** f_i^C(t), Hz. */
  cpuHz: number;
  /** K_i. */
  twins: number;
  /** sum over its twins of D_DTj, samples. */
  samples: number;
  /** Eq. 12. */
  localTrainingSeconds: number;
  /** Eq. 14. */
  aggregationSeconds: number;
  /** Eq. 7, bits/s. */
  uplinkRateBps: number;
  /** Eq. 15. */
  transmissionSeconds: number;
  /** Eq. 8, bits/s. */
  downlinkRateBps: number;
  /** Eq. 16, first term, at this BS. */
  blockBroadcastSeconds: number;
  /** Eq. 16, second term, at this BS. */
  blockValidationSeconds: number;
  /** Extension: time to receive the data of the twins that moved to this BS, seconds (0 in the paper's model). */
  twinSyncSeconds: number;
  /** T_i, the BS's own time of one iteration (sum of its terms); Eq. 19 rewards -T_i. */
  totalSeconds: number;
}

export interface CostBreakdown {
  perBs: BsCost[];
  /** max_i of Eq. 12. */
  localTrainingSeconds: number;
  /** max_i of Eq. 14. */
  aggregationSeconds: number;
  /** max_i of Eq. 15. */
  transmissionSeconds: number;
  /** Eq. 16: max_i broadcast + max_i validation. */
  blockValidationSeconds: number;
  /** Eq. 17: T, the time of one global iteration. */
  iterationSeconds: number;
  /** Data-weighted mean batch size, samples. */
  meanBatchSize: number;
  /** theta_G reached with these batch sizes. */
  thetaG: number;
  /** 1 / (1 - theta_G): the bound on global iterations (Eq. 11 with theta_L fixed). */
  globalIterations: number;
  /** Extension: max_i of the twin data sync, paid once per slot (0 in the paper's model). */
  twinSyncSeconds: number;
  /** Eq. 18 objective: T / (1 - theta_G), plus twinSyncSeconds under the extension, seconds. */
  objectiveSeconds: number;
  /** The BS with the largest T_i (the straggler that sets the shared reward). */
  slowestBs: number;
}

/** theta_G(b) = theta_max (1 - exp(-b / b0)) for the data-weighted mean batch size b. */
export function thetaG(scenario: Scenario, dataSamples: readonly number[], batchSize: readonly number[]): { theta: number; meanBatch: number } {
  let num = 0;
  let den = 0;
  dataSamples.forEach((d, n) => {
    num += d * batchSize[n];
    den += d;
  });
  const meanBatch = den > 0 ? num / den : 0;
  const k = scenario.constants;
  return { theta: k.thetaMax * (1 - Math.exp(-meanBatch / k.thetaBatchScale)), meanBatch };
}

/** Check constraints 18a-18d and the shapes; throws InfeasibleAllocationError naming the first violation. */
export function checkAllocation(scenario: Scenario, state: SlotState, a: Allocation): void {
  const m = scenario.bss.length;
  const n = state.dataSamples.length;
  const k = scenario.constants;
  if (a.association.length !== n) throw new InfeasibleAllocationError("shape", `association lists ${a.association.length} twins; the state has ${n}.`);
  if (a.batchSize.length !== n) throw new InfeasibleAllocationError("shape", `batchSize lists ${a.batchSize.length} twins; the state has ${n}.`);
  if (a.tau.length !== m || a.tau.some((row) => row.length !== k.subchannels)) {
    throw new InfeasibleAllocationError("shape", `tau must be ${m} BSs x ${k.subchannels} subchannels.`);
  }
  a.association.forEach((bs, twin) => {
    if (!Number.isInteger(bs) || bs < 0 || bs >= m) {
      throw new InfeasibleAllocationError("18b", `twin ${twin} is associated with BS ${bs}; every twin must be on exactly one BS in 0..${m - 1}.`);
    }
  });
  a.batchSize.forEach((b, twin) => {
    if (!Number.isFinite(b) || b < k.minBatchSize || b > k.maxBatchSize) {
      throw new InfeasibleAllocationError("18d", `twin ${twin} has batch size ${b}; it must be in [${k.minBatchSize}, ${k.maxBatchSize}].`);
    }
  });
  for (let c = 0; c < k.subchannels; c++) {
    let sum = 0;
    for (let i = 0; i < m; i++) {
      const t = a.tau[i][c];
      if (!Number.isFinite(t) || t < 0 || t > 1) throw new InfeasibleAllocationError("18c", `tau[${i}][${c}] = ${t} is not a fraction in [0, 1].`);
      sum += t;
    }
    if (sum > 1 + 1e-9) throw new InfeasibleAllocationError("18c", `subchannel ${c} is shared beyond its time: sum_i tau[i][${c}] = ${sum.toFixed(6)} > 1.`);
  }
  const { theta } = thetaG(scenario, state.dataSamples, a.batchSize);
  if (theta < k.thetaThreshold - 1e-12) {
    throw new InfeasibleAllocationError("18a", `theta_G = ${theta.toFixed(4)} < theta_th = ${k.thetaThreshold}: raise the batch sizes.`);
  }
}

/** The whole breakdown of Eqs. 7-18 for allocation `a` in slot state `state`. Throws if `a` is infeasible. */
export function timeCost(scenario: Scenario, state: SlotState, a: Allocation): CostBreakdown {
  checkAllocation(scenario, state, a);
  const k = scenario.constants;
  const m = scenario.bss.length;
  const cpu = availableCpuHz(scenario.bss.map((b) => b.cpuHz), state);
  const kPerBs = twinsPerBs(a.association, m);
  const work = new Array<number>(m).fill(0); // sum_j of Eq. 12's cycles
  const samples = new Array<number>(m).fill(0);
  a.association.forEach((bs, twin) => {
    work[bs] += twinTrainCycles(k, a.batchSize[twin], state.dataSamples[twin]);
    samples[bs] += state.dataSamples[twin];
  });
  // Extension: samples of the twins that arrive at each BS (their previous BS was another one).
  const incomingSamples = new Array<number>(m).fill(0);
  a.association.forEach((bs, twin) => {
    if (state.association[twin] !== bs) incomingSamples[bs] += state.dataSamples[twin];
  });
  const up = uplinkRatesBps(scenario, state.channel, a.tau);
  const down = downlinkRatesBps(scenario, state.channel);
  const gossip = k.xi * Math.log2(m); // xi log2 M of Eq. 15
  const perBs: BsCost[] = scenario.bss.map((_, i) => {
    if (kPerBs[i] > 0 && up[i] <= 0) {
      throw new InfeasibleAllocationError("uplink", `BS ${i} hosts ${kPerBs[i]} twins but has no uplink time (sum_c tau[${i}][c] = 0): its models could never be sent.`);
    }
    const localTrainingSeconds = work[i] / cpu[i]; // Eq. 12
    const aggregationSeconds = (kPerBs[i] * k.modelSizeBits * k.aggregationCyclesPerBit) / cpu[i]; // Eq. 14
    const transmissionSeconds = kPerBs[i] === 0 ? 0 : (gossip * kPerBs[i] * k.modelSizeBits) / up[i]; // Eq. 15
    const blockBroadcastSeconds = (k.xi * Math.log2(k.blockProducers) * k.blockSizeBits) / down[i]; // Eq. 16 (1)
    const blockValidationSeconds = (k.blockSizeBits * k.validationCyclesPerBit) / cpu[i]; // Eq. 16 (2)
    const twinSyncSeconds = (incomingSamples[i] * (k.twinSyncBitsPerSample ?? 0)) / down[i]; // extension
    return {
      bs: i,
      cpuHz: cpu[i],
      twins: kPerBs[i],
      samples: samples[i],
      localTrainingSeconds,
      aggregationSeconds,
      uplinkRateBps: up[i],
      transmissionSeconds,
      downlinkRateBps: down[i],
      blockBroadcastSeconds,
      blockValidationSeconds,
      twinSyncSeconds,
      totalSeconds: localTrainingSeconds + aggregationSeconds + transmissionSeconds + blockBroadcastSeconds + blockValidationSeconds,
    };
  });
  const max = (f: (c: BsCost) => number) => Math.max(...perBs.map(f));
  const localTrainingSeconds = max((c) => c.localTrainingSeconds);
  const aggregationSeconds = max((c) => c.aggregationSeconds);
  const transmissionSeconds = max((c) => c.transmissionSeconds);
  const blockValidationSeconds = max((c) => c.blockBroadcastSeconds) + max((c) => c.blockValidationSeconds); // Eq. 16
  const iterationSeconds = localTrainingSeconds + aggregationSeconds + transmissionSeconds + blockValidationSeconds; // Eq. 17
  const twinSyncSeconds = max((c) => c.twinSyncSeconds);
  const { theta, meanBatch } = thetaG(scenario, state.dataSamples, a.batchSize);
  const globalIterations = 1 / (1 - theta);
  let slowestBs = 0;
  perBs.forEach((c, i) => {
    if (c.totalSeconds > perBs[slowestBs].totalSeconds) slowestBs = i;
  });
  return {
    perBs,
    localTrainingSeconds,
    aggregationSeconds,
    transmissionSeconds,
    blockValidationSeconds,
    iterationSeconds,
    meanBatchSize: meanBatch,
    thetaG: theta,
    globalIterations,
    twinSyncSeconds,
    objectiveSeconds: iterationSeconds * globalIterations + twinSyncSeconds, // Eq. 18 (+ the extension's sync)
    slowestBs,
  };
}
