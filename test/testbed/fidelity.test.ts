import { expect } from "chai";
import type { AgentRoundReport } from "../../src/agents/bsAgent";
import type { RoundMetrics } from "../../src/system/metrics";
import { fidelity, fidelityMarkdown, fitXi, mape, pearson, predictedBsSeconds, uplinkBytes, uplinkBytesMarkdown, withXiScaled } from "../../src/testbed/fidelity";

const predicted = (train: number, trans: number): AgentRoundReport["predicted"] => ({ localTrainingSeconds: train, aggregationSeconds: 0.01, transmissionSeconds: trans, blockBroadcastSeconds: 0.001, blockValidationSeconds: 0.02, totalSeconds: train + trans + 0.031 });

function agent(bs: number, train: number, measuredTrain: number, fetchOf: Record<number, number>, extra: Partial<AgentRoundReport> = {}): AgentRoundReport {
  return {
    bs,
    submitted: true,
    trainingSeconds: measuredTrain,
    predicted: predicted(train, 0.1 * (bs + 1)),
    measured: { observe: 0, act: 0, sync: 0, train: measuredTrain + 0.5, upload: 0.2, verify: 3, collect: 0, attest: 0 },
    resumed: [],
    verdicts: Object.entries(fetchOf).map(([b, s]) => ({ bs: Number(b), pass: true, accuracy: 0.8, reference: 0.8, fetchSeconds: s })),
    ...extra,
  } as AgentRoundReport;
}

describe("src/testbed/fidelity: the model's time against the testbed's", () => {
  it("Pearson's r and MAPE of known series", () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).to.be.closeTo(1, 1e-12);
    expect(pearson([1, 2, 3], [3, 2, 1])).to.be.closeTo(-1, 1e-12);
    expect(pearson([1, 1], [1, 2])).to.be.NaN;
    expect(pearson([1], [1])).to.be.NaN;
    expect(mape([{ predicted: 9, measured: 10 }, { predicted: 12, measured: 10 }])).to.be.closeTo(0.15, 1e-12);
    expect(() => pearson([1], [1, 2])).to.throw(/1 and 2 values/);
  });

  it("pairs each BS's Eq. 12 with its training seconds, slowdown x Eq. 15 with the slowest fetch of its twin models, and skips resumed or idle BSs", () => {
    const rounds = [
      { round: 1, agents: [agent(0, 2, 2.2, { 1: 1.1 }), agent(1, 4, 4.1, { 0: 3.0 })] },
      { round: 2, agents: [agent(0, 3, 3.3, { 1: 1.2 }, { resumed: ["commit"] }), agent(1, 5, 5.2, { 0: 2.9 }), agent(2, 1, 0, {}, { submitted: false })] },
    ] as unknown as RoundMetrics[];
    const [training, upload, bsRound] = fidelity(rounds, 10);
    expect(training.pairs.map((p) => [p.round, p.bs, p.predicted, p.measured])).to.deep.equal([
      [1, 0, 2, 2.2],
      [1, 1, 4, 4.1],
      [2, 1, 5, 5.2],
    ]);
    // BS 0's model was fetched by BS 1 in 3.0 s; predicted 10 x 0.1 s
    expect(upload.pairs[0]).to.deep.equal({ round: 1, bs: 0, predicted: 1, measured: 3.0 });
    expect(bsRound.pairs[0].predicted).to.be.closeTo(predictedBsSeconds(predicted(2, 0.1), 10), 1e-12);
    expect(bsRound.pairs[0].measured).to.be.closeTo(2.7 + 0.2 + 3.0, 1e-12);
    expect(training.pearson).to.be.greaterThan(0.99);
    expect(fidelityMarkdown([training, upload, bsRound])).to.match(/\| training \| 3 \| 0\.99\d \| 5\.1 % \| met \|/);
  });

  it("puts each BS's measured uplink bytes next to Eq. 15's (T^pt x R^U) and the protocol's (M - 1) K_i + 1 models", () => {
    const rounds = [{ round: 1, agents: [agent(0, 2, 2, {}, { twins: 3 }), agent(1, 2, 2, {}, { submitted: false })] }] as unknown as RoundMetrics[];
    const traffic = [
      { round: 1, bs: 0, uplinkBytes: 13e6, uplinkModelBps: 8e8 },
      { round: 1, bs: 1, uplinkBytes: 1e3, uplinkModelBps: 8e8 },
    ];
    const rows = uplinkBytes(rounds, traffic, 6.5e6, 2);
    // BS 0: T^pt = 0.1 s at 800 Mbit/s = 10 MB; its 3 twin models to the 1 verifier and its model to the MBS:
    // 4 x 6.5 MB = 26 MB; BS 1 did not submit
    expect(rows).to.deep.equal([{ round: 1, bs: 0, measured: 13e6, eq15: 10e6, protocol: 26e6 }]);
    // a third BS whose agent was down sent no report: M is still 3 (2 verifiers get its 3 twin models, the MBS its model)
    expect(uplinkBytes(rounds, traffic, 6.5e6, 3)[0].protocol).to.equal(45.5e6);
    expect(uplinkBytesMarkdown(rows)).to.match(/23 % for Eq\. 15, 100 % for the protocol's count/);
    expect(uplinkBytesMarkdown([])).to.equal("");
  });

  it("fits xi of Eq. 15 to the measured uploads (least squares through the origin), from the xi the run used", () => {
    const upload = { term: "upload" as const, pairs: [{ round: 1, bs: 0, predicted: 2, measured: 3 }, { round: 1, bs: 1, predicted: 4, measured: 6 }], pearson: 1, mape: 0 };
    expect(fitXi(upload, 1)).to.be.closeTo(1.5, 1e-12); // measured = 1.5 x predicted at xi = 1
    expect(fitXi(upload, 2)).to.be.closeTo(3, 1e-12); // predicted were made with xi = 2: per unit of xi, half
    expect(fitXi({ ...upload, pairs: [] }, 1)).to.be.NaN;
    expect(() => fitXi({ ...upload, term: "training" } as never, 1)).to.throw(/expected the upload figure/);
  });

  it("rescales the link terms (Eqs. 15, 16) by a new xi and leaves training alone, so a fitted xi can be tested on runs it did not see", () => {
    const rounds = [{ round: 1, agents: [agent(0, 2, 2.2, { 1: 1.1 }), agent(1, 4, 4.1, { 0: 3.0 })] }] as unknown as RoundMetrics[];
    const scaled = withXiScaled(rounds, 3);
    const p = scaled[0].agents[0].predicted;
    expect(p.transmissionSeconds).to.be.closeTo(0.3, 1e-12);
    expect(p.blockBroadcastSeconds).to.be.closeTo(0.003, 1e-12);
    expect(p.totalSeconds).to.be.closeTo(2 + 0.3 + 0.003 + 0.03, 1e-12);
    expect(rounds[0].agents[0].predicted.transmissionSeconds).to.equal(0.1); // the input is not changed
    const [training, upload] = fidelity(scaled, 10);
    const [training0, upload0] = fidelity(rounds, 10);
    expect(training.pairs).to.deep.equal(training0.pairs);
    upload.pairs.forEach((x, k) => expect(x.predicted).to.be.closeTo(3 * upload0.pairs[k].predicted, 1e-12));
    expect(upload.pairs).to.have.length(2);
    // fitting on the rescaled rounds gives the fit on the originals divided by the factor
    expect(fitXi(upload, 1)).to.be.closeTo(fitXi(upload0, 1) / 3, 1e-12);
    expect(() => withXiScaled(rounds, 0)).to.throw(/positive/);
  });
});
