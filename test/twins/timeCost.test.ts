/**
 * The time-cost model (Eqs. 7-18) against values worked out by hand (an independent Python computation of the same
 * formulas on a two-BS, three-twin scenario with unit fading gains), the constraint errors, and monotonicity.
 */
import { expect } from "chai";
import { DEFAULT_CONSTANTS, type SystemConstants } from "../../src/twins/constants";
import type { Scenario } from "../../src/twins/scenario";
import { generateScenario } from "../../src/twins/scenario";
import type { Allocation, SlotState } from "../../src/twins/state";
import { InfeasibleAllocationError, timeCost, thetaG } from "../../src/twins/timeCost";
import { downlinkRatesBps, uplinkRatesBps } from "../../src/twins/wireless";
import { initialState } from "../../src/twins/mdp";
import { mulberry32, randInt } from "../../src/twins/random";
import { noisePowerWatts, dbmToWatts } from "../../src/twins/units";

const TINY_CONSTANTS: SystemConstants = {
  ...DEFAULT_CONSTANTS,
  subchannels: 2,
  subchannelBandwidthHz: 1e6,
  noiseDbmPerHz: -174,
  pathLossExponent: 2,
  bsTxPowerDbm: 30,
  mbsTxPowerDbm: 40,
  xi: 1,
  trainCyclesPerSample: 10,
  aggregationCyclesPerBit: 1,
  validationCyclesPerBit: 2,
  modelSizeBits: 1e6,
  blockSizeBits: 1e5,
  blockProducers: 2,
  minBatchSize: 1,
  maxBatchSize: 100,
  thetaThreshold: 0.5,
  thetaMax: 0.9,
  thetaBatchScale: 10,
};

const TINY: Scenario = {
  mbs: { position: { xMetres: 0, yMetres: 0 }, txPowerDbm: 40 },
  bss: [
    { id: 0, position: { xMetres: 100, yMetres: 0 }, cpuHz: 1e9, txPowerDbm: 30 },
    { id: 1, position: { xMetres: 0, yMetres: 200 }, cpuHz: 2e9, txPowerDbm: 30 },
  ],
  users: [
    { id: 0, position: { xMetres: 90, yMetres: 0 }, dataSamples: 100 },
    { id: 1, position: { xMetres: 110, yMetres: 0 }, dataSamples: 200 },
    { id: 2, position: { xMetres: 0, yMetres: 190 }, dataSamples: 300 },
  ],
  interferers: [],
  constants: TINY_CONSTANTS,
};

const ones = (r: number, c: number) => Array.from({ length: r }, () => Array<number>(c).fill(1));
const TINY_STATE: SlotState = {
  slot: 0,
  cpuAvailability: [1, 1],
  dataSamples: [100, 200, 300],
  channel: { uplink: ones(2, 2), downlink: ones(2, 2), interfererToMbs: [], interfererToBs: [] },
  association: [0, 0, 1],
};
const TINY_ALLOCATION: Allocation = {
  association: [0, 0, 1],
  batchSize: [10, 20, 30],
  tau: [
    [0.5, 0.25],
    [0.5, 0.75],
  ],
};

const close = (actual: number, expected: number, rel = 1e-9) => expect(actual).to.be.closeTo(expected, Math.abs(expected) * rel);

