/**
 * The Markov decision process of Section IV-A.
 * - State s(t) = (f^C, K, D, h): available CPU of every BS, twins per BS (previous association), data per twin,
 *   channel gains.
 * - Action a_i(t) = (K_i, b_i, tau_i) per BS; the joint action decodes to an {@link Allocation}.
 * - Reward R_i = -T_i (Eq. 19). Because the system cost is set by the slowest BS (Eq. 17-18), every agent shares
 *   the same reward, -objective (Eq. 18) in seconds; per-BS T_i are reported alongside.
 * - Dynamics between slots, all drawn from a seeded generator: Rayleigh fading redrawn every slot; each BS's CPU
 *   availability follows a clipped Gaussian random walk; each twin's data drifts by a clipped multiplicative walk.
 */
import type { Scenario } from "./scenario";
import type { Allocation, ChannelState, SlotState } from "./state";
import { timeCost, type CostBreakdown } from "./timeCost";
import { distanceMetres } from "./entities";
import { randExp, randNormal, type Rng } from "./random";

export interface DynamicsOptions {
  /** Std of the per-slot change of CPU availability u_i. */
  cpuDriftStd: number;
  /** Lower bound of u_i (the BS never has less than this share of its CPU). */
  cpuMinAvailability: number;
  /** Std of the per-slot relative change of a twin's data size. */
  dataDriftStd: number;
  /** Data sizes stay within [min, max] x their initial size. */
  dataMinFactor: number;
  dataMaxFactor: number;
}

export const DEFAULT_DYNAMICS: DynamicsOptions = {
  cpuDriftStd: 0.05,
  cpuMinAvailability: 0.5,
  dataDriftStd: 0.02,
  dataMinFactor: 0.5,
  dataMaxFactor: 1.5,
};

function matrix(rows: number, cols: number, draw: () => number): number[][] {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, draw));
}

/** Redraw every small-scale fading gain (Rayleigh: |h|^2 ~ Exp(1)). */
export function drawChannel(scenario: Scenario, rng: Rng): ChannelState {
  const m = scenario.bss.length;
  const c = scenario.constants.subchannels;
  return {
    uplink: matrix(m, c, () => randExp(rng)),
    downlink: matrix(m, c, () => randExp(rng)),
    interfererToMbs: matrix(scenario.interferers.length, c, () => randExp(rng)),
    interfererToBs: scenario.interferers.map(() => matrix(m, c, () => randExp(rng))),
  };
}

/** Each user's twin starts on its nearest BS. */
export function nearestBsAssociation(scenario: Scenario): number[] {
  return scenario.users.map((u) => {
    let best = 0;
    scenario.bss.forEach((b, i) => {
      if (distanceMetres(u.position, b.position) < distanceMetres(u.position, scenario.bss[best].position)) best = i;
    });
    return best;
  });
}

/** s(0): full CPU availability, the users' data, fresh fading, nearest-BS association. */
export function initialState(scenario: Scenario, rng: Rng): SlotState {
  return {
    slot: 0,
    cpuAvailability: scenario.bss.map(() => 1),
    dataSamples: scenario.users.map((u) => u.dataSamples),
    channel: drawChannel(scenario, rng),
    association: nearestBsAssociation(scenario),
  };
}

/** s(t+1) from s(t) and the association chosen in slot t. */
export function nextState(scenario: Scenario, state: SlotState, allocation: Allocation, rng: Rng, dyn: DynamicsOptions = DEFAULT_DYNAMICS): SlotState {
  const clip = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
  return {
    slot: state.slot + 1,
    cpuAvailability: state.cpuAvailability.map((u) => clip(u + dyn.cpuDriftStd * randNormal(rng), dyn.cpuMinAvailability, 1)),
    dataSamples: state.dataSamples.map((d, n) => {
      const base = scenario.users[n].dataSamples;
      return Math.round(clip(d * (1 + dyn.dataDriftStd * randNormal(rng)), dyn.dataMinFactor * base, dyn.dataMaxFactor * base));
    }),
    channel: drawChannel(scenario, rng),
    association: allocation.association.slice(),
  };
}

export interface StepResult {
  cost: CostBreakdown;
  /** Shared reward of every agent: -objective (Eq. 18), seconds. */
  reward: number;
  /** R_i = -T_i of Eq. 19, per BS, seconds. */
  perBsReward: number[];
  next: SlotState;
}

/** One MDP transition. */
export function step(scenario: Scenario, state: SlotState, allocation: Allocation, rng: Rng, dyn: DynamicsOptions = DEFAULT_DYNAMICS): StepResult {
  const cost = timeCost(scenario, state, allocation);
  return {
    cost,
    reward: -cost.objectiveSeconds,
    perBsReward: cost.perBs.map((c) => -c.totalSeconds),
    next: nextState(scenario, state, allocation, rng, dyn),
  };
}
