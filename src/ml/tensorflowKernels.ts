/**
 * Training speed-ups for the tfjs-node (`tensorflow`) backend, the counterpart of ./wasmKernels for wasm. Each one
 * replaces a slow path that `tf.profile` found in one SGD step of the paper's CNN (tfjs-node 4.22 on libtensorflow 2.21
 * with oneDNN; 32x32x3, batch 32: 45 ms per step before, ~26 ms after; measured in `dtwn bench train`):
 *
 * - **ReLU gradient.** tfjs-core differentiates ReLU as dy * step(x), and tfjs-node builds Step from five TensorFlow
 *   ops (IsNan, Greater, two Fills, Select) over the whole activation tensor, then a Cast and a Multiply: 14-17 ms of
 *   the 45. TensorFlow's own `ReluGrad(dy, x) = dy * (x > 0)` is one op. Values are the same except for a NaN input
 *   (tfjs's form gives NaN, ReluGrad gives 0).
 * - **Max-pool gradient.** TensorFlow's `MaxPoolGrad` (Eigen) finds each window's maximum again and took 3-7 ms per
 *   layer, more than the convolution gradients. oneDNN's max pool records where the maxima were (a workspace) and its
 *   gradient scatters dy there: running `_MklNativeMaxPool` again to get the workspace and then
 *   `_MklNativeMaxPoolGrad` takes a quarter of the time and gives bit-identical gradients (ties included: both send
 *   the gradient to the first maximum of a window). These are oneDNN's internal ops, reachable from eager mode with the
 *   `_kernel` label TensorFlow's own graph rewrite sets; {@link patchTensorflowTrainingKernels} checks that they run
 *   and keeps the plain kernel otherwise (a libtensorflow without oneDNN, or TF_ENABLE_ONEDNN_OPTS=0).
 *
 * The gradient registry of tfjs is global, not per backend, so the ReLU override keeps the original gradient for every
 * other backend (wasm, cpu): a process may switch backends (the cross-backend tests do).
 */
import * as tf from "@tensorflow/tfjs";

type OpAttr = { name: string; type: number; value: unknown };
type NodeBackend = {
  binding: { TF_ATTR_INT: number; TF_ATTR_STRING: number; TF_ATTR_BOOL: number };
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.TensorInfo[], outputs: number): tf.Tensor[];
};
type PoolAttrs = { filterSize: [number, number] | number; strides: [number, number] | number; pad: "valid" | "same" | number; dimRoundingMode?: "floor" | "round" | "ceil" };

const RELU_GRAD = "DtwnReluGrad";

/** Which of the speed-ups are in place (for `dtwn doctor`). */
export const tensorflowPatches = { reluGrad: false, oneDnnMaxPoolGrad: false, patched: false };

function typeAttr(dtype: tf.DataType): OpAttr {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createTensorsTypeOpAttr } = require("@tensorflow/tfjs-node/dist/nodejs_kernel_backend") as { createTensorsTypeOpAttr: (name: string, dtype: tf.DataType) => OpAttr };
  return createTensorsTypeOpAttr("T", dtype);
}

/** The attributes of oneDNN's max pool with its workspace, or undefined for a pooling it does not take. */
function oneDnnPoolAttrs(backend: NodeBackend, x: tf.TensorInfo, a: PoolAttrs): OpAttr[] | undefined {
  const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  if (info.padInfo.type !== "VALID" && info.padInfo.type !== "SAME") return undefined;
  const b = backend.binding;
  return [
    typeAttr(x.dtype),
    { name: "ksize", type: b.TF_ATTR_INT, value: [1, info.filterHeight, info.filterWidth, 1] },
    { name: "strides", type: b.TF_ATTR_INT, value: [1, info.strideHeight, info.strideWidth, 1] },
    { name: "padding", type: b.TF_ATTR_STRING, value: info.padInfo.type },
    { name: "data_format", type: b.TF_ATTR_STRING, value: "NHWC" },
    { name: "workspace_enabled", type: b.TF_ATTR_BOOL, value: true },
    { name: "_kernel", type: b.TF_ATTR_STRING, value: "MklNameChangeOp" },
  ];
}

