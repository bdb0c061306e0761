/**
 * How well the model's time (Eqs. 12, 15, 17) predicts what the emulated testbed measures, per BS and round. Pure.
 *
 * Predicted seconds are in testbed time: Eq. 12 with f^C expressed against the Hz one core stands for (the launcher
 * does that), and the link terms (Eqs. 15, 16 broadcast) multiplied by the testbed's link slowdown.
 * Measured seconds:
 * - training: the seconds BS i's twins trained (`AgentRoundReport.trainingSeconds`);
 * - upload: the slowest fetch of BS i's K_i twin models by the other BSs (they fetch them from BS i's IPFS node,
 *   all at once, across its shaped uplink, and recompute its Eq. 4 model from them), `VerdictLog.fetchSeconds`;
 * - BS round T_i: its train and upload phases plus that upload, against T_i of the model (its sum of terms).
 */
import type { AgentRoundReport } from "../agents/bsAgent";
import type { RoundMetrics } from "../system/metrics";
import { DEFAULT_CONSTANTS } from "../twins/constants";

export type FidelityTerm = "training" | "upload" | "bs-round";
export const FIDELITY_TERMS: readonly FidelityTerm[] = ["training", "upload", "bs-round"];

export interface FidelityPair {
  round: number;
  bs: number;
  predicted: number;
  measured: number;
}

export interface FidelityFigure {
  term: FidelityTerm;
  pairs: FidelityPair[];
  /** Pearson's r of predicted and measured (NaN for fewer than 2 pairs or no spread). */
  pearson: number;
  /** Mean absolute percentage error of the prediction, relative to the measurement (0.15 = 15 %). */
  mape: number;
}

