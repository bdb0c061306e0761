/**
 * The training kernels patched into the tfjs wasm backend (src/ml/wasmKernels.ts) against numeric gradients of an
 * independent float64 implementation in plain JS, on small shapes: Conv2DBackpropFilter (strides 1 and 2, same and
 * valid padding), Conv2DBackpropInput (stride 1, the patched path, and stride 2, the original), and BatchMatMul with
 * transposed operands.
 */
import { expect } from "chai";
import { activateBackend, initBackend, tf } from "../../src/ml/backend";
import { mulberry32 } from "../../src/twins/random";

type Pad = "same" | "valid";

/** Plain float64 NHWC convolution (tfjs semantics for "same" and "valid"). */
function convJs(x: Float64Array, xs: number[], f: Float64Array, fs: number[], stride: number, pad: Pad): { y: Float64Array; ys: number[] } {
  const [n, h, w, ci] = xs;
  const [kh, kw, , co] = fs;
  const oh = pad === "same" ? Math.ceil(h / stride) : Math.floor((h - kh) / stride) + 1;
  const ow = pad === "same" ? Math.ceil(w / stride) : Math.floor((w - kw) / stride) + 1;
  const pt = pad === "same" ? Math.floor(Math.max(0, (oh - 1) * stride + kh - h) / 2) : 0;
  const pl = pad === "same" ? Math.floor(Math.max(0, (ow - 1) * stride + kw - w) / 2) : 0;
  const y = new Float64Array(n * oh * ow * co);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let o = 0; o < co; o++) {
          let s = 0;
          for (let a = 0; a < kh; a++)
            for (let c = 0; c < kw; c++) {
              const r = i * stride + a - pt;
              const q = j * stride + c - pl;
              if (r < 0 || r >= h || q < 0 || q >= w) continue;
              for (let k = 0; k < ci; k++) s += x[((b * h + r) * w + q) * ci + k] * f[((a * kw + c) * ci + k) * co + o];
            }
          y[((b * oh + i) * ow + j) * co + o] = s;
        }
  return { y, ys: [n, oh, ow, co] };
}

const rand = (rng: () => number, n: number) => Float64Array.from({ length: n }, () => rng() * 2 - 1);
const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

function numericGrad(vars: Float64Array, loss: () => number, eps = 1e-4): Float64Array {
  const g = new Float64Array(vars.length);
  for (let i = 0; i < vars.length; i++) {
    const v = vars[i];
    vars[i] = v + eps;
    const up = loss();
    vars[i] = v - eps;
    const down = loss();
    vars[i] = v;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

function expectClose(got: Float32Array | number[], want: Float64Array, what: string): void {
  expect(got.length, what).to.equal(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])));
  expect(worst, `${what}: worst relative error`).to.be.below(2e-4);
}

describe("wasm training kernels (numeric gradients)", function () {
  this.timeout(60_000);
  // The patches exist only for wasm: this suite switches the process to wasm whatever the suite's backend is, and
  // back afterwards.
  let previous: string;
  before(async function () {
    await initBackend("auto", () => undefined);
    previous = tf.getBackend();
    await activateBackend("wasm");
  });
  after(async () => {
    await tf.setBackend(previous);
  });

  for (const [stride, pad] of [[1, "same"], [1, "valid"], [2, "same"], [2, "valid"]] as [number, Pad][]) {
    it(`Conv2DBackpropFilter and Conv2DBackpropInput, stride ${stride}, ${pad} padding`, () => {
      expect(tf.getBackend()).to.equal("wasm");
      const rng = mulberry32(stride * 10 + (pad === "same" ? 1 : 2));
      const xs = [2, 6, 5, 3];
      const fs = [3, 3, 3, 4];
      const x = rand(rng, size(xs));
      const f = rand(rng, size(fs));
      const { ys } = convJs(x, xs, f, fs, stride, pad);
      const r = rand(rng, size(ys)); // loss = sum(conv(x, f) * r)
      const lossJs = () => convJs(x, xs, f, fs, stride, pad).y.reduce((s, v, i) => s + v * r[i], 0);
      const [gx, gf] = tf.tidy(() => {
        const xt = tf.tensor4d(Float32Array.from(x), xs as [number, number, number, number]);
        const ft = tf.tensor4d(Float32Array.from(f), fs as [number, number, number, number]);
        const rt = tf.tensor4d(Float32Array.from(r), ys as [number, number, number, number]);
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad).mul(rt).sum());
        return grads([xt, ft]).map((g) => g.dataSync() as Float32Array);
      });
      expectClose(gf, numericGrad(f, lossJs), "d loss / d filter (Conv2DBackpropFilter)");
      expectClose(gx, numericGrad(x, lossJs), "d loss / d input (Conv2DBackpropInput)");
    });
  }

  it("BatchMatMul with transposed operands", () => {
    const rng = mulberry32(5);
    const a = rand(rng, 2 * 4 * 3); // [2, 4, 3] used as a^T: [2, 3, 4]
    const b = rand(rng, 2 * 5 * 4); // [2, 5, 4] used as b^T: [2, 4, 5]
    const got = tf.tidy(() => tf.matMul(tf.tensor3d(Float32Array.from(a), [2, 4, 3]), tf.tensor3d(Float32Array.from(b), [2, 5, 4]), true, true).dataSync() as Float32Array);
    const want = new Float64Array(2 * 3 * 5);
    for (let n = 0; n < 2; n++)
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 5; j++) {
          let s = 0;
          for (let k = 0; k < 4; k++) s += a[(n * 4 + k) * 3 + i] * b[(n * 5 + j) * 4 + k];
          want[(n * 3 + i) * 5 + j] = s;
        }
    expectClose(got, want, "matMul(a^T, b^T)");
  });

  for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
    it(`a product with a large right operand (the 1x1-convolution path), transposeA ${ta}, transposeB ${tb}; and the dense layer's fused form`, () => {
      // m = 3 rows against a 64 x 1100 right operand: k * n >= 2^16, so the patched kernels take the convolution path.
      const [m, k, n] = [3, 64, 1100];
      const rng = mulberry32(ta ? (tb ? 11 : 12) : tb ? 13 : 14);
      const a = rand(rng, m * k);
      const b = rand(rng, k * n);
      const bias = rand(rng, n);
      const A = (i: number, j: number) => (ta ? a[j * m + i] : a[i * k + j]); // logical [m, k]
      const B = (i: number, j: number) => (tb ? b[j * k + i] : b[i * n + j]); // logical [k, n]
      const want = new Float64Array(m * n);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let q = 0; q < k; q++) s += A(i, q) * B(q, j);
          want[i * n + j] = s;
        }
      const [got, fused, shape] = tf.tidy(() => {
        const at = tf.tensor2d(Float32Array.from(a), ta ? [k, m] : [m, k]);
        const bt = tf.tensor2d(Float32Array.from(b), tb ? [n, k] : [k, n]);
        const plain = tf.matMul(at, bt, ta, tb);
        const f = tf.fused.matMul({ a: at, b: bt, transposeA: ta, transposeB: tb, bias: tf.tensor1d(Float32Array.from(bias)), activation: "relu" });
        return [plain.dataSync() as Float32Array, f.dataSync() as Float32Array, plain.shape];
      });
      expect(shape).to.deep.equal([m, n]);
      expectClose(got, want, "matMul");
      expectClose(fused, want.map((v, i) => Math.max(0, v + bias[i % n])), "fused matMul + bias + relu");
    });
  }
});

