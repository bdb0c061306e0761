/**
 * `dtwn bench train`: training throughput (samples/s) of the paper's CNN, SGD on random data, for 32x32x3 and 28x28x1
 * inputs at batch 32 and 64, against PyTorch on the same machine in the same run.
 *
 * Every figure is measured in fresh worker processes, so that each backend gets the thread settings it is measured
 * with (libtensorflow reads them once, when it loads), in two layouts that both use every core:
 * - 1 process with one thread per core (TensorFlow's and PyTorch's intra-op pools sized to the cores);
 * - one process per core with 1 thread each, all measuring at the same time behind a barrier (how dtwn trains: the FL
 *   pool and the agents run one training process per core). Their samples/s add up.
 * Each figure is the median of `repeats` measurements; the backends take turns, so a slow spell of the machine hits
 * them alike. The ratio is tfjs / PyTorch for the same layout.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { initBackend, tf, type BackendName } from "../ml/backend";
import { createCnn, crossEntropy } from "../fl/cnn";
import { makeOptimizer } from "../ml/optimizers";
import { median } from "../eval/stats";

const ROOT = path.resolve(__dirname, "..", "..");

export interface TrainBenchCase {
  height: number;
  width: number;
  channels: number;
  batch: number;
}

export const TRAIN_BENCH_CASES: TrainBenchCase[] = [
  { height: 32, width: 32, channels: 3, batch: 32 },
  { height: 32, width: 32, channels: 3, batch: 64 },
  { height: 28, width: 28, channels: 1, batch: 32 },
  { height: 28, width: 28, channels: 1, batch: 64 },
];

const WARMUP_STEPS = 5;

/** Read one line from stdin (the barrier's "go"). */
function readLine(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once("data", () => {
      process.stdin.pause();
      resolve();
    });
  });
}

/**
 * The worker side (`dtwn bench train-worker`): SGD steps of the CNN in this process on the backend of
 * DTWN_TF_BACKEND (default: the usual choice). Prints {"ready":true} after the warm-up, waits for a line on stdin when
 * `barrier`, then prints {"backend","samplesPerSecond"}.
 */
export async function runTrainBenchWorker(c: TrainBenchCase, steps: number, barrier: boolean): Promise<void> {
  const backend = await initBackend("auto", () => undefined);
  const model = createCnn(c);
  const optimizer = makeOptimizer("sgd", 0.01); // dtwn's local training step, as trainLocal runs it
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.randomUniform([c.batch, c.height, c.width, c.channels]);
  const y = tf.oneHot(tf.randomUniform([c.batch], 0, 10, "int32") as tf.Tensor1D, 10);
  const step = () => {
    const loss = optimizer.minimize(() => tf.tidy(() => crossEntropy(y, model.apply(x, { training: true }) as tf.Tensor).mean()) as tf.Scalar, true, vars);
    loss?.dataSync();
    loss?.dispose();
  };
  for (let s = 0; s < WARMUP_STEPS; s++) step();
  console.log(JSON.stringify({ ready: true }));
  if (barrier) await readLine();
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) step();
  const seconds = (performance.now() - t0) / 1000;
  optimizer.dispose();
  console.log(JSON.stringify({ backend, samplesPerSecond: (c.batch * steps) / seconds }));
}

/** A python that has torch: DTWN_PYTHON, else the venv of `npm run setup:torch`, else python3 on the PATH. */
export function torchPython(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DTWN_PYTHON) return env.DTWN_PYTHON;
  const venv = path.join(ROOT, ".venv-torch", "bin", "python");
  return fs.existsSync(venv) ? venv : "python3";
}

type Worker = { command: string; args: string[]; env: NodeJS.ProcessEnv };

/** Start `workers` at once; once all are warm, release them together; the sum of their samples/s. */
function measureTogether(workers: Worker[], what: string): Promise<{ samplesPerSecond: number; last: Record<string, unknown> }> {
  const barrier = workers.length > 1;
  let ready = 0;
  const children = workers.map((w) => spawn(w.command, barrier ? [...w.args, "--barrier"] : w.args, { env: w.env, stdio: ["pipe", "pipe", "pipe"] }));
  const results = children.map(
    (child) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => {
          out += String(d);
          const lines = out.split("\n");
          out = lines.pop() as string;
          for (const line of lines) {
            if (!line.trim().startsWith("{")) continue;
            const m = JSON.parse(line) as Record<string, unknown>;
            if (m.ready && ++ready === children.length && barrier) children.forEach((c) => c.stdin.write("go\n"));
            if (typeof m.samplesPerSecond === "number") resolve(m);
          }
        });
        child.stderr.on("data", (d) => (err += String(d)));
        child.on("exit", (code) => (code === 0 ? undefined : reject(new Error(`${what} failed (exit ${code}): ${err.trim().split("\n").slice(-3).join(" / ")}`))));
      }),
  );
  return Promise.all(results).then((rs) => ({ samplesPerSecond: rs.reduce((s, r) => s + (r.samplesPerSecond as number), 0), last: rs[rs.length - 1] }));
}

export interface Layout {
  processes: number;
  threadsPerProcess: number;
}

