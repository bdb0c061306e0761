import { expect } from "chai";
import { localStepsOf, trainCyclesPerSampleOf, trainedSamples, trainingConstantsOf, twinTrainCycles, withTrainCycles } from "../../src/twins/work";
import { DEFAULT_CONSTANTS } from "../../src/twins/constants";

describe("src/twins/work: Eq. 12's work in the running system", () => {
  it("trains s_ref mini-batches for a twin of D_ref samples and proportionally more or fewer for others", () => {
    expect(localStepsOf(600, 10)).to.equal(10);
    expect(localStepsOf(540, 10)).to.equal(9);
    expect(localStepsOf(1200, 10)).to.equal(20);
    expect(localStepsOf(10, 10)).to.equal(1); // at least one mini-batch
    expect(trainedSamples(32, 660, 10)).to.equal(32 * 11);
  });

  it("processes b_j D_j s_ref / D_ref samples, the work Eq. 12 prices, within the rounding of s_j", () => {
    for (const [b, d] of [[16, 500], [32, 573], [64, 700], [128, 611]]) {
      const exact = (b * d * 10) / 600;
      expect(Math.abs(trainedSamples(b, d, 10) - exact)).to.be.at.most(b / 2);
    }
  });

  it("f^C makes Eq. 12 give the seconds a core of v samples/s takes for that work", () => {
    const v = 400;
    const hz = 2.4e9;
    const fc = trainCyclesPerSampleOf(v, hz, 10);
    const b = 32;
    const d = 600;
    const eq12Seconds = (b * d * fc) / hz;
    expect(eq12Seconds).to.be.closeTo(trainedSamples(b, d, 10) / v, 1e-9);
    expect(withTrainCycles(DEFAULT_CONSTANTS, { trainCyclesPerSample: fc }).trainCyclesPerSample).to.equal(fc);
    expect(twinTrainCycles({ trainCyclesPerSample: fc }, b, d)).to.equal(b * d * fc); // the paper's Eq. 12 without the calibrated terms
    expect(withTrainCycles(DEFAULT_CONSTANTS, undefined)).to.equal(DEFAULT_CONSTANTS);
  });

  it("the calibrated terms make Eq. 12 give s_j (c0 + b_j / v) + o seconds, the time a twin was measured to take", () => {
    const hz = 2.4e9;
    const m = { samplesPerSecond: 900, stepSeconds: 0.012, twinSeconds: 0.05 };
    const k = trainingConstantsOf(m, hz, 10);
    expect(k.trainStepSamples).to.be.closeTo(10.8, 1e-9);
    for (const [b, d] of [[16, 600], [64, 1200], [128, 300]]) {
      const steps = (10 * d) / 600; // s_j before rounding
      expect(twinTrainCycles(k, b, d) / hz).to.be.closeTo(steps * (m.stepSeconds + b / m.samplesPerSecond) + m.twinSeconds, 1e-9);
    }
    const c = withTrainCycles(DEFAULT_CONSTANTS, k);
    expect([c.trainStepSamples, c.trainTwinCycles]).to.deep.equal([k.trainStepSamples, k.trainTwinCycles]);
    expect(() => trainingConstantsOf({ ...m, stepSeconds: -1 }, hz, 10)).to.throw(/>= 0/);
  });

  it("refuses arguments that cannot be a speed or a count", () => {
    expect(() => trainCyclesPerSampleOf(0, 1e9, 10)).to.throw(/positive/);
    expect(() => localStepsOf(100, 0)).to.throw(/bad arguments/);
  });
});

