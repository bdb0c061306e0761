/**
 * Held-out evaluation of edge-association methods: every method runs its own trajectory of the MDP from the same
 * seeded initial state, with the same exogenous draws (fading, CPU and data drift come from a generator with a seed
 * no training run uses, and nextState draws the same numbers whatever the allocation), so every method meets the
 * same channels, CPUs and data in every slot; only the previous association, part of s(t), is each method's own.
 * Each decision is priced with the Eq. 18 objective.
 */
import type { Scenario } from "../twins/scenario";
import type { Allocation, SlotState } from "../twins/state";
import { initialState, nextState } from "../twins/mdp";
import { mulberry32 } from "../twins/random";
import { timeCost } from "../twins/timeCost";
import { averageAllocation, heuristicAllocation, objectiveLowerBound, randomAllocation } from "../agents/association/baselines";
import { centreAction, decodeJointAction } from "../agents/association/decode";
import { observe } from "../agents/association/observation";

/** Seeds of held-out slots are offset from every training seed. */
export const HELD_OUT_SEED_OFFSET = 1_000_000;

export const METHODS = ["maddpg", "random", "average", "heuristic", "centre"] as const;
export type Method = (typeof METHODS)[number];

export const METHOD_LABELS: Record<Method | "lowerBound", string> = {
  maddpg: "MADDPG",
  random: "Random association",
  average: "Average association",
  heuristic: "Heuristic (CPU load balance + LP shares + local search)",
  centre: "Decoder at the centre action (untrained)",
  lowerBound: "Relaxation lower bound",
};

export interface SlotResult {
  slot: number;
  /** Eq. 18 objective per method, seconds. */
  objectiveSeconds: Record<Method, number>;
  lowerBoundSeconds: number;
  /** Wall time of one decision, milliseconds (MADDPG: actors' inference + decoding; heuristic: its solve). */
  decisionMs: { maddpg: number; heuristic: number };
}

/** A joint actor: the raw actions of all BSs for an observation. */
export type JointActor = (obs: Float32Array) => number[][];

/** One method's trajectory over `slots` held-out slots: the allocation it chose in each slot state. */
export function heldOutTrajectory(scenario: Scenario, seed: number, slots: number, decide: (state: SlotState) => Allocation): { state: SlotState; allocation: Allocation; ms: number }[] {
  const rng = mulberry32(HELD_OUT_SEED_OFFSET + seed);
  let state = initialState(scenario, rng);
  const out: { state: SlotState; allocation: Allocation; ms: number }[] = [];
  for (let t = 0; t < slots; t++) {
    const t0 = performance.now();
    const allocation = decide(state);
    out.push({ state, allocation, ms: performance.now() - t0 });
    state = nextState(scenario, state, allocation, rng);
  }
  return out;
}

export function evaluateOnSlots(scenario: Scenario, seed: number, slots: number, actor: JointActor): SlotResult[] {
  const randomRng = mulberry32(HELD_OUT_SEED_OFFSET + 7919 * seed);
  const centre = centreAction(scenario.bss.length);
  const runs: Record<Method, ReturnType<typeof heldOutTrajectory>> = {
    maddpg: heldOutTrajectory(scenario, seed, slots, (state) => decodeJointAction(scenario, state, actor(observe(scenario, state)))),
    random: heldOutTrajectory(scenario, seed, slots, (state) => randomAllocation(scenario, state, randomRng)),
    average: heldOutTrajectory(scenario, seed, slots, (state) => averageAllocation(scenario, state)),
    heuristic: heldOutTrajectory(scenario, seed, slots, (state) => heuristicAllocation(scenario, state)),
    centre: heldOutTrajectory(scenario, seed, slots, (state) => decodeJointAction(scenario, state, centre)),
  };
  return Array.from({ length: slots }, (_, slot) => ({
    slot,
    objectiveSeconds: Object.fromEntries(METHODS.map((k) => [k, timeCost(scenario, runs[k][slot].state, runs[k][slot].allocation).objectiveSeconds])) as Record<Method, number>,
    lowerBoundSeconds: objectiveLowerBound(scenario, runs.average[slot].state),
    decisionMs: { maddpg: runs.maddpg[slot].ms, heuristic: runs.heuristic[slot].ms },
  }));
}
