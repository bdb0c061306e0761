/**
 * Aggregation strategies behind one small interface (as in Flower): FedAvg (default), coordinate-wise median,
 * coordinate-wise trimmed mean, and Krum. And the paper's two-level aggregation:
 *
 *   Eq. 4, at BS m:   G_m = sum_{j on m} D_j w_j / sum_{j on m} D_j
 *   Eq. 5, at the MBS: M  = sum_m D_m G_m / sum_m D_m,   D_m = sum_{j on m} D_j
 *
 * The paper prints Eq. 4 with 1/K_m and Eq. 5 with 1/M in front of data-weighted sums; we normalise by data instead,
 * so that the two levels together equal FedAvg over all twins (Eq. 3), which the tests check.
 */
import { assertSameShapes, flatten, unflatten, type ModelWeights, type WeightTensor } from "./tensors";
import type { ServerOptimizer } from "./serverOptimizer";

/** One model offered for aggregation: a twin's (at a BS) or a BS's (at the MBS). */
export interface ModelUpdate {
  readonly weights: ModelWeights;
  /** Training samples behind the model, D. */
  readonly samples: number;
  /** Who sent it (for logs). */
  readonly from?: string;
}

export interface AggregationStrategy {
  readonly name: string;
  aggregate(updates: readonly ModelUpdate[]): WeightTensor[];
}

function check(updates: readonly ModelUpdate[], strategy: string): void {
  if (updates.length === 0) throw new Error(`${strategy}: nothing to aggregate (no models).`);
  updates.forEach((u, k) => {
    if (!(u.samples >= 0) || !Number.isFinite(u.samples)) throw new Error(`${strategy}: model ${u.from ?? k} has ${u.samples} samples; expected a finite count >= 0.`);
    assertSameShapes(updates[0].weights.map((t) => t.shape), u.weights, `${strategy}: model ${u.from ?? k}`);
  });
}

/** FedAvg: the data-weighted mean (Eqs. 3-5). */
export class FedAvg implements AggregationStrategy {
  readonly name = "fedavg";
  aggregate(updates: readonly ModelUpdate[]): WeightTensor[] {
    check(updates, this.name);
    const total = updates.reduce((s, u) => s + u.samples, 0);
    if (total <= 0) throw new Error("fedavg: the models carry no samples (sum of D is 0).");
    return updates[0].weights.map((t, k) => {
      const acc = new Float64Array(t.values.length);
      for (const u of updates) {
        const w = u.samples / total;
        const v = u.weights[k].values;
        for (let i = 0; i < v.length; i++) acc[i] += w * v[i];
      }
      return { shape: t.shape.slice(), values: Float32Array.from(acc) };
    });
  }
}

/** Applies `f` to the sorted values of every coordinate across the models. */
function coordinatewise(updates: readonly ModelUpdate[], f: (sorted: Float64Array) => number): WeightTensor[] {
  const flats = updates.map((u) => flatten(u.weights));
  const out = new Float32Array(flats[0].length);
  const column = new Float64Array(flats.length);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < flats.length; k++) column[k] = flats[k][i];
    column.sort();
    out[i] = f(column);
  }
  return unflatten(out, updates[0].weights);
}

/** Coordinate-wise median (unweighted): robust to fewer than half of the models being arbitrary. */
export class CoordinateMedian implements AggregationStrategy {
  readonly name = "median";
  aggregate(updates: readonly ModelUpdate[]): WeightTensor[] {
    check(updates, this.name);
    return coordinatewise(updates, (s) => {
      const n = s.length;
      return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    });
  }
}

