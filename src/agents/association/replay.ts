/**
 * Replay memory of Algorithm 1 (line 10): transitions (s, a_1..a_M, R, s') in a fixed-capacity ring buffer of flat
 * Float32Arrays, sampled uniformly with a seeded generator.
 */
import type { Rng } from "../../twins/random";

export interface Batch {
  obs: Float32Array; // [B, obsDim]
  actions: Float32Array; // [B, M * actDim]
  rewards: Float32Array; // [B]
  nextObs: Float32Array; // [B, obsDim]
  size: number;
}

export class ReplayMemory {
  private readonly obs: Float32Array;
  private readonly actions: Float32Array;
  private readonly rewards: Float32Array;
  private readonly nextObs: Float32Array;
  private next = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    readonly obsDim: number,
    readonly jointActionDim: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`Replay capacity must be a positive integer, got ${capacity}.`);
    this.obs = new Float32Array(capacity * obsDim);
    this.actions = new Float32Array(capacity * jointActionDim);
    this.rewards = new Float32Array(capacity);
    this.nextObs = new Float32Array(capacity * obsDim);
  }

  get size(): number {
    return this.count;
  }

  /** Store one transition, overwriting the oldest when full. */
  push(obs: Float32Array, jointAction: Float32Array, reward: number, nextObs: Float32Array): void {
    if (obs.length !== this.obsDim || nextObs.length !== this.obsDim) throw new Error(`Observation has ${obs.length} entries; the memory holds ${this.obsDim}.`);
    if (jointAction.length !== this.jointActionDim) throw new Error(`Joint action has ${jointAction.length} entries; the memory holds ${this.jointActionDim}.`);
    if (!Number.isFinite(reward)) throw new Error(`Reward ${reward} is not finite.`);
    const i = this.next;
    this.obs.set(obs, i * this.obsDim);
    this.actions.set(jointAction, i * this.jointActionDim);
    this.rewards[i] = reward;
    this.nextObs.set(nextObs, i * this.obsDim);
    this.next = (i + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** A uniform sample of `size` stored transitions (with replacement). */
  sample(size: number, rng: Rng): Batch {
    if (this.count === 0) throw new Error("Cannot sample from an empty replay memory.");
    const b: Batch = {
      obs: new Float32Array(size * this.obsDim),
      actions: new Float32Array(size * this.jointActionDim),
      rewards: new Float32Array(size),
      nextObs: new Float32Array(size * this.obsDim),
      size,
    };
    for (let k = 0; k < size; k++) {
      const i = Math.floor(rng() * this.count);
      b.obs.set(this.obs.subarray(i * this.obsDim, (i + 1) * this.obsDim), k * this.obsDim);
      b.actions.set(this.actions.subarray(i * this.jointActionDim, (i + 1) * this.jointActionDim), k * this.jointActionDim);
      b.rewards[k] = this.rewards[i];
      b.nextObs.set(this.nextObs.subarray(i * this.obsDim, (i + 1) * this.obsDim), k * this.obsDim);
    }
    return b;
  }
}
