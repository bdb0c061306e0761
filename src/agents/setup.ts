/**
 * What a BS agent is set up from, the same wherever it runs (in the driver's process, as its own OS process, or on an
 * emulated host): its settings from the run options, the association policy, and the run's world.
 */
import fs from "node:fs";
import path from "node:path";
import { DEFAULT_BOOTSTRAP } from "../chain/bootstrap";
import { DEFAULT_AGGREGATION } from "../audit/settings";
import { loadPolicy } from "./association/policyStore";
import type { AgentSettings } from "./bsAgent";
import { maddpgPolicy, ruleOnlyPolicy, type AssociationPolicy } from "./policies";
import { FETCH_TIMEOUT_MS } from "../system/fetch";
import type { RunOptions, SubmissionFault } from "../system/options";
import type { World, WorldOptions } from "../system/world";

const ROOT = path.resolve(__dirname, "..", "..");

/** The malicious BSs: those of `o.maliciousBss` if given, else the last `o.malicious` ones, in index order. */
export function maliciousBss(o: Pick<RunOptions, "bss" | "malicious" | "maliciousBss">): number[] {
  if (o.maliciousBss) return [...o.maliciousBss].sort((a, b) => a - b);
  return Array.from({ length: o.malicious }, (_, k) => o.bss - o.malicious + k);
}

/** BS i's agent settings from the run options: the training and verification settings, its attack and its fault. */
export function agentSettings(o: RunOptions, i: number): AgentSettings {
  return {
    localSteps: o.localSteps,
    learningRate: o.learningRate,
    optimizer: o.optimizer,
    maxDrop: o.maxDrop,
    proposalWindowSeconds: o.proposalWindowSeconds,
    pollMs: 500,
    fetchTimeoutMs: o.fetchTimeoutMs ?? FETCH_TIMEOUT_MS,
    globalCheck: DEFAULT_AGGREGATION, // how the MBS aggregates: each new global model is checked against Eq. 5
    ...(maliciousBss(o).includes(i) ? { attack: o.attack, ...(o.attack === "collude" ? { colluders: maliciousBss(o) } : {}) } : {}),
    ...faultOf(o, i),
  };
}

/** The injected submission fault of BS i, if any. */
export function faultOf(o: Pick<RunOptions, "faults">, i: number): { fault?: SubmissionFault } {
  const f = o.faults.find((x) => x.bs === i);
  return f ? { fault: f.kind } : {};
}

/** The shipped policy for a scenario of `bss` BSs and `users` users (seed `seed`), if there is one. */
export function shippedPolicyDir(bss: number, users: number, seed: number): string {
  return path.join(ROOT, "policies", `system-${bss}bs-${users}users-seed${seed}`, "policy");
}

/**
 * The association policy of every agent: the MADDPG actors of a trained policy for this scenario (o.policyDir, else
 * the shipped one), or a baseline. A missing policy fails with the commands that make one.
 * @param bss the BSs whose actors to load (default all)
 */
export async function loadAssociationPolicy(o: Pick<RunOptions, "policy" | "policyDir" | "bss" | "users" | "seed">, world: World, bss?: number[]): Promise<{ policy: AssociationPolicy; dispose: () => void }> {
  if (o.policy !== "maddpg") return { policy: ruleOnlyPolicy(o.policy, world.scenario, o.seed), dispose: () => undefined };
  const dir = o.policyDir ?? shippedPolicyDir(o.bss, o.users, o.seed);
  if (!fs.existsSync(path.join(dir, "policy.json"))) {
    throw new Error(
      `no MADDPG policy for ${o.bss} BSs and ${o.users} users (seed ${o.seed}) at ${dir}. Train one: ` +
        `\`npx dtwn scenario --system --bss ${o.bss} --users ${o.users} --seed ${o.seed} > scenario.json && npx dtwn train-policy --scenario scenario.json --out ${path.dirname(dir)}\`, ` +
        "or run a baseline with --policy average|random.",
    );
  }
  const actors = await loadPolicy(dir, world.scenario, bss);
  return { policy: maddpgPolicy(world.scenario, actors), dispose: () => actors.dispose() };
}

/** The world of a run (topology, data split, environment) from its options. */
export function worldOptions(o: Pick<RunOptions, "users" | "bss" | "seed" | "heldOutPerBs" | "trainCyclesPerSample" | "trainStepSamples" | "trainTwinCycles" | "xi">): WorldOptions {
  return {
    users: o.users,
    bss: o.bss,
    seed: o.seed,
    samplesPerUser: DEFAULT_BOOTSTRAP.samplesPerUser,
    heldOutPerBs: o.heldOutPerBs,
    ...(o.trainCyclesPerSample ? { trainCyclesPerSample: o.trainCyclesPerSample } : {}),
    ...(o.trainStepSamples !== undefined ? { trainStepSamples: o.trainStepSamples } : {}),
    ...(o.trainTwinCycles !== undefined ? { trainTwinCycles: o.trainTwinCycles } : {}),
    ...(o.xi !== undefined ? { xi: o.xi } : {}),
  };
}
