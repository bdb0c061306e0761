/**
 * The run folder's report: what `dtwn run` measured (src/system/metrics.ts) as files a person or a script can read.
 * writeRunReport(dir, m) writes into `dir`:
 *   metrics.json           the metrics as recorded (pretty JSON)
 *   rounds.csv             one row per FL round: the global model's test accuracy and loss, the MBS's phases, the
 *                          verification outcome, gas, records, blocks and producers
 *   agents.csv             one row per round x BS agent: its action (K_i, D_i, batch), each phase measured next to the
 *                          model's terms for it (Eqs. 12-16), outcome and coins
 *   <figure>.svg / .png    accuracy-loss (or accuracy and loss when their scales differ too much), time-by-phase,
 *                          predicted-vs-measured, coins, gas
 *   report.md              a Markdown summary embedding the figures
 * and returns the absolute paths of the files written. formatRoundLine gives one line of live progress per round.
 * Pure formatting apart from writing the files: no chain, no network, no tfjs.
 */
import { fidelity, fidelityMarkdown, fitXi, runXi, uplinkBytes, uplinkBytesMarkdown } from "../testbed/fidelity";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFigure } from "../plot/files";
import { barChart, lineChart, type BarGroup, type Series } from "../plot/svg";
import type { AgentRoundReport, PhaseSeconds } from "../agents/bsAgent";
import type { MbsRoundReport } from "./mbs";
import type { RoundMetrics, RunMetrics } from "./metrics";

/** The BS agent's measured phases (Fig. 2), in column order. Typed as a record so that a new phase cannot be missed. */
const AGENT_PHASES: Record<keyof PhaseSeconds, string> = {
  observe: "observe",
  act: "act",
  sync: "sync",
  train: "train",
  upload: "upload",
  verify: "verify",
  collect: "collect",
  attest: "attest",
};

/** The model's terms for one BS (src/twins/timeCost.ts), with their equation, in column order. */
const PREDICTED_TERMS: Record<keyof AgentRoundReport["predicted"], { column: string; label: string }> = {
  localTrainingSeconds: { column: "predicted_local_training_s_eq12", label: "local training (Eq. 12)" },
  aggregationSeconds: { column: "predicted_aggregation_s_eq14", label: "aggregation (Eq. 14)" },
  transmissionSeconds: { column: "predicted_transmission_s_eq15", label: "transmission (Eq. 15)" },
  blockBroadcastSeconds: { column: "predicted_block_broadcast_s_eq16", label: "block broadcast (Eq. 16)" },
  blockValidationSeconds: { column: "predicted_block_validation_s_eq16", label: "block validation (Eq. 16)" },
  totalSeconds: { column: "predicted_total_s", label: "T_i, sum of the terms" },
};

/** The MBS's phases of a round (src/system/mbs.ts), in column and bar order. */
const MBS_PHASES: Record<keyof MbsRoundReport["phases"], string> = {
  submit: "submit",
  verify: "verify",
  fetch: "fetch",
  aggregate: "aggregate",
  evaluate: "evaluate",
};

const keysOf = <T extends object>(o: T): (keyof T)[] => Object.keys(o) as (keyof T)[];

/** Combine accuracy (%) and loss in one figure only when the larger scale is at most this many times the smaller. */
const COMBINE_SCALE_RATIO = 10;
/** Coins carry 18 decimals on chain (an agent's `coins` is its raw balanceOf). */
const COIN_DECIMALS = 18n;

// ---------------------------------------------------------------------------------------------------------------
// Small formatting helpers

/** A number as CSV/JSON-ish text: 12 significant digits (no 78.12000000000001), empty when not finite. */
function csvNumber(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(12))) : "";
}

/** A number with fixed decimals for tables and log lines; "n/a" when not finite. */
function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : "n/a";
}

/** Accuracy as a fraction in [0, 1] -> percent. */
const percent = (accuracy: number): number => accuracy * 100;

