/**
 * `dtwn compare`'s output (pure files, no runs): on hand-made runs of two associations and a comparator it writes
 * Fig. 5 (measured, and the model's T on its own axis), Fig. 6 and comparison.md with the means per association;
 * readComparison reads the folder back for --replot, and names what is missing.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { predictedT, readComparison, writeComparison, type Comparison } from "../../src/system/compare";
import type { RunMetrics } from "../../src/system/metrics";

/** A run whose round r took seconds[r-1] on the wall clock; its BSs predicted the totals in predicted[r-1]. */
function run(seconds: number[], predicted: number[][], loss: number[]): RunMetrics {
  return {
    rounds: seconds.map((s, k) => ({
      round: k + 1,
      mbs: { seconds: s, testAccuracy: 0.6 + 0.05 * k, testLoss: loss[k] },
      agents: predicted[k].map((t, bs) => ({ bs, predicted: { localTrainingSeconds: t, aggregationSeconds: 0, transmissionSeconds: 0, blockBroadcastSeconds: 0, blockValidationSeconds: 0, totalSeconds: t } })),
    })),
  } as unknown as RunMetrics;
}

describe("system/compare (Figs. 5 and 6 of the running system)", () => {
  let dir: string;
  const c: Comparison = {
    runs: [
      { policy: "maddpg", metrics: run([70, 74], [[2.0, 2.5], [2.1, 2.3]], [1.1, 0.9]) },
      { policy: "average", metrics: run([60, 64], [[3.0, 2.9], [0, 0]], [1.2, 1.0]) }, // round 2: nothing priced
    ],
    fullData: [
      { round: 1, testAccuracy: 0.61, testLoss: 1.15, seconds: 30 },
      { round: 2, testAccuracy: 0.7, testLoss: 0.95, seconds: 34 },
    ],
  };

  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-compare-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes Fig. 5 measured, Fig. 5 model T, Fig. 6 (SVG + PNG) and a table of the means", () => {
    const files = writeComparison(dir, c).map((f) => path.basename(f));
    expect(files).to.deep.equal([
      "fig5-time-per-round.svg", "fig5-time-per-round.png", "fig5-model-time-per-round.svg", "fig5-model-time-per-round.png",
      "fig6-loss-per-round.svg", "fig6-loss-per-round.png", "fig6-accuracy-per-round.svg", "fig6-accuracy-per-round.png", "comparison.md",
    ]);
    const md = fs.readFileSync(path.join(dir, "comparison.md"), "utf8");
    // measured mean 72 s; model T per round = the slowest BS's prediction: mean of 2.5 and 2.3
    expect(md).to.include("| maddpg | 1 | 2 | 72.0 | 2.40 | 65.00 | 0.9000 |");
    // rounds without a prediction are left out of the model's mean, not counted as 0
    expect(md).to.include("| average | 1 | 2 | 62.0 | 3.00 | 65.00 | 1.0000 |");
    expect(md).to.include("| full-data FedAvg (no chain) | 1 | 2 | 32.0 | - | 70.00 | 0.9500 |");
    // measured, average is faster; the model ranks MADDPG first: the comparison says they differ
    expect(md).to.include("Fastest to slowest, measured: average < maddpg; by the model's T: maddpg < average. The rankings differ.");
    expect(md).to.include("MADDPG / average: 1.161 measured, 0.800 by the model's T.");
    const fig6 = fs.readFileSync(path.join(dir, "fig6-loss-per-round.svg"), "utf8");
    for (const label of ["maddpg", "average", "full-data FedAvg"]) expect(fig6).to.include(label);
    expect(fs.readFileSync(path.join(dir, "fig5-model-time-per-round.svg"), "utf8")).to.include("Eq. 17");
  });

  it("over several seeds: 95 % intervals of the per-seed means, the rankings, and runs read back from their seed folders", () => {
    const seeds: Comparison = {
      testbed: "emulated",
      runs: [
        { policy: "maddpg", seed: 1, dir: "seed-1/maddpg", metrics: run([50, 50], [[2, 2], [2, 2]], [1.0, 0.8]) },
        { policy: "average", seed: 1, dir: "seed-1/average", metrics: run([60, 60], [[3, 3], [3, 3]], [1.0, 0.9]) },
        { policy: "maddpg", seed: 2, dir: "seed-2/maddpg", metrics: run([54, 54], [[2.2, 2], [2.2, 2]], [1.0, 0.7]) },
        { policy: "average", seed: 2, dir: "seed-2/average", metrics: run([64, 64], [[3.2, 3], [3.2, 3]], [1.0, 0.9]) },
      ],
      fullData: [],
    };
    writeComparison(dir, seeds);
    const md = fs.readFileSync(path.join(dir, "comparison.md"), "utf8");
    // per-seed means 50 and 54: mean 52, t(0.975, 1) = 12.706, sd = 2.828, half width = 12.706 * 2.828 / sqrt(2) = 25.41
    expect(md).to.include("| maddpg | 2 | 2 | 52.0 [26.6, 77.4] | 2.10 [0.83, 3.37] |");
    expect(md).to.include("The rankings are the same.");
    expect(md).to.include("on the emulated testbed");
    for (const r of seeds.runs) {
      fs.mkdirSync(path.join(dir, r.dir as string), { recursive: true });
      fs.writeFileSync(path.join(dir, r.dir as string, "metrics.json"), JSON.stringify(r.metrics));
    }
    const back = readComparison(dir);
    expect(back.runs.map((r) => `${r.policy}@${r.seed}`)).to.deep.equal(["maddpg@1", "average@1", "maddpg@2", "average@2"]);
    expect(back.testbed).to.equal("emulated");
  });

  it("on the testbed over several seeds: xi fitted on the first seed's runs, and the other seeds' fidelity with it", () => {
    // Two BSs; each fetches the other's twin models in `factor` x the model's upload (slowdown 10 x transmission).
    const tb = (seed: number, factor: number): Comparison["runs"][number] => {
      const agents = [0, 1].map((bs) => ({
        bs, submitted: true, trainingSeconds: 2, resumed: [], twins: 2,
        measured: { train: 2.5, upload: 0.2 },
        predicted: { localTrainingSeconds: 2, aggregationSeconds: 0, transmissionSeconds: 0.1 * (bs + 1), blockBroadcastSeconds: 0, blockValidationSeconds: 0, totalSeconds: 2 + 0.1 * (bs + 1) },
        verdicts: [{ bs: 1 - bs, pass: true, accuracy: 0.8, reference: 0.8, fetchSeconds: factor * 10 * 0.1 * (2 - bs) }],
      }));
      const metrics = { options: {}, testbed: { coreHz: 1, linkSlowdown: 10 }, rounds: [{ round: 1, mbs: { seconds: 30, testAccuracy: 0.6, testLoss: 1 }, agents }] } as unknown as RunMetrics;
      return { policy: "average", seed, dir: `seed-${seed}/average`, metrics };
    };
    writeComparison(dir, { testbed: "emulated", fullData: [], runs: [tb(1, 2), tb(2, 2), tb(3, 2)] });
    const md = fs.readFileSync(path.join(dir, "comparison.md"), "utf8");
    // at the runs' xi = 1 every upload is 2x the model's: MAPE 50 %; with xi = 2 from seed 1, seeds 2-3 are exact
    expect(md).to.match(/\| upload \| 6 \| 1\.000 \| 50\.0 % \| not met \|/);
    expect(md).to.include("fitted on seed 1's 1 runs (2.000; the runs used 1), over the other 2 runs");
    expect(md).to.match(/\| upload \| 4 \| 1\.000 \| 0\.0 % \| met \|/);
    // one seed: nothing is held out
    writeComparison(dir, { testbed: "emulated", fullData: [], runs: [tb(1, 2)] });
    expect(fs.readFileSync(path.join(dir, "comparison.md"), "utf8")).not.to.include("fitted on seed");
  });

  it("the model's T is Eq. 17's sum of the slowest BS's terms, with the link terms in testbed time on the testbed", () => {
    const p = (train: number, send: number) => ({ localTrainingSeconds: train, aggregationSeconds: 0.1, transmissionSeconds: send, blockBroadcastSeconds: 0.01, blockValidationSeconds: 0.02, totalSeconds: train + 0.1 + send + 0.03 });
    const m = { rounds: [{ round: 1, mbs: {}, agents: [{ bs: 0, predicted: p(5, 1) }, { bs: 1, predicted: p(3, 2) }] }] } as unknown as RunMetrics;
    expect(predictedT(m, 1)).to.be.closeTo(5 + 0.1 + 2 + 0.01 + 0.02, 1e-12); // not the slowest BS's own total (6.13)
    expect(predictedT({ ...m, testbed: { coreHz: 1, linkSlowdown: 20 } }, 1)).to.be.closeTo(5 + 0.1 + 20 * (2 + 0.01) + 0.02, 1e-12);
    expect(predictedT(m, 2)).to.equal(undefined);
  });

  it("reads a comparison folder back (for --replot) and says what is missing", () => {
    expect(() => readComparison(dir)).to.throw(/holds no comparison \(no comparison.json\); run `dtwn compare -o/);
    writeComparison(dir, c);
    for (const { policy, metrics } of c.runs) {
      fs.mkdirSync(path.join(dir, policy));
      fs.writeFileSync(path.join(dir, policy, "metrics.json"), JSON.stringify(metrics));
    }
    const back = readComparison(dir);
    expect(back.runs.map((r) => r.policy)).to.deep.equal(["maddpg", "average"]);
    expect(back.runs[0].metrics.rounds[1].mbs.seconds).to.equal(74);
    expect(back.fullData).to.deep.equal(c.fullData);
    fs.rmSync(path.join(dir, "average", "metrics.json"));
    expect(() => readComparison(dir)).to.throw(/average\/metrics.json is missing/);
  });
});
