/**
 * `dtwn compare`: the same rounds of the running system under MADDPG, the average and the random association
 * (same seed, topology, data and environment), plus the full-data FedAvg comparator of Fig. 6 (every twin trains
 * every round with the same local work, no chain, no verification), and the paper's comparison figures measured on
 * the running system:
 *   fig5-time-per-round   seconds per FL round of each association, measured (the MBS's wall clock from opening to
 *                         the new global model);
 *   fig5-model-time-per-round  the model's T (Eq. 17) of each round for the allocation the agents committed (its
 *                         own axis: on this machine the measured round is tens of seconds, the model's a few);
 *   fig6-loss-per-round   test loss of the global model per round, each association and the full-data comparator.
 * Each association's own run folder (report, CSVs, figures) is kept under <out>/<policy>/.
 */
import fs from "node:fs";
import path from "node:path";
import { writeFigure } from "../plot/files";
import { lineChart, type Series } from "../plot/svg";
import { loadFashionMnist } from "../fl/datasets/fashionMnist";
import { runFederation } from "../fl/federation";
import { strategyByName } from "../fl/aggregation";
import { ProcessPoolTrainer } from "../fl/trainers";
import { initBackend } from "../ml/backend";
import { nearestBsAssociation } from "../twins/mdp";
import type { RunMetrics } from "./metrics";
import type { PolicyName } from "../agents/policies";
import { writeRunReport } from "./report";
import { runSystem, worldOptions, type RunHooks, type RunOptions } from "./run";
import { buildWorld } from "./world";
import { interval95, type Interval } from "../eval/stats";
import { fidelity, fidelitySummaryLines, fitXi, runXi, withXiScaled } from "../testbed/fidelity";

export interface ComparatorRound {
  round: number;
  testAccuracy: number;
  testLoss: number;
  seconds: number;
}

export interface ComparedRun {
  policy: PolicyName;
  /** The run's seed (topology, data, environment); absent in comparisons written before seeds were compared. */
  seed?: number;
  /** Its run folder, relative to the comparison's. */
  dir?: string;
  metrics: RunMetrics;
}

export interface Comparison {
  runs: ComparedRun[];
  fullData: ComparatorRound[];
  /** Where the runs ran: "in-process" (default) or "emulated" (`--testbed emulated`). */
  testbed?: string;
}

/** Full-data FedAvg on the same world: every twin trains every round (batch 32, the same local steps), Eq. 4 + 5. */
export async function fullDataComparator(o: RunOptions, log: (line: string) => void): Promise<ComparatorRound[]> {
  await initBackend("auto", log); // this process builds the model (runs on the testbed did their training elsewhere)
  const dataset = loadFashionMnist();
  const world = buildWorld(worldOptions(o), dataset.train.count); // the same split as the system runs
  const trainer = new ProcessPoolTrainer({ kind: "fashion-mnist" }, o.workers);
  try {
    const { logs } = await runFederation(
      { dataset, userData: world.userData, association: nearestBsAssociation(world.scenario), batchSize: world.userData.map(() => 32), heldOut: world.heldOut.map(() => []) },
      o.bss,
      { rounds: o.rounds, learningRate: o.learningRate, localEpochs: 1, localSteps: o.localSteps, optimizer: o.optimizer, strategy: strategyByName("fedavg"), verification: { enabled: false, maxDrop: o.maxDrop }, seed: o.seed },
      (l) => log(`full-data FedAvg round ${l.round}: accuracy ${(100 * l.testAccuracy).toFixed(2)} %, loss ${l.testLoss.toFixed(4)}`),
      trainer,
    );
    return logs.map((l) => ({ round: l.round, testAccuracy: l.testAccuracy, testLoss: l.testLoss, seconds: l.seconds }));
  } finally {
    await trainer.close();
  }
}

/** One run of the comparison: the options carry its policy, seed and run folder; it returns the run's metrics. */
export type RunOne = (o: RunOptions) => Promise<RunMetrics>;