/** One CSV field: quoted (with doubled quotes) when it contains a comma, a quote or a line break. */
function csvField(value: string | number | boolean | undefined): string {
  const s = value === undefined ? "" : typeof value === "number" ? csvNumber(value) : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV document: the header row then one row per record, each line ended by "\n". */
function csv(header: string[], rows: (string | number | boolean | undefined)[][]): string {
  for (const [k, row] of rows.entries()) {
    if (row.length !== header.length) throw new Error(`CSV row ${k + 1} has ${row.length} fields but the header has ${header.length}`);
  }
  return [header, ...rows].map((row) => row.map(csvField).join(",")).join("\n") + "\n";
}

/** A Markdown table cell: no line breaks, pipes escaped. */
function mdCell(value: string | number): string {
  return String(value).replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

function mdTable(header: string[], rows: (string | number)[][]): string[] {
  return [
    `| ${header.map(mdCell).join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${row.map(mdCell).join(" | ")} |`),
  ];
}

/** The gas price the report prices gas at, gwei (the run's --gas-price-gwei, 1 for runs made before it existed). */
function gasPriceGwei(m: RunMetrics): number {
  const g = m.options.gasPriceGwei;
  return typeof g === "number" && Number.isFinite(g) ? g : 1;
}

/** Ether of `gas` gas units at `gwei` per unit. */
export function etherOf(gas: number, gwei: number): number {
  return (gas * gwei) / 1e9;
}

/** The rounds' gas by call summed over the rounds, largest first (empty for runs that did not record it). */
function gasByCallOverRounds(m: RunMetrics): { call: string; calls: number; gas: number }[] {
  const table = new Map<string, { call: string; calls: number; gas: number }>();
  for (const r of m.rounds) {
    for (const g of r.mbs.gasByCall ?? []) {
      const t = table.get(g.call) ?? { call: g.call, calls: 0, gas: 0 };
      t.calls += g.calls;
      t.gas += gasOf(g.gas);
      table.set(g.call, t);
    }
  }
  return [...table.values()].sort((a, b) => b.gas - a.gas);
}

/** Gas as a number of gas units (MbsRoundReport.gasUsed is a decimal string of a bigint); NaN when unreadable. */
function gasOf(gasUsed: string): number {
  try {
    return Number(BigInt(gasUsed));
  } catch {
    return Number.NaN;
  }
}

/**
 * An agent's coins in whole coins. Its `coins` is the raw ERC-20 balance (base units, 18 decimals) as a decimal
 * string; the result keeps two decimals (truncated, as run.ts does for RoundMetrics.coins). A string that is not an
 * integer is read as a plain number.
 */
function coinsFromBaseUnits(raw: string): number {
  if (/^\d+$/.test(raw)) return Number((BigInt(raw) * 100n) / 10n ** COIN_DECIMALS) / 100;
  return Number(raw);
}

const maxOf = (values: number[]): number | undefined => {
  const finite = values.filter(Number.isFinite);
  return finite.length > 0 ? Math.max(...finite) : undefined;
};

/** BS index of an address (case-insensitive), or the address itself when it is not a known BS. */
function bsName(m: RunMetrics, address: string): string {
  const i = m.bsAddresses.findIndex((a) => a.toLowerCase() === address.toLowerCase());
  return i >= 0 ? `BS ${i}` : address;
}

/** Number of BSs: the registered addresses, or more if a round reports coins or agents beyond them. */
function bsCount(m: RunMetrics): number {
  return Math.max(m.bsAddresses.length, ...m.rounds.map((r) => r.coins.length), ...m.rounds.flatMap((r) => r.agents.map((a) => a.bs + 1)));
}

const bsLabel = (i: number, malicious: readonly number[]): string => `BS ${i}${malicious.includes(i) ? " (malicious)" : ""}`;

/** A line-chart series from (x, y) points, leaving out points whose y is missing or not finite. */
function series(label: string, points: [number, number | undefined][]): Series | undefined {
  const kept = points.filter((p): p is [number, number] => p[1] !== undefined && Number.isFinite(p[1]));
  return kept.length > 0 ? { label, x: kept.map((p) => p[0]), mean: kept.map((p) => p[1]) } : undefined;
}

const defined = <T>(v: T | undefined): v is T => v !== undefined;

// ---------------------------------------------------------------------------------------------------------------
// CSV files

const ROUND_HEADER = [
  "round",
  "test_accuracy_percent",
  "test_loss",
  "round_seconds",
  "mbs_seconds",
  ...keysOf(MBS_PHASES).map((p) => `mbs_${MBS_PHASES[p]}_s`),
  "submitted",
  "passed",
  "failed",
  "unfetched",
  "gas_used",
  "records",
  "blocks_total",
  "blocks_final",
  "producers",
];

/** rounds.csv: one row per round (seconds are wall-clock; gas in gas units). */
function roundsCsv(m: RunMetrics): string {
  return csv(
    ROUND_HEADER,
    m.rounds.map((r) => [
      r.round,
      percent(r.mbs.testAccuracy),
      r.mbs.testLoss,
      r.seconds,
      r.mbs.seconds,
      ...keysOf(MBS_PHASES).map((p) => r.mbs.phases[p]),
      r.mbs.submitted,
      r.mbs.passed.length,
      r.mbs.failed.length,
      r.mbs.unfetched.length,
      r.mbs.gasUsed,
      r.records,
      r.blocks.total,
      r.blocks.final,
      r.producers.length,
    ]),
  );
}

const AGENT_HEADER = [
  "round",
  "bs",
  "address",
  "malicious",
  "twins",
  "samples",
  "mean_batch",
  "moved_in",
  "submitted",
  "skipped",
  "outcome",
  "coins",
  "coins_base_units",
  ...keysOf(AGENT_PHASES).map((p) => `measured_${AGENT_PHASES[p]}_s`),
  ...keysOf(PREDICTED_TERMS).map((t) => PREDICTED_TERMS[t].column),
  "verdicts_given",
  "global_check",
  "attestation",
  "resumed",
];

/** agents.csv: one row per round x BS agent that reported (seconds; coins in whole coins and in base units). */
function agentsCsv(m: RunMetrics): string {
  const rows = m.rounds.flatMap((r) =>
    [...r.agents]
      .sort((a, b) => a.bs - b.bs)
      .map((a) => [
        r.round,
        a.bs,
        a.address,
        a.malicious,
        a.twins,
        a.samples,
        a.meanBatch,
        a.movedIn,
        a.submitted,
        a.skipped ?? "",
        a.outcome,
        coinsFromBaseUnits(a.coins),
        a.coins,
        ...keysOf(AGENT_PHASES).map((p) => a.measured[p]),
        ...keysOf(PREDICTED_TERMS).map((t) => a.predicted[t]),
        a.verdicts.length,
        a.globalCheck ?? "",
        a.attestation ?? "",
        a.resumed.join(";"),
      ]),
  );
  return csv(AGENT_HEADER, rows);
}

// ---------------------------------------------------------------------------------------------------------------
// Figures

interface Figure {
  /** File name without extension. */
  name: string;
  /** Alt text / caption in report.md. */
  caption: string;
  svg: string;
}

/** Test accuracy (%) and test loss per round: one figure when their scales are comparable, else two. */
function accuracyLossFigures(m: RunMetrics): Figure[] {
  const accuracy = series("Test accuracy (%)", m.rounds.map((r) => [r.round, percent(r.mbs.testAccuracy)]));
  const loss = series("Test loss", m.rounds.map((r) => [r.round, r.mbs.testLoss]));
  const scale = (s: Series | undefined) => (s ? Math.max(...s.mean.map(Math.abs)) : 0);
  const [a, l] = [scale(accuracy), scale(loss)];
  if (accuracy && loss && a > 0 && l > 0 && Math.max(a, l) / Math.min(a, l) <= COMBINE_SCALE_RATIO) {
    const svg = lineChart({ title: "Global model on the test set", xLabel: "Round", yLabel: "Accuracy (%) / loss", series: [accuracy, loss] });
    return [{ name: "accuracy-loss", caption: "Test accuracy (%) and test loss per round", svg }];
  }
  const out: Figure[] = [];
  if (accuracy) {
    const svg = lineChart({ title: "Global model: test accuracy", xLabel: "Round", yLabel: "Test accuracy (%)", series: [accuracy] });
    out.push({ name: "accuracy", caption: "Test accuracy (%) per round", svg });
  }
  if (loss) {
    const svg = lineChart({ title: "Global model: test loss", xLabel: "Round", yLabel: "Test loss (cross-entropy)", series: [loss] });
    out.push({ name: "loss", caption: "Test loss per round", svg });
  }
  return out;
}

/** The MBS's phases per round, seconds (grouped bars). */
function timeByPhaseFigure(m: RunMetrics): Figure | undefined {
  const groups: BarGroup[] = m.rounds
    .map((r) => ({
      label: `Round ${r.round}`,
      bars: keysOf(MBS_PHASES)
        .map((p) => ({ label: MBS_PHASES[p], mean: r.mbs.phases[p] }))
        .filter((b) => Number.isFinite(b.mean)),
    }))
    .filter((g) => g.bars.length > 0);
  if (groups.length === 0) return undefined;
  const svg = barChart({ title: "MBS time per round by phase", yLabel: "Seconds", groups });
  return { name: "time-by-phase", caption: "MBS time per round by phase (seconds)", svg };
}

/**
 * The model's prediction against the measurement, per round: max over BSs of T_i (the sum of Eqs. 12-16 at the BS)
 * and of Eq. 12 (local training), against max over BSs of the measured training phase and the MBS's round time.
 * Log y when the values span more than two decades.
 */
function predictedVsMeasuredFigure(m: RunMetrics): Figure | undefined {
  const perRound = (f: (r: RoundMetrics) => number | undefined): [number, number | undefined][] => m.rounds.map((r) => [r.round, f(r)]);
  const all = [
    series("Predicted: max T_i (Eqs. 12-16)", perRound((r) => maxOf(r.agents.map((a) => a.predicted.totalSeconds)))),
    series("Predicted: max local training (Eq. 12)", perRound((r) => maxOf(r.agents.map((a) => a.predicted.localTrainingSeconds)))),
    series("Measured: max BS train phase", perRound((r) => maxOf(r.agents.map((a) => a.measured.train)))),
    series("Measured: MBS round", perRound((r) => r.mbs.seconds)),
  ].filter(defined);
  if (all.length === 0) return undefined;
  const values = all.flatMap((s) => s.mean);
  const logY = values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) > 100;
  const svg = lineChart({ title: "Time per round: model vs measured", xLabel: "Round", yLabel: logY ? "Seconds (log)" : "Seconds", series: all, logY, width: 760 });
  return { name: "predicted-vs-measured", caption: "Predicted (Eqs. 12-16) vs measured time per round (seconds)", svg };
}

