/**
 * TensorFlow.js backend selection, shared by the MADDPG agents (src/agents) and federated learning (src/fl).
 * - `tensorflow`: @tensorflow/tfjs-node, native TensorFlow (libtensorflow) with oneDNN, the fastest. `npm ci` installs
 *   it: through tfjs-node's own download on a machine with internet, else from the tensorflow-cpu wheel that the
 *   project's preinstall stages (install/libtensorflow/stage.cjs). ./tensorflowKernels adds faster training kernels.
 * - `wasm`: the fallback when tfjs-node could not be installed, with the training kernels tfjs-backend-wasm 4.22 lacks
 *   (Conv2DBackpropFilter) and speed-ups (./wasmKernels). The line that names the backend says why it fell back.
 * - never the pure-JS cpu backend for training (about 0.5 samples/s on the paper's CNN) unless asked for explicitly.
 *
 * `DTWN_TF_BACKEND=tensorflow|wasm|cpu` overrides the choice (for every process, training workers included).
 */
import os from "node:os";
import * as tf from "@tensorflow/tfjs";
import { setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { patchWasmTrainingKernels } from "./wasmKernels";
import { patchTensorflowTrainingKernels } from "./tensorflowKernels";

export type BackendName = "tensorflow" | "wasm" | "cpu";
export type BackendPreference = "auto" | BackendName;
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ["auto", "tensorflow", "wasm", "cpu"];

/** What the preinstall that stages libtensorflow recorded (install/libtensorflow/status.json). */
export interface StagingStatus {
  outcome: "staged" | "download" | "present" | "skipped" | "failed";
  reason: string;
  wheel?: string;
  libtensorflowVersion?: string;
  cache?: string;
  fromCache?: boolean;
  seconds?: number;
  at?: string;
}

/** Whether tfjs-node loads in this process, and if not, why. */
export interface TfjsNodeStatus {
  available: boolean;
  /** tfjs-node's version, when it loads. */
  version?: string;
  /** The TensorFlow C library's version (TF_Version), when it loads. */
  libtensorflow?: string;
  /** Why it is not available: one sentence with what to do. */
  reason?: string;
  staging?: StagingStatus;
}

export function readStagingStatus(): StagingStatus | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require("dtwn-libtensorflow") as { readStatus(): StagingStatus | undefined }).readStatus();
  } catch {
    return undefined; // optional dependencies omitted, or installed without scripts
  }
}

const FIX = "Run `npm ci` again on a machine where pip can download tensorflow-cpu==2.21.0 or tfjs-node can download libtensorflow (see the README's install section)";

/** Why tfjs-node is missing, from the staging record: one sentence. */
export function explainMissingTfjsNode(staging: StagingStatus | undefined, loadError?: string): string {
  if (loadError && !/Cannot find module '@tensorflow\/tfjs-node'/.test(loadError)) {
    return `@tensorflow/tfjs-node is installed but does not load (${loadError.split("\n")[0]}); run \`npm rebuild @tensorflow/tfjs-node --foreground-scripts\` to see its build.`;
  }
  switch (staging?.outcome) {
    case "failed":
      return `libtensorflow could not be staged (${staging.reason}) and tfjs-node's own download failed, so npm left the optional @tensorflow/tfjs-node out. ${FIX}.`;
    case "staged":
      return `libtensorflow was staged (${staging.reason}) but tfjs-node's binding did not build; run \`npm rebuild @tensorflow/tfjs-node --foreground-scripts\` to see why.`;
    case "download":
    case "present":
      return `tfjs-node's own install failed after ${staging.reason}. ${FIX}.`;
    case "skipped":
      return `@tensorflow/tfjs-node is not installed; staging was skipped (${staging.reason}).`;
    default:
      return `@tensorflow/tfjs-node is not installed (an optional dependency; \`npm ci\` without --omit=optional installs it). ${FIX}.`;
  }
}

let tfjsNode: TfjsNodeStatus | undefined;

/** Load tfjs-node once (it registers the `tensorflow` backend) and report whether that worked. */
export function tfjsNodeStatus(): TfjsNodeStatus {
  if (tfjsNode) return tfjsNode;
  const staging = readStagingStatus();
  const active = (tf.engine() as unknown as { backendName?: string }).backendName;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const node = require("@tensorflow/tfjs-node") as { version: Record<string, string> };
    // Loading tfjs-node makes tensorflow the active backend: give the process back the one it had (an initialised
    // backend switches synchronously).
    if (active && active !== "tensorflow") void tf.setBackend(active);
    if (!tf.engine().registryFactory["tensorflow"]) throw new Error("tfjs-node loaded but registered no tensorflow backend (two copies of @tensorflow/tfjs?)");
    tfjsNode = { available: true, version: node.version["tfjs-node"], staging };
  } catch (e) {
    tfjsNode = { available: false, reason: explainMissingTfjsNode(staging, (e as Error).message), staging };
  }
  return tfjsNode;
}