/** The default {@link RunOne}: the system in this process (its agent hosts as `o` says), its report written. */
export const runInProcess =
  (hooks: RunHooks): RunOne =>
  async (o) => {
    const metrics = await runSystem(o, hooks);
    writeRunReport(o.out, metrics);
    return metrics;
  };

/** Folder of one run under the comparison: <policy>/ for one seed, seed-<s>/<policy>/ for several. */
export function runFolder(policy: PolicyName, seed: number, seeds: number): string {
  return seeds === 1 ? policy : path.join(`seed-${seed}`, policy);
}

/**
 * Run every policy on `seeds` seeds (o.seed, o.seed + 1, ...), then the full-data comparator on the first seed, and
 * write the figures and a summary into `o.out`. `runOne` runs one of them (in process, or on the emulated testbed).
 */
export async function compareAssociations(o: RunOptions, policies: readonly PolicyName[], hooks: RunHooks = {}, opts: { seeds?: number; runOne?: RunOne; testbed?: string } = {}): Promise<Comparison> {
  const log = hooks.log ?? (() => undefined);
  const out = path.resolve(o.out);
  const seeds = opts.seeds ?? 1;
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds must be a positive integer, got ${seeds}.`);
  const runOne = opts.runOne ?? runInProcess(hooks);
  const runs: Comparison["runs"] = [];
  const testbed = opts.testbed ?? "in-process";
  for (let k = 0; k < seeds; k++) {
    const seed = o.seed + k;
    for (const policy of policies) {
      log(`=== ${policy} association${seeds > 1 ? `, seed ${seed} (${k + 1} of ${seeds})` : ""} ===`);
      const dir = runFolder(policy, seed, seeds);
      const metrics = await runOne({ ...o, policy, seed, out: path.join(out, dir), testImages: 10_000 });
      runs.push({ policy, seed, dir, metrics });
      writeComparison(out, { runs, fullData: [], testbed }); // what is done so far survives a failure of a later run
    }
  }
  log("=== full-data FedAvg comparator ===");
  const fullData = await fullDataComparator({ ...o, testImages: 10_000 }, log);
  writeComparison(out, { runs, fullData, testbed });
  return { runs, fullData, testbed };
}

/**
 * The model's T (Eq. 17) of a round for the allocation the agents committed, from the terms each BS reported: the
 * slowest BS's local training + aggregation + transmission + block broadcast, plus block validation. On the
 * emulated testbed the link terms are multiplied by its link slowdown k, so T is in testbed seconds like the
 * measured round.
 */
export function predictedT(m: RunMetrics, round: number): number | undefined {
  const r = m.rounds.find((x) => x.round === round);
  const ps = r?.agents.map((a) => a.predicted).filter((p) => p.totalSeconds > 0) ?? [];
  if (ps.length === 0) return undefined;
  const k = m.testbed?.linkSlowdown ?? 1;
  const max = (f: (p: (typeof ps)[number]) => number) => Math.max(...ps.map(f));
  return max((p) => p.localTrainingSeconds) + max((p) => p.aggregationSeconds) + k * max((p) => p.transmissionSeconds) + k * max((p) => p.blockBroadcastSeconds) + max((p) => p.blockValidationSeconds);
}

/** Mean seconds per round of one run, measured (the MBS's wall clock) and the model's T (rounds it priced). */
function runMeans(m: RunMetrics): { measured: number; model?: number } {
  const ts = m.rounds.map((x) => predictedT(m, x.round)).filter((t): t is number => t !== undefined);
  return { measured: m.rounds.reduce((s, x) => s + x.mbs.seconds, 0) / m.rounds.length, ...(ts.length ? { model: ts.reduce((s, t) => s + t, 0) / ts.length } : {}) };
}

/** Per association, over its seeds: the 95 % intervals of the mean seconds per round (measured, model) and the final accuracy and loss. */
export interface AssociationSummary {
  policy: PolicyName;
  seeds: number;
  rounds: number;
  measured: Interval;
  model?: Interval;
  finalAccuracy: Interval;
  finalLoss: Interval;
}

export function summarise(c: Comparison): AssociationSummary[] {
  const policies = [...new Set(c.runs.map((r) => r.policy))];
  return policies.map((policy) => {
    const rs = c.runs.filter((r) => r.policy === policy);
    const means = rs.map((r) => runMeans(r.metrics));
    const models = means.flatMap((x) => (x.model === undefined ? [] : [x.model]));
    const last = rs.map((r) => r.metrics.rounds[r.metrics.rounds.length - 1].mbs);
    return {
      policy,
      seeds: rs.length,
      rounds: Math.min(...rs.map((r) => r.metrics.rounds.length)),
      measured: interval95(means.map((x) => x.measured)),
      ...(models.length ? { model: interval95(models) } : {}),
      finalAccuracy: interval95(last.map((x) => x.testAccuracy)),
      finalLoss: interval95(last.map((x) => x.testLoss)),
    };
  });
}

/** Associations from fastest to slowest by a mean. */
function ranking(s: readonly AssociationSummary[], by: (a: AssociationSummary) => number | undefined): PolicyName[] {
  return s.filter((a) => by(a) !== undefined).sort((a, b) => (by(a) as number) - (by(b) as number)).map((a) => a.policy);
}

/** Point-wise mean and 95 % band over the runs of one policy, per round (rounds all of its runs have). */
function perRound(rs: readonly ComparedRun[], value: (m: RunMetrics, round: number) => number | undefined): { x: number[]; mean: number[]; lower: number[]; upper: number[] } {
  const rounds = Math.min(...rs.map((r) => r.metrics.rounds.length));
  const out = { x: [] as number[], mean: [] as number[], lower: [] as number[], upper: [] as number[] };
  for (let round = 1; round <= rounds; round++) {
    const xs = rs.map((r) => value(r.metrics, round)).filter((v): v is number => v !== undefined);
    if (xs.length === 0) continue;
    const iv = interval95(xs);
    out.x.push(round);
    out.mean.push(iv.mean);
    out.lower.push(iv.lower);
    out.upper.push(iv.upper);
  }
  return out;
}

/** On the testbed: the model's time against the measured one over every BS and round of every run (docs/testbed.md). */
function fidelityOfAll(c: Comparison): string[] {
  const runs = c.runs.filter((r) => r.metrics.testbed);
  if (runs.length === 0) return [];
  const slowdown = (runs[0].metrics.testbed as { linkSlowdown: number }).linkSlowdown;
  const figures = fidelity(
    runs.flatMap((r) => r.metrics.rounds),
    slowdown,
  );
  return [`The model's seconds against the testbed's, over every BS and round of the ${runs.length} runs (per-run tables in each report):`, "", ...fidelitySummaryLines(figures), "", ...heldOutXi(runs, slowdown)];
}

/**
 * The paper takes xi of Eqs. 15-16 from "historical running records". With several seeds: xi fitted on the first
 * seed's runs (every association), then the fidelity of the other seeds' runs with that xi, which they did not see.
 */
function heldOutXi(runs: Comparison["runs"], slowdown: number): string[] {
  const first = Math.min(...runs.map((r) => r.seed ?? Infinity));
  const fit = runs.filter((r) => r.seed === first);
  const rest = runs.filter((r) => r.seed !== undefined && r.seed !== first);
  if (!Number.isFinite(first) || rest.length === 0) return [];
  const used = runXi(fit[0].metrics.options);
  if (runs.some((r) => runXi(r.metrics.options) !== used)) return [];
  const xi = fitXi(fidelity(fit.flatMap((r) => r.metrics.rounds), slowdown)[1], used);
  if (!Number.isFinite(xi)) return [];
  const heldOut = fidelity(withXiScaled(rest.flatMap((r) => r.metrics.rounds), xi / used), slowdown);
  return [
    `With the xi of Eqs. 15-16 fitted on seed ${first}'s ${fit.length} runs (${xi.toFixed(3)}; the runs used ${used}), over the other ${rest.length} runs, which the fit did not see (training is unchanged):`,
    "",
    ...fidelitySummaryLines(heldOut),
    "",
  ];
}

