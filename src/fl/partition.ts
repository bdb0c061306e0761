/**
 * Users' data (Section V): the training set shuffled and split evenly over the N users (IID, as in the paper), or a
 * Dirichlet(alpha) label skew (non-IID: per class, the users' shares are drawn from Dir(alpha); small alpha means
 * users see few classes). Every user gets at least one sample. Seeded, pure; returns the sample indices per user.
 */
import { randNormal, type Rng } from "../twins/random";

/** Fisher-Yates, in place (returns `xs`). */
export function shuffle<T>(xs: T[], rng: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

function checkUsers(count: number, users: number): void {
  if (!Number.isInteger(users) || users <= 0) throw new Error(`partition: users must be a positive integer, got ${users}.`);
  if (count < users) throw new Error(`partition: ${count} samples cannot give each of ${users} users at least one.`);
}

/** IID: shuffle, then split into N parts whose sizes differ by at most one. */
export function iidPartition(count: number, users: number, rng: Rng): number[][] {
  checkUsers(count, users);
  const order = shuffle(Array.from({ length: count }, (_, i) => i), rng);
  const parts: number[][] = [];
  for (let u = 0, o = 0; u < users; u++) {
    const size = Math.floor(count / users) + (u < count % users ? 1 : 0);
    parts.push(order.slice(o, o + size));
    o += size;
  }
  return parts;
}

/** Gamma(shape, 1) by Marsaglia and Tsang (with the alpha < 1 boost). */
export function randGamma(rng: Rng, shape: number): number {
  if (!(shape > 0)) throw new Error(`randGamma: shape must be > 0, got ${shape}.`);
  if (shape < 1) return randGamma(rng, shape + 1) * Math.pow(Math.max(rng(), 1e-300), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = randNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Non-IID: for every class, its samples are split over the users in Dir(alpha) proportions. */
export function dirichletPartition(labels: Uint8Array, classes: number, users: number, alpha: number, rng: Rng): number[][] {
  checkUsers(labels.length, users);
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new Error(`partition: the Dirichlet alpha must be a positive number, got ${alpha}.`);
  const parts: number[][] = Array.from({ length: users }, () => []);
  for (let c = 0; c < classes; c++) {
    const idx = shuffle(
      Array.from(labels.keys()).filter((i) => labels[i] === c),
      rng,
    );
    const g = Array.from({ length: users }, () => randGamma(rng, alpha));
    const sum = g.reduce((s, x) => s + x, 0);
    let o = 0;
    let acc = 0;
    g.forEach((x, u) => {
      acc += x / sum;
      const end = u === users - 1 ? idx.length : Math.round(acc * idx.length);
      parts[u].push(...idx.slice(o, end));
      o = end;
    });
  }
  // Every user needs data: move one sample at a time from the largest user to the empty ones.
  for (const part of parts) {
    if (part.length > 0) continue;
    const largest = parts.reduce((a, b) => (b.length > a.length ? b : a));
    part.push(largest.pop() as number);
  }
  return parts;
}