/** Coordinate-wise trimmed mean: drops the `trim` largest and smallest values of every coordinate. */
export class TrimmedMean implements AggregationStrategy {
  readonly name = "trimmed-mean";
  constructor(readonly trim: number) {
    if (!Number.isInteger(trim) || trim < 0) throw new Error(`trimmed-mean: trim must be an integer >= 0, got ${trim}.`);
  }
  aggregate(updates: readonly ModelUpdate[]): WeightTensor[] {
    check(updates, this.name);
    if (updates.length <= 2 * this.trim) throw new Error(`trimmed-mean: trimming ${this.trim} from each end needs more than ${2 * this.trim} models, got ${updates.length}.`);
    return coordinatewise(updates, (s) => {
      let sum = 0;
      for (let i = this.trim; i < s.length - this.trim; i++) sum += s[i];
      return sum / (s.length - 2 * this.trim);
    });
  }
}

/**
 * Krum (Blanchard et al., 2017): picks the model whose n - f - 2 nearest neighbours (squared Euclidean distance) are
 * closest in sum, tolerating f Byzantine models when n > 2f + 2.
 */
export class Krum implements AggregationStrategy {
  readonly name = "krum";
  constructor(readonly byzantine: number) {
    if (!Number.isInteger(byzantine) || byzantine < 0) throw new Error(`krum: the number of Byzantine models must be an integer >= 0, got ${byzantine}.`);
  }
  /** Index of the selected model. */
  select(updates: readonly ModelUpdate[]): number {
    check(updates, this.name);
    const n = updates.length;
    if (n <= 2 * this.byzantine + 2) throw new Error(`krum: tolerating ${this.byzantine} Byzantine models needs more than ${2 * this.byzantine + 2} models, got ${n}.`);
    const flats = updates.map((u) => flatten(u.weights));
    const d = flats.map(() => new Float64Array(n));
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        let s = 0;
        for (let i = 0; i < flats[a].length; i++) s += (flats[a][i] - flats[b][i]) ** 2;
        d[a][b] = d[b][a] = s;
      }
    }
    const neighbours = n - this.byzantine - 2;
    let best = 0;
    let bestScore = Infinity;
    for (let a = 0; a < n; a++) {
      const others = Array.from(d[a]).filter((_, b) => b !== a).sort((x, y) => x - y);
      const score = others.slice(0, neighbours).reduce((s, x) => s + x, 0);
      if (score < bestScore) {
        bestScore = score;
        best = a;
      }
    }
    return best;
  }
  aggregate(updates: readonly ModelUpdate[]): WeightTensor[] {
    const chosen = updates[this.select(updates)].weights;
    return chosen.map((t) => ({ shape: t.shape.slice(), values: t.values.slice() }));
  }
}

export type StrategyName = "fedavg" | "median" | "trimmed-mean" | "krum";

/** A strategy by name; `faulty` is the number of models to tolerate (trimmed mean trims it, Krum tolerates it). */
export function strategyByName(name: string, faulty = 1): AggregationStrategy {
  switch (name) {
    case "fedavg":
      return new FedAvg();
    case "median":
      return new CoordinateMedian();
    case "trimmed-mean":
      return new TrimmedMean(faulty);
    case "krum":
      return new Krum(faulty);
    default:
      throw new Error(`Unknown aggregation strategy ${JSON.stringify(name)}; use fedavg, median, trimmed-mean or krum.`);
  }
}

/** Eq. 4: BS m aggregates the models of its twins into G_m, carrying D_m = sum of their data. */
export function aggregateAtBs(twins: readonly ModelUpdate[], from: string, strategy: AggregationStrategy = new FedAvg()): ModelUpdate {
  return { weights: strategy.aggregate(twins), samples: twins.reduce((s, t) => s + t.samples, 0), from };
}

/** Eq. 5: the MBS aggregates the BS models G_m into the global model M. */
export function aggregateAtMbs(bsModels: readonly ModelUpdate[], strategy: AggregationStrategy = new FedAvg()): WeightTensor[] {
  return strategy.aggregate(bsModels);
}

/** A twin's trained model as its BS records it: the twin's on-chain id, its data size D_j and its weights w_j. */
export interface TwinModel {
  readonly twinId: number;
  /** D_j, the twin's recorded data size (samples). */
  readonly samples: number;
  readonly weights: ModelWeights;
}