/** dx of a max pool through oneDNN: the forward again for its workspace, then the scatter of dy. */
function oneDnnMaxPoolGrad(backend: NodeBackend, attrs: OpAttr[], dy: tf.TensorInfo, input: tf.TensorInfo, output: tf.TensorInfo): tf.Tensor {
  const [y, workspace] = backend.executeMultipleOutputs("_MklNativeMaxPool", attrs, [input], 2);
  try {
    return backend.executeSingleOutput("_MklNativeMaxPoolGrad", attrs, [input, output, dy, workspace]);
  } finally {
    y.dispose();
    workspace.dispose();
  }
}

/** Whether oneDNN's max-pool ops run here and agree with the plain kernel on a small case with ties. */
function oneDnnMaxPoolWorks(backend: NodeBackend, plainGrad: tf.KernelFunc): boolean {
  try {
    return tf.tidy(() => {
      const x = tf.tensor4d([0, 0, 0, 0, 0, 0, 3, 2, 5, 1, 0, 5, 2, 2, 7, 7], [1, 4, 4, 1]); // ties: an all-zero window and two 7s
      const y = tf.maxPool(x, 2, 2, "valid");
      const dy = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
      const attrs = { filterSize: 2, strides: 2, pad: "valid" } as PoolAttrs;
      const got = oneDnnMaxPoolGrad(backend, oneDnnPoolAttrs(backend, x, attrs) as OpAttr[], dy, x, y).dataSync();
      const want = (plainGrad({ inputs: { dy, input: x, output: y }, backend: backend as unknown as tf.KernelBackend, attrs: attrs as unknown as tf.NamedAttrMap }) as tf.Tensor).dataSync();
      return got.length === want.length && got.every((v, i) => v === want[i]);
    });
  } catch {
    return false;
  }
}

function reregister(kernelName: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(kernelName, "tensorflow")) tf.unregisterKernel(kernelName, "tensorflow");
  tf.registerKernel({ kernelName, backendName: "tensorflow", kernelFunc });
}

/** Register the faster training kernels for the tensorflow backend (idempotent; call with it active). */
export function patchTensorflowTrainingKernels(): void {
  if (tensorflowPatches.patched) return;
  const backend = tf.backend() as unknown as NodeBackend;

  reregister(RELU_GRAD, ({ inputs, backend: b }) => {
    const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
    return (b as unknown as NodeBackend).executeSingleOutput("ReluGrad", [typeAttr(x.dtype)], [dy, x]);
  });
  const reluGradient = tf.getGradient("Relu");
  if (!reluGradient) throw new Error("tfjs has no gradient registered for Relu to override.");
  tf.registerGradient({
    kernelName: "Relu",
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      if (tf.getBackend() !== "tensorflow") return reluGradient.gradFunc(dy, saved, attrs);
      const [x] = saved;
      return { x: () => tf.engine().runKernel(RELU_GRAD, { dy: dy as tf.Tensor, x }) as tf.Tensor };
    },
  });
  tensorflowPatches.reluGrad = true;

  const plain = tf.getKernel("MaxPoolGrad", "tensorflow");
  if (plain && oneDnnMaxPoolWorks(backend, plain.kernelFunc)) {
    reregister("MaxPoolGrad", (args) => {
      const { dy, input, output } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo; output: tf.TensorInfo };
      const b = args.backend as unknown as NodeBackend;
      const attrs = oneDnnPoolAttrs(b, input, args.attrs as unknown as PoolAttrs);
      return attrs ? oneDnnMaxPoolGrad(b, attrs, dy, input, output) : (plain.kernelFunc(args) as tf.Tensor);
    });
    tensorflowPatches.oneDnnMaxPoolGrad = true;
  }
  tensorflowPatches.patched = true;
}
