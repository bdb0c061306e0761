/**
 * How a BS agent chooses its part of the joint action a(t) in the running system (Section IV-A), behind one small
 * interface so that MADDPG and the paper's baselines run through the same rounds:
 * - maddpg: each agent proposes its own actor's raw output pi_i(s(t)) on chain; every agent reads all proposals of
 *   the slot and decodes the same joint allocation (src/agents/association/decode.ts), an absent BS proposing the centre action;
 * - average, random: the paper's baselines, computed alike by every agent from s(t) (random from the slot's seed);
 *   they propose nothing;
 * - heuristic: load balancing by CPU, balanced batches, LP subchannel shares and single-twin moves on the model's
 *   cost (src/agents/association/baselines.ts), computed alike by every agent from s(t); it proposes nothing.
 * Pure apart from the actor's forward pass.
 */
import type { LoadedPolicy } from "./association/policyStore";
import { decodeJointAction, RAW_ACTION_SIZE } from "./association/decode";
import { averageAllocation, heuristicAllocation, randomAllocation } from "./association/baselines";
import { observe } from "./association/observation";
import { mulberry32 } from "../twins/random";
import type { Scenario } from "../twins/scenario";
import type { Allocation, SlotState } from "../twins/state";

export const POLICY_NAMES = ["maddpg", "average", "random", "heuristic"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The raw action assumed for a BS that proposed nothing in time (the centre of the action box). */
export const ABSENT_RAW_ACTION: readonly number[] = new Array<number>(RAW_ACTION_SIZE).fill(0.5);

export interface AssociationPolicy {
  readonly name: PolicyName;
  /** Whether agents propose raw actions on chain before committing (and wait for the peers' proposals). */
  readonly proposes: boolean;
  /** BS `bs`'s raw action for state s(t) (only when `proposes`). */
  propose(state: SlotState, bs: number): number[];
  /** The joint allocation every agent derives alike from s(t) and the slot's proposals (undefined = absent). */
  decide(state: SlotState, proposals: readonly (readonly number[] | undefined)[]): Allocation;
}

/** How everyone derives the joint action from s(t) and the slot's proposals: what agents and users' devices apply alike. */
export type JointActionRule = Pick<AssociationPolicy, "name" | "proposes" | "decide">;

/** The joint-action rule of policy `name` (no actor needed: MADDPG's rule decodes the proposals). */
export function jointActionRule(name: PolicyName, scenario: Scenario, seed: number): JointActionRule {
  switch (name) {
    case "maddpg":
      return { name, proposes: true, decide: (state, proposals) => decodeJointAction(scenario, state, proposals.map((p) => (p ? p.slice() : ABSENT_RAW_ACTION.slice()))) };
    case "average":
      return { name, proposes: false, decide: (state) => averageAllocation(scenario, state) };
    case "random":
      return { name, proposes: false, decide: (state) => randomAllocation(scenario, state, mulberry32(seed * 31 + state.slot)) };
    case "heuristic":
      return { name, proposes: false, decide: (state) => heuristicAllocation(scenario, state) };
  }
}

export function maddpgPolicy(scenario: Scenario, actors: LoadedPolicy): AssociationPolicy {
  return {
    ...jointActionRule("maddpg", scenario, 0),
    propose: (state, bs) => actors.actBs(bs, observe(scenario, state)),
  };
}

/** A policy that every agent computes alike from s(t) and that proposes nothing (average, random, heuristic). */
export function ruleOnlyPolicy(name: Exclude<PolicyName, "maddpg">, scenario: Scenario, seed: number): AssociationPolicy {
  return {
    ...jointActionRule(name, scenario, seed),
    propose: () => {
      throw new Error(`the ${name} association proposes no raw action.`);
    },
  };
}

export function averagePolicy(scenario: Scenario): AssociationPolicy {
  return ruleOnlyPolicy("average", scenario, 0);
}

export function randomPolicy(scenario: Scenario, seed: number): AssociationPolicy {
  return ruleOnlyPolicy("random", scenario, seed);
}
