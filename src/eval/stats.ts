/** Summary statistics over seeds: mean and the two-sided 95% Student-t interval. Pure. */

/** t_{0.975, df} for df = 1..30; larger df use the normal 1.96. */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export interface Interval {
  n: number;
  mean: number;
  lower: number;
  upper: number;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("mean of an empty sample");
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Median of a non-empty sample (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of an empty sample");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Mean with its 95% confidence interval (mean +- t sd / sqrt(n)); a single value has a zero-width interval. */
export function interval95(xs: readonly number[]): Interval {
  const n = xs.length;
  const m = mean(xs);
  if (n < 2) return { n, mean: m, lower: m, upper: m };
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1));
  const t = n - 1 <= T975.length ? T975[n - 2] : 1.96;
  const half = (t * sd) / Math.sqrt(n);
  return { n, mean: m, lower: m - half, upper: m + half };
}

/** Running mean: out[k] = mean(xs[0..k]). */
export function cumulativeMean(xs: readonly number[]): number[] {
  let s = 0;
  return xs.map((x, k) => (s += x) / (k + 1));
}

/** Point-wise interval over several equally long curves (one per seed). */
export function curveInterval(curves: readonly (readonly number[])[]): { mean: number[]; lower: number[]; upper: number[] } {
  if (curves.length === 0) throw new Error("no curves");
  const len = Math.min(...curves.map((c) => c.length));
  const out = { mean: [] as number[], lower: [] as number[], upper: [] as number[] };
  for (let k = 0; k < len; k++) {
    const iv = interval95(curves.map((c) => c[k]));
    out.mean.push(iv.mean);
    out.lower.push(iv.lower);
    out.upper.push(iv.upper);
  }
  return out;
}
