/**
 * TensorFlow.js backend selection, shared by the MADDPG agents (src/agents) and federated learning (src/fl).
 * - @tensorflow/tfjs-node when it is installed with its native binary (an optional dependency: it needs internet at
 *   install time), the fastest;
 * - else the wasm backend, with the training kernels tfjs-backend-wasm 4.22 lacks (Conv2DBackpropFilter) and two
 *   speed-ups registered by ./wasmKernels;
 * - never the pure-JS cpu backend for training (about 0.5 samples/s on the paper's CNN) unless asked for explicitly.
 */
import * as tf from "@tensorflow/tfjs";
import { setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { patchWasmTrainingKernels } from "./wasmKernels";

export type BackendPreference = "auto" | "tensorflow" | "wasm" | "cpu";

let chosen: string | undefined;

function tryTfjsNode(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("@tensorflow/tfjs-node");
    return tf.findBackend("tensorflow") !== undefined || tf.engine().registryFactory["tensorflow"] !== undefined;
  } catch {
    return false; // not installed, or installed without its native binary (e.g. --ignore-scripts)
  }
}

/**
 * Select and initialise the backend once per process; later calls return the same name.
 * @param log receives one line naming the backend (pass `() => {}` to silence it).
 */
export async function initBackend(preference: BackendPreference = "auto", log: (line: string) => void = (l) => console.error(l)): Promise<string> {
  if (chosen) return chosen;
  const env = (process.env.DTWN_TF_BACKEND ?? "").trim() as BackendPreference | "";
  const want = env || preference;
  if ((want === "auto" || want === "tensorflow") && tryTfjsNode() && (await tf.setBackend("tensorflow"))) {
    chosen = "tensorflow";
  } else if (want === "tensorflow") {
    throw new Error("The tensorflow backend was requested but @tensorflow/tfjs-node is not installed with its binary. Run `npm install @tensorflow/tfjs-node` on a machine with internet, or use the wasm backend.");
  } else if (want === "cpu") {
    await tf.setBackend("cpu");
    chosen = "cpu";
  } else {
    setThreadsCount(1); // wasm threads are unavailable in Node
    if (!(await tf.setBackend("wasm"))) throw new Error("The wasm backend failed to initialise.");
    patchWasmTrainingKernels();
    chosen = "wasm";
  }
  await tf.ready();
  log(`tfjs backend: ${chosen}`);
  return chosen;
}

export { tf };