export function writeComparison(out: string, c: Comparison): string[] {
  fs.mkdirSync(out, { recursive: true });
  const policies = [...new Set(c.runs.map((r) => r.policy))];
  const of = (p: PolicyName) => c.runs.filter((r) => r.policy === p);
  const seeds = Math.max(0, ...policies.map((p) => of(p).length));
  const band = seeds > 1 ? ` (mean and 95 % interval over ${seeds} seeds)` : "";
  const where = c.testbed === "emulated" ? "on the emulated testbed" : "on the running system";
  const byRound = (p: PolicyName, f: (m: RunMetrics, round: number) => number | undefined): Series => ({ label: p, ...perRound(of(p), f) });
  const time = policies.map((p) => byRound(p, (m, r) => m.rounds.find((x) => x.round === r)?.mbs.seconds));
  const fig5 = writeFigure(path.join(out, "fig5-time-per-round"), lineChart({ title: `Time per FL round by association, measured ${where}${band}`, xLabel: "FL round", yLabel: "seconds (wall clock)", series: time, width: 900, height: 500 }));
  const modelT = policies.map((p) => byRound(p, (m, r) => predictedT(m, r))).filter((x) => x.x.length > 0);
  const fig5Model = modelT.length
    ? writeFigure(path.join(out, "fig5-model-time-per-round"), lineChart({ title: `Time per FL round by association, the model's T (Eq. 17) of the committed actions${band}`, xLabel: "FL round", yLabel: c.testbed === "emulated" ? "seconds (model, testbed time)" : "seconds (model)", series: modelT, width: 900, height: 500 }))
    : undefined;
  const loss = policies.map((p) => byRound(p, (m, r) => m.rounds.find((x) => x.round === r)?.mbs.testLoss));
  if (c.fullData.length) loss.push({ label: "full-data FedAvg", x: c.fullData.map((r) => r.round), mean: c.fullData.map((r) => r.testLoss) });
  const fig6 = writeFigure(path.join(out, "fig6-loss-per-round"), lineChart({ title: `Test loss of the global model per FL round${band}`, xLabel: "FL round", yLabel: "test loss (cross-entropy)", series: loss, width: 900, height: 500 }));
  const accuracy = policies.map((p) => byRound(p, (m, r) => m.rounds.find((x) => x.round === r)?.mbs.testAccuracy));
  if (c.fullData.length) accuracy.push({ label: "full-data FedAvg", x: c.fullData.map((r) => r.round), mean: c.fullData.map((r) => r.testAccuracy) });
  const fig6Accuracy = writeFigure(path.join(out, "fig6-accuracy-per-round"), lineChart({ title: `Test accuracy of the global model per FL round${band}`, xLabel: "FL round", yLabel: "test accuracy", series: accuracy, width: 900, height: 500 }));
  const summary = summarise(c);
  const iv = (x: Interval | undefined, d: number, scale = 1) => (x === undefined ? "-" : x.n > 1 ? `${(scale * x.mean).toFixed(d)} [${(scale * x.lower).toFixed(d)}, ${(scale * x.upper).toFixed(d)}]` : (scale * x.mean).toFixed(d));
  const link = (p: PolicyName) => {
    const r = of(p)[0];
    const dir = r.dir ?? p;
    return `[${dir}/report.md](${dir}/report.md)${of(p).length > 1 ? ` (first seed)` : ""}`;
  };
  const measuredRank = ranking(summary, (a) => a.measured.mean);
  const modelRank = ranking(summary, (a) => a.model?.mean);
  const ratio = (a: PolicyName, b: PolicyName, f: (x: AssociationSummary) => number | undefined) => {
    const x = summary.find((s) => s.policy === a);
    const y = summary.find((s) => s.policy === b);
    const fx = x && f(x);
    const fy = y && f(y);
    return fx !== undefined && fy !== undefined && fy > 0 ? (fx / fy).toFixed(3) : undefined;
  };
  const measuredRatio = ratio("maddpg", "average", (a) => a.measured.mean);
  const modelRatio = ratio("maddpg", "average", (a) => a.model?.mean);
  const lines = [
    `# Associations compared ${where}`,
    "",
    `Same topology, data and environment for every association on a seed${seeds > 1 ? `; ${seeds} seeds, intervals are 95 % Student-t intervals of the per-seed means` : ""}. Each run's own report is in its folder.`,
    "",
    "| association | seeds | rounds | mean s per round (measured) | mean model T, Eq. 17 (s) | final test accuracy (%) | final test loss | report |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
    ...summary.map((a) => `| ${a.policy} | ${a.seeds} | ${a.rounds} | ${iv(a.measured, 1)} | ${iv(a.model, 2)} | ${iv(a.finalAccuracy, 2, 100)} | ${iv(a.finalLoss, 4)} | ${link(a.policy)} |`),
    ...(c.fullData.length
      ? [`| full-data FedAvg (no chain) | 1 | ${c.fullData.length} | ${(c.fullData.reduce((s, x) => s + x.seconds, 0) / c.fullData.length).toFixed(1)} | - | ${(100 * c.fullData[c.fullData.length - 1].testAccuracy).toFixed(2)} | ${c.fullData[c.fullData.length - 1].testLoss.toFixed(4)} | |`]
      : []),
    "",
    `Fastest to slowest, measured: ${measuredRank.join(" < ")}; by the model's T: ${modelRank.join(" < ")}. ${modelRank.length === measuredRank.length && modelRank.every((p, i) => p === measuredRank[i]) ? "The rankings are the same." : "The rankings differ."}`,
    ...(measuredRatio ? ["", `MADDPG / average: ${measuredRatio} measured, ${modelRatio ?? "-"} by the model's T.`] : []),
    "",
    ...fidelityOfAll(c),
    "![time per round, measured](fig5-time-per-round.svg)",
    "",
    ...(fig5Model ? ["![time per round, the model's T](fig5-model-time-per-round.svg)", ""] : []),
    "![loss per round](fig6-loss-per-round.svg)",
    "",
    "![accuracy per round](fig6-accuracy-per-round.svg)",
    "",
  ];
  const md = path.join(out, "comparison.md");
  fs.writeFileSync(md, lines.join("\n"));
  fs.writeFileSync(
    path.join(out, "comparison.json"),
    JSON.stringify({ testbed: c.testbed ?? "in-process", fullData: c.fullData, summary, runs: c.runs.map((r) => ({ policy: r.policy, seed: r.seed, dir: r.dir ?? r.policy, rounds: r.metrics.rounds.map((x) => ({ round: x.round, seconds: x.mbs.seconds, testAccuracy: x.mbs.testAccuracy, testLoss: x.mbs.testLoss, modelT: predictedT(r.metrics, x.round) })) })) }, null, 1) + "\n",
  );
  return [fig5.svg, fig5.png, ...(fig5Model ? [fig5Model.svg, fig5Model.png] : []), fig6.svg, fig6.png, fig6Accuracy.svg, fig6Accuracy.png, md];
}

/** Read back a comparison written by {@link compareAssociations} (each association's metrics.json, the comparator). */
export function readComparison(out: string): Comparison {
  const file = path.join(out, "comparison.json");
  if (!fs.existsSync(file)) throw new Error(`${out} holds no comparison (no comparison.json); run \`dtwn compare -o ${out}\` first.`);
  const saved = JSON.parse(fs.readFileSync(file, "utf8")) as { testbed?: string; fullData: ComparatorRound[]; runs: { policy: PolicyName; seed?: number; dir?: string }[] };
  const runs = saved.runs.map(({ policy, seed, dir }) => {
    const metrics = path.join(out, dir ?? policy, "metrics.json");
    if (!fs.existsSync(metrics)) throw new Error(`${metrics} is missing: the comparison in ${out} is incomplete.`);
    return { policy, ...(seed !== undefined ? { seed } : {}), dir: dir ?? policy, metrics: JSON.parse(fs.readFileSync(metrics, "utf8")) as RunMetrics };
  });
  return { runs, fullData: saved.fullData, ...(saved.testbed ? { testbed: saved.testbed } : {}) };
}
