/**
 * Model weights as plain arrays, independent of TensorFlow.js, so aggregation, verification bookkeeping and the
 * weights file format stay pure and testable: a model is the ordered list of its weight tensors.
 */

export interface WeightTensor {
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** Row-major values, length = product of the shape. */
  readonly values: Float32Array;
}

export type ModelWeights = readonly WeightTensor[];

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Throws unless `b` has exactly the tensor shapes `expected`; `what` names `b` in the message. */
export function assertSameShapes(expected: readonly (readonly number[])[], b: ModelWeights, what: string): void {
  if (expected.length !== b.length) throw new Error(`${what} has ${b.length} weight tensors; expected ${expected.length}.`);
  expected.forEach((shape, k) => {
    const s = b[k].shape;
    if (s.length !== shape.length || s.some((d, j) => d !== shape[j])) {
      throw new Error(`${what}: weight tensor ${k} has shape [${s.join(", ")}]; expected [${shape.join(", ")}].`);
    }
    if (b[k].values.length !== sizeOf(s)) throw new Error(`${what}: weight tensor ${k} has ${b[k].values.length} values for shape [${s.join(", ")}].`);
  });
}

/** All values of a model in one vector (tensor order, row-major). */
export function flatten(w: ModelWeights): Float32Array {
  const out = new Float32Array(w.reduce((s, t) => s + t.values.length, 0));
  let o = 0;
  for (const t of w) {
    out.set(t.values, o);
    o += t.values.length;
  }
  return out;
}

/** The inverse of {@link flatten} for the shapes of `like`. */
export function unflatten(flat: Float32Array, like: ModelWeights): WeightTensor[] {
  let o = 0;
  return like.map((t) => {
    const n = sizeOf(t.shape);
    const values = flat.slice(o, o + n);
    o += n;
    return { shape: t.shape.slice(), values };
  });
}
