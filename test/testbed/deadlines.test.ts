import { expect } from "chai";
import { DEADLINE_SLACK, submissionWindow } from "../../src/testbed/deadlines";
import type { BsCost, CostBreakdown } from "../../src/twins/timeCost";

const bs = (i: number, twins: number, train: number, downBps: number) => ({ bs: i, twins, localTrainingSeconds: train, downlinkRateBps: downBps }) as BsCost;

describe("src/testbed/deadlines: submission windows from the model", () => {
  it("is P + factor x the slowest BS's download and Eq. 12 + the fixed seconds; BSs without twins do not count", () => {
    const cost = { perBs: [bs(0, 3, 10, 1e8), bs(1, 5, 20, 2e8), bs(2, 0, 99, 1e6)] } as unknown as CostBreakdown;
    // BS 1: 20 * 1e8 / 2e8 = 10 s download + 20 s training = 30 s; BS 0: 20 s + 10 s = 30 s as well; BS 2 has no twins
    const w = submissionWindow(cost, { proposalSeconds: 20, linkSlowdown: 20, modelBits: 1e8 });
    expect(w.predictedSeconds).to.equal(30);
    expect(w.slowestBs).to.equal(0);
    expect(w.seconds).to.equal(Math.ceil(20 + DEADLINE_SLACK.factor * 30 + DEADLINE_SLACK.seconds));
    expect(submissionWindow(cost, { proposalSeconds: 0, linkSlowdown: 1, modelBits: 1e8 }, { factor: 1, seconds: 0 }).seconds).to.equal(21); // BS 1: 0.5 + 20
  });

  it("refuses options that cannot describe a testbed", () => {
    const cost = { perBs: [] } as unknown as CostBreakdown;
    expect(() => submissionWindow(cost, { proposalSeconds: 0, linkSlowdown: 0.5, modelBits: 1 })).to.throw(/bad options/);
  });
});

describe("src/testbed/launch: the verification window of an emulated run", () => {
  it("is a minute plus twice a BS's uploads ((M - 1) K + 1 models, K twice an even share) over the slowest shaped uplink, growing with the link slowdown", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { verificationWindowFor } = require("../../src/testbed/launch") as typeof import("../../src/testbed/launch");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildWorld } = require("../../src/system/world") as typeof import("../../src/system/world");
    const world = buildWorld({ users: 20, bss: 5, seed: 1, samplesPerUser: [400, 800], heldOutPerBs: 250 }, 60_000);
    const at1 = verificationWindowFor(world, 1);
    const at20 = verificationWindowFor(world, 20);
    // 20 twins on 5 BSs: K = 8, (5 - 1) x 8 + 1 = 33 models of 69 Mbit at a few hundred Mbit/s: about 7 s
    expect(at1).to.be.within(70, 85);
    expect(at20 - 60).to.be.closeTo(20 * (at1 - 60), 25);
  });

  it("waits for a model's next block for the verification window less the time to score and commit", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { fetchTimeoutFor, verificationWindowFor } = require("../../src/testbed/launch") as typeof import("../../src/testbed/launch");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildWorld } = require("../../src/system/world") as typeof import("../../src/system/world");
    const world = buildWorld({ users: 20, bss: 5, seed: 1, samplesPerUser: [400, 800], heldOutPerBs: 250 }, 60_000);
    expect(fetchTimeoutFor(verificationWindowFor(world, 20))).to.equal(1000 * (verificationWindowFor(world, 20) - 30));
    expect(fetchTimeoutFor(verificationWindowFor(world, 20))).to.be.above(fetchTimeoutFor(verificationWindowFor(world, 1)));
    expect(fetchTimeoutFor(verificationWindowFor(world, 1))).to.be.at.least(10_000); // never below the default
    expect(fetchTimeoutFor(200)).to.equal(170_000); // a window raised by --verification-window-seconds raises it too
  });
});
