/**
 * Training kernels for the tfjs wasm backend (4.22). Conv2DBackpropFilter is not registered for wasm, so a CNN cannot
 * be trained there as shipped; we build it from the XNNPACK Conv2D (dW = conv(x^T, dy^T) with the stride as dilation).
 * Two speed-ups replace slow paths: Conv2DBackpropInput for stride 1 (a Conv2D with the flipped, transposed filter)
 * and BatchMatMul with transposed operands (materialise the transpose first). Gradients are checked against numeric
 * gradients in test/ml/wasmKernels.test.ts.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

type TensorInfo = tf.TensorInfo;
type Attrs = Record<string, unknown> & {
  filterShape: [number, number, number, number];
  inputShape: [number, number, number, number];
  strides: [number, number] | number;
  pad: "valid" | "same" | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
  transposeA?: boolean;
  transposeB?: boolean;
};
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: Attrs };
type Kernel = (args: KernelArgs) => TensorInfo;

function wasmKernel(name: string): Kernel {
  const k = tf.getKernel(name, "wasm");
  if (!k) throw new Error(`The wasm backend has no ${name} kernel to build on.`);
  return k.kernelFunc as unknown as Kernel;
}

function register(kernelName: string, fn: Kernel): void {
  if (tf.getKernel(kernelName, "wasm")) tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: fn as unknown as tf.KernelFunc });
}

let patched = false;

/** Register the missing and faster kernels on the wasm backend (idempotent). */
export function patchWasmTrainingKernels(): void {
  if (patched) return;
  const transpose = wasmKernel("Transpose");
  const conv2d = wasmKernel("Conv2D");
  const slice = wasmKernel("Slice");
  const reverse = wasmKernel("Reverse");
  const matmul = wasmKernel("BatchMatMul");
  const originalBackpropInput = wasmKernel("Conv2DBackpropInput");

  register("Conv2DBackpropFilter", ({ inputs, backend, attrs }) => {
    const x = inputs.x as TensorInfo;
    const dy = inputs.dy as TensorInfo;
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
    const { top, bottom, left, right } = info.padInfo;
    // [N,H,W,Cin] -> [Cin,H,W,N] and dy [N,H',W',Cout] -> [H',W',N,Cout]: a conv over the batch gives [Cin,KH,KW,Cout].
    const xT = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } as unknown as Attrs });
    const dyT = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } as unknown as Attrs });
    let c = conv2d({
      inputs: { x: xT, filter: dyT },
      backend,
      attrs: { strides: [1, 1], dilations: [info.strideHeight, info.strideWidth], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: "NHWC" } as unknown as Attrs,
    });
    backend.disposeData(xT.dataId);
    backend.disposeData(dyT.dataId);
    const [kh, kw] = attrs.filterShape;
    if (c.shape[1] !== kh || c.shape[2] !== kw) {
      const s = slice({ inputs: { x: c }, backend, attrs: { begin: [0, 0, 0, 0], size: [c.shape[0], kh, kw, c.shape[3]] } as unknown as Attrs });
      backend.disposeData(c.dataId);
      c = s;
    }
    const out = transpose({ inputs: { x: c }, backend, attrs: { perm: [1, 2, 0, 3] } as unknown as Attrs });
    backend.disposeData(c.dataId);
    return out;
  });

  register("Conv2DBackpropInput", (args) => {
    const { inputs, backend, attrs } = args;
    const dy = inputs.dy as TensorInfo;
    const filter = inputs.filter as TensorInfo;
    const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, "channelsLast");
    if (info.strideHeight !== 1 || info.strideWidth !== 1) return originalBackpropInput(args);
    const { top, bottom, left, right } = info.padInfo;
    const [kh, kw] = filter.shape;
    const flipped = reverse({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } as unknown as Attrs });
    const ft = transpose({ inputs: { x: flipped }, backend, attrs: { perm: [0, 1, 3, 2] } as unknown as Attrs });
    backend.disposeData(flipped.dataId);
    const out = conv2d({
      inputs: { x: dy, filter: ft },
      backend,
      attrs: { strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [kh - 1 - top, kh - 1 - bottom], [kw - 1 - left, kw - 1 - right], [0, 0]], dataFormat: "NHWC" } as unknown as Attrs,
    });
    backend.disposeData(ft.dataId);
    return out;
  });

  register("BatchMatMul", ({ inputs, backend, attrs }) => {
    let a = inputs.a as TensorInfo;
    let b = inputs.b as TensorInfo;
    let { transposeA, transposeB } = attrs;
    const temporaries: TensorInfo[] = [];
    const perm = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];
    if (transposeA) {
      a = transpose({ inputs: { x: a }, backend, attrs: { perm: perm(a.shape.length) } as unknown as Attrs });
      temporaries.push(a);
      transposeA = false;
    }
    if (transposeB) {
      b = transpose({ inputs: { x: b }, backend, attrs: { perm: perm(b.shape.length) } as unknown as Attrs });
      temporaries.push(b);
      transposeB = false;
    }
    const out = matmul({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA, transposeB } });
    temporaries.forEach((t) => backend.disposeData(t.dataId));
    return out;
  });
  patched = true;
}
