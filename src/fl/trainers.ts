/**
 * Where the work of a federated round runs, behind one small interface, so a round can run in this process or in a
 * pool of worker processes (one per core: tfjs-wasm runs one thread per process, and tfjs-node trains more samples/s
 * as one 1-thread process per core than as one process with a thread per core):
 * - local training of every twin from the global model, followed by Eq. 4 at each BS where the twins trained (a worker
 *   returns, per BS, the data-weighted sum of its twins' models, so 5 BS sums cross the process boundary instead of
 *   100 twin models; the parent divides the merged sums by D_m): {@link TwinTrainer.trainRound}, for simulations;
 * - or local training alone, returning every twin's model as training produced it (float32), for a BS that records
 *   its twins' models and computes Eq. 4 itself in the canonical order ({@link TwinTrainer.trainTwins}, used by the
 *   running system). A worker writes each twin's model (6.4 MB of float32 for the paper's CNN on Fashion-MNIST) to
 *   a file of its own in a temporary directory as soon as it is trained and sends only the file's name; the parent
 *   reads the file asynchronously and deletes it. The models the parent hands to the workers (the global model,
 *   the models to evaluate) go the same way, one file per distinct model, written once and shared by every request
 *   that uses it. Through the IPC channel itself a 6.4 MB message crosses in 64 KB pieces, one per turn of the
 *   receiver's (or sender's) event loop, so it crawls while that process is busy (a worker training, the parent
 *   adding twin models to IPFS): measured, the demo's rounds took 2-3 x as long;
 * - evaluation of models on index sets (verification on the BSs' held-out data, and the test set).
 * Each twin's training is deterministic given the global weights and its seed, so both trainers give the same models
 * (up to the order of float64 additions in Eq. 4).
 */
