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
import { nearestBsAssociation } from "../twins/mdp";
import type { RunMetrics } from "./metrics";
import type { PolicyName } from "../agents/policies";
import { writeRunReport } from "./report";
import { runSystem, worldOptions, type RunHooks, type RunOptions } from "./run";
import { buildWorld } from "./world";

export interface ComparatorRound {
  round: number;
  testAccuracy: number;
  testLoss: number;
  seconds: number;
}

export interface Comparison {
  runs: { policy: PolicyName; metrics: RunMetrics }[];
  fullData: ComparatorRound[];
}

/** Full-data FedAvg on the same world: every twin trains every round (batch 32, the same local steps), Eq. 4 + 5. */
export async function fullDataComparator(o: RunOptions, log: (line: string) => void): Promise<ComparatorRound[]> {
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

/** Run every policy, then the comparator, and write the figures and a summary into `o.out`. */
export async function compareAssociations(o: RunOptions, policies: readonly PolicyName[], hooks: RunHooks = {}): Promise<Comparison> {
  const log = hooks.log ?? (() => undefined);
  const out = path.resolve(o.out);
  const runs: Comparison["runs"] = [];
  for (const policy of policies) {
    log(`=== ${policy} association ===`);
    const metrics = await runSystem({ ...o, policy, out: path.join(out, policy), testImages: 10_000 }, hooks);
    writeRunReport(path.join(out, policy), metrics);
    runs.push({ policy, metrics });
  }
  log("=== full-data FedAvg comparator ===");
  const fullData = await fullDataComparator({ ...o, testImages: 10_000 }, log);
  writeComparison(out, { runs, fullData });
  return { runs, fullData };
}

/** The model's T (Eq. 17) of a round: the slowest BS's predicted total, from the agents' reports. */
function predictedT(m: RunMetrics, round: number): number | undefined {
  const r = m.rounds.find((x) => x.round === round);
  const ts = r?.agents.map((a) => a.predicted.totalSeconds).filter((t) => t > 0) ?? [];
  return ts.length ? Math.max(...ts) : undefined;
}

export function writeComparison(out: string, c: Comparison): string[] {
  fs.mkdirSync(out, { recursive: true });
  const rounds = (m: RunMetrics) => m.rounds.map((r) => r.round);
  const time: Series[] = c.runs.map((r) => ({ label: r.policy, x: rounds(r.metrics), mean: r.metrics.rounds.map((x) => x.mbs.seconds) }));
  const fig5 = writeFigure(path.join(out, "fig5-time-per-round"), lineChart({ title: "Time per FL round by association, measured on the running system", xLabel: "FL round", yLabel: "seconds (wall clock)", series: time, width: 900, height: 500 }));
  const modelT: Series[] = [];
  for (const r of c.runs) {
    const xs = rounds(r.metrics).filter((x) => predictedT(r.metrics, x) !== undefined);
    if (xs.length) modelT.push({ label: r.policy, x: xs, mean: xs.map((x) => predictedT(r.metrics, x) as number) });
  }
  const fig5Model = modelT.length
    ? writeFigure(path.join(out, "fig5-model-time-per-round"), lineChart({ title: "Time per FL round by association, the model's T (Eq. 17) of the committed actions", xLabel: "FL round", yLabel: "seconds (model)", series: modelT, width: 900, height: 500 }))
    : undefined;
  const loss: Series[] = c.runs.map((r) => ({ label: r.policy, x: rounds(r.metrics), mean: r.metrics.rounds.map((x) => x.mbs.testLoss) }));
  if (c.fullData.length) loss.push({ label: "full-data FedAvg", x: c.fullData.map((r) => r.round), mean: c.fullData.map((r) => r.testLoss) });
  const fig6 = writeFigure(path.join(out, "fig6-loss-per-round"), lineChart({ title: "Test loss of the global model per FL round", xLabel: "FL round", yLabel: "test loss (cross-entropy)", series: loss, width: 900, height: 500 }));
  const lines = [
    "# Associations compared on the running system",
    "",
    "Same seed, topology, data and environment; each association's own report is in its folder.",
    "",
    "| association | rounds | mean s per round (measured) | mean model T, Eq. 17 (s) | final test accuracy (%) | final test loss | report |",
    "|---|---:|---:|---:|---:|---:|---|",
    ...c.runs.map((r) => {
      const m = r.metrics;
      const meanS = m.rounds.reduce((s, x) => s + x.mbs.seconds, 0) / m.rounds.length;
      const ts = m.rounds.map((x) => predictedT(m, x.round)).filter((t): t is number => t !== undefined);
      const last = m.rounds[m.rounds.length - 1].mbs;
      return `| ${r.policy} | ${m.rounds.length} | ${meanS.toFixed(1)} | ${ts.length ? (ts.reduce((s, t) => s + t, 0) / ts.length).toFixed(2) : "-"} | ${(100 * last.testAccuracy).toFixed(2)} | ${last.testLoss.toFixed(4)} | [${r.policy}/report.md](${r.policy}/report.md) |`;
    }),
    ...(c.fullData.length
      ? [`| full-data FedAvg (no chain) | ${c.fullData.length} | ${(c.fullData.reduce((s, x) => s + x.seconds, 0) / c.fullData.length).toFixed(1)} | - | ${(100 * c.fullData[c.fullData.length - 1].testAccuracy).toFixed(2)} | ${c.fullData[c.fullData.length - 1].testLoss.toFixed(4)} | |`]
      : []),
    "",
    "![time per round, measured](fig5-time-per-round.svg)",
    "",
    ...(fig5Model ? ["![time per round, the model's T](fig5-model-time-per-round.svg)", ""] : []),
    "![loss per round](fig6-loss-per-round.svg)",
    "",
  ];
  const md = path.join(out, "comparison.md");
  fs.writeFileSync(md, lines.join("\n"));
  fs.writeFileSync(path.join(out, "comparison.json"), JSON.stringify({ fullData: c.fullData, runs: c.runs.map((r) => ({ policy: r.policy, rounds: r.metrics.rounds.map((x) => ({ round: x.round, seconds: x.mbs.seconds, testAccuracy: x.mbs.testAccuracy, testLoss: x.mbs.testLoss, modelT: predictedT(r.metrics, x.round) })) })) }, null, 1) + "\n");
  return [fig5.svg, fig5.png, ...(fig5Model ? [fig5Model.svg, fig5Model.png] : []), fig6.svg, fig6.png, md];
}

/** Read back a comparison written by {@link compareAssociations} (each association's metrics.json, the comparator). */
export function readComparison(out: string): Comparison {
  const file = path.join(out, "comparison.json");
  if (!fs.existsSync(file)) throw new Error(`${out} holds no comparison (no comparison.json); run \`dtwn compare -o ${out}\` first.`);
  const saved = JSON.parse(fs.readFileSync(file, "utf8")) as { fullData: ComparatorRound[]; runs: { policy: PolicyName }[] };
  const runs = saved.runs.map(({ policy }) => {
    const metrics = path.join(out, policy, "metrics.json");
    if (!fs.existsSync(metrics)) throw new Error(`${metrics} is missing: the comparison in ${out} is incomplete.`);
    return { policy, metrics: JSON.parse(fs.readFileSync(metrics, "utf8")) as RunMetrics };
  });
  return { runs, fullData: saved.fullData };
}
