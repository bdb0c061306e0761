/**
 * What a malicious BS may do, to test the defences with. Model attacks replace the model it submits (pure functions
 * below); protocol attacks leave the model honest and lie to the chain instead (src/agents/bsAgent.ts):
 * - inflate-data: its twins' data records claim 1000x their data (and, refused, the largest size the chain allows);
 * - collude: with the other malicious BSs, fails every honest model and passes each other's.
 */
import { randNormal, type Rng } from "../twins/random";
import type { ModelWeights, WeightTensor } from "./tensors";

/** Attacks on the submitted model. "free-ride" submits the global model unchanged (no training work). */
export const MODEL_ATTACKS = ["sign-flip", "scale", "noise", "free-ride"] as const;
/** Attacks on the protocol with an honest model. */
export const PROTOCOL_ATTACKS = ["inflate-data", "collude"] as const;
export const ATTACKS = [...MODEL_ATTACKS, ...PROTOCOL_ATTACKS] as const;
export type ModelAttackName = (typeof MODEL_ATTACKS)[number];
export type AttackName = (typeof ATTACKS)[number];

/** Whether `name` replaces the submitted model. */
export function isModelAttack(name: AttackName): name is ModelAttackName {
  return (MODEL_ATTACKS as readonly string[]).includes(name);
}

/** The factor by which inflate-data multiplies its twins' data sizes. */
export const INFLATE_FACTOR = 1000;

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
export function attack(name: ModelAttackName, w: ModelWeights, global: ModelWeights, rng: Rng): WeightTensor[] {
  switch (name) {
    case "free-ride":
      return global.map((t) => ({ shape: t.shape.slice(), values: t.values.slice() }));
    case "sign-flip":
      return signFlip(w);
    case "scale":
      return scaled(w, 10, global);
    case "noise":
      return randomNoise(w, 0.1, rng);
  }
}
