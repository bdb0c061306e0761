/** The small simplex solver and the subchannel LP built on it. */
import { expect } from "chai";
import { maximiseLp, UnboundedLpError } from "../../../src/agents/association/lp";
import { optimalTau } from "../../../src/agents/association/subchannels";
import { generateScenario } from "../../../src/twins/scenario";
import { initialState } from "../../../src/twins/mdp";
import { mulberry32 } from "../../../src/twins/random";
import { uplinkRatesBps } from "../../../src/twins/wireless";

describe("maximiseLp", () => {
  it("solves a textbook LP (max 3x + 5y, x <= 4, 2y <= 12, 3x + 2y <= 18 -> x = 2, y = 6, value 36)", () => {
    const r = maximiseLp([3, 5], [[1, 0], [0, 2], [3, 2]], [4, 12, 18]);
    expect(r.x[0]).to.be.closeTo(2, 1e-9);
    expect(r.x[1]).to.be.closeTo(6, 1e-9);
    expect(r.value).to.be.closeTo(36, 1e-9);
  });

  it("returns the origin when no variable improves the objective", () => {
    const r = maximiseLp([-1, -2], [[1, 1]], [3]);
    expect(r.x).to.deep.equal([0, 0]);
    expect(r.value).to.equal(0);
  });

  it("terminates on a degenerate LP (Bland's rule) with the right optimum", () => {
    // Degenerate vertex at the origin: several constraints with b = 0.
    const r = maximiseLp([10, -57, -9, -24], [[0.5, -5.5, -2.5, 9], [0.5, -1.5, -0.5, 1], [1, 0, 0, 0]], [0, 0, 1]);
    expect(r.value).to.be.closeTo(1, 1e-9);
  });

  it("matches brute force over the vertices of random 2-variable LPs", () => {
    const rng = mulberry32(7);
    for (let trial = 0; trial < 50; trial++) {
      const c = [rng() * 2 - 0.5, rng() * 2 - 0.5];
      const A = Array.from({ length: 3 }, () => [rng() + 0.1, rng() + 0.1]);
      const b = A.map(() => rng() * 5 + 0.5);
      const r = maximiseLp(c, A, b);
      // Grid search over the feasible box as an independent check (coarse, so a tolerance).
      let best = 0;
      for (let x = 0; x <= 60; x += 0.05) {
        for (let y = 0; y <= 60; y += 0.05) {
          if (A.every((row, i) => row[0] * x + row[1] * y <= b[i] + 1e-12)) best = Math.max(best, c[0] * x + c[1] * y);
        }
        if (A.some((row, i) => row[0] * x > b[i])) break;
      }
      expect(r.value).to.be.at.least(best - 1e-9);
      expect(r.value).to.be.closeTo(best, 0.2);
      A.forEach((row, i) => expect(row[0] * r.x[0] + row[1] * r.x[1]).to.be.at.most(b[i] + 1e-9));
    }
  });

  it("reports an unbounded LP and rejects malformed input with clear errors", () => {
    expect(() => maximiseLp([1, 0], [[0, 1]], [1])).to.throw(UnboundedLpError, /unbounded/);
    expect(() => maximiseLp([1], [[1, 2]], [1])).to.throw(/constraint 0 has 2 coefficients; expected 1/);
    expect(() => maximiseLp([1], [[1]], [-1])).to.throw(/needs b >= 0/);
    expect(() => maximiseLp([1], [[1]], [1, 2])).to.throw(/1 constraint rows but 2 right-hand sides/);
  });
});

describe("optimalTau (subchannel market clearing)", () => {
  const scenario = generateScenario({ seed: 2 });
  const m = scenario.bss.length;
  const C = scenario.constants.subchannels;

  it("keeps 18c, serves every demand at rate >= lambda d_i, and gives nothing to BSs without demand", () => {
    const rng = mulberry32(3);
    for (let trial = 0; trial < 20; trial++) {
      const state = initialState(scenario, rng);
      const demands = Array.from({ length: m }, (_, i) => (i === trial % m ? 0 : 1 + Math.floor(rng() * 30)));
      const { tau, rateBpsPerDemand } = optimalTau(scenario, state, demands);
      for (let c = 0; c < C; c++) expect(tau.reduce((s, row) => s + row[c], 0)).to.be.at.most(1 + 1e-12);
      const rates = uplinkRatesBps(scenario, state.channel, tau);
      demands.forEach((d, i) => {
        if (d === 0) expect(tau[i].every((t) => t === 0)).to.equal(true);
        else expect(rates[i]).to.be.at.least(rateBpsPerDemand * d * (1 - 1e-6));
      });
    }
  });

  it("is at least as good as equal shares and as every one of 200 random share matrices", () => {
    const rng = mulberry32(11);
    const state = initialState(scenario, rng);
    const demands = [20, 20, 20, 20, 20];
    const slowest = (tau: number[][]) => Math.max(...uplinkRatesBps(scenario, state.channel, tau).map((r, i) => demands[i] / r));
    const lp = slowest(optimalTau(scenario, state, demands).tau);
    expect(lp).to.be.at.most(slowest(Array.from({ length: m }, () => new Array<number>(C).fill(1 / m))));
    for (let k = 0; k < 200; k++) {
      const tau = Array.from({ length: m }, () => Array.from({ length: C }, () => rng()));
      for (let c = 0; c < C; c++) {
        const s = tau.reduce((acc, row) => acc + row[c], 0);
        tau.forEach((row) => (row[c] /= s));
      }
      expect(lp).to.be.at.most(slowest(tau) * (1 + 1e-9));
    }
  });

  it("rejects demands of the wrong length or sign", () => {
    const state = initialState(scenario, mulberry32(1));
    expect(() => optimalTau(scenario, state, [1, 2])).to.throw(/2 demands for 5 BSs/);
    expect(() => optimalTau(scenario, state, [1, 2, 3, 4, -1])).to.throw(/finite and >= 0/);
  });
});
