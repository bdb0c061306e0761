/**
 * Verification before aggregation (Section II-C: a BS's model earns coins only if the other BSs accept it): a
 * verifying BS scores the submitted model on its own held-out data and rejects it when its accuracy is more than
 * `maxDrop` below the current global model's on the same data.
 */
import type { tf } from "../ml/backend";
import type { ImageSet } from "./datasets/types";
import { evaluateModel, setModelWeights } from "./cnn";
import type { ModelWeights } from "./tensors";

export interface Verdict {
  accepted: boolean;
  candidateAccuracy: number;
  referenceAccuracy: number;
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
