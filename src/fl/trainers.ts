/**
 * Local training of twins behind one small interface, so a round can train in this process or in a pool of worker
 * processes (one per core: tfjs-wasm runs one thread per process). Each job is deterministic given the global
 * weights and its seed, so both trainers give the same models.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { initBackend } from "../ml/backend";
import { createCnn, getModelWeights, setModelWeights, trainLocal } from "./cnn";
import { loadFashionMnist } from "./datasets/fashionMnist";
import { syntheticDataset, type SyntheticOptions } from "./datasets/synthetic";
import type { Dataset } from "./datasets/types";
import type { ModelWeights, WeightTensor } from "./tensors";

export interface TwinJob {
  twin: number;
  /** Sample indices of the twin's data in dataset.train. */
  indices: number[];
  batchSize: number;
  seed: number;
}

export interface TrainSettings {
  learningRate: number;
  localEpochs: number;
  localSteps?: number;
}

export interface TwinTrainer {
  /** The trained weights of every job's twin, by twin id. */
  train(global: ModelWeights, jobs: readonly TwinJob[], settings: TrainSettings): Promise<Map<number, WeightTensor[]>>;
  close(): Promise<void>;
}

export type DatasetSpec = { kind: "fashion-mnist"; dir?: string } | { kind: "synthetic"; options: SyntheticOptions };

export function loadDatasetSpec(spec: DatasetSpec): Dataset {
  return spec.kind === "fashion-mnist" ? loadFashionMnist(spec.dir) : syntheticDataset(spec.options);
}

export class InProcessTrainer implements TwinTrainer {
  private readonly model;
  constructor(private readonly dataset: Dataset) {
    this.model = createCnn({ height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels });
  }
  async train(global: ModelWeights, jobs: readonly TwinJob[], s: TrainSettings): Promise<Map<number, WeightTensor[]>> {
    const out = new Map<number, WeightTensor[]>();
    for (const j of jobs) {
      setModelWeights(this.model, global);
      trainLocal(this.model, this.dataset.train, j.indices, { batchSize: j.batchSize, epochs: s.localEpochs, learningRate: s.learningRate, seed: j.seed, maxSteps: s.localSteps });
      out.set(j.twin, getModelWeights(this.model));
    }
    return out;
  }
  async close(): Promise<void> {
    this.model.dispose();
  }
}

type ToWorker = { type: "init"; spec: DatasetSpec } | { type: "train"; id: number; global: ModelWeights; jobs: readonly TwinJob[]; settings: TrainSettings };
type FromWorker = { type: "ready" } | { type: "done"; id: number; results: [number, WeightTensor[]][] } | { type: "error"; id?: number; message: string };

const ROOT = path.resolve(__dirname, "..", "..");

/** `workers` child processes (`dtwn fl-worker`), each with its own copy of the dataset; jobs are dealt round-robin. */
export class ProcessPoolTrainer implements TwinTrainer {
  private readonly children: ChildProcess[] = [];
  private readonly ready: Promise<void>[] = [];
  private nextId = 1;
  private closing = false;

  constructor(spec: DatasetSpec, workers: number) {
    if (!Number.isInteger(workers) || workers <= 0) throw new Error(`ProcessPoolTrainer: workers must be a positive integer, got ${workers}.`);
    for (let k = 0; k < workers; k++) {
      const child = fork(path.join(ROOT, "bin", "dtwn.js"), ["fl-worker"], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
      this.children.push(child);
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
      child.send({ type: "init", spec } satisfies ToWorker);
    }
  }

  private run(k: number, global: ModelWeights, jobs: readonly TwinJob[], settings: TrainSettings): Promise<[number, WeightTensor[]][]> {
    const child = this.children[k];
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if ((m.type === "done" || m.type === "error") && m.id === id) {
          cleanup();
          if (m.type === "done") resolve(m.results);
          else reject(new Error(`FL worker ${k}: ${m.message}`));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new Error(`FL worker ${k} exited (code ${code}, signal ${signal}) while training twins ${jobs.map((j) => j.twin).join(", ")}; the round is lost, nothing was aggregated.`));
      };
      const cleanup = () => {
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.send({ type: "train", id, global, jobs, settings } satisfies ToWorker);
    });
  }

  async train(global: ModelWeights, jobs: readonly TwinJob[], settings: TrainSettings): Promise<Map<number, WeightTensor[]>> {
    await Promise.all(this.ready);
    const n = this.children.length;
    const parts = await Promise.all(this.children.map((_, k) => this.run(k, global, jobs.filter((_, i) => i % n === k), settings)));
    return new Map(parts.flat());
  }

  /** The worker processes (for tests that need to crash one). */
  get processes(): readonly ChildProcess[] {
    return this.children;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
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

/** The body of `dtwn fl-worker`: serve training requests from the parent over IPC until it disconnects. */
export async function runFlWorker(): Promise<void> {
  const send = (m: FromWorker) => process.send?.(m);
  let trainer: InProcessTrainer | undefined;
  process.on("disconnect", () => process.exit(0));
  process.on("message", (m: ToWorker) => {
    void (async () => {
      try {
        if (m.type === "init") {
          await initBackend("auto", () => undefined);
          trainer = new InProcessTrainer(loadDatasetSpec(m.spec));
          send({ type: "ready" });
        } else {
          if (!trainer) throw new Error("training requested before init");
          const out = await trainer.train(m.global, m.jobs, m.settings);
          send({ type: "done", id: m.id, results: [...out.entries()] });
        }
      } catch (e) {
        send({ type: "error", id: m.type === "train" ? m.id : undefined, message: (e as Error).message });
      }
    })();
  });
  await new Promise(() => undefined);
}
