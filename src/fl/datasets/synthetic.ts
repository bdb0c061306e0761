/**
 * A small synthetic image set for unit tests only (never the demo or the benchmarks): each class is a fixed random
 * template; an image is its class template plus Gaussian noise, so a CNN can learn it in a few steps. Seeded. Pure.
 */
import { mulberry32, randNormal } from "../../twins/random";
import type { Dataset, ImageSet } from "./types";

export interface SyntheticOptions {
  train: number;
  test: number;
  height?: number;
  width?: number;
  channels?: number;
  classes?: number;
  noise?: number;
  seed?: number;
}

export function syntheticDataset(o: SyntheticOptions): Dataset {
  const h = o.height ?? 28;
  const w = o.width ?? 28;
  const c = o.channels ?? 1;
  const k = o.classes ?? 10;
  const rng = mulberry32(o.seed ?? 1);
  const size = h * w * c;
  const templates = Array.from({ length: k }, () => Float32Array.from({ length: size }, () => (rng() < 0.3 ? 200 : 30)));
  const make = (n: number): ImageSet => {
    const images = new Uint8Array(n * size);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const label = i % k;
      labels[i] = label;
      for (let p = 0; p < size; p++) images[i * size + p] = Math.max(0, Math.min(255, Math.round(templates[label][p] + (o.noise ?? 40) * randNormal(rng))));
    }
    return { images, labels, count: n, height: h, width: w, channels: c, classes: k };
  };
  return { name: "synthetic", train: make(o.train), test: make(o.test) };
}
