/**
 * Both tfjs backends in one process: tfjs-node (native TensorFlow, the default where npm ci installed it) and wasm
 * (the fallback). One training step of the paper's CNN gives the same loss and weights on both within a stated
 * tolerance; the kernels dtwn patches into the tensorflow backend give exactly tfjs's own gradients; training is
 * bit-reproducible on each backend. Aggregation (Eqs. 4-5) is plain float64 JavaScript and needs no backend at all
 * (test/fl/aggregation.test.ts).
 */
import { expect } from "chai";
import { activateBackend, explainMissingTfjsNode, initBackend, readStagingStatus, tf, tfjsNodeStatus, type BackendName } from "../../src/ml/backend";
import { tensorflowPatches } from "../../src/ml/tensorflowKernels";
import { createCnn, getModelWeights, setModelWeights, trainLocal, type LocalOptimizer } from "../../src/fl/cnn";
import { loadFashionMnist } from "../../src/fl/datasets/fashionMnist";
import type { ModelWeights } from "../../src/fl/tensors";
import { mulberry32 } from "../../src/twins/random";

/** Largest |a - b| over all weights, and the largest |a| (for a relative reading). */
function maxAbsDiff(a: ModelWeights, b: ModelWeights): number {
  let d = 0;
  a.forEach((t, k) => t.values.forEach((x, i) => (d = Math.max(d, Math.abs(x - b[k].values[i])))));
  return d;
}

function sameBits(a: ModelWeights, b: ModelWeights): boolean {
  return a.every((t, k) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).equals(Buffer.from(b[k].values.buffer, b[k].values.byteOffset, b[k].values.byteLength)));
}

