/**
 * The MBS's update of the global model from the Eq. 5 aggregate M (optional; the default is Eq. 5 exactly). The
 * aggregated change Delta_t = M_t - w_{t-1} is treated as a pseudo-gradient (Reddi et al., 2021, "Adaptive federated
 * optimization"):
 *
 *   momentum (FedAvgM, Hsu et al. 2019):  v_t = beta v_{t-1} + Delta_t,                  w_t = w_{t-1} + eta v_t
 *   adam     (FedAdam):                    m_t = beta m_{t-1} + (1 - beta) Delta_t,
 *                                          v_t = beta2 v_{t-1} + (1 - beta2) Delta_t^2,   w_t = w_{t-1} + eta m_t / (sqrt(v_t) + tau)
 *
 * With kind "momentum", eta = 1 and beta = 0 the global model is M_t, the paper's Eq. 5. Either makes more of each
 * round's local work when every twin can only afford a few local steps. Pure; float64 state.
 */
import { assertSameShapes, type ModelWeights, type WeightTensor } from "./tensors";

export const SERVER_OPTIMIZERS = ["momentum", "adam"] as const;
export type ServerOptimizerKind = (typeof SERVER_OPTIMIZERS)[number];

export interface ServerOptimizerConfig {
  /** "momentum" (FedAvgM; with eta 1 and beta 0 it is Eq. 5) or "adam" (FedAdam). Default "momentum". */
  kind?: ServerOptimizerKind;
  /** eta, the server learning rate (1 = take the aggregate's step, for "momentum"). */
  learningRate: number;
  /** beta, the server momentum in [0, 1) (0 = none); beta_1 for "adam". */
  momentum: number;
  /** beta_2 of "adam", in [0, 1). Default 0.99. */
  beta2?: number;
  /** tau of "adam", the adaptivity floor (> 0). Default 1e-3. */
  tau?: number;
}

export const PLAIN_EQ5: ServerOptimizerConfig = { kind: "momentum", learningRate: 1, momentum: 0 };

export class ServerOptimizer {
  private first?: Float64Array[];
  private second?: Float64Array[];
  readonly kind: ServerOptimizerKind;
  private readonly beta2: number;
  private readonly tau: number;

  constructor(readonly config: ServerOptimizerConfig = PLAIN_EQ5) {
    const { learningRate, momentum } = config;
    this.kind = config.kind ?? "momentum";
    this.beta2 = config.beta2 ?? 0.99;
    this.tau = config.tau ?? 1e-3;
    if (!SERVER_OPTIMIZERS.includes(this.kind)) throw new Error(`server optimizer: unknown kind ${JSON.stringify(this.kind)}; use ${SERVER_OPTIMIZERS.join(" or ")}.`);
    if (!(learningRate > 0 && Number.isFinite(learningRate))) throw new Error(`server optimizer: the learning rate must be a positive number, got ${learningRate}.`);
    if (!(momentum >= 0 && momentum < 1)) throw new Error(`server optimizer: the momentum must be in [0, 1), got ${momentum}.`);
    if (!(this.beta2 >= 0 && this.beta2 < 1)) throw new Error(`server optimizer: beta2 must be in [0, 1), got ${this.beta2}.`);
    if (!(this.tau > 0 && Number.isFinite(this.tau))) throw new Error(`server optimizer: tau must be a positive number, got ${this.tau}.`);
  }

  /** True when the update is Eq. 5 itself (w_t = M_t). */
  get plain(): boolean {
    return this.kind === "momentum" && this.config.learningRate === 1 && this.config.momentum === 0;
  }

  /** The next global model from the current one and the Eq. 5 aggregate. */
  step(current: ModelWeights, aggregate: ModelWeights): WeightTensor[] {
    assertSameShapes(current.map((t) => t.shape), aggregate, "server optimizer: the aggregate");
    if (this.plain) return aggregate.map((t) => ({ shape: t.shape.slice(), values: t.values.slice() }));
    const { learningRate: eta, momentum: beta } = this.config;
    const { beta2, tau } = this;
    const adam = this.kind === "adam";
    this.first ??= current.map((t) => new Float64Array(t.values.length));
    if (adam) this.second ??= current.map((t) => new Float64Array(t.values.length));
    return current.map((t, k) => {
      const m = (this.first as Float64Array[])[k];
      const v = adam ? (this.second as Float64Array[])[k] : undefined;
      const agg = aggregate[k].values;
      const values = new Float32Array(t.values.length);
      for (let i = 0; i < values.length; i++) {
        const delta = agg[i] - t.values[i];
        if (v) {
          m[i] = beta * m[i] + (1 - beta) * delta;
          v[i] = beta2 * v[i] + (1 - beta2) * delta * delta;
          values[i] = t.values[i] + (eta * m[i]) / (Math.sqrt(v[i]) + tau);
        } else {
          m[i] = beta * m[i] + delta;
          values[i] = t.values[i] + eta * m[i];
        }
      }
      return { shape: t.shape.slice(), values };
    });
  }
}
