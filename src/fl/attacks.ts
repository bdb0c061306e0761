/** Poisoned models a malicious BS may submit, to test the verification defence with. Pure. */
import { randNormal, type Rng } from "../twins/random";
import type { ModelWeights, WeightTensor } from "./tensors";

export const ATTACKS = ["sign-flip", "scale", "noise"] as const;
export type AttackName = (typeof ATTACKS)[number];

const map = (w: ModelWeights, f: (v: number) => number): WeightTensor[] => w.map((t) => ({ shape: t.shape.slice(), values: t.values.map(f) }));

/** Every weight negated. */
export const signFlip = (w: ModelWeights): WeightTensor[] => map(w, (v) => -v);
/**
 * The update scaled (model replacement): reference + factor (w - reference), with the current global model as the
 * reference. Scaling the weights themselves would not be an attack on a ReLU network: every logit grows by the same
 * factor and the predictions do not change.
 */
export function scaled(w: ModelWeights, factor: number, reference: ModelWeights): WeightTensor[] {
  return w.map((t, k) => ({ shape: t.shape.slice(), values: t.values.map((v, i) => reference[k].values[i] + factor * (v - reference[k].values[i])) }));
}
/** Weights replaced by Gaussian noise of standard deviation `std`. */
export const randomNoise = (w: ModelWeights, std: number, rng: Rng): WeightTensor[] => map(w, () => std * randNormal(rng));

/** Every weight plus Gaussian noise of standard deviation `std` (a forged global model of a malicious MBS). */
export const perturbed = (w: ModelWeights, std: number, rng: Rng): WeightTensor[] => map(w, (v) => v + std * randNormal(rng));

/** The attack `name` on the honest model `w`, given the current global model. */
export function attack(name: AttackName, w: ModelWeights, global: ModelWeights, rng: Rng): WeightTensor[] {
  switch (name) {
    case "sign-flip":
      return signFlip(w);
    case "scale":
      return scaled(w, 10, global);
    case "noise":
      return randomNoise(w, 0.1, rng);
  }
}
