/**
 * `dtwn bench train`: training throughput (samples/s) of the paper's CNN on the tfjs backend in use, for 32x32x3 and
 * 28x28x1 inputs and batch sizes 32 and 64, with 1 process and with one process per core (BSs train in parallel
 * processes), and, when Debian's PyTorch is installed (/usr/bin/python3 with torch), PyTorch's samples/s for the same
 * network and batch in the same run, and the ratio.
 */
import { spawn, spawnSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { initBackend, tf } from "../ml/backend";
import { createCnn, crossEntropy } from "../fl/cnn";

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

/** SGD steps of the CNN on random data in this process; returns samples/s after 2 warm-up steps. */
export async function measureTfjs(c: TrainBenchCase, steps: number): Promise<{ backend: string; samplesPerSecond: number }> {
  const backend = await initBackend("auto", () => undefined);
  const model = createCnn(c);
  const optimizer = tf.train.sgd(0.01);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.randomUniform([c.batch, c.height, c.width, c.channels]);
  const y = tf.oneHot(tf.randomUniform([c.batch], 0, 10, "int32") as tf.Tensor1D, 10);
  const step = () => {
    const loss = optimizer.minimize(() => tf.tidy(() => crossEntropy(y, model.apply(x, { training: true }) as tf.Tensor).mean()) as tf.Scalar, true, vars);
    loss?.dataSync();
    loss?.dispose();
  };
  step();
  step();
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) step();
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  x.dispose();
  y.dispose();
  optimizer.dispose();
  return { backend, samplesPerSecond: (c.batch * steps) / seconds };
}

/** `workers` processes measuring at once; their samples/s add up. */
async function measureParallel(c: TrainBenchCase, steps: number, workers: number): Promise<number> {
  const runs = Array.from({ length: workers }, () =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(ROOT, "bin", "dtwn.js"), "bench", "train-worker", "--case", JSON.stringify(c), "--steps", String(steps)], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += String(d)));
      child.stderr.on("data", (d) => (err += String(d)));
      child.on("exit", (code) => (code === 0 ? resolve((JSON.parse(out.trim().split("\n").pop() as string) as { samplesPerSecond: number }).samplesPerSecond) : reject(new Error(`bench worker failed (exit ${code}): ${err.trim()}`))));
    }),
  );
  return (await Promise.all(runs)).reduce((s, x) => s + x, 0);
}

/** PyTorch's samples/s for the same case, or undefined when /usr/bin/python3 has no torch. */
export function measureTorch(c: TrainBenchCase, steps: number, threads: number): number | undefined {
  const python = process.env.DTWN_PYTHON ?? "/usr/bin/python3";
  const probe = spawnSync(python, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) return undefined;
  const r = spawnSync(python, [path.join(ROOT, "scripts", "bench_torch.py"), String(c.height), String(c.width), String(c.channels), String(c.batch), String(steps), String(threads)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`PyTorch benchmark failed: ${r.stderr.trim()}`);
  return (JSON.parse(r.stdout.trim().split("\n").pop() as string) as { samplesPerSecond: number }).samplesPerSecond;
}

export interface TrainBenchRow extends TrainBenchCase {
  backend: string;
  oneProcess: number;
  processes: number;
  allProcesses: number;
  torch?: number;
  ratio?: number;
}

export async function benchTrain(steps: number, workers = os.availableParallelism?.() ?? os.cpus().length, log: (line: string) => void = (l) => console.error(l)): Promise<TrainBenchRow[]> {
  const rows: TrainBenchRow[] = [];
  for (const c of TRAIN_BENCH_CASES) {
    const one = await measureTfjs(c, steps);
    const all = workers > 1 ? await measureParallel(c, steps, workers) : one.samplesPerSecond;
    const torch = measureTorch(c, steps, workers);
    const row: TrainBenchRow = { ...c, backend: one.backend, oneProcess: one.samplesPerSecond, processes: workers, allProcesses: all, torch, ratio: torch ? all / torch : undefined };
    rows.push(row);
    log(`${c.height}x${c.width}x${c.channels} batch ${c.batch}: tfjs-${one.backend} ${one.samplesPerSecond.toFixed(1)} samples/s (1 process), ${all.toFixed(1)} (${workers} processes)` + (torch ? `; PyTorch ${torch.toFixed(1)} samples/s (${workers} threads); ratio ${(all / torch).toFixed(2)}` : "; PyTorch not installed (apt-get install python3-torch libopenblas0-pthread)"));
  }
  return rows;
}
