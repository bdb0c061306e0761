/**
 * Training kernels for the tfjs wasm backend (4.22). Conv2DBackpropFilter is not registered for wasm, so a CNN cannot
 * be trained there as shipped; we build it from the XNNPACK Conv2D (dW = conv(x^T, dy^T) with the stride as dilation).
 * Speed-ups replace slow paths: Conv2DBackpropInput for stride 1 (a Conv2D with the flipped, transposed filter),
 * BatchMatMul with transposed operands (materialise the transpose first), and BatchMatMul / _FusedMatMul with a large
 * right operand that changes every step (a 1x1 convolution instead of XNNPACK's weight packing). Gradients are checked against numeric
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

  const reshape = wasmKernel("Reshape");
  const add = wasmKernel("Add");
  const relu = wasmKernel("Relu");
  const fusedMatMul = wasmKernel("_FusedMatMul");
  const view = (x: TensorInfo, shape: number[], backend: BackendWasm) => reshape({ inputs: { x }, backend, attrs: { shape } as unknown as Attrs });
  const swapLast = (x: TensorInfo, backend: BackendWasm) => transpose({ inputs: { x }, backend, attrs: { perm: [...Array(x.shape.length - 2).keys(), x.shape.length - 1, x.shape.length - 2] } as unknown as Attrs });

  /**
   * C = A B when B is a large matrix that changes every call (a dense layer's kernel during training) and A is small
   * (a mini-batch). XNNPACK's matrix multiply packs B on every new tensor, about 20 ms for the 3136 x 512 kernel of the
   * paper's CNN, twice per step (forward and input gradient). A 1x1 convolution with B^T as the *input* and A^T as the
   * (small) filter computes C^T = B^T A^T without packing B. Only for batch 1 (how tfjs calls it for rank-2 products).
   */
  const dims = (a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean) => {
    const ra = a.shape.length;
    const rb = b.shape.length;
    const outer = (ra >= rb ? a : b).shape.slice(0, -2);
    return {
      m: transposeA ? a.shape[ra - 1] : a.shape[ra - 2],
      k: transposeA ? a.shape[ra - 2] : a.shape[ra - 1],
      n: transposeB ? b.shape[rb - 2] : b.shape[rb - 1],
      outer,
      single: a.shape.slice(0, -2).every((d) => d === 1) && b.shape.slice(0, -2).every((d) => d === 1),
    };
  };
  const bigRightOperand = (a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean) => {
    const { m, k, n, single } = dims(a, b, transposeA, transposeB);
    return single && k * n >= 1 << 16 && 4 * m * k <= k * n;
  };
  const matMulViaConv = (a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, backend: BackendWasm): TensorInfo => {
    const { m, k, n, outer } = dims(a, b, transposeA, transposeB);
    const temporaries: TensorInfo[] = [];
    const keep = (t: TensorInfo) => (temporaries.push(t), t);
    // B^T as a [1, n, 1, k] image (no copy when B arrives transposed) and A^T as a [1, 1, k, m] filter.
    const input = keep(transposeB ? view(b, [1, n, 1, k], backend) : view(keep(swapLast(keep(view(b, [1, k, n], backend)), backend)), [1, n, 1, k], backend));
    const filter = keep(transposeA ? view(a, [1, 1, k, m], backend) : view(keep(swapLast(keep(view(a, [1, m, k], backend)), backend)), [1, 1, k, m], backend));
    const cT = keep(conv2d({ inputs: { x: input, filter }, backend, attrs: { strides: [1, 1], dilations: [1, 1], pad: "valid", dataFormat: "NHWC" } as unknown as Attrs })); // [1, n, 1, m]
    const c = keep(swapLast(keep(view(cT, [1, n, m], backend)), backend)); // [1, m, n]
    const out = view(c, [...outer, m, n], backend);
    temporaries.forEach((t) => backend.disposeData(t.dataId));
    return out;
  };

  register("BatchMatMul", ({ inputs, backend, attrs }) => {
    let a = inputs.a as TensorInfo;
    let b = inputs.b as TensorInfo;
    let { transposeA, transposeB } = attrs;
    if (bigRightOperand(a, b, !!transposeA, !!transposeB)) return matMulViaConv(a, b, !!transposeA, !!transposeB, backend);
    const temporaries: TensorInfo[] = [];
    if (transposeA) {
      a = swapLast(a, backend);
      temporaries.push(a);
      transposeA = false;
    }
    if (transposeB) {
      b = swapLast(b, backend);
      temporaries.push(b);
      transposeB = false;
    }
    const out = matmul({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA, transposeB } });
    temporaries.forEach((t) => backend.disposeData(t.dataId));
    return out;
  });

  // The dense layer's forward pass (matmul + bias + ReLU/linear) through the same path when its kernel is large.
  register("_FusedMatMul", (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const activation = (attrs as { activation?: string }).activation ?? "linear";
    const plainActivation = activation === "linear" || activation === "relu";
    if (!plainActivation || inputs.preluActivationWeights || !bigRightOperand(a, b, !!attrs.transposeA, !!attrs.transposeB)) return fusedMatMul(args);
    let out = matMulViaConv(a, b, !!attrs.transposeA, !!attrs.transposeB, backend);
    if (inputs.bias) {
      const withBias = add({ inputs: { a: out, b: inputs.bias as TensorInfo }, backend, attrs: {} as Attrs });
      backend.disposeData(out.dataId);
      out = withBias;
    }
    if (activation === "relu") {
      const r = relu({ inputs: { x: out }, backend, attrs: {} as Attrs });
      backend.disposeData(out.dataId);
      out = r;
    }
    return out;
  });
  patched = true;
}