export function pearson(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length) throw new Error(`pearson: ${xs.length} and ${ys.length} values`);
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    sxy += (xs[k] - mx) * (ys[k] - my);
    sxx += (xs[k] - mx) ** 2;
    syy += (ys[k] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** mean |predicted - measured| / measured over pairs with a positive measurement. */
export function mape(pairs: readonly { predicted: number; measured: number }[]): number {
  const ok = pairs.filter((p) => p.measured > 0);
  return ok.length ? ok.reduce((s, p) => s + Math.abs(p.predicted - p.measured) / p.measured, 0) / ok.length : NaN;
}

/** The model's T_i in testbed time. */
export function predictedBsSeconds(p: AgentRoundReport["predicted"], linkSlowdown: number): number {
  return p.localTrainingSeconds + p.aggregationSeconds + linkSlowdown * (p.transmissionSeconds + p.blockBroadcastSeconds) + p.blockValidationSeconds;
}

/** Predicted and measured seconds of every BS that trained and submitted in `rounds`, per term. */
export function fidelity(rounds: readonly RoundMetrics[], linkSlowdown: number): FidelityFigure[] {
  const pairs: Record<FidelityTerm, FidelityPair[]> = { training: [], upload: [], "bs-round": [] };
  for (const r of rounds) {
    for (const a of r.agents) {
      if (!a.submitted || !(a.trainingSeconds && a.trainingSeconds > 0) || a.predicted.totalSeconds <= 0 || a.resumed.length > 0) continue;
      const fetches = r.agents.flatMap((v) => (v.bs === a.bs ? [] : v.verdicts.filter((d) => d.bs === a.bs && d.fetchSeconds !== undefined).map((d) => d.fetchSeconds as number)));
      pairs.training.push({ round: r.round, bs: a.bs, predicted: a.predicted.localTrainingSeconds, measured: a.trainingSeconds });
      if (fetches.length === 0) continue;
      const upload = Math.max(...fetches);
      pairs.upload.push({ round: r.round, bs: a.bs, predicted: linkSlowdown * a.predicted.transmissionSeconds, measured: upload });
      pairs["bs-round"].push({ round: r.round, bs: a.bs, predicted: predictedBsSeconds(a.predicted, linkSlowdown), measured: a.measured.train + a.measured.upload + upload });
    }
  }
  return FIDELITY_TERMS.map((term) => ({
    term,
    pairs: pairs[term],
    pearson: pearson(
      pairs[term].map((p) => p.predicted),
      pairs[term].map((p) => p.measured),
    ),
    mape: mape(pairs[term]),
  }));
}

/** The xi of Eqs. 15-16 a run predicted with: its option, else the default. */
export function runXi(options: Record<string, unknown>): number {
  return typeof options.xi === "number" ? options.xi : DEFAULT_CONSTANTS.xi;
}

/**
 * The xi of Eqs. 15-16 that fits the measured uploads best (least squares through the origin), the paper's "factor
 * of transmission time cost obtained from historical running records". `usedXi` is the xi the predictions were made
 * with (predicted upload is proportional to xi). NaN without an upload pair.
 */
export function fitXi(upload: FidelityFigure, usedXi: number): number {
  if (upload.term !== "upload") throw new Error(`fitXi: expected the upload figure, got ${upload.term}`);
  if (!(usedXi > 0)) throw new Error(`fitXi: the run's xi must be positive, got ${usedXi}`);
  const xs = upload.pairs.map((p) => p.predicted / usedXi);
  const sxx = xs.reduce((s, x) => s + x * x, 0);
  return sxx > 0 ? upload.pairs.reduce((s, p, k) => s + xs[k] * p.measured, 0) / sxx : NaN;
}

/**
 * The rounds with every BS's link terms (Eqs. 15 and 16, both proportional to xi) multiplied by `factor`: what the
 * predictions would have been with xi x `factor` instead of the run's xi. Lets xi fitted on some runs be tested
 * on others (held out), without running them again.
 */
export function withXiScaled(rounds: readonly RoundMetrics[], factor: number): RoundMetrics[] {
  if (!(factor > 0)) throw new Error(`withXiScaled: the factor must be positive, got ${factor}`);
  return rounds.map((r) => ({
    ...r,
    agents: r.agents.map((a) => {
      const p = a.predicted;
      const link = p.transmissionSeconds + p.blockBroadcastSeconds;
      return { ...a, predicted: { ...p, transmissionSeconds: p.transmissionSeconds * factor, blockBroadcastSeconds: p.blockBroadcastSeconds * factor, totalSeconds: p.totalSeconds + (factor - 1) * link } };
    }),
  }));
}

/** Bytes on one BS's uplink in one round: measured, what Eq. 15 prices, and what the protocol sends. */
export interface UplinkBytes {
  round: number;
  bs: number;
  /** Interface counters of its uplink over the round. */
  measured: number;
  /** Eq. 15's bits / 8: T^pt_i x R^U_i = xi log2(M) K_i |w_g|. */
  eq15: number;
  /** ((M - 1) K_i + 1) encoded models: its K_i twin models to each of the M - 1 verifiers, its Eq. 4 model to the MBS. */
  protocol: number;
}

/** Each submitting BS's uplink bytes per round against Eq. 15's and the protocol's (M = `bss`: the M − 1 verifiers, plus the MBS). */
export function uplinkBytes(rounds: readonly RoundMetrics[], traffic: readonly { round: number; bs: number; uplinkBytes: number; uplinkModelBps: number }[], modelBytes: number, bss: number): UplinkBytes[] {
  const out: UplinkBytes[] = [];
  const m = bss; // M: every BS, also one whose agent was down and sent no report
  for (const r of rounds) {
    for (const a of r.agents) {
      const t = traffic.find((x) => x.round === r.round && x.bs === a.bs);
      if (!t || !a.submitted || a.predicted.transmissionSeconds <= 0) continue;
      out.push({ round: r.round, bs: a.bs, measured: t.uplinkBytes, eq15: (a.predicted.transmissionSeconds * t.uplinkModelBps) / 8, protocol: ((m - 1) * a.twins + 1) * modelBytes });
    }
  }
  return out;
}

/** The uplink-bytes part of a report (markdown). */
export function uplinkBytesMarkdown(rows: readonly UplinkBytes[]): string {
  if (rows.length === 0) return "";
  const mb = (x: number) => (x / 1e6).toFixed(1);
  const err = (f: (u: UplinkBytes) => number) => (mape(rows.map((u) => ({ predicted: f(u), measured: u.measured }))) * 100).toFixed(0);
  return [
    `Bytes on each BS's uplink per round (interface counters) against what Eq. 15 prices (ξ log2(M) K_i |w_g|) and what the protocol sends (its K_i twin models to each of the M − 1 verifiers, its Eq. 4 model to the MBS): mean absolute error ${err((u) => u.eq15)} % for Eq. 15, ${err((u) => u.protocol)} % for the protocol's count.`,
    "",
    "| round | BS | measured MB | Eq. 15 MB | protocol MB |",
    "|---|---|---|---|---|",
    ...rows.map((u) => `| ${u.round} | ${u.bs} | ${mb(u.measured)} | ${mb(u.eq15)} | ${mb(u.protocol)} |`),
    "",
  ].join("\n");
}

/** The summary table of the fidelity figures (markdown lines): per term, its pairs, r, MAPE and whether the targets are met. */
export function fidelitySummaryLines(figures: readonly FidelityFigure[], targets = { pearson: 0.95, mape: 0.15 }): string[] {
  const f = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
  return [
    "| term | pairs (BS x round) | Pearson r | MAPE | target r >= " + targets.pearson + ", MAPE <= " + targets.mape * 100 + " % |",
    "|---|---|---|---|---|",
    ...figures.map((x) => `| ${x.term} | ${x.pairs.length} | ${f(x.pearson, 3)} | ${f(x.mape * 100, 1)} % | ${x.pearson >= targets.pearson && x.mape <= targets.mape ? "met" : "not met"} |`),
  ];
}

/** The fidelity section of a report (markdown): the summary, then every pair. */
export function fidelityMarkdown(figures: readonly FidelityFigure[], targets = { pearson: 0.95, mape: 0.15 }): string {
  const lines = [
    ...fidelitySummaryLines(figures, targets),
    "",
    "| round | BS | term | predicted s | measured s |",
    "|---|---|---|---|---|",
    ...figures.flatMap((x) => x.pairs.map((p) => `| ${p.round} | ${p.bs} | ${x.term} | ${p.predicted.toFixed(2)} | ${p.measured.toFixed(2)} |`)),
  ];
  return lines.join("\n") + "\n";
}