/** The two layouts on this machine: 1 process x all cores, and one process per core x 1 thread. */
export function layouts(cores = os.availableParallelism?.() ?? os.cpus().length): Layout[] {
  return cores > 1 ? [{ processes: 1, threadsPerProcess: cores }, { processes: cores, threadsPerProcess: 1 }] : [{ processes: 1, threadsPerProcess: 1 }];
}

export interface TrainBenchRow extends TrainBenchCase, Layout {
  /** Median samples/s per backend ("tensorflow", "wasm", "torch"), all processes together. */
  samplesPerSecond: Partial<Record<BackendName | "torch", number>>;
  /** Every measurement, per backend. */
  runs: Partial<Record<BackendName | "torch", number[]>>;
  /** tfjs backend / PyTorch, per tfjs backend. */
  ratio: Partial<Record<BackendName, number>>;
}

export interface TrainBenchOptions {
  steps: number;
  repeats: number;
  backends: BackendName[];
  torch: boolean;
  cases?: TrainBenchCase[];
  log?: (line: string) => void;
}

/** The tfjs worker for `backend` with `threads` TensorFlow threads. */
function tfjsWorker(c: TrainBenchCase, steps: number, backend: BackendName, threads: number): Worker {
  return {
    command: process.execPath,
    args: [path.join(ROOT, "bin", "dtwn.js"), "bench", "train-worker", "--case", JSON.stringify(c), "--steps", String(steps)],
    env: { ...process.env, DTWN_TF_BACKEND: backend, TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: "1" },
  };
}

function torchWorker(c: TrainBenchCase, steps: number, threads: number): Worker {
  return { command: torchPython(), args: [path.join(ROOT, "scripts", "bench_torch.py"), String(c.height), String(c.width), String(c.channels), String(c.batch), String(steps), String(threads)], env: process.env };
}

/** Whether the PyTorch reference runs here: its version, or undefined with the reason. */
export function torchVersion(): { version?: string; reason?: string } {
  const r = spawnSync(torchPython(), ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
  if (r.status === 0) return { version: r.stdout.trim() };
  return { reason: `${torchPython()} has no torch (${(r.stderr || String(r.error)).trim().split("\n").pop()}); run \`npm run setup:torch\`` };
}

export async function benchTrain(o: TrainBenchOptions): Promise<TrainBenchRow[]> {
  const log = o.log ?? ((l: string) => console.error(l));
  const rows: TrainBenchRow[] = [];
  for (const c of o.cases ?? TRAIN_BENCH_CASES) {
    for (const layout of layouts()) {
      const contenders: { name: BackendName | "torch"; worker: () => Worker }[] = [
        ...o.backends.map((b) => ({ name: b, worker: () => tfjsWorker(c, o.steps, b, layout.threadsPerProcess) })),
        ...(o.torch ? [{ name: "torch" as const, worker: () => torchWorker(c, o.steps, layout.threadsPerProcess) }] : []),
      ];
      const runs: TrainBenchRow["runs"] = {};
      for (let r = 0; r < o.repeats; r++) {
        for (const k of contenders) {
          const m = await measureTogether(Array.from({ length: layout.processes }, k.worker), `${k.name} worker`);
          (runs[k.name] ??= []).push(m.samplesPerSecond);
        }
      }
      const samplesPerSecond: TrainBenchRow["samplesPerSecond"] = {};
      for (const [name, v] of Object.entries(runs)) samplesPerSecond[name as BackendName | "torch"] = median(v);
      const ratio: TrainBenchRow["ratio"] = {};
      for (const b of o.backends) if (samplesPerSecond.torch) ratio[b] = (samplesPerSecond[b] as number) / samplesPerSecond.torch;
      const row: TrainBenchRow = { ...c, ...layout, samplesPerSecond, runs, ratio };
      rows.push(row);
      log(
        `${c.height}x${c.width}x${c.channels} batch ${c.batch}, ${layout.processes} process(es) x ${layout.threadsPerProcess} thread(s): ` +
          Object.entries(samplesPerSecond)
            .map(([n, v]) => `${n} ${(v as number).toFixed(0)}`)
            .join(", ") +
          " samples/s" +
          (o.torch ? "; ratio " + o.backends.map((b) => `${b} ${(ratio[b] as number).toFixed(2)}`).join(", ") : ""),
      );
    }
  }
  return rows;
}

/** The rows as a Markdown table: one line per case and layout, samples/s per backend and the ratios to PyTorch. */
export function renderTrainBench(rows: readonly TrainBenchRow[], backends: readonly BackendName[], torch: boolean): string {
  const head = ["input", "batch", "layout", ...backends.map((b) => `tfjs ${b}, samples/s`), ...(torch ? ["PyTorch, samples/s", ...backends.map((b) => `${b} / PyTorch`)] : [])];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i < 3 ? "---" : "---:")).join("|")}|`];
  for (const r of rows) {
    const cells = [`${r.height}x${r.width}x${r.channels}`, String(r.batch), `${r.processes} process${r.processes > 1 ? "es" : ""} x ${r.threadsPerProcess} thread${r.threadsPerProcess > 1 ? "s" : ""}`];
    for (const b of backends) cells.push((r.samplesPerSecond[b] as number).toFixed(0));
    if (torch) {
      cells.push((r.samplesPerSecond.torch as number).toFixed(0));
      for (const b of backends) cells.push((r.ratio[b] as number).toFixed(2));
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}
