/**
 * How well the model's time (Eqs. 12, 15, 17) predicts what the emulated testbed measures, per BS and round. Pure.
 *
 * Predicted seconds are in testbed time: Eq. 12 with f^C expressed against the Hz one core stands for (the launcher
 * does that), and the link terms (Eqs. 15, 16 broadcast) multiplied by the testbed's link slowdown.
 * Measured seconds:
 * - training: the seconds BS i's twins trained (`AgentRoundReport.trainingSeconds`);
 * - upload: the slowest fetch of BS i's model by the other BSs (they fetch it from BS i's IPFS node, across its
 *   shaped uplink), `VerdictLog.fetchSeconds`;
 * - BS round T_i: its train and upload phases plus that upload, against T_i of the model (its sum of terms).
 */
import type { AgentRoundReport } from "../agents/bsAgent";
import type { RoundMetrics } from "../system/metrics";

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

/** The fidelity section of a report (markdown). */
export function fidelityMarkdown(figures: readonly FidelityFigure[], targets = { pearson: 0.95, mape: 0.15 }): string {
  const f = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");
  const lines = [
    "| term | pairs (BS x round) | Pearson r | MAPE | target r >= " + targets.pearson + ", MAPE <= " + targets.mape * 100 + " % |",
    "|---|---|---|---|---|",
    ...figures.map((x) => `| ${x.term} | ${x.pairs.length} | ${f(x.pearson, 3)} | ${f(x.mape * 100, 1)} % | ${x.pearson >= targets.pearson && x.mape <= targets.mape ? "met" : "not met"} |`),
    "",
    "| round | BS | term | predicted s | measured s |",
    "|---|---|---|---|---|",
    ...figures.flatMap((x) => x.pairs.map((p) => `| ${p.round} | ${p.bs} | ${x.term} | ${p.predicted.toFixed(2)} | ${p.measured.toFixed(2)} |`)),
  ];
  return lines.join("\n") + "\n";
}
