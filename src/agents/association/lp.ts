/**
 * A small dense simplex solver for   maximise c.x  subject to  A x <= b,  x >= 0,  with b >= 0
 * (so the origin is feasible and no phase 1 is needed). Bland's rule (smallest index enters and leaves) rules out
 * cycling. Sized for the per-slot subchannel problems (tens of variables), not for general use. Pure.
 */

export interface LpResult {
  /** The optimal x. */
  x: number[];
  /** c.x at the optimum. */
  value: number;
}

export class UnboundedLpError extends Error {
  constructor() {
    super("The linear program is unbounded: the objective can grow without limit under the constraints.");
    this.name = "UnboundedLpError";
  }
}

const EPS = 1e-12;

export function maximiseLp(c: readonly number[], a: readonly (readonly number[])[], b: readonly number[]): LpResult {
  const n = c.length;
  const m = a.length;
  if (b.length !== m) throw new Error(`LP: ${m} constraint rows but ${b.length} right-hand sides.`);
  a.forEach((row, i) => {
    if (row.length !== n) throw new Error(`LP: constraint ${i} has ${row.length} coefficients; expected ${n}.`);
  });
  b.forEach((v, i) => {
    if (!(v >= 0)) throw new Error(`LP: right-hand side ${i} is ${v}; this solver needs b >= 0.`);
  });
  // Tableau rows 0..m-1: [A | I | b]; row m: [-c | 0 | 0]. basis[i] = column basic in row i.
  const width = n + m + 1;
  const t = a.map((row, i) => {
    const r = new Float64Array(width);
    row.forEach((v, j) => (r[j] = v));
    r[n + i] = 1;
    r[width - 1] = b[i];
    return r;
  });
  const z = new Float64Array(width);
  c.forEach((v, j) => (z[j] = -v));
  const basis = Array.from({ length: m }, (_, i) => n + i);
  for (let iter = 0; iter < 50_000; iter++) {
    let enter = -1;
    for (let j = 0; j < n + m; j++) {
      if (z[j] < -EPS) {
        enter = j;
        break;
      }
    }
    if (enter < 0) break;
    let leave = -1;
    let best = Infinity;
    for (let i = 0; i < m; i++) {
      const p = t[i][enter];
      if (p > EPS) {
        const ratio = t[i][width - 1] / p;
        if (ratio < best - EPS || (Math.abs(ratio - best) <= EPS && basis[i] < basis[leave])) {
          best = ratio;
          leave = i;
        }
      }
    }
    if (leave < 0) throw new UnboundedLpError();
    const pivotRow = t[leave];
    const p = pivotRow[enter];
    for (let j = 0; j < width; j++) pivotRow[j] /= p;
    for (let i = 0; i < m; i++) {
      if (i === leave) continue;
      const f = t[i][enter];
      if (f !== 0) for (let j = 0; j < width; j++) t[i][j] -= f * pivotRow[j];
    }
    const f = z[enter];
    for (let j = 0; j < width; j++) z[j] -= f * pivotRow[j];
    basis[leave] = enter;
  }
  const x = new Array<number>(n).fill(0);
  basis.forEach((col, i) => {
    if (col < n) x[col] = Math.max(0, t[i][width - 1]);
  });
  return { x, value: x.reduce((s, v, j) => s + v * c[j], 0) };
}
