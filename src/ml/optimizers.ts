/**
 * The gradient-descent optimisers dtwn trains with (the twins' local training, src/fl/cnn.ts, and MADDPG's actors and
 * critics, src/agents/association/maddpg.ts), one factory for every backend: on tfjs-node TensorFlow's fused in-place update ops
 * (./tensorflowOptimizers, the same rules), elsewhere tfjs's own.
 * - sgd: w <- w - lr g;
 * - momentum: heavy ball, a <- beta a + g, w <- w - lr a (beta 0.9);
 * - adam: Adam(lr, beta1 0.9, beta2 0.999, epsilon 1e-7).
 */
import * as tf from "@tensorflow/tfjs";
import { ResourceOptimizer } from "./tensorflowOptimizers";

export type OptimizerKind = "sgd" | "momentum" | "adam";
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ["sgd", "momentum", "adam"];

export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
export const MOMENTUM_DEFAULT = 0.9;

/** The optimiser of `kind` for the active backend. Dispose it when done. */
export function makeOptimizer(kind: OptimizerKind, learningRate: number): tf.Optimizer {
  if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new Error(`the learning rate must be a positive number, got ${learningRate}.`);
  if (!OPTIMIZER_KINDS.includes(kind)) throw new Error(`unknown optimizer ${JSON.stringify(kind)}; use one of ${OPTIMIZER_KINDS.join(", ")}.`);
  if (tf.getBackend() === "tensorflow") return new ResourceOptimizer(kind, learningRate, kind === "adam" ? ADAM_DEFAULTS : { momentum: MOMENTUM_DEFAULT });
  if (kind === "sgd") return tf.train.sgd(learningRate);
  if (kind === "momentum") return tf.train.momentum(learningRate, MOMENTUM_DEFAULT);
  return tf.train.adam(learningRate, ADAM_DEFAULTS.beta1, ADAM_DEFAULTS.beta2, ADAM_DEFAULTS.epsilon);
}
