/** Dataset loaders on the real files (Fashion-MNIST ships in data/), the CIFAR-10 format, and the user partitions. */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { findFashionMnist, loadFashionMnist } from "../../src/fl/datasets/fashionMnist";
import { loadCifar10, parseCifar10 } from "../../src/fl/datasets/cifar10";
import { parseIdx } from "../../src/fl/datasets/idx";
import { syntheticDataset } from "../../src/fl/datasets/synthetic";
import { DatasetMissingError, subset } from "../../src/fl/datasets/types";
import { dirichletPartition, iidPartition, randGamma } from "../../src/fl/partition";
import { mulberry32 } from "../../src/twins/random";

describe("datasets", () => {
  it("loads the shipped Fashion-MNIST: 60,000 + 10,000 images of 28 x 28, 6,000 / 1,000 per class", function () {
    this.timeout(30_000);
    const d = loadFashionMnist();
    expect([d.train.count, d.test.count]).to.deep.equal([60_000, 10_000]);
    expect([d.train.height, d.train.width, d.train.channels]).to.deep.equal([28, 28, 1]);
    expect(d.train.images.length).to.equal(60_000 * 784);
    const perClass = (labels: Uint8Array) => Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length);
    expect(perClass(d.train.labels)).to.deep.equal(new Array(10).fill(6000));
    expect(perClass(d.test.labels)).to.deep.equal(new Array(10).fill(1000));
    expect(d.train.labels[0]).to.equal(9); // the first training image is an ankle boot
  });

  it("says how to install a missing dataset", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-nodata-"));
    try {
      expect(() => findFashionMnist([empty])).to.throw(DatasetMissingError, /apt-get install dataset-fashion-mnist.*DTWN_FASHION_MNIST_DIR/);
      expect(() => loadCifar10(empty)).to.throw(DatasetMissingError, /cifar-10-binary\.tar\.gz.*--cifar10-dir/);
      expect(() => loadCifar10(undefined)).to.throw(DatasetMissingError, /CIFAR-10 not found \(needs data_batch_1\.bin/);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it("parses IDX (plain and gzip) and rejects bad headers and sizes", () => {
    const idx = Buffer.from([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    for (const raw of [idx, zlib.gzipSync(idx)]) {
      const a = parseIdx(raw);
      expect(a.shape).to.deep.equal([2, 3]);
      expect(Array.from(a.data)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    }
    expect(() => parseIdx(Buffer.from([1, 2, 3, 4]))).to.throw(/not an IDX file/);
    expect(() => parseIdx(Buffer.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]))).to.throw(/type 0xd/);
    expect(() => parseIdx(idx.subarray(0, 16))).to.throw(/has 4 data bytes; its shape \[2, 3\] needs 6/);
  });

  it("reads CIFAR-10 binary records into channels-last images and loads a folder of batches", () => {
    const rec = new Uint8Array(3073);
    rec[0] = 7;
    rec[1] = 10; // red of pixel 0
    rec[1 + 1024] = 20; // green of pixel 0
    rec[1 + 2048 + 5] = 30; // blue of pixel 5
    const set = parseCifar10(Buffer.concat([rec, rec]));
    expect(set.count).to.equal(2);
    expect(Array.from(set.labels)).to.deep.equal([7, 7]);
    expect(Array.from(set.images.subarray(0, 3))).to.deep.equal([10, 20, 0]);
    expect(set.images[5 * 3 + 2]).to.equal(30);
    expect(() => parseCifar10(rec.subarray(1))).to.throw(/not a whole number of 3073-byte records/);
    const bad = rec.slice();
    bad[0] = 12;
    expect(() => parseCifar10(bad)).to.throw(/label 12/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-cifar-"));
    try {
      for (const f of ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"]) fs.writeFileSync(path.join(dir, f), Buffer.concat([rec, rec, rec]));
      const d = loadCifar10(dir);
      expect([d.train.count, d.test.count]).to.deep.equal([15, 3]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("synthetic data is seeded and class-balanced; subset copies the chosen samples", () => {
    const a = syntheticDataset({ train: 50, test: 10, seed: 3 });
    const b = syntheticDataset({ train: 50, test: 10, seed: 3 });
    expect(Buffer.from(a.train.images).equals(Buffer.from(b.train.images))).to.equal(true);
    const s = subset(a.train, [3, 13]);
    expect(Array.from(s.labels)).to.deep.equal([3, 3]);
    expect(Buffer.from(s.images.subarray(784)).equals(Buffer.from(a.train.images.subarray(13 * 784, 14 * 784)))).to.equal(true);
    expect(() => subset(a.train, [50])).to.throw(/index 50 is outside 0..49/);
  });
});

describe("user partitions", () => {
  it("IID: a permutation split into sizes differing by at most one", () => {
    const parts = iidPartition(1003, 10, mulberry32(1));
    const all = parts.flat().sort((x, y) => x - y);
    expect(all).to.deep.equal(Array.from({ length: 1003 }, (_, i) => i));
    const sizes = parts.map((p) => p.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).to.be.at.most(1);
    expect(() => iidPartition(5, 10, mulberry32(1))).to.throw(/5 samples cannot give each of 10 users/);
  });

  it("Dirichlet: every sample once, every user some data, and skew that grows as alpha falls", () => {
    const labels = Uint8Array.from({ length: 5000 }, (_, i) => i % 10);
    const classesPerUser = (alpha: number) => {
      const parts = dirichletPartition(labels, 10, 50, alpha, mulberry32(4));
      expect(parts.flat().sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 5000 }, (_, i) => i));
      expect(parts.every((p) => p.length > 0)).to.equal(true);
      // mean number of classes making up 90% of a user's data
      return parts.reduce((s, p) => {
        const counts = Array.from({ length: 10 }, (_, c) => p.filter((i) => labels[i] === c).length).sort((x, y) => y - x);
        let acc = 0;
        let k = 0;
        while (acc < 0.9 * p.length) acc += counts[k++];
        return s + k;
      }, 0) / parts.length;
    };
    expect(classesPerUser(0.1)).to.be.below(classesPerUser(100));
    expect(classesPerUser(100)).to.be.above(7);
    expect(() => dirichletPartition(labels, 10, 5, 0, mulberry32(1))).to.throw(/alpha must be a positive number/);
  });

  it("Gamma samples have mean shape (Marsaglia-Tsang, both branches)", () => {
    const rng = mulberry32(9);
    for (const shape of [0.3, 2.5]) {
      let s = 0;
      for (let i = 0; i < 20_000; i++) s += randGamma(rng, shape);
      expect(s / 20_000).to.be.closeTo(shape, 0.05 * shape + 0.02);
    }
  });
});