describe("tfjs backends: tensorflow (tfjs-node) and wasm", function () {
  this.timeout(120_000);
  const dataset = loadFashionMnist();
  const input = { height: 28, width: 28, channels: 1 };
  const indices = Array.from({ length: 64 }, (_, i) => i);
  let previous: string;
  let init: ModelWeights;

  before(async function () {
    await initBackend("auto", () => undefined);
    previous = tf.getBackend();
    const m = createCnn(input, 11);
    init = getModelWeights(m);
    m.dispose();
  });
  after(async () => {
    await tf.setBackend(previous);
  });

  /** `steps` mini-batches of 32 from `init` on `backend`: the last loss and the weights. */
  async function train(backend: BackendName, optimizer: LocalOptimizer, steps: number): Promise<{ loss: number; weights: ModelWeights }> {
    await activateBackend(backend);
    const m = createCnn(input, 11);
    setModelWeights(m, init);
    const loss = trainLocal(m, dataset.train, indices, { batchSize: 32, epochs: 1, learningRate: optimizer === "adam" ? 1e-3 : 0.05, seed: 4, optimizer, maxSteps: steps });
    const weights = getModelWeights(m);
    m.dispose();
    return { loss, weights };
  }

  it("npm ci left tfjs-node working wherever its install says libtensorflow was staged or downloaded", function () {
    const staging = readStagingStatus();
    if (!staging || staging.outcome === "failed" || staging.outcome === "skipped") this.skip(); // the wasm fallback: nothing to check here
    const node = tfjsNodeStatus();
    expect(node.available, node.reason).to.equal(true);
    expect(node.version).to.equal("4.22.0");
  });

  it("names why it falls back to wasm, with what to do", () => {
    expect(explainMissingTfjsNode({ outcome: "failed", reason: "pip download tensorflow-cpu==0.0.0 failed (exit 1)" })).to.match(/could not be staged \(pip download tensorflow-cpu==0\.0\.0 failed.*npm left the optional @tensorflow\/tfjs-node out\. Run `npm ci` again/);
    expect(explainMissingTfjsNode({ outcome: "staged", reason: "libtensorflow 2.21.0" })).to.match(/binding did not build; run `npm rebuild @tensorflow\/tfjs-node --foreground-scripts`/);
    expect(explainMissingTfjsNode(undefined)).to.match(/is not installed \(an optional dependency/);
    expect(explainMissingTfjsNode(undefined, "libtensorflow.so.2: cannot open shared object file")).to.match(/installed but does not load \(libtensorflow\.so\.2: cannot open/);
  });

  describe("with tfjs-node", () => {
    before(function () {
      if (!tfjsNodeStatus().available) this.skip(); // this installation trains on wasm only (tfjsNodeStatus().reason says why)
    });

    // Tolerances: float32 arithmetic in a different order (oneDNN's convolutions against XNNPACK's) moves the loss by
    // ~1e-7 and the weights by ~1e-8 per step; these bounds are 10-100x that and far below any real disagreement
    // (a wrong gradient moves weights by ~lr * |g| ~ 1e-3).
    // Adam divides by sqrt(v), so a rounding difference in a small gradient moves its update more: its bound is 1 % of
    // the ~2e-3 its two steps move a weight.
    for (const [optimizer, steps, lossTol, weightTol] of [["sgd", 1, 1e-5, 2e-6], ["momentum", 2, 1e-5, 2e-6], ["adam", 2, 1e-5, 2e-5]] as [LocalOptimizer, number, number, number][]) {
      it(`${steps} ${optimizer} step(s) of the paper's CNN give the same loss (within ${lossTol}) and weights (within ${weightTol}) on both backends`, async () => {
        const native = await train("tensorflow", optimizer, steps);
        const wasm = await train("wasm", optimizer, steps);
        expect(Math.abs(native.loss - wasm.loss), `loss ${native.loss} vs ${wasm.loss}`).to.be.below(lossTol);
        expect(maxAbsDiff(native.weights, wasm.weights)).to.be.below(weightTol);
        expect(maxAbsDiff(native.weights, init), "the step moved the weights").to.be.above(50 * weightTol);
      });
    }

    it("the patched kernels (ReLU gradient, oneDNN max-pool gradient) give exactly the gradient of relu then 2x2 max pooling", async () => {
      await activateBackend("tensorflow");
      expect(tensorflowPatches.reluGrad).to.equal(true);
      expect(tensorflowPatches.oneDnnMaxPoolGrad, "oneDNN's max-pool ops run with this libtensorflow").to.equal(true);
      const [n, h, w, c] = [2, 8, 8, 3];
      const rng = mulberry32(21);
      // Values on a coarse grid, so that windows hold ties (all-zero windows after the ReLU among them).
      const x = Float32Array.from({ length: n * h * w * c }, () => Math.round(rng() * 6 - 3));
      const dy = Float32Array.from({ length: (n * h * w * c) / 4 }, () => rng() * 2 - 1);
      const got = tf.tidy(() => {
        const f = (t: tf.Tensor) => tf.maxPool(tf.relu(t) as tf.Tensor4D, 2, 2, "valid").mul(tf.tensor4d(dy, [n, h / 2, w / 2, c])).sum();
        return Array.from(tf.grad(f)(tf.tensor4d(x, [n, h, w, c])).dataSync());
      });
      // By hand: each window's dy goes to its first maximum (row by row) of relu(x), and on through the ReLU where x > 0.
      const at = (b: number, i: number, j: number, k: number) => ((b * h + i) * w + j) * c + k;
      const want = new Array<number>(x.length).fill(0);
      for (let b = 0; b < n; b++)
        for (let i = 0; i < h; i += 2)
          for (let j = 0; j < w; j += 2)
            for (let k = 0; k < c; k++) {
              let best = at(b, i, j, k);
              for (const [di, dj] of [[0, 1], [1, 0], [1, 1]]) if (Math.max(0, x[at(b, i + di, j + dj, k)]) > Math.max(0, x[best])) best = at(b, i + di, j + dj, k);
              if (x[best] > 0) want[best] += dy[((b * (h / 2) + i / 2) * (w / 2) + j / 2) * c + k];
            }
      expect(got).to.deep.equal(want.map((v) => Math.fround(v)));
      expect(got.some((v) => v !== 0)).to.equal(true);
    });

    it("training is bit-reproducible on tfjs-node (same weights, seed and thread count give the same bits)", async () => {
      const a = await train("tensorflow", "adam", 2);
      const b = await train("tensorflow", "adam", 2);
      expect(sameBits(a.weights, b.weights)).to.equal(true);
      expect(a.loss).to.equal(b.loss);
    });
  });

  it("training is bit-reproducible on wasm", async () => {
    const a = await train("wasm", "adam", 2);
    const b = await train("wasm", "adam", 2);
    expect(sameBits(a.weights, b.weights)).to.equal(true);
  });
});