/** Training coins of each BS after each round's settlement. */
function coinsFigure(m: RunMetrics): Figure | undefined {
  const all = Array.from({ length: bsCount(m) }, (_, i) => series(bsLabel(i, m.malicious), m.rounds.map((r) => [r.round, r.coins[i]]))).filter(defined);
  if (all.length === 0) return undefined;
  const svg = lineChart({ title: "Training coins per BS", xLabel: "Round", yLabel: "Coins", series: all });
  return { name: "coins", caption: "Training coins per BS after each round (coins)", svg };
}

/** Gas used per round, in millions of gas. */
function gasFigure(m: RunMetrics): Figure | undefined {
  const groups: BarGroup[] = m.rounds
    .map((r) => ({ label: `Round ${r.round}`, bars: [{ label: "gas used", mean: gasOf(r.mbs.gasUsed) / 1e6 }] }))
    .filter((g) => Number.isFinite(g.bars[0].mean));
  if (groups.length === 0) return undefined;
  const svg = barChart({ title: "Gas used per round", yLabel: "Gas (millions)", groups });
  return { name: "gas", caption: "Gas used per round (millions of gas)", svg };
}

/** Every figure of the report, in the order report.md shows them. */
function runFigures(m: RunMetrics): Figure[] {
  return [...accuracyLossFigures(m), timeByPhaseFigure(m), predictedVsMeasuredFigure(m), coinsFigure(m), gasFigure(m)].filter(defined);
}