import { fork, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { initBackend, threadsPerProcess, trainingProcessEnv } from "../ml/backend";
import { createCnn, evaluateCounts, getModelWeights, setModelWeights, trainLocal, type LocalOptimizer } from "./cnn";
import { loadFashionMnist } from "./datasets/fashionMnist";
import { syntheticDataset, type SyntheticOptions } from "./datasets/synthetic";
import type { Dataset } from "./datasets/types";
import type { ModelUpdate } from "./aggregation";
import type { ModelWeights, WeightTensor } from "./tensors";

export interface TwinJob {
  twin: number;
  /** The BS hosting the twin: its model goes into that BS's Eq. 4. */
  bs: number;
  /** Sample indices of the twin's data in dataset.train (D_j = their count). */
  indices: readonly number[];
  batchSize: number;
  seed: number;
  /**
   * Mini-batches to train, whatever the settings' epochs and step cap say (the running system sets s_j of Eq. 12's
   * work, src/twins/work.ts); absent: min(epochs x batches per epoch, settings.localSteps).
   */
  steps?: number;
}

export interface TrainSettings {
  learningRate: number;
  localEpochs: number;
  localSteps?: number;
  optimizer?: LocalOptimizer;
}

/** Per BS, the data-weighted sum of some of its twins' models: sum_j D_j w_j (float64) and sum_j D_j. */
export interface BsPartial {
  bs: number;
  samples: number;
  twins: number[];
  sums: Float64Array[];
}

/** One twin's model as local training produced it (float32), with its job's twin, BS and data size D_j. */
export interface TrainedTwin {
  twin: number;
  bs: number;
  /** D_j: the number of the twin's samples (its job's indices). */
  samples: number;
  weights: WeightTensor[];
}

/** Evaluate `models[model]` on `indices` of the train or test split. */
export interface EvalTask {
  model: number;
  split: "train" | "test";
  indices: readonly number[];
}

export interface EvalResult {
  accuracy: number;
  /** Mean cross-entropy. */
  loss: number;
  count: number;
}

export interface TwinTrainer {
  /** Train every job's twin from `global` and aggregate each BS's twins (Eq. 4): the BS models, by BS. */
  trainRound(global: ModelWeights, jobs: readonly TwinJob[], settings: TrainSettings): Promise<Map<number, ModelUpdate>>;
  /** Train every job's twin from `global`: each twin's model, in job order (the caller aggregates). */
  trainTwins(global: ModelWeights, jobs: readonly TwinJob[], settings: TrainSettings): Promise<TrainedTwin[]>;
  /** Accuracy and loss of each task, in task order. */
  evaluate(models: readonly ModelWeights[], tasks: readonly EvalTask[]): Promise<EvalResult[]>;
  close(): Promise<void>;
}

export type DatasetSpec = { kind: "fashion-mnist"; dir?: string } | { kind: "synthetic"; options: SyntheticOptions };

export function loadDatasetSpec(spec: DatasetSpec): Dataset {
  return spec.kind === "fashion-mnist" ? loadFashionMnist(spec.dir) : syntheticDataset(spec.options);
}

/** Add D_j w_j of one twin to its BS's partial sum (creating it). */
export function accumulate(partials: Map<number, BsPartial>, bs: number, twin: number, weights: ModelWeights, samples: number): void {
  let p = partials.get(bs);
  if (!p) {
    p = { bs, samples: 0, twins: [], sums: weights.map((t) => new Float64Array(t.values.length)) };
    partials.set(bs, p);
  }
  p.samples += samples;
  p.twins.push(twin);
  weights.forEach((t, k) => {
    const acc = p.sums[k];
    const v = t.values;
    for (let i = 0; i < v.length; i++) acc[i] += samples * v[i];
  });
}

/** Eq. 4 from partial sums: G_m = (sum of the partial sums of BS m) / D_m, for every BS with data, by BS. */
export function bsModelsFromPartials(partials: readonly BsPartial[], like: ModelWeights): Map<number, ModelUpdate> {
  const byBs = new Map<number, BsPartial[]>();
  for (const p of partials) byBs.set(p.bs, [...(byBs.get(p.bs) ?? []), p]);
  const out = new Map<number, ModelUpdate>();
  for (const bs of [...byBs.keys()].sort((a, b) => a - b)) {
    const parts = byBs.get(bs) as BsPartial[];
    const samples = parts.reduce((s, p) => s + p.samples, 0);
    if (samples <= 0) continue;
    const weights = like.map((t, k) => {
      const values = new Float32Array(t.values.length);
      for (let i = 0; i < values.length; i++) {
        let s = 0;
        for (const p of parts) s += p.sums[k][i];
        values[i] = s / samples;
      }
      return { shape: t.shape.slice(), values };
    });
    out.set(bs, { weights, samples, from: `BS ${bs}` });
  }
  return out;
}

/** The training cost of a job in samples processed (for balancing the workers). */
function jobCost(j: TwinJob, s: TrainSettings): number {
  const perEpoch = Math.ceil(j.indices.length / j.batchSize);
  const steps = j.steps ?? Math.min(perEpoch * s.localEpochs, s.localSteps ?? Infinity);
  return steps * j.batchSize;
}

/** Each item, in order, onto the least loaded of `n` lanes (deterministic). */
function deal<T>(items: readonly T[], cost: (item: T) => number, n: number): T[][] {
  const lanes: T[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  for (const item of items) {
    const k = load.indexOf(Math.min(...load));
    lanes[k].push(item);
    load[k] += cost(item);
  }
  return lanes;
}

/** Longest job first onto the least loaded of `n` lanes (deterministic). */
export function balanceJobs(jobs: readonly TwinJob[], s: TrainSettings, n: number): TwinJob[][] {
  const order = jobs.map((j, i) => ({ j, i, c: jobCost(j, s) })).sort((a, b) => b.c - a.c || a.i - b.i);
  return deal(order, (o) => o.c, n).map((lane) => lane.map((o) => o.j));
}

export class InProcessTrainer implements TwinTrainer {
  private readonly model;
  constructor(private readonly dataset: Dataset) {
    this.model = createCnn({ height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels });
  }

  /**
   * Train two mini-batches at each of `batchSizes` and evaluate once, then restore the weights: the kernels' and
   * buffers' first use is paid here, not by the first twin of round 1 (on the emulated testbed a fresh worker's first
   * training took up to 1.8x what Eq. 12 predicts, later ones within 2-12 %).
   */
  warmUp(batchSizes: readonly number[], optimizer?: LocalOptimizer): void {
    const before = getModelWeights(this.model);
    const indices = Array.from({ length: Math.min(this.dataset.train.count, 2 * Math.max(...batchSizes)) }, (_, i) => i);
    for (const b of batchSizes) trainLocal(this.model, this.dataset.train, indices, { batchSize: b, epochs: 1, learningRate: 1e-3, seed: 1, maxSteps: 2, optimizer });
    this.evaluateCounts(new Map([[0, before]]), [{ model: 0, split: "train", indices: indices.slice(0, 64) }]);
    setModelWeights(this.model, before, "model before the warm-up");
  }

  /** One twin's local training from `global` (its model, not aggregated). */
  trainTwin(global: ModelWeights, j: TwinJob, s: TrainSettings): WeightTensor[] {
    setModelWeights(this.model, global, "global model");
    const epochs = j.steps === undefined ? s.localEpochs : Math.ceil(j.steps / Math.max(1, Math.ceil(j.indices.length / j.batchSize)));
    trainLocal(this.model, this.dataset.train, j.indices, { batchSize: j.batchSize, epochs, learningRate: s.learningRate, seed: j.seed, maxSteps: j.steps ?? s.localSteps, optimizer: s.optimizer });
    return getModelWeights(this.model);
  }

  /** Train `jobs` and return the per-BS partial sums of Eq. 4. */
  trainPartials(global: ModelWeights, jobs: readonly TwinJob[], s: TrainSettings): BsPartial[] {
    const partials = new Map<number, BsPartial>();
    for (const j of jobs) accumulate(partials, j.bs, j.twin, this.trainTwin(global, j, s), j.indices.length);
    return [...partials.values()];
  }

  async trainRound(global: ModelWeights, jobs: readonly TwinJob[], s: TrainSettings): Promise<Map<number, ModelUpdate>> {
    return bsModelsFromPartials(this.trainPartials(global, jobs, s), global);
  }

  /** One job's twin trained, as a {@link TrainedTwin}. */
  trainedTwin(global: ModelWeights, j: TwinJob, s: TrainSettings): TrainedTwin {
    return { twin: j.twin, bs: j.bs, samples: j.indices.length, weights: this.trainTwin(global, j, s) };
  }

  async trainTwins(global: ModelWeights, jobs: readonly TwinJob[], s: TrainSettings): Promise<TrainedTwin[]> {
    return jobs.map((j) => this.trainedTwin(global, j, s));
  }

  /** Correct counts and loss sums per task (the worker side of {@link evaluate}). */
  evaluateCounts(models: ReadonlyMap<number, ModelWeights>, tasks: readonly EvalTask[]): { correct: number; lossSum: number; count: number }[] {
    let loaded: number | undefined;
    return tasks.map((t) => {
      const w = models.get(t.model);
      if (!w) throw new Error(`evaluation task refers to model ${t.model}, which was not sent.`);
      if (loaded !== t.model) setModelWeights(this.model, w, `model ${t.model}`);
      loaded = t.model;
      return evaluateCounts(this.model, t.split === "test" ? this.dataset.test : this.dataset.train, t.indices);
    });
  }

  async evaluate(models: readonly ModelWeights[], tasks: readonly EvalTask[]): Promise<EvalResult[]> {
    return this.evaluateCounts(new Map(models.map((w, k) => [k, w])), tasks).map((r) => ({ accuracy: r.correct / r.count, loss: r.lossSum / r.count, count: r.count }));
  }

  async close(): Promise<void> {
    this.model.dispose();
  }
}

type Counts = { correct: number; lossSum: number; count: number };
/** Weights handed over as a file (see {@link writeTwinFile}) with their tensors' shapes. */
type WeightsRef = { file: string; shapes: number[][] };
/** What a worker trains once before it reports ready ({@link InProcessTrainer.warmUp}). */
export interface WarmUp {
  batchSizes: number[];
  optimizer?: LocalOptimizer;
}

type ToWorker =
  | { type: "init"; spec: DatasetSpec; warmUp?: WarmUp }
  | { type: "train"; id: number; global: WeightsRef; jobs: readonly TwinJob[]; settings: TrainSettings }
  | { type: "trainTwins"; id: number; global: WeightsRef; jobs: readonly TwinJob[]; settings: TrainSettings; dir: string }
  | { type: "evaluate"; id: number; models: [number, WeightsRef][]; tasks: readonly EvalTask[] };
type FromWorker =
  | { type: "ready" }
  | { type: "trained"; id: number; partials: BsPartial[] }
  /**
   * One twin of a trainTwins request (`index` in the request's jobs), its weights in `file` (float32 little-endian,
   * the tensors of the global model's shapes one after the other); the request ends with "trainedTwins".
   */
  | { type: "twin"; id: number; index: number; twin: Omit<TrainedTwin, "weights">; file: string }
  | { type: "trainedTwins"; id: number; count: number }
  | { type: "evaluated"; id: number; counts: Counts[] }
  | { type: "error"; id?: number; message: string };

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * The parent's files of the models it hands to the workers: one file per distinct model (named by the hash of its
 * bytes), written when the first request needs it and deleted when the last request using it has ended.
 */
class WeightFiles {
  private readonly files = new Map<string, { ref: WeightsRef; users: number }>();

  constructor(private readonly dir: () => string) {}

  acquire(w: ModelWeights): WeightsRef {
    const hash = createHash("sha1");
    for (const t of w) hash.update(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength));
    for (const t of w) hash.update(JSON.stringify(t.shape));
    const key = hash.digest("hex");
    let entry = this.files.get(key);
    if (!entry) {
      const ref = { file: path.join(this.dir(), `model-${key}.f32`), shapes: w.map((t) => t.shape.slice()) };
      writeTwinFile(ref.file, w);
      entry = { ref, users: 0 };
      this.files.set(key, entry);
    }
    entry.users++;
    return entry.ref;
  }

  release(ref: WeightsRef): void {
    for (const [key, entry] of this.files) {
      if (entry.ref.file !== ref.file || --entry.users > 0) continue;
      this.files.delete(key);
      fs.rmSync(ref.file, { force: true });
    }
  }
}

