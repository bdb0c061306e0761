/**
 * The paper's CNN (Section V) in TensorFlow.js: two 5x5 convolutions (32 and 64 channels, "same" padding, ReLU), each
 * followed by 2x2 max pooling, a 512-unit ReLU dense layer and a 10-way softmax. On 32x32x3 (CIFAR-10) it has
 * 2,156,490 parameters, the |w_g| of the time-cost model; on 28x28x1 (Fashion-MNIST) 1,663,370.
 * Also: weights to and from the plain {@link ModelWeights}, local training with a given batch size, and evaluation.
 */
import { tf } from "../ml/backend";
import { makeOptimizer, OPTIMIZER_KINDS, type OptimizerKind } from "../ml/optimizers";
import type { ImageSet } from "./datasets/types";
import { assertSameShapes, type ModelWeights, type WeightTensor } from "./tensors";
import { shuffle } from "./partition";
import { mulberry32 } from "../twins/random";

export interface InputShape {
  height: number;
  width: number;
  channels: number;
}

/** The architecture id written into every weights blob. */
export function archId(input: InputShape, classes = 10): string {
  return `paper-cnn-${input.height}x${input.width}x${input.channels}-${classes}`;
}

export function createCnn(input: InputShape, seed = 1, classes = 10): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 10 + k });
  const model = tf.sequential({ name: archId(input, classes).replace(/[^a-zA-Z0-9_]/g, "_") });
  model.add(tf.layers.conv2d({ inputShape: [input.height, input.width, input.channels], filters: 32, kernelSize: 5, padding: "same", activation: "relu", kernelInitializer: init(1) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  model.add(tf.layers.conv2d({ filters: 64, kernelSize: 5, padding: "same", activation: "relu", kernelInitializer: init(2) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 512, activation: "relu", kernelInitializer: init(3) }));
  model.add(tf.layers.dense({ units: classes, activation: "softmax", kernelInitializer: init(4) }));
  return model;
}

export function parameterCount(model: tf.LayersModel): number {
  return model.countParams();
}

export function getModelWeights(model: tf.LayersModel): WeightTensor[] {
  return model.getWeights().map((t) => ({ shape: t.shape.slice(), values: t.dataSync() as Float32Array }));
}

/** Load `weights` into `model`; refuses other shapes with a message naming the tensor. */
export function setModelWeights(model: tf.LayersModel, weights: ModelWeights, what = "weights"): void {
  assertSameShapes(model.weights.map((w) => w.shape.map((d) => d ?? 1)), weights, what);
  const tensors = weights.map((w) => tf.tensor(w.values, w.shape.slice()));
  model.setWeights(tensors);
  tensors.forEach((t) => t.dispose());
}

/** Images as float32 in [0, 1], [n, h, w, c], and labels as int32, for `indices` (default all). */
export function toTensors(set: ImageSet, indices?: readonly number[]): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const size = set.height * set.width * set.channels;
  const idx = indices ?? Array.from({ length: set.count }, (_, i) => i);
  const x = new Float32Array(idx.length * size);
  const y = new Int32Array(idx.length);
  idx.forEach((i, k) => {
    for (let p = 0; p < size; p++) x[k * size + p] = set.images[i * size + p] / 255;
    y[k] = set.labels[i];
  });
  return { x: tf.tensor4d(x, [idx.length, set.height, set.width, set.channels]), y: tf.tensor1d(y, "int32") };
}

/** Per-sample cross-entropy of softmax outputs `p` against one-hot labels. */
export function crossEntropy(oneHot: tf.Tensor, p: tf.Tensor): tf.Tensor {
  return oneHot.mul(p.clipByValue(1e-7, 1).log()).sum(1).neg();
}

/**
 * The local optimiser of a twin's training (the paper: "gradient descent based methods ... with a predefined learning
 * rate"): sgd, momentum or adam (src/ml/optimizers.ts). Its state starts afresh every round, from the global model.
 */
export type LocalOptimizer = OptimizerKind;
export const LOCAL_OPTIMIZERS = OPTIMIZER_KINDS;

export interface TrainOptions {
  batchSize: number;
  epochs: number;
  learningRate: number;
  /** Shuffling seed. */
  seed: number;
  /** Stop after this many mini-batches in all (default: every epoch in full). */
  maxSteps?: number;
  /** Default sgd. */
  optimizer?: LocalOptimizer;
}

/**
 * Mini-batch gradient descent on `indices` of `set` (a twin's data), in place, reshuffled every epoch; returns the mean
 * training loss of the last epoch.
 */
export function trainLocal(model: tf.LayersModel, set: ImageSet, indices: readonly number[], o: TrainOptions): number {
  if (!Number.isInteger(o.batchSize) || o.batchSize <= 0) throw new Error(`trainLocal: batch size must be a positive integer, got ${o.batchSize}.`);
  const optimizer = makeOptimizer(o.optimizer ?? "sgd", o.learningRate);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const rng = mulberry32(o.seed);
  let last = 0;
  let steps = 0;
  try {
    for (let e = 0; e < o.epochs && !(o.maxSteps !== undefined && steps >= o.maxSteps); e++) {
      const order = shuffle(indices.slice(), rng);
      let sum = 0;
      let batches = 0;
      for (let s = 0; s < order.length && !(o.maxSteps !== undefined && steps >= o.maxSteps); s += o.batchSize, steps++) {
        const { x, y } = toTensors(set, order.slice(s, s + o.batchSize));
        const loss = optimizer.minimize(
          () => tf.tidy(() => crossEntropy(tf.oneHot(y, set.classes), model.apply(x, { training: true }) as tf.Tensor).mean()) as tf.Scalar,
          true,
          vars,
        );
        sum += loss ? loss.dataSync()[0] : 0;
        loss?.dispose();
        x.dispose();
        y.dispose();
        batches++;
      }
      last = batches ? sum / batches : 0;
    }
  } finally {
    optimizer.dispose();
  }
  return last;
}

/** Correct predictions and summed cross-entropy of `model` on `set` (or its `indices`), in chunks. */
export function evaluateCounts(model: tf.LayersModel, set: ImageSet, indices?: readonly number[], chunk = 500): { correct: number; lossSum: number; count: number } {
  const idx = indices ?? Array.from({ length: set.count }, (_, i) => i);
  let correct = 0;
  let lossSum = 0;
  for (let s = 0; s < idx.length; s += chunk) {
    const { x, y } = toTensors(set, idx.slice(s, s + chunk));
    const [c, l] = tf.tidy(() => {
      const p = model.predict(x) as tf.Tensor2D;
      const hits = p.argMax(1).equal(y).sum();
      const ce = crossEntropy(tf.oneHot(y, set.classes), p).sum();
      return [hits.dataSync()[0], ce.dataSync()[0]];
    });
    correct += c;
    lossSum += l;
    x.dispose();
    y.dispose();
  }
  return { correct, lossSum, count: idx.length };
}

/** Accuracy and mean cross-entropy of `model` on `set` (or its `indices`), in chunks. */
export function evaluateModel(model: tf.LayersModel, set: ImageSet, indices?: readonly number[], chunk = 500): { accuracy: number; loss: number } {
  const r = evaluateCounts(model, set, indices, chunk);
  return { accuracy: r.correct / r.count, loss: r.lossSum / r.count };
}
