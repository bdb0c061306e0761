/**
 * The MBS's update of the global model from the Eq. 5 aggregate M (optional; the default is Eq. 5 exactly):
 *
 *   Delta_t = M_t - w_{t-1},   v_t = beta v_{t-1} + Delta_t,   w_t = w_{t-1} + eta v_t
 *
 * With eta = 1 and beta = 0 the global model is M_t, the paper's Eq. 5. With beta > 0 this is FedAvgM (Hsu et al.,
 * 2019, "Measuring the effects of non-identical data distribution for federated visual classification"): the MBS
 * treats the aggregated change as a pseudo-gradient with momentum, which makes more of each round's local work when
 * every twin can only afford a few local steps. Pure; float64 momentum.
 */
import { assertSameShapes, type ModelWeights, type WeightTensor } from "./tensors";

export interface ServerOptimizerConfig {
  /** eta, the server learning rate (1 = take the aggregate's step). */
  learningRate: number;
  /** beta, the server momentum in [0, 1) (0 = none). */
  momentum: number;
}

export const PLAIN_EQ5: ServerOptimizerConfig = { learningRate: 1, momentum: 0 };

export class ServerOptimizer {
  private velocity?: Float64Array[];

  constructor(readonly config: ServerOptimizerConfig = PLAIN_EQ5) {
    const { learningRate, momentum } = config;
    if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new Error(`server optimizer: the learning rate must be a positive number, got ${learningRate}.`);
    if (!(momentum >= 0 && momentum < 1)) throw new Error(`server optimizer: the momentum must be in [0, 1), got ${momentum}.`);
  }

  /** True when the update is Eq. 5 itself (w_t = M_t). */
  get plain(): boolean {
    return this.config.learningRate === 1 && this.config.momentum === 0;
  }

  /** The next global model from the current one and the Eq. 5 aggregate. */
  step(current: ModelWeights, aggregate: ModelWeights): WeightTensor[] {
    assertSameShapes(current.map((t) => t.shape), aggregate, "server optimizer: the aggregate");
    if (this.plain) return aggregate.map((t) => ({ shape: t.shape.slice(), values: t.values.slice() }));
    const { learningRate: eta, momentum: beta } = this.config;
    this.velocity ??= current.map((t) => new Float64Array(t.values.length));
    return current.map((t, k) => {
      const v = (this.velocity as Float64Array[])[k];
      const m = aggregate[k].values;
      const values = new Float32Array(t.values.length);
      for (let i = 0; i < values.length; i++) {
        v[i] = beta * v[i] + (m[i] - t.values[i]);
        values[i] = t.values[i] + eta * v[i];
      }
      return { shape: t.shape.slice(), values };
    });
  }
}