describe("time-cost model (Eqs. 7-18) worked by hand", () => {
  it("noise power is N0 [dBm/Hz] times W, and dBm converts to watts", () => {
    close(noisePowerWatts(-174, 1e6), 3.981071705534986e-15);
    close(dbmToWatts(34), 2.5118864315095806);
  });

  it("Eq. 7 uplink and Eq. 8 downlink rates", () => {
    const up = uplinkRatesBps(TINY, TINY_STATE.channel, TINY_ALLOCATION.tau);
    close(up[0], 25911039.1401645);
    close(up[1], 40685065.23382288);
    const down = downlinkRatesBps(TINY, TINY_STATE.channel);
    close(down[0], 75739960.56344333);
    close(down[1], 71739960.5634778);
  });

  it("Eqs. 12, 14, 15, 16, 17, 18 per BS and for the system", () => {
    const c = timeCost(TINY, TINY_STATE, TINY_ALLOCATION);
    close(c.perBs[0].localTrainingSeconds, 5e-5); // (10*100 + 20*200) * 10 / 1e9
    close(c.perBs[1].localTrainingSeconds, 4.5e-5); // 30*300*10 / 2e9
    close(c.perBs[0].aggregationSeconds, 0.002); // 2 * 1e6 * 1 / 1e9
    close(c.perBs[1].aggregationSeconds, 0.0005);
    close(c.perBs[0].transmissionSeconds, 0.07718717837525149); // 1 * log2(2) * 2 * 1e6 / R_U0
    close(c.perBs[1].transmissionSeconds, 0.024579043790463582);
    close(c.perBs[0].blockBroadcastSeconds, 0.0013203069985260334);
    close(c.perBs[1].blockBroadcastSeconds, 0.0013939232641690235);
    close(c.perBs[0].blockValidationSeconds, 0.0002);
    close(c.perBs[1].blockValidationSeconds, 0.0001);
    close(c.perBs[0].totalSeconds, 0.08075748537377753);
    close(c.perBs[1].totalSeconds, 0.026617967054632607);
    close(c.blockValidationSeconds, 0.0015939232641690236);
    close(c.iterationSeconds, 0.0808311016394205);
    close(c.meanBatchSize, 23.333333333333332);
    close(c.thetaG, 0.8127252289220355);
    close(c.objectiveSeconds, 0.43161767692547137);
    expect(c.slowestBs).to.equal(0);
    expect(c.perBs.map((b) => b.twins)).to.deep.equal([2, 1]);
    expect(c.perBs.map((b) => b.samples)).to.deep.equal([300, 300]);
  });

  it("interference from a neighbouring-cell BS lowers the uplink SINR by its mean power", () => {
    const withInterferer: Scenario = {
      ...TINY,
      interferers: [{ position: { xMetres: -1000, yMetres: 0 }, txPowerDbm: 30, dutyCycle: 0.5 }],
    };
    const channel = { ...TINY_STATE.channel, interfererToMbs: ones(1, 2), interfererToBs: [ones(2, 2)] };
    const up = uplinkRatesBps(withInterferer, channel, TINY_ALLOCATION.tau);
    const interference = 0.5 * 1 * 1000 ** -2; // duty * P * g * r^-alpha
    const sinr0 = 1e-4 / (interference + noisePowerWatts(-174, 1e6));
    close(up[0], 0.75 * 1e6 * Math.log2(1 + sinr0));
  });
});

describe("extension: twin data sync on a move (constants.twinSyncBitsPerSample)", () => {
  const SYNC: Scenario = { ...TINY, constants: { ...TINY_CONSTANTS, twinSyncBitsPerSample: 1000 } };
  // Twin 1 (200 samples) moves from BS 0 to BS 1.
  const moved: Allocation = { ...TINY_ALLOCATION, association: [0, 1, 1] };

  it("is absent from the paper's model: moving a twin costs nothing beyond Eqs. 12-18", () => {
    const c = timeCost(TINY, TINY_STATE, moved);
    expect(c.twinSyncSeconds).to.equal(0);
    close(c.objectiveSeconds, c.iterationSeconds * c.globalIterations);
  });

  it("charges the new BS the moved twin's data over its downlink R^D_i, once per slot on top of Eq. 18", () => {
    const paper = timeCost(TINY, TINY_STATE, moved);
    const c = timeCost(SYNC, TINY_STATE, moved);
    const down = downlinkRatesBps(SYNC, TINY_STATE.channel);
    close(c.perBs[1].twinSyncSeconds, (200 * 1000) / down[1]);
    expect(c.perBs[0].twinSyncSeconds).to.equal(0);
    close(c.twinSyncSeconds, (200 * 1000) / down[1]);
    close(c.objectiveSeconds, paper.objectiveSeconds + c.twinSyncSeconds);
    // Per-iteration T_i and Eq. 17 are unchanged: the sync happens once, before the slot's training.
    close(c.iterationSeconds, paper.iterationSeconds);
  });

  it("an unmoved association pays nothing: the cost depends on the previous slot's association", () => {
    expect(timeCost(SYNC, TINY_STATE, TINY_ALLOCATION).twinSyncSeconds).to.equal(0);
    const after = { ...TINY_STATE, association: [0, 1, 1] };
    expect(timeCost(SYNC, after, moved).twinSyncSeconds).to.equal(0);
    expect(timeCost(SYNC, after, TINY_ALLOCATION).twinSyncSeconds).to.be.above(0);
  });
});