/** Evaluation chunks: at most this many samples per piece of work dealt to a worker. */
const EVAL_CHUNK = 500;

/** `workers` child processes (`dtwn fl-worker`), each with its own copy of the dataset. */
export class ProcessPoolTrainer implements TwinTrainer {
  private readonly children: ChildProcess[] = [];
  private readonly ready: Promise<void>[] = [];
  private nextId = 1;
  private closing = false;

  /**
   * @param threads TensorFlow intra-op threads per worker (default: cores / workers, see {@link trainingProcessEnv}).
   * @param onFork called with each worker's pid as soon as it is forked (the emulated testbed moves it into the BS's
   *   training cgroup there).
   */
  constructor(spec: DatasetSpec, workers: number, threads = threadsPerProcess(workers), onFork?: (pid: number) => void, warmUp?: WarmUp) {
    if (!Number.isInteger(workers) || workers <= 0) throw new Error(`ProcessPoolTrainer: workers must be a positive integer, got ${workers}.`);
    for (let k = 0; k < workers; k++) {
      const child = fork(path.join(ROOT, "bin", "dtwn.js"), ["fl-worker"], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"], env: trainingProcessEnv(threads) });
      this.children.push(child);
      if (onFork && child.pid !== undefined) onFork(child.pid);
      this.ready.push(
        new Promise<void>((resolve, reject) => {
          const onMessage = (m: FromWorker) => {
            if (m.type === "ready") resolve();
            else if (m.type === "error") reject(new Error(`FL worker ${k} failed to start: ${m.message}`));
          };
          child.on("message", onMessage);
          child.once("exit", (code) => reject(new Error(`FL worker ${k} exited with code ${code} while starting.`)));
        }),
      );
      (this.ready[k] as Promise<void>).catch(() => undefined); // awaited by every request; closed before ready, it must not surface as an unhandled rejection that hides why
      child.send({ type: "init", spec, ...(warmUp ? { warmUp } : {}) } satisfies ToWorker);
    }
  }

  /** Resolves when every worker has started (and warmed up, when asked to). */
  async whenReady(): Promise<void> {
    await Promise.all(this.ready);
  }

  /** Send `message` to worker k; `pick` reads the answer from the final message, `partial` takes the messages before it. */
  private request<T>(k: number, message: ToWorker & { id: number }, what: string, pick: (m: FromWorker) => T | undefined, partial?: (m: FromWorker) => boolean): Promise<T> {
    const child = this.children[k];
    const refs = message.type === "evaluate" ? message.models.map(([, r]) => r) : message.type === "init" ? [] : [message.global];
    return new Promise<T>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (!("id" in m) || m.id !== message.id) return;
        if (partial?.(m)) return;
        cleanup();
        if (m.type === "error") return reject(new Error(`FL worker ${k}: ${m.message}`));
        const v = pick(m);
        if (v === undefined) reject(new Error(`FL worker ${k} answered ${m.type} to a ${message.type} request.`));
        else resolve(v);
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new Error(`FL worker ${k} exited (code ${code}, signal ${signal}) while ${what}; the round is lost, nothing was aggregated.`));
      };
      const cleanup = () => {
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.send(message);
    }).finally(() => refs.forEach((r) => this.weightFiles.release(r)));
  }

  private readonly weightFiles = new WeightFiles(() => this.tempDir());

  async trainRound(global: ModelWeights, jobs: readonly TwinJob[], settings: TrainSettings): Promise<Map<number, ModelUpdate>> {
    await Promise.all(this.ready);
    const lanes = balanceJobs(jobs, settings, this.children.length);
    const parts = await Promise.all(
      lanes.map((lane, k) =>
        lane.length === 0
          ? Promise.resolve([] as BsPartial[])
          : this.request(k, { type: "train", id: this.nextId++, global: this.weightFiles.acquire(global), jobs: lane, settings }, `training twins ${lane.map((j) => j.twin).join(", ")}`, (m) => (m.type === "trained" ? m.partials : undefined)),
      ),
    );
    return bsModelsFromPartials(parts.flat(), global);
  }

  async trainTwins(global: ModelWeights, jobs: readonly TwinJob[], settings: TrainSettings): Promise<TrainedTwin[]> {
    await Promise.all(this.ready);
    const position = new Map(jobs.map((j, i) => [j, i]));
    const lanes = balanceJobs(jobs, settings, this.children.length);
    const out: (Promise<TrainedTwin> | undefined)[] = jobs.map(() => undefined);
    const dir = this.tempDir();
    try {
      await Promise.all(
        lanes.map((lane, k) => {
          if (lane.length === 0) return Promise.resolve(0);
          const take = (m: FromWorker) => {
            if (m.type !== "twin") return false;
            const read = readTwinFile(m.file, global).then((weights) => ({ ...m.twin, weights }));
            read.catch(() => undefined); // awaited below
            out[position.get(lane[m.index]) as number] = read;
            return true;
          };
          return this.request(k, { type: "trainTwins", id: this.nextId++, global: this.weightFiles.acquire(global), jobs: lane, settings, dir }, `training twins ${lane.map((j) => j.twin).join(", ")}`, (m) => (m.type === "trainedTwins" ? m.count : undefined), take);
        }),
      );
      return await Promise.all(
        out.map((t, i) => {
          if (!t) throw new Error(`FL workers returned no model for twin ${jobs[i].twin}.`);
          return t;
        }),
      );
    } finally {
      await Promise.allSettled(out); // every file read and deleted (a failed request's files go with the directory at close)
    }
  }

  private temp?: string;

  /** The pool's directory for twin weight files (removed by {@link close}). */
  private tempDir(): string {
    this.temp ??= fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-twins-"));
    return this.temp;
  }

  async evaluate(models: readonly ModelWeights[], tasks: readonly EvalTask[]): Promise<EvalResult[]> {
    await Promise.all(this.ready);
    // Cut every task into chunks and deal them to the least loaded worker.
    const pieces = tasks.flatMap((t, task) => Array.from({ length: Math.ceil(t.indices.length / EVAL_CHUNK) }, (_, q) => ({ task, piece: { ...t, indices: t.indices.slice(q * EVAL_CHUNK, (q + 1) * EVAL_CHUNK) } })));
    const lanes = deal(pieces, (p) => p.piece.indices.length, this.children.length);
    const answers = await Promise.all(
      lanes.map((lane, k) => {
        if (lane.length === 0) return Promise.resolve([] as Counts[]);
        const used = [...new Set(lane.map((p) => p.piece.model))];
        return this.request(k, { type: "evaluate", id: this.nextId++, models: used.map((u) => [u, this.weightFiles.acquire(models[u])]), tasks: lane.map((p) => p.piece) }, "evaluating models", (m) => (m.type === "evaluated" ? m.counts : undefined));
      }),
    );
    const totals = tasks.map(() => ({ correct: 0, lossSum: 0, count: 0 }));
    lanes.forEach((lane, k) =>
      lane.forEach((p, q) => {
        const c = answers[k][q];
        totals[p.task].correct += c.correct;
        totals[p.task].lossSum += c.lossSum;
        totals[p.task].count += c.count;
      }),
    );
    return totals.map((t) => ({ accuracy: t.correct / t.count, loss: t.lossSum / t.count, count: t.count }));
  }

  /** The worker processes (for tests that need to crash one). */
  get processes(): readonly ChildProcess[] {
    return this.children;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.temp) fs.rmSync(this.temp, { recursive: true, force: true });
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.kill();
          }),
      ),
    );
  }
}

