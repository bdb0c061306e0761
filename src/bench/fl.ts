/**
 * `dtwn bench fl`: federated learning on Fashion-MNIST with N users (IID) on M BSs, the test accuracy and loss of the
 * global model on the full 10,000-image test set after every round. Optionally one BS attacks (sign flip from round
 * `attackFrom`), with verification on or off. Twins train in one worker process per core.
 */
import fs from "node:fs";
import path from "node:path";
import { initBackend } from "../ml/backend";
import { lineChart } from "../plot/svg";
import { writeFigure } from "../plot/files";
import { loadFashionMnist } from "../fl/datasets/fashionMnist";
import { iidPartition } from "../fl/partition";
import { runFederation, type LearningRateSchedule, type RoundLog } from "../fl/federation";
import type { ServerOptimizerKind } from "../fl/serverOptimizer";
import { strategyByName } from "../fl/aggregation";
import type { ModelAttackName } from "../fl/attacks";
import { mulberry32 } from "../twins/random";
import { ProcessPoolTrainer } from "../fl/trainers";
import type { LocalOptimizer } from "../fl/cnn";

export interface FlBenchOptions {
  users: number;
  bss: number;
  rounds: number;
  localSteps: number;
  /** Passes over each twin's data per round (capped by localSteps). */
  localEpochs: number;
  /** Fraction of each BS's twins that train in a round (1 = all). */
  participation: number;
  batchSize: number;
  learningRate: number;
  lrSchedule: LearningRateSchedule;
  optimizer: LocalOptimizer;
  /** FedAvgM at the MBS (0 = plain Eq. 5). */
  serverMomentum: number;
  serverLr: number;
  /** momentum (FedAvgM; with lr 1 and momentum 0 it is Eq. 5) or adam (FedAdam). */
  serverOptimizer: ServerOptimizerKind;
  heldOutPerBs: number;
  strategy: string;
  verification: boolean;
  maxDrop: number;
  attack?: ModelAttackName;
  attackFrom: number;
  seed: number;
  /** Training processes (one per core by default); 1 trains in this process. */
  workers: number;
}

export async function benchFl(o: FlBenchOptions, onRound: (l: RoundLog) => void): Promise<{ backend: string; logs: RoundLog[]; seconds: number }> {
  const backend = await initBackend("auto", () => undefined);
  const dataset = loadFashionMnist();
  const rng = mulberry32(o.seed);
  const order = iidPartition(dataset.train.count, 1, rng)[0];
  const heldOutCount = o.bss * o.heldOutPerBs;
  const heldOut = Array.from({ length: o.bss }, (_, v) => order.slice(v * o.heldOutPerBs, (v + 1) * o.heldOutPerBs));
  const pool = order.slice(heldOutCount);
  const userData = iidPartition(pool.length, o.users, rng).map((part) => part.map((k) => pool[k]));
  const t0 = Date.now();
  const trainer = o.workers > 1 ? new ProcessPoolTrainer({ kind: "fashion-mnist" }, o.workers) : undefined;
  const { logs } = await runFederation(
    { dataset, userData, association: userData.map((_, j) => j % o.bss), batchSize: userData.map(() => o.batchSize), heldOut },
    o.bss,
    {
      rounds: o.rounds,
      learningRate: o.learningRate,
      learningRateSchedule: o.lrSchedule,
      localEpochs: o.localEpochs,
      localSteps: o.localSteps,
      participation: o.participation,
      optimizer: o.optimizer,
      server: { kind: o.serverOptimizer, learningRate: o.serverLr, momentum: o.serverMomentum },
      strategy: strategyByName(o.strategy),
      verification: { enabled: o.verification, maxDrop: o.maxDrop },
      adversary: o.attack ? { bs: 0, attack: o.attack, fromRound: o.attackFrom } : undefined,
      seed: o.seed,
    },
    onRound,
    trainer,
  ).finally(() => trainer?.close());
  return { backend, logs, seconds: (Date.now() - t0) / 1000 };
}

/** One `bench fl` run as written by `--out`. */
export interface FlRunFile {
  options: Partial<FlBenchOptions>;
  backend: string;
  seconds: number;
  logs: RoundLog[];
}

export function writeFlRun(file: string, run: FlRunFile): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(run, null, 1) + "\n");
}

export function readFlRun(file: string): FlRunFile {
  let run: FlRunFile;
  try {
    run = JSON.parse(fs.readFileSync(file, "utf8")) as FlRunFile;
  } catch (e) {
    throw new Error(`Cannot read the bench fl run ${file}: ${(e as Error).message}. Write one with \`dtwn bench fl --out ${file}\`.`);
  }
  if (!Array.isArray(run.logs) || run.logs.some((l) => typeof l.round !== "number" || typeof l.testAccuracy !== "number")) {
    throw new Error(`${file} is not a bench fl run: it needs "logs" with "round" and "testAccuracy" (from \`dtwn bench fl --out\`).`);
  }
  return run;
}

/** A legend label from a run's options: the attack and whether verification was on. */
export function runLabel(run: FlRunFile): string {
  const o = run.options;
  const attack = o.attack ? `BS 0 ${o.attack} from round ${o.attackFrom ?? 1}` : "no attack";
  return `${attack}, verification ${o.verification === false ? "off" : "on"}${o.strategy && o.strategy !== "fedavg" ? `, ${o.strategy}` : ""}`;
}

/** Test accuracy (%) per round of every run, one line each. */
export function plotFlRuns(runs: readonly FlRunFile[], base: string, title: string): { svg: string; png: string } {
  if (runs.length === 0) throw new Error("fl-plot: give at least one run file.");
  const svg = lineChart({
    title,
    xLabel: "FL round",
    yLabel: "test accuracy on 10,000 images, %",
    width: 900,
    height: 500,
    series: runs.map((r) => ({ label: runLabel(r), x: r.logs.map((l) => l.round), mean: r.logs.map((l) => 100 * l.testAccuracy) })),
  });
  fs.mkdirSync(path.dirname(path.resolve(base)), { recursive: true });
  return writeFigure(base, svg);
}
