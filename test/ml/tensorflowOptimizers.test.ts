/**
 * The fused TensorFlow optimisers of the tfjs-node backend (src/ml/tensorflowOptimizers.ts): they follow weights set
 * from outside between steps, and release what they hold. (That they give tfjs's updates is checked against the wasm
 * backend in test/ml/backends.test.ts.)
 */
import { expect } from "chai";
import { activateBackend, initBackend, tf, tfjsNodeStatus } from "../../src/ml/backend";
import { ResourceOptimizer } from "../../src/ml/tensorflowOptimizers";

describe("ResourceOptimizer (TensorFlow's fused update ops on tfjs-node)", () => {
  let previous: string;
  before(async function () {
    await initBackend("auto", () => undefined);
    if (!tfjsNodeStatus().available) this.skip(); // wasm-only installation
    previous = tf.getBackend();
    await activateBackend("tensorflow");
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });

  /** One SGD step of f(w) = sum(w * c) (gradient c) on `w`. */
  const step = (o: tf.Optimizer, w: tf.Variable, c: tf.Tensor) => o.minimize(() => w.mul(c).sum() as tf.Scalar, false, [w]);

  it("applies w - lr g, and follows a weight assigned from outside between steps", () => {
    const w = tf.variable(tf.tensor1d([1, 2, 3]), true, "dtwn_test_w");
    const c = tf.tensor1d([0.5, -1, 2]);
    const o = new ResourceOptimizer("sgd", 0.1);
    step(o, w, c);
    expect(Array.from(w.dataSync())).to.deep.equal([1 - 0.05, 2 + 0.1, 3 - 0.2].map(Math.fround));
    w.assign(tf.tensor1d([10, 20, 30])); // e.g. setModelWeights between twins
    step(o, w, c);
    expect(Array.from(w.dataSync())).to.deep.equal([10 - 0.05, 20 + 0.1, 30 - 0.2].map(Math.fround));
    o.dispose();
    w.dispose();
    c.dispose();
  });

  it("keeps no tfjs tensor after dispose (its resource variables are destroyed)", () => {
    const w = tf.variable(tf.randomNormal([64, 32]), true, "dtwn_test_w2");
    const c = tf.randomNormal([64, 32]);
    const before = tf.memory().numTensors;
    for (const kind of ["sgd", "momentum", "adam"] as const) {
      const o = new ResourceOptimizer(kind, 0.01);
      for (let k = 0; k < 3; k++) step(o, w, c);
      o.dispose();
    }
    expect(tf.memory().numTensors).to.equal(before);
    w.dispose();
    c.dispose();
  });

  it("refuses another backend with a clear error", async () => {
    await activateBackend("wasm");
    try {
      expect(() => new ResourceOptimizer("adam", 0.001)).to.throw(/needs the tensorflow backend \(tfjs-node\); the active backend is wasm/);
    } finally {
      await activateBackend("tensorflow");
    }
  });
});