/** Write a twin's weights (float32 little-endian, tensor after tensor) to `file`. */
export function writeTwinFile(file: string, weights: ModelWeights): void {
  if (new Uint8Array(Float32Array.of(1).buffer)[3] !== 0x3f) throw new Error("twin weight files are little-endian; this machine is not");
  const fd = fs.openSync(file, "w");
  try {
    for (const t of weights) {
      const bytes = new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
      let o = 0;
      while (o < bytes.length) o += fs.writeSync(fd, bytes, o, bytes.length - o);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Weights of the shapes `shapes` from the bytes of a file written by {@link writeTwinFile}. */
function weightsOfBytes(bytes: Uint8Array, shapes: readonly (readonly number[])[], file: string): WeightTensor[] {
  const sizes = shapes.map((sh) => sh.reduce((p, d) => p * d, 1));
  const count = sizes.reduce((s, n) => s + n, 0);
  if (bytes.length !== 4 * count) throw new Error(`weights file ${file} has ${bytes.length} bytes; the model needs ${4 * count}.`);
  let o = 0;
  // views on the file's own buffer when it is aligned (a large file's buffer is its own), else copies
  const aligned = bytes.byteOffset % 4 === 0;
  return shapes.map((shape, k) => {
    const values = aligned ? new Float32Array(bytes.buffer, bytes.byteOffset + o, sizes[k]) : new Float32Array(sizes[k]);
    if (!aligned) new Uint8Array(values.buffer).set(bytes.subarray(o, o + values.byteLength));
    o += values.byteLength;
    return { shape: shape.slice(), values };
  });
}

/** Read (and delete) a twin's weights file written by {@link writeTwinFile}, with the shapes of `like`. */
export async function readTwinFile(file: string, like: ModelWeights): Promise<WeightTensor[]> {
  const bytes = await fs.promises.readFile(file);
  await fs.promises.rm(file, { force: true });
  return weightsOfBytes(bytes, like.map((t) => t.shape), file);
}

/** The body of `dtwn fl-worker`: serve training and evaluation requests from the parent over IPC until it disconnects. */
export async function runFlWorker(): Promise<void> {
  const send = (m: FromWorker) => process.send?.(m);
  let trainer: InProcessTrainer | undefined;
  // the models of recent requests (a global model serves every BS's request of a round)
  const loaded = new Map<string, WeightTensor[]>();
  const load = (ref: WeightsRef): WeightTensor[] => {
    let w = loaded.get(ref.file);
    if (!w) {
      w = weightsOfBytes(fs.readFileSync(ref.file), ref.shapes, ref.file);
      loaded.set(ref.file, w);
      if (loaded.size > 8) loaded.delete(loaded.keys().next().value as string);
    }
    return w;
  };
  process.on("disconnect", () => process.exit(0));
  const handle = async (m: ToWorker) => {
    try {
      if (m.type === "init") {
        await initBackend("auto", () => undefined);
        trainer = new InProcessTrainer(loadDatasetSpec(m.spec));
        if (m.warmUp) trainer.warmUp(m.warmUp.batchSizes, m.warmUp.optimizer);
        send({ type: "ready" });
      } else if (!trainer) {
        throw new Error(`${m.type} requested before init`);
      } else if (m.type === "train") {
        send({ type: "trained", id: m.id, partials: trainer.trainPartials(load(m.global), m.jobs, m.settings) });
      } else if (m.type === "trainTwins") {
        // Each twin's weights to a file as soon as it is trained, its name to the parent (see the header).
        for (const [index, j] of m.jobs.entries()) {
          const { weights, ...twin } = trainer.trainedTwin(load(m.global), j, m.settings);
          const file = path.join(m.dir, `r${m.id}-t${index}-${process.pid}.f32`);
          writeTwinFile(file, weights);
          send({ type: "twin", id: m.id, index, twin, file });
        }
        send({ type: "trainedTwins", id: m.id, count: m.jobs.length });
      } else {
        send({ type: "evaluated", id: m.id, counts: trainer.evaluateCounts(new Map(m.models.map(([k, r]) => [k, load(r)])), m.tasks) });
      }
    } catch (e) {
      send({ type: "error", id: m.type === "init" ? undefined : m.id, message: (e as Error).message });
    }
  };
  // One request at a time, in the order they came (a BS's twins finish before the next BS's start).
  let queue: Promise<void> = Promise.resolve();
  process.on("message", (m: ToWorker) => {
    queue = queue.then(() => handle(m));
  });
  await new Promise(() => undefined);
}
