/** A labelled image set in memory: n images of height x width x channels bytes (row-major, channels last). */
export interface ImageSet {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;
}

export interface Dataset {
  readonly name: string;
  readonly train: ImageSet;
  readonly test: ImageSet;
}

/** A requested dataset that is not on this machine; the message says how to get it. */
export class DatasetMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetMissingError";
  }
}

/** The subset of `set` at `indices` (copied). */
export function subset(set: ImageSet, indices: readonly number[]): ImageSet {
  const size = set.height * set.width * set.channels;
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  indices.forEach((i, k) => {
    if (!Number.isInteger(i) || i < 0 || i >= set.count) throw new Error(`subset: index ${i} is outside 0..${set.count - 1}.`);
    images.set(set.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = set.labels[i];
  });
  return { ...set, images, labels, count: indices.length };
}
