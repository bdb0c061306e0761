/**
 * Optimal sharing of the OFDMA subchannels for given upload demands (a linear program).
 *
 * BS i must upload d_i models (d_i = K_i for the Eq. 15 time; the agents may weight it). With rates
 * r_{i,c} = W log2(1 + SINR_{i,c}) (Eq. 7 per unit of time share), the shares tau that minimise the slowest upload
 * max_i d_i / R_i(tau) solve
 *     maximise lambda  s.t.  lambda d_i - sum_c r_{i,c} tau_{i,c} <= 0  (every BS with d_i > 0),
 *                            sum_i tau_{i,c} <= 1                         (18c, every subchannel),  tau, lambda >= 0,
 * and then every BS with demand gets R_i >= lambda d_i: one upload round takes 1 / lambda per unit of demand.
 */
import type { Scenario } from "../../twins/scenario";
import type { SlotState } from "../../twins/state";
import { uplinkSpectralEfficiency } from "../../twins/wireless";
import { maximiseLp } from "./lp";

export interface SubchannelPlan {
  /** tau_{i,c}, M x C. */
  tau: number[][];
  /** lambda, bits/s per unit of demand: R_i(tau) >= lambda d_i for every BS. */
  rateBpsPerDemand: number;
}

/** Rates are scaled to Mbit/s inside the LP so its coefficients stay near 1. */
const SCALE = 1e6;

export function optimalTau(scenario: Scenario, state: SlotState, demands: readonly number[]): SubchannelPlan {
  const m = scenario.bss.length;
  const C = scenario.constants.subchannels;
  if (demands.length !== m) throw new Error(`optimalTau: ${demands.length} demands for ${m} BSs.`);
  if (demands.some((d) => !(d >= 0) || !Number.isFinite(d))) throw new Error(`optimalTau: demands must be finite and >= 0, got [${demands.join(", ")}].`);
  const tau = Array.from({ length: m }, () => new Array<number>(C).fill(0));
  const active = demands.map((d, i) => (d > 0 ? i : -1)).filter((i) => i >= 0);
  if (active.length === 0) return { tau, rateBpsPerDemand: Infinity };
  const se = uplinkSpectralEfficiency(scenario, state.channel);
  const w = scenario.constants.subchannelBandwidthHz;
  // Variables: tau_{a,c} for the active BSs (row-major), then lambda.
  const nv = active.length * C + 1;
  const col = (a: number, c: number) => a * C + c;
  const A: number[][] = [];
  const b: number[] = [];
  active.forEach((i, a) => {
    const row = new Array<number>(nv).fill(0);
    for (let c = 0; c < C; c++) row[col(a, c)] = -(w * se[i][c]) / SCALE;
    row[nv - 1] = demands[i];
    A.push(row);
    b.push(0);
  });
  for (let c = 0; c < C; c++) {
    const row = new Array<number>(nv).fill(0);
    active.forEach((_, a) => (row[col(a, c)] = 1));
    A.push(row);
    b.push(1);
  }
  const objective = new Array<number>(nv).fill(0);
  objective[nv - 1] = 1;
  const { x } = maximiseLp(objective, A, b);
  active.forEach((i, a) => {
    for (let c = 0; c < C; c++) tau[i][c] = Math.min(1, x[col(a, c)]);
  });
  // Floating error must never break 18c.
  for (let c = 0; c < C; c++) {
    const sum = tau.reduce((s, row) => s + row[c], 0);
    if (sum > 1) tau.forEach((row) => (row[c] /= sum));
  }
  return { tau, rateBpsPerDemand: x[nv - 1] * SCALE };
}
