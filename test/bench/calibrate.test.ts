import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { calibratedTrainCycles, fitLine, machineCoreHz, readCalibration, type Calibration } from "../../src/bench/calibrate";
import { trainCyclesPerSampleOf } from "../../src/twins/work";

const SAMPLE: Calibration = {
  dataset: "fashion-mnist 28x28x1",
  backend: "tensorflow",
  machine: { cpu: "x", cores: 2, hostname: "h" },
  measuredAt: "2026-12-02T00:00:00.000Z",
  referenceSamples: 600,
  batches: [{ batchSize: 32, samplesPerSecond: 400, overheadSeconds: 0.05, steps: 16, seconds: 1.33 }],
  samplesPerSecond: 400,
  overheadSeconds: 0.05,
  coreHz: 2.4e9,
  coreHzSource: "test",
};

describe("src/bench/calibrate", () => {
  it("fits the line of least relative error (exact on points on a line)", () => {
    const pts = [100, 200, 400, 800].map((x) => ({ x, y: 0.2 + x / 500 }));
    const l = fitLine(pts);
    expect(l.intercept).to.be.closeTo(0.2, 1e-9);
    expect(1 / l.slope).to.be.closeTo(500, 1e-6);
    expect(() => fitLine([{ x: 1, y: 1 }, { x: 1, y: 2 }])).to.throw(/same x/);
  });

  it("turns a calibration into Eq. 12's f^C for a run's s_ref", () => {
    expect(calibratedTrainCycles(SAMPLE, 10)).to.be.closeTo(trainCyclesPerSampleOf(400, 2.4e9, 10, 600), 1e-6);
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
