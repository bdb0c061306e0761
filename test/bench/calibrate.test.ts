import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { calibratedTraining, calibratedTrainCycles, checkCalibrationFits, fitTrainingTime, machineCoreHz, readCalibration, type Calibration } from "../../src/bench/calibrate";
import { trainCyclesPerSampleOf } from "../../src/twins/work";

const SAMPLE: Calibration = {
  dataset: "fashion-mnist 28x28x1",
  optimizer: "adam",
  backend: "tensorflow",
  machine: { cpu: "x", cores: 2, hostname: "h" },
  measuredAt: "2026-12-02T00:00:00.000Z",
  referenceSamples: 600,
  batches: [{ batchSize: 32, samplesPerSecond: 400, overheadSeconds: 0.05, steps: 16, seconds: 1.33 }],
  samplesPerSecond: 400,
  stepSeconds: 0.01,
  overheadSeconds: 0.05,
  coreHz: 2.4e9,
  coreHzSource: "test",
};

describe("src/bench/calibrate", () => {
  it("fits t = o + s (c0 + b / v) with the least relative error (exact on measurements that follow it)", () => {
    const pts = [16, 32, 64, 128].flatMap((b) => [4, 16].map((steps) => ({ steps, batchSize: b, seconds: 0.05 + steps * (0.012 + b / 900) })));
    const f = fitTrainingTime(pts);
    expect(f.samplesPerSecond).to.be.closeTo(900, 1e-6);
    expect(f.stepSeconds).to.be.closeTo(0.012, 1e-9);
    expect(f.overheadSeconds).to.be.closeTo(0.05, 1e-9);
  });

  it("drops a term the measurements make negative instead of predicting negative seconds", () => {
    const pts = [16, 64].flatMap((b) => [4, 16].map((steps) => ({ steps, batchSize: b, seconds: Math.max(0.01, -0.02 + steps * (0.01 + b / 1000)) })));
    const f = fitTrainingTime(pts);
    expect(f.overheadSeconds).to.equal(0);
    expect(f.stepSeconds).to.be.at.least(0);
  });

  it("refuses measurements that cannot separate the terms", () => {
    expect(() => fitTrainingTime([{ steps: 4, batchSize: 32, seconds: 1 }, { steps: 4, batchSize: 32, seconds: 1.1 }])).to.throw(/two batch sizes and two step counts/);
  });

  it("turns a calibration into Eq. 12's f^C for a run's s_ref", () => {
    expect(calibratedTrainCycles(SAMPLE, 10)).to.be.closeTo(trainCyclesPerSampleOf(400, 2.4e9, 10, 600), 1e-6);
  });

  it("gives Eq. 12's b^0 = c0 v and f^T = o f against the clock asked for", () => {
    const k = calibratedTraining(SAMPLE, 10, 8e9);
    expect(k.trainStepSamples).to.be.closeTo(4, 1e-9);
    expect(k.trainTwinCycles).to.be.closeTo(0.05 * 8e9, 1e-3);
    expect(k.trainCyclesPerSample).to.be.closeTo(trainCyclesPerSampleOf(400, 8e9, 10, 600), 1e-6);
  });

  it("refuses a calibration measured with another optimizer than the run's, and says how to measure the right one", () => {
    expect(() => checkCalibrationFits(SAMPLE, "c.json", "adam")).not.to.throw();
    expect(() => checkCalibrationFits(SAMPLE, "c.json", "sgd")).to.throw(/c\.json was measured with --optimizer adam[\s\S]*npx dtwn calibrate --optimizer sgd --out c\.json/);
  });

  it("reads the core clock from /proc/cpuinfo text", () => {
    expect(machineCoreHz("processor\t: 0\ncpu MHz\t\t: 2445.404\n")).to.be.closeTo(2.445404e9, 1);
    expect(machineCoreHz("no clock here")).to.equal(undefined);
  });

  it("reads a calibration back, and names the file and the bad fields of a malformed one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-cal-"));
    try {
      const good = path.join(dir, "c.json");
      fs.writeFileSync(good, JSON.stringify(SAMPLE));
      expect(readCalibration(good)).to.deep.equal(SAMPLE);
      const bad = path.join(dir, "bad.json");
      fs.writeFileSync(bad, JSON.stringify({ ...SAMPLE, samplesPerSecond: -1 }));
      expect(() => readCalibration(bad)).to.throw(/bad\.json is malformed[\s\S]*samplesPerSecond/);
      expect(() => readCalibration(path.join(dir, "none.json"))).to.throw(/npx dtwn calibrate/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