const initialised = new Set<BackendName>();

/** Make `name` the active backend of this process, initialising it (and its kernel patches) on first use. */
export async function activateBackend(name: BackendName): Promise<void> {
  if (name === "tensorflow" && !tfjsNodeStatus().available) throw new Error(`The tensorflow backend is not available: ${tfjsNodeStatus().reason}`);
  if (name === "wasm" && !initialised.has("wasm")) setThreadsCount(1); // wasm threads are unavailable in Node; must precede its init
  if (!(await tf.setBackend(name))) throw new Error(`The ${name} backend failed to initialise.`);
  await tf.ready();
  if (!initialised.has(name)) {
    if (name === "wasm") patchWasmTrainingKernels();
    if (name === "tensorflow") {
      patchTensorflowTrainingKernels();
      tfjsNode = { ...tfjsNodeStatus(), libtensorflow: (tf.backend() as unknown as { binding: { TF_Version: string } }).binding.TF_Version };
    }
    initialised.add(name);
  }
}

let chosen: BackendName | undefined;
let chosenWhy = "";

/**
 * Select and initialise the backend once per process; later calls return the same name.
 * @param log receives one line naming the backend and, on the fallback, why (pass `() => {}` to silence it).
 */
export async function initBackend(preference: BackendPreference = "auto", log: (line: string) => void = (l) => console.error(l)): Promise<BackendName> {
  if (chosen) return chosen;
  const env = (process.env.DTWN_TF_BACKEND ?? "").trim();
  if (env && !BACKEND_PREFERENCES.includes(env as BackendPreference)) throw new Error(`DTWN_TF_BACKEND=${env} is not a backend; use one of ${BACKEND_PREFERENCES.join(", ")}.`);
  const want = (env || preference) as BackendPreference;
  if (want === "auto") {
    const node = tfjsNodeStatus();
    chosen = node.available ? "tensorflow" : "wasm";
    chosenWhy = node.available ? "" : ` (tfjs-node unavailable: ${node.reason})`;
  } else {
    chosen = want;
    chosenWhy = env ? ` (DTWN_TF_BACKEND=${env})` : "";
  }
  try {
    await activateBackend(chosen);
  } catch (e) {
    chosen = undefined;
    throw e;
  }
  log(`tfjs backend: ${describeActiveBackend()}${chosenWhy}`);
  return chosen;
}

/** "tensorflow (tfjs-node 4.22.0, libtensorflow 2.21.0)", "wasm (SIMD)" or "cpu". */
export function describeActiveBackend(): string {
  const name = tf.getBackend();
  if (name === "tensorflow") return `tensorflow (tfjs-node ${tfjsNodeStatus().version}, libtensorflow ${tfjsNodeStatus().libtensorflow})`;
  return name;
}

/** The TensorFlow thread pools as libtensorflow sizes them: TF_NUM_*_THREADS when set, else one thread per core. */
export function tensorflowThreads(env: NodeJS.ProcessEnv = process.env): { intraOp: number; interOp: number; oneDnn: boolean } {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const n = (v: string | undefined) => (v && Number(v) > 0 ? Number(v) : cores);
  return { intraOp: n(env.TF_NUM_INTRAOP_THREADS), interOp: n(env.TF_NUM_INTEROP_THREADS), oneDnn: env.TF_ENABLE_ONEDNN_OPTS !== "0" };
}

export { tf };

/** TensorFlow threads per training process when `processes` of them share this machine's cores: max(1, cores / processes). */
export function threadsPerProcess(processes: number): number {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return Math.max(1, Math.floor(cores / Math.max(1, processes)));
}

/**
 * The environment for a child process that trains with `threads` TensorFlow intra-op threads and 1 inter-op thread,
 * unless TF_NUM_*_THREADS are set already. Measured (`dtwn bench train`): one process per core with 1 thread each trains
 * 1.3-1.9x more samples/s in all than one process with a thread per core, and several processes with a thread per core
 * each oversubscribe the cores. The thread count is part of the result: on tfjs-node, training gives the same bits
 * again for the same weights, seeds and thread count, and other float32 roundings for another thread count.
 */
export function trainingProcessEnv(threads: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, TF_NUM_INTRAOP_THREADS: env.TF_NUM_INTRAOP_THREADS ?? String(threads), TF_NUM_INTEROP_THREADS: env.TF_NUM_INTEROP_THREADS ?? "1" };
}
