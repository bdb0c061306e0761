/**
 * Ornstein-Uhlenbeck exploration noise N of Eq. 21: dx = theta (mu - x) dt + sigma sqrt(dt) dW, one process per
 * action dimension, seeded.
 */
import { randNormal, type Rng } from "../../twins/random";

export class OrnsteinUhlenbeck {
  private x: Float64Array;

  constructor(
    readonly size: number,
    private readonly rng: Rng,
    readonly theta = 0.15,
    public sigma = 0.2,
    readonly mu = 0,
    readonly dt = 1,
  ) {
    this.x = new Float64Array(size).fill(mu);
  }

  reset(): void {
    this.x.fill(this.mu);
  }

  /** The next noise vector. */
  sample(): Float64Array {
    for (let i = 0; i < this.size; i++) {
      this.x[i] += this.theta * (this.mu - this.x[i]) * this.dt + this.sigma * Math.sqrt(this.dt) * randNormal(this.rng);
    }
    return Float64Array.from(this.x);
  }
}
