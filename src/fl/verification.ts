/**
 * Verification before aggregation (Section II-C: a BS's model earns coins only if the other BSs accept it): a
 * verifying BS scores the submitted model on its own held-out data and rejects it when its accuracy is more than
 * `maxDrop` below the reference on the same data: the current global model's accuracy, or the median submission's
 * when that is higher ({@link referenceAccuracy}). What the verdicts decide is src/fl/acceptance.ts, the chain's rule.
 */
import type { tf } from "../ml/backend";
import { median } from "../eval/stats";
import type { ImageSet } from "./datasets/types";
import { evaluateModel, setModelWeights } from "./cnn";
import type { ModelWeights } from "./tensors";

export interface Verdict {
  accepted: boolean;
  candidateAccuracy: number;
  referenceAccuracy: number;
}

/**
 * The accuracy a verifier holds a submitted model to: the current global model's on its held-out data, or, when higher,
 * the median of all BS models submitted this round on the same data. The global model alone is no reference while it
 * is still near chance (round 1): a sign-flipped model at chance would then pass. The median of the submissions is an
 * honest model's accuracy as long as most BSs are honest. Pure.
 */
export function referenceAccuracy(globalAccuracy: number, submittedAccuracies: readonly number[]): number {
  return submittedAccuracies.length === 0 ? globalAccuracy : Math.max(globalAccuracy, median(submittedAccuracies));
}

/** The decision rule alone (pure). */
export function judge(candidateAccuracy: number, referenceAccuracy: number, maxDrop: number): Verdict {
  if (!(maxDrop >= 0 && maxDrop <= 1)) throw new Error(`verification: the accuracy drop threshold must be in [0, 1], got ${maxDrop}.`);
  return { accepted: candidateAccuracy >= referenceAccuracy - maxDrop, candidateAccuracy, referenceAccuracy };
}

/**
 * Score `candidate` with the verifier's scratch `model` on `heldOut[indices]` against `referenceAccuracy` (the global
 * model's accuracy on the same samples). Weights of the wrong shape are rejected with an error, not scored.
 */
export function verifyModel(model: tf.LayersModel, candidate: ModelWeights, heldOut: ImageSet, indices: readonly number[], referenceAccuracy: number, maxDrop: number): Verdict {
  setModelWeights(model, candidate, "submitted model");
  return judge(evaluateModel(model, heldOut, indices).accuracy, referenceAccuracy, maxDrop);
}