// ---------------------------------------------------------------------------------------------------------------
// report.md

/** Verdicts given over the run, by the target's role (m.malicious) and the verdict. */
function verdictCounts(m: RunMetrics): { honest: { pass: number; fail: number; errors: number }; malicious: { pass: number; fail: number; errors: number } } {
  const counts = { honest: { pass: 0, fail: 0, errors: 0 }, malicious: { pass: 0, fail: 0, errors: 0 } };
  for (const r of m.rounds) {
    for (const a of r.agents) {
      for (const v of a.verdicts) {
        const c = m.malicious.includes(v.bs) ? counts.malicious : counts.honest;
        if (v.pass) c.pass++;
        else c.fail++;
        if (v.error !== undefined) c.errors++;
      }
    }
  }
  return counts;
}

function reportMarkdown(m: RunMetrics, figures: Figure[]): string {
  const last = m.rounds[m.rounds.length - 1];
  const n = bsCount(m);
  const opt = m.options ?? {};
  const lines: string[] = ["# DTWN run report", ""];

  // Summary
  const malicious = m.malicious.length > 0 ? ` (malicious: ${m.malicious.map((i) => `BS ${i}`).join(", ")}${typeof opt.attack === "string" ? `, attack ${opt.attack}` : ""})` : " (none malicious)";
  lines.push("## Summary", "");
  lines.push(`- Started: ${m.startedAt}`);
  lines.push(`- Network: ${m.network}`);
  lines.push(`- Association policy: ${m.policy}`);
  lines.push(`- tfjs backend: ${m.backend}`);
  lines.push(`- BSs (M): ${n}${malicious}`);
  if (typeof opt.users === "number") lines.push(`- Users / twins (N): ${opt.users}`);
  lines.push(`- Rounds: ${m.rounds.length}${typeof opt.rounds === "number" && opt.rounds !== m.rounds.length ? ` of ${opt.rounds} requested` : ""}`);
  if (m.stopped) lines.push(`- **The federation stopped:** ${m.stopped}`);
  lines.push(`- Total wall-clock time: ${fixed(m.seconds, 1)} s`);
  const runGas = m.rounds.reduce((s, r) => s + gasOf(r.mbs.gasUsed), 0);
  lines.push(`- Gas of the rounds: ${fixed(runGas / 1e6, 3)} Mgas, ${etherOf(runGas, gasPriceGwei(m)).toFixed(6)} ETH at ${gasPriceGwei(m)} gwei (--gas-price-gwei; deployment and bootstrap not included)`);
  lines.push(`- Final test accuracy: ${fixed(percent(last.mbs.testAccuracy), 2)} % (test loss ${fixed(last.mbs.testLoss, 4)}) after round ${last.round}`);
  const settings = ["localSteps", "trainCyclesPerSample", "trainStepSamples", "trainTwinCycles", "learningRate", "optimizer", "maxDrop", "testImages", "seed"].filter((k) => opt[k] !== undefined);
  if (settings.length > 0) lines.push(`- Settings: ${settings.map((k) => `${k} ${String(opt[k])}`).join(", ")} (all options in metrics.json)`);
  lines.push("");

  // Per round
  lines.push("## Rounds", "");
  lines.push(
    ...mdTable(
      ["Round", "Test accuracy (%)", "Test loss", "Round (s)", "Submitted", "Passed / failed", "Gas (Mgas)", `Cost (ETH at ${gasPriceGwei(m)} gwei)`, "Final blocks", "Producers"],
      m.rounds.map((r) => [
        r.round,
        fixed(percent(r.mbs.testAccuracy), 2),
        fixed(r.mbs.testLoss, 4),
        fixed(r.seconds, 1),
        r.mbs.submitted,
        `${r.mbs.passed.length} / ${r.mbs.failed.length}`,
        fixed(gasOf(r.mbs.gasUsed) / 1e6, 3),
        etherOf(gasOf(r.mbs.gasUsed), gasPriceGwei(m)).toFixed(6),
        `${r.blocks.final} of ${r.blocks.total}`,
        r.producers.length,
      ]),
    ),
  );
  const failures = m.rounds.filter((r) => r.mbs.failed.length > 0 || r.mbs.unfetched.length > 0);
  if (failures.length > 0) {
    lines.push("");
    for (const r of failures) {
      const parts: string[] = [];
      if (r.mbs.failed.length > 0) parts.push(`failed verification: ${r.mbs.failed.map((a) => bsName(m, a)).join(", ")}`);
      if (r.mbs.unfetched.length > 0) parts.push(`passed but not fetched: ${r.mbs.unfetched.map((u) => `${bsName(m, u.bs)} (${u.error})`).join(", ")}`);
      lines.push(`- Round ${r.round}: ${parts.join("; ")}`);
    }
  }
  lines.push("");

  // Per BS, last round
  lines.push(`## BSs in round ${last.round}`, "");
  lines.push(
    ...mdTable(
      ["BS", "Role", "Twins K_i", "Samples D_i", "Outcome", "Coins", "Measured train (s)", "Predicted Eq. 12 (s)", "Predicted T_i (s)"],
      Array.from({ length: n }, (_, i) => {
        const a = last.agents.find((x) => x.bs === i);
        const role = m.malicious.includes(i) ? "malicious" : "honest";
        const coins = last.coins[i] !== undefined ? fixed(last.coins[i], 2) : a ? fixed(coinsFromBaseUnits(a.coins), 2) : "n/a";
        if (!a) return [`BS ${i}`, role, "-", "-", "no report", coins, "-", "-", "-"];
        const outcome = a.submitted ? a.outcome : `not submitted${a.skipped ? ` (${a.skipped})` : ""}`;
        return [`BS ${i}`, role, a.twins, a.samples, outcome, coins, fixed(a.measured.train, 2), fixed(a.predicted.localTrainingSeconds, 2), fixed(a.predicted.totalSeconds, 2)];
      }),
    ),
  );
  lines.push("");

  // Gas by call
  const byCall = gasByCallOverRounds(m);
  if (byCall.length > 0) {
    const total = byCall.reduce((s, g) => s + g.gas, 0);
    lines.push("## Gas by call", "");
    lines.push(`Every transaction mined during the ${m.rounds.length} round(s), by call, read from the blocks' receipts (deployment and bootstrap not included).`, "");
    lines.push(
      ...mdTable(
        ["Call", "Transactions", "Gas per transaction (mean)", "Gas", "Share (%)"],
        byCall.map((g) => [g.call, g.calls, Math.round(g.gas / g.calls).toLocaleString("en-US"), g.gas.toLocaleString("en-US"), fixed((100 * g.gas) / total, 1)]),
      ),
    );
    lines.push("");
  }

  // Verification
  const v = verdictCounts(m);
  lines.push("## Verification verdicts", "");
  lines.push("Verdicts the BSs gave on each other's models over the run, by the role of the BS whose model was judged.", "");
  lines.push(
    ...mdTable(
      ["Target", "Pass", "Fail", "of which unscored (fetch/format error)"],
      [
        ["honest BS", v.honest.pass, v.honest.fail, v.honest.errors],
        ["malicious BS", v.malicious.pass, v.malicious.fail, v.malicious.errors],
      ],
    ),
  );
  lines.push("", `Honest models failed: ${v.honest.fail}; malicious models passed: ${v.malicious.pass}.`, "");

  // DPoS
  lines.push("## DPoS block production", "");
  if (m.dpos.length === 0) {
    lines.push("No DPoS statistics were recorded.");
  } else {
    lines.push(
      ...mdTable(
        ["BS", "Elections", "Blocks proposed", "Blocks validated", "Blocks rejected", "Errors"],
        m.dpos.map((d, i) => [bsLabel(i, m.malicious), d.elections, d.proposed, d.validated, d.rejected, d.errors.length]),
      ),
    );
    const errors = m.dpos.flatMap((d, i) => (d.errors.length > 0 ? [`- BS ${i}: ${d.errors[0]}${d.errors.length > 1 ? ` (and ${d.errors.length - 1} more)` : ""}`] : []));
    if (errors.length > 0) lines.push("", "First error of each BS:", "", ...errors);
  }
  lines.push("");

  // Faults
  lines.push("## Crashed and restarted agents", "");
  if (m.restarts.length === 0) lines.push("None.");
  else {
    lines.push(
      ...mdTable(
        ["BS", "Round", "Died after phase", "Restart (s)", "Steps the restarted agent found done on chain"],
        m.restarts.map((x) => [bsLabel(x.bs, m.malicious), x.round, x.after, x.restartSeconds.toFixed(1), m.rounds.find((r) => r.round === x.round)?.agents.find((a) => a.bs === x.bs)?.resumed.join(", ") || "none"]),
      ),
    );
  }
  lines.push("");

  // Figures
  if (m.testbed) {
    lines.push("## The model's time against the testbed's", "");
    lines.push(`On the emulated testbed one core stood for ${(m.testbed.coreHz / 1e9).toFixed(3)} GHz and link rates were the model's divided by ${m.testbed.linkSlowdown}; predicted seconds are in that time (docs/testbed.md).`, "");
    const fit = fidelity(m.rounds, m.testbed.linkSlowdown);
    lines.push(fidelityMarkdown(fit), "");
    const usedXi = runXi(m.options);
    const xi = fitXi(fit[1], usedXi);
    if (Number.isFinite(xi)) lines.push(`The xi of Eqs. 15-16 that fits these uploads best is ${xi.toFixed(3)} (this run's: ${usedXi}); \`npx dtwn calibrate --xi-from <this folder>/metrics.json --out <calibration file>\` stores it for later runs.`, "");
    if (m.testbed.traffic && m.testbed.modelBytes) lines.push(uplinkBytesMarkdown(uplinkBytes(m.rounds, m.testbed.traffic, m.testbed.modelBytes, m.bsAddresses.length)));
  }
  lines.push("## Figures", "");
  for (const f of figures) lines.push(`![${f.caption}](${f.name}.svg)`, "");
  lines.push("Data: [metrics.json](metrics.json), [rounds.csv](rounds.csv), [agents.csv](agents.csv). Figures also as PNG next to the SVGs.", "");
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Entry points

/**
 * Writes the run folder's report into `dir` (created if missing): metrics.json, rounds.csv, agents.csv, each figure
 * as SVG and PNG, and report.md. Returns the absolute paths of the files written, in that order. Throws when the run
 * has no rounds.
 */
export function writeRunReport(dir: string, m: RunMetrics): { files: string[] } {
  if (!m.rounds || m.rounds.length === 0) throw new Error("writeRunReport: the run has no rounds, there is nothing to report");
  const root = resolve(dir);
  // Everything is rendered before anything is written: a failing chart leaves no half-written folder behind.
  const json = JSON.stringify(m, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n";
  const rounds = roundsCsv(m);
  const agents = agentsCsv(m);
  const figures = runFigures(m);
  const markdown = reportMarkdown(m, figures);

  mkdirSync(root, { recursive: true });
  const files: string[] = [];
  const write = (name: string, content: string) => {
    const file = join(root, name);
    writeFileSync(file, content, "utf8");
    files.push(file);
  };
  write("metrics.json", json);
  write("rounds.csv", rounds);
  write("agents.csv", agents);
  for (const f of figures) {
    const paths = writeFigure(join(root, f.name), f.svg);
    files.push(paths.svg, paths.png);
  }
  write("report.md", markdown);
  return { files };
}

const MAX_LINE = 160;

/**
 * One line of live progress for a finished round: round, test accuracy (%), test loss, seconds, passed/failed,
 * coins per BS (a malicious BS marked "*") and the number of producers. Coins are summarised as a range when listing
 * them all would make the line longer than 160 characters.
 */
export function formatRoundLine(r: RoundMetrics, malicious: readonly number[]): string {
  const head =
    `round ${r.round}: accuracy ${fixed(percent(r.mbs.testAccuracy), 2)} %, loss ${fixed(r.mbs.testLoss, 4)}, ` +
    `${fixed(r.seconds, 1)} s, passed ${r.mbs.passed.length} failed ${r.mbs.failed.length}`;
  const tail = `, producers ${r.producers.length}`;
  const coin = (c: number) => (Number.isFinite(c) ? String(Math.round(c * 10) / 10) : "n/a");
  const all = `, coins ${r.coins.map((c, i) => `${coin(c)}${malicious.includes(i) ? "*" : ""}`).join(" ")}`;
  if ((head + all + tail).length <= MAX_LINE) return head + all + tail;
  const finite = r.coins.filter(Number.isFinite);
  const range = finite.length > 0 ? `, coins ${coin(Math.min(...finite))}..${coin(Math.max(...finite))} (${r.coins.length} BSs)` : "";
  return head + range + tail;
}
