/** The weights file format: round trip, and clear refusals of foreign, mismatched or damaged blobs. */
import { expect } from "chai";
import { decodeWeights, decodeWeightsHeader, encodeWeights, WeightsFormatError } from "../../src/fl/weightsFormat";
import { mulberry32, randNormal } from "../../src/twins/random";

describe("weights format", () => {
  const rng = mulberry32(2);
  const weights = [
    [5, 5, 1, 32],
    [32],
    [3, 3],
    [0],
  ].map((shape) => ({ shape, values: Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => randNormal(rng)) }));

  it("round-trips architecture, shapes and every float32 bit, with the data 4-byte aligned", () => {
    const blob = encodeWeights("paper-cnn-28x28x1", weights);
    expect(Buffer.from(blob.subarray(0, 4)).toString("ascii")).to.equal("DTWN");
    const { arch, weights: back } = decodeWeights(blob, { arch: "paper-cnn-28x28x1", shapes: weights.map((w) => w.shape) });
    expect(arch).to.equal("paper-cnn-28x28x1");
    expect(back.map((w) => w.shape)).to.deep.equal(weights.map((w) => w.shape));
    back.forEach((w, k) => expect(Buffer.from(w.values.buffer).equals(Buffer.from(weights[k].values.buffer))).to.equal(true));
    const h = new DataView(blob.buffer).getUint32(8, true);
    expect((12 + h) % 4).to.equal(0);
    expect(blob.length).to.equal(12 + h + 4 * (800 + 32 + 9));
    expect(decodeWeightsHeader(blob).dtype).to.equal("float32");
  });

  it("refuses another architecture or other layer shapes before reading values", () => {
    const blob = encodeWeights("paper-cnn-32x32x3", weights);
    expect(() => decodeWeights(blob, { arch: "paper-cnn-28x28x1" })).to.throw(WeightsFormatError, /architecture "paper-cnn-32x32x3", not "paper-cnn-28x28x1"/);
    expect(() => decodeWeights(blob, { shapes: [[5, 5, 1, 64], [64], [3, 3], [0]] })).to.throw(/layer shapes \[5,5,1,32\] \[32\] \[3,3\] \[0\]; this model needs \[5,5,1,64\]/);
  });

  it("refuses foreign, truncated, padded, future-version and malformed blobs with clear errors", () => {
    const blob = encodeWeights("a", weights);
    expect(() => decodeWeights(Buffer.from("hello world, not weights"))).to.throw(/Not a dtwn weights blob/);
    expect(() => decodeWeights(blob.subarray(0, blob.length - 4))).to.throw(/has \d+ data bytes; the header's shapes need \d+/);
    expect(() => decodeWeights(Buffer.concat([blob, Buffer.alloc(4)]))).to.throw(/data bytes/);
    const future = blob.slice();
    future[4] = 2;
    expect(() => decodeWeights(future)).to.throw(/version 2 is not supported/);
    expect(() => decodeWeights(blob.subarray(0, 20))).to.throw(/truncated: the header needs/);
    const bad = encodeWeights("a", weights);
    bad[12] = "x".charCodeAt(0);
    expect(() => decodeWeights(bad)).to.throw(/header is not valid JSON/);
    expect(() => encodeWeights("", weights)).to.throw(/architecture id is empty/);
    expect(() => encodeWeights("a", [{ shape: [2, 2], values: new Float32Array(3) }])).to.throw(/tensor 0 has 3 values for shape \[2, 2\]/);
  });
});