describe("constraints 18a-18d", () => {
  const expectConstraint = (a: Partial<Allocation>, constraint: string, pattern: RegExp) => {
    try {
      timeCost(TINY, TINY_STATE, { ...TINY_ALLOCATION, ...a });
      expect.fail("expected an InfeasibleAllocationError");
    } catch (e) {
      expect(e).to.be.instanceOf(InfeasibleAllocationError);
      expect((e as InfeasibleAllocationError).constraint).to.equal(constraint);
      expect((e as Error).message).to.match(pattern);
    }
  };

  it("18a: theta_G below theta_th", () => expectConstraint({ batchSize: [1, 1, 1] }, "18a", /theta_G = 0\.0856 < theta_th = 0\.5/));
  it("18b: a twin on no BS", () => expectConstraint({ association: [0, 2, 1] }, "18b", /twin 1 is associated with BS 2/));
  it("18c: a subchannel shared beyond its time", () =>
    expectConstraint({ tau: [[0.6, 0.25], [0.5, 0.75]] }, "18c", /subchannel 0 .* = 1\.100000 > 1/));
  it("18c: a fraction outside [0, 1]", () => expectConstraint({ tau: [[-0.1, 0.25], [0.5, 0.75]] }, "18c", /tau\[0\]\[0\] = -0\.1/));
  it("18d: a batch size out of range", () => expectConstraint({ batchSize: [10, 101, 30] }, "18d", /twin 1 has batch size 101; it must be in \[1, 100\]/));
  it("shape: wrong number of twins", () => expectConstraint({ association: [0, 1] }, "shape", /association lists 2 twins; the state has 3/));
  it("uplink: a BS with twins but no uplink time", () => expectConstraint({ tau: [[0, 0], [1, 1]] }, "uplink", /BS 0 hosts 2 twins but has no uplink time/));
  it("theta_G is the data-weighted mean batch through theta_max (1 - exp(-b/b0))", () => {
    const { theta, meanBatch } = thetaG(TINY, [1, 3], [10, 30]);
    close(meanBatch, 25);
    close(theta, 0.9 * (1 - Math.exp(-2.5)));
  });
});

describe("monotonicity (seeded property tests on the default scenario)", () => {
  const scenario = generateScenario({ seed: 7 });
  const m = scenario.bss.length;
  const C = scenario.constants.subchannels;

  function randomAllocation(rng: () => number, state: SlotState): Allocation {
    const association = state.dataSamples.map(() => randInt(rng, 0, m - 1));
    const batchSize = state.dataSamples.map(() => randInt(rng, 48, scenario.constants.maxBatchSize));
    const tau = Array.from({ length: m }, () => Array<number>(C).fill(0));
    for (let c = 0; c < C; c++) {
      const w = Array.from({ length: m }, () => 0.05 + rng());
      const total = w.reduce((s, x) => s + x, 0) * (1 + rng()); // leave some time unused
      w.forEach((x, i) => (tau[i][c] = x / total));
    }
    return { association, batchSize, tau };
  }

  it("more bandwidth never slows a BS down (200 random allocations)", () => {
    const rng = mulberry32(11);
    for (let trial = 0; trial < 200; trial++) {
      const state = initialState(scenario, rng);
      const a = randomAllocation(rng, state);
      const before = timeCost(scenario, state, a);
      const i = randInt(rng, 0, m - 1);
      const c = randInt(rng, 0, C - 1);
      const free = 1 - a.tau.reduce((s, row) => s + row[c], 0);
      const more = { ...a, tau: a.tau.map((row, j) => row.map((t, k) => (j === i && k === c ? t + free * rng() : t))) };
      const after = timeCost(scenario, state, more);
      expect(after.perBs[i].totalSeconds).to.be.at.most(before.perBs[i].totalSeconds + 1e-12);
      expect(after.objectiveSeconds).to.be.at.most(before.objectiveSeconds + 1e-12);
    }
  });

  it("an extra twin never speeds a BS up (200 random allocations)", () => {
    const rng = mulberry32(12);
    for (let trial = 0; trial < 200; trial++) {
      const state = initialState(scenario, rng);
      const a = randomAllocation(rng, state);
      const i = randInt(rng, 0, m - 1);
      const movable = a.association.findIndex((bs) => bs !== i);
      if (movable < 0) continue;
      const before = timeCost(scenario, state, a);
      const moved = { ...a, association: a.association.map((bs, n) => (n === movable ? i : bs)) };
      const after = timeCost(scenario, state, moved);
      expect(after.perBs[i].totalSeconds).to.be.at.least(before.perBs[i].totalSeconds - 1e-12);
      expect(after.perBs[i].localTrainingSeconds).to.be.above(before.perBs[i].localTrainingSeconds);
    }
  });
});