/**
 * Eq. 4 in its one canonical order, so that anyone holding the same twin models computes the same bits: twins in
 * ascending twin id; per coordinate the float64 sum of D_j w_j (each float32 weight widened exactly), then divided by
 * sum_j D_j once, then rounded to float32. Models are added one at a time (the auditor streams them from IPFS), and a
 * twin id not above the previous one is refused, so no other order can be used by mistake.
 */
export class CanonicalEq4 {
  private sums?: Float64Array[];
  private shapes?: number[][];
  private lastTwin = -Infinity;
  private total = 0;
  private count = 0;

  add(twin: TwinModel): void {
    if (!(twin.twinId > this.lastTwin)) throw new Error(`Eq. 4: twin ${twin.twinId} comes after twin ${this.lastTwin}; twins are added in ascending twin id.`);
    if (!(Number.isSafeInteger(twin.samples) && twin.samples >= 0)) throw new Error(`Eq. 4: twin ${twin.twinId} has ${twin.samples} samples; expected an integer >= 0.`);
    if (this.shapes) assertSameShapes(this.shapes, twin.weights, `Eq. 4: the model of twin ${twin.twinId}`);
    else {
      assertSameShapes(twin.weights.map((t) => t.shape), twin.weights, `Eq. 4: the model of twin ${twin.twinId}`);
      this.shapes = twin.weights.map((t) => t.shape.slice());
      this.sums = twin.weights.map((t) => new Float64Array(t.values.length));
    }
    const d = twin.samples;
    (this.sums as Float64Array[]).forEach((acc, k) => {
      const v = twin.weights[k].values;
      for (let i = 0; i < v.length; i++) acc[i] += d * v[i];
    });
    this.lastTwin = twin.twinId;
    this.total += d;
    this.count++;
  }

  /** Twins added so far. */
  get twins(): number {
    return this.count;
  }

  /** G_m = sum_j D_j w_j / sum_j D_j (float32), and D_m = sum_j D_j. */
  result(): { weights: WeightTensor[]; samples: number } {
    if (!this.sums || !this.shapes) throw new Error("Eq. 4: no twin models to aggregate.");
    if (this.total <= 0) throw new Error("Eq. 4: the twins carry no samples (sum of D is 0).");
    const total = this.total;
    const shapes = this.shapes;
    const weights = this.sums.map((acc, k) => {
      const values = new Float32Array(acc.length);
      for (let i = 0; i < acc.length; i++) values[i] = acc[i] / total;
      return { shape: shapes[k].slice(), values };
    });
    return { weights, samples: total };
  }
}

/** Eq. 4 of a BS from its twins' models in the canonical order (see {@link CanonicalEq4}); the input order is free. */
export function canonicalBsModel(twins: readonly TwinModel[]): { weights: WeightTensor[]; samples: number } {
  const eq4 = new CanonicalEq4();
  for (const t of [...twins].sort((a, b) => a.twinId - b.twinId)) eq4.add(t);
  return eq4.result();
}

/** Order of BS addresses as the chain records the aggregation (ascending as numbers). */
export function byAddress(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The MBS's new global model: Eq. 5 (`strategy`) over the passed BS models summed in the order the chain records
 * them (ascending BS address, `from`), then the server optimiser's step from the current global model. With no model
 * the global model stays (and the optimiser's state is untouched). `server` carries state across rounds: the MBS and
 * every auditor step one instance through the rounds in order, so the result is bit for bit the same for all.
 */
export function recomputeGlobal(current: ModelWeights, passed: readonly ModelUpdate[], strategy: AggregationStrategy, server: ServerOptimizer): WeightTensor[] {
  if (passed.length === 0) return current.map((t) => ({ shape: t.shape.slice(), values: t.values.slice() }));
  const ordered = passed.map((u, k) => {
    if (u.from === undefined) throw new Error(`Eq. 5: BS model ${k} does not say which BS (address) it is from.`);
    return u;
  });
  ordered.sort((a, b) => byAddress(a.from as string, b.from as string));
  return server.step(current, strategy.aggregate(ordered));
}
