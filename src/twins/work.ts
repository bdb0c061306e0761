/**
 * The local training of Eq. 12 as the running system does it. Eq. 12 charges twin j b_j * D_DTj * f^C CPU cycles per
 * local iteration; the system trains twin j for s_j mini-batches of b_j samples, with s_j proportional to D_DTj:
 *
 *   s_j = max(1, round(s_ref * D_DTj / D_ref)),
 *
 * so it processes b_j * s_j ~ b_j * D_DTj * s_ref / D_ref samples: the work Eq. 12 prices, up to the rounding of s_j.
 * A core that processes v samples/s of the paper's CNN and stands for a CPU of f Hz then gives
 *
 *   f^C = f * s_ref / (D_ref * v)   cycles per sample per unit of batch size,
 *
 * which is the constant `dtwn calibrate` measures (src/bench/calibrate.ts).
 *
 * Measured, one mini-batch of b samples costs c0 + b / v seconds, not b / v, and a twin costs o seconds besides its
 * mini-batches (see results/testbed/calibration.md). A calibrated model therefore extends Eq. 12 with two terms that
 * are 0 in the paper's:
 *
 *   cycles_j = (b_j + b^0) D_DTj f^C + f^T,   b^0 = c0 v samples,   f^T = o f cycles,
 *
 * so twin j's seconds on a CPU of f Hz are s_j (c0 + b_j / v) + o, what the system measures. Pure.
 */
import type { SystemConstants } from "./constants";

/** D_ref: the data size (samples) of a twin that trains exactly s_ref mini-batches (the bootstrap's mean D_n). */
export const REFERENCE_TWIN_SAMPLES = 600;

/** s_j: the mini-batches twin j trains per round, for its data size D_DTj and the run's s_ref (`--local-steps`). */
export function localStepsOf(dataSamples: number, referenceSteps: number, referenceSamples = REFERENCE_TWIN_SAMPLES): number {
  if (!(dataSamples >= 0) || !(referenceSteps >= 1) || !(referenceSamples > 0)) throw new Error(`localStepsOf: bad arguments (${dataSamples}, ${referenceSteps}, ${referenceSamples})`);
  return Math.max(1, Math.round((referenceSteps * dataSamples) / referenceSamples));
}

/** Samples that training processes for twin j: b_j * s_j. */
export function trainedSamples(batchSize: number, dataSamples: number, referenceSteps: number, referenceSamples = REFERENCE_TWIN_SAMPLES): number {
  return batchSize * localStepsOf(dataSamples, referenceSteps, referenceSamples);
}

/**
 * f^C of Eq. 12 (cycles per sample per unit of batch size) for a core that trains `samplesPerSecond` samples/s and
 * stands for a CPU of `coreHz` Hz, when twins train s_ref mini-batches per D_ref samples.
 */
export function trainCyclesPerSampleOf(samplesPerSecond: number, coreHz: number, referenceSteps: number, referenceSamples = REFERENCE_TWIN_SAMPLES): number {
  if (!(samplesPerSecond > 0) || !(coreHz > 0)) throw new Error(`trainCyclesPerSampleOf: samples/s and Hz must be positive (${samplesPerSecond}, ${coreHz})`);
  return (coreHz * referenceSteps) / (referenceSamples * samplesPerSecond);
}

/** Eq. 12's CPU cycles for twin j of D_DTj samples at batch size b_j, with the calibrated terms b^0 and f^T (0 if absent). */
export function twinTrainCycles(k: Pick<SystemConstants, "trainCyclesPerSample" | "trainStepSamples" | "trainTwinCycles">, batchSize: number, dataSamples: number): number {
  return (batchSize + (k.trainStepSamples ?? 0)) * dataSamples * k.trainCyclesPerSample + (k.trainTwinCycles ?? 0);
}

/** The constants of Eq. 12 that a calibration sets: f^C, and the extension's b^0 and f^T. */
export type TrainingConstants = Pick<SystemConstants, "trainCyclesPerSample" | "trainStepSamples" | "trainTwinCycles">;

/**
 * Eq. 12's constants for a core that trains at `samplesPerSecond` (v, marginal), with `stepSeconds` (c0) per
 * mini-batch and `twinSeconds` (o) per twin besides, standing for a CPU of `coreHz` Hz, when twins train s_ref
 * mini-batches per D_ref samples.
 */
export function trainingConstantsOf(m: { samplesPerSecond: number; stepSeconds: number; twinSeconds: number }, coreHz: number, referenceSteps: number, referenceSamples = REFERENCE_TWIN_SAMPLES): TrainingConstants {
  if (!(m.stepSeconds >= 0) || !(m.twinSeconds >= 0)) throw new Error(`trainingConstantsOf: step and twin seconds must be >= 0 (${m.stepSeconds}, ${m.twinSeconds})`);
  return { trainCyclesPerSample: trainCyclesPerSampleOf(m.samplesPerSecond, coreHz, referenceSteps, referenceSamples), trainStepSamples: m.stepSeconds * m.samplesPerSecond, trainTwinCycles: m.twinSeconds * coreHz };
}

/** The model's constants with Eq. 12's replaced (a calibration); the others unchanged. */
export function withTrainCycles(constants: SystemConstants, training: Partial<TrainingConstants> | undefined): SystemConstants {
  if (training?.trainCyclesPerSample === undefined) return constants;
  const out: SystemConstants = { ...constants, trainCyclesPerSample: training.trainCyclesPerSample };
  if (training.trainStepSamples !== undefined) out.trainStepSamples = training.trainStepSamples;
  if (training.trainTwinCycles !== undefined) out.trainTwinCycles = training.trainTwinCycles;
  return out;
}
