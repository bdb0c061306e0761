/**
 * Held-out evaluation of edge-association methods: every method acts on the same seeded slot states, and each
 * decision is priced with the Eq. 18 objective. The slot states follow the MDP dynamics (fading, CPU and data
 * drift) from a seed no training run uses; they do not depend on the methods' choices (only the association carries
 * over between slots, and the cost does not depend on the previous association).
 */
import type { Scenario } from "../twins/scenario";
import type { Allocation, SlotState } from "../twins/state";
import { initialState, nextState } from "../twins/mdp";
import { mulberry32 } from "../twins/random";
import { timeCost } from "../twins/timeCost";
import { averageAllocation, heuristicAllocation, objectiveLowerBound, randomAllocation } from "../agents/baselines";
import { decodeJointAction } from "../agents/decode";
import { observe } from "../agents/observation";

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

export function heldOutStates(scenario: Scenario, seed: number, slots: number): SlotState[] {
  const rng = mulberry32(HELD_OUT_SEED_OFFSET + seed);
  let state = initialState(scenario, rng);
  const states: SlotState[] = [];
  for (let t = 0; t < slots; t++) {
    states.push(state);
    state = nextState(scenario, state, averageAllocation(scenario, state), rng);
  }
  return states;
}

export function evaluateOnSlots(scenario: Scenario, states: readonly SlotState[], actor: JointActor, seed: number): SlotResult[] {
  const randomRng = mulberry32(HELD_OUT_SEED_OFFSET + 7919 * seed);
  const centre = scenario.bss.map(() => [0.5, 0.5, 0.5]);
  return states.map((state, slot) => {
    const cost = (a: Allocation) => timeCost(scenario, state, a).objectiveSeconds;
    let t0 = performance.now();
    const maddpg = decodeJointAction(scenario, state, actor(observe(scenario, state)));
    const maddpgMs = performance.now() - t0;
    t0 = performance.now();
    const heuristic = heuristicAllocation(scenario, state);
    const heuristicMs = performance.now() - t0;
    return {
      slot,
      objectiveSeconds: {
        maddpg: cost(maddpg),
        random: cost(randomAllocation(scenario, state, randomRng)),
        average: cost(averageAllocation(scenario, state)),
        heuristic: cost(heuristic),
        centre: cost(decodeJointAction(scenario, state, centre)),
      },
      lowerBoundSeconds: objectiveLowerBound(scenario, state),
      decisionMs: { maddpg: maddpgMs, heuristic: heuristicMs },
    };
  });
}
