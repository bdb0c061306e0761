/** The options of a run of the system (`dtwn run`, `dtwn compare`, `dtwn agent`), validated in one place. */
import os from "node:os";
import { z } from "zod";
import { ATTACKS } from "../fl/attacks";
import { POLICY_NAMES } from "../agents/policies";

/** Faulty submissions a BS can be made to send (fault injection): see AgentSettings.fault. */
export const SUBMISSION_FAULTS = ["unknown-cid", "wrong-shape", "late"] as const;
export type SubmissionFault = (typeof SUBMISSION_FAULTS)[number];

/**
 * What a malicious MBS can be made to do (fault injection): "forge-global" publishes and records a global model that
 * is not Eq. 5 of the accepted models (Eq. 5 plus seeded Gaussian noise of std 0.01 on every
 * weight), see src/system/mbs.ts. Detected by `dtwn audit` and by the BSs' check of each new global model.
 */
export const MBS_ATTACKS = ["forge-global"] as const;
export type MbsAttack = (typeof MBS_ATTACKS)[number];

/** The phases of a BS agent's round, in order (src/agents/bsAgent.ts). */
export const AGENT_PHASES = ["observe", "act", "sync", "train", "upload", "verify", "collect", "attest"] as const;
export type AgentPhase = (typeof AGENT_PHASES)[number];
/** Where the BS agents run: in the driver's process, or one OS process each (src/agents/hosts.ts). */
export const AGENT_HOSTS = ["in-process", "processes"] as const;
export type AgentHostName = (typeof AGENT_HOSTS)[number];
/** What the BSs run on: this machine as it is, or the emulated DTWN (src/testbed/launch.ts). */
export const TESTBEDS = ["none", "emulated"] as const;

export const RunOptionsSchema = z
  .object({
    users: z.number().int().min(2).max(256),
    bss: z.number().int().min(2).max(16),
    rounds: z.number().int().min(1).max(1000),
    seed: z.number().int().min(1),
    policy: z.enum(POLICY_NAMES),
    /** Directory of a trained MADDPG policy for this scenario (default: the shipped one under policies/). */
    policyDir: z.string().optional(),
    localSteps: z.number().int().min(1),
    /** f^C of Eq. 12 from `dtwn calibrate` (cycles per sample per unit of batch size); absent: the model's default. */
    trainCyclesPerSample: z.number().positive().optional(),
    /** b^0 of Eq. 12 as calibrated (samples per mini-batch); absent: 0, the paper's Eq. 12. */
    trainStepSamples: z.number().min(0).optional(),
    /** f^T of Eq. 12 as calibrated (cycles per twin per round); absent: 0. */
    trainTwinCycles: z.number().min(0).optional(),
    /** xi of Eqs. 15-16 as calibrated from an emulated run's uploads; absent: the model's default (1). */
    xi: z.number().positive().optional(),
    /** How long an agent or the MBS waits for the next block of a model from a peer, ms (default: src/system/fetch.ts; the emulated testbed raises it to its links). */
    fetchTimeoutMs: z.number().int().positive().optional(),
    learningRate: z.number().positive(),
    optimizer: z.enum(["sgd", "momentum", "adam"]),
    maxDrop: z.number().min(0).max(1),
    /** Number of malicious BSs (the last ones), unless `maliciousBss` names them. */
    malicious: z.number().int().min(0),
    /** The malicious BSs by index (overrides `malicious`); with attack "collude", the colluders. */
    maliciousBss: z.array(z.number().int().min(0)).min(1).optional(),
    attack: z.enum(ATTACKS),
    heldOutPerBs: z.number().int().min(10),
    /** Test images the global model is evaluated on each round (the first ones of the test set). */
    testImages: z.number().int().min(100).max(10_000),
    workers: z.number().int().min(1).max(64),
    out: z.string().min(1),
    /** DPoS slot length and verification window on the deployed chain, seconds. */
    slotSeconds: z.number().int().min(1),
    verificationWindowSeconds: z.number().int().min(1),
    /** Reveal window of the verdicts on the deployed chain, seconds (after the commit window). */
    revealWindowSeconds: z.number().int().min(1),
    firstRoundSeconds: z.number().int().min(5),
    /**
     * Shortest submission window of rounds 2+, seconds (each is 1.5 x the previous round's slowest submission, at
     * least this, at most 600 s). A window closes early once every BS has submitted, so a larger floor costs time only
     * when a BS does not submit; it keeps a round whose BSs train slower than the last (a loaded machine) from
     * closing on them.
     */
    minRoundSeconds: z.number().int().min(5).max(600),
    proposalWindowSeconds: z.number().int().min(1),
    /**
     * Blocks a block must be under before the MBS and the agents read from it or count a transaction of theirs as
     * done (1: the latest block). A reorg of up to `confirmations - 1` blocks then undoes nothing they acted on.
     */
    confirmations: z.number().int().min(1).max(64),
    /** Gas price the report prices each round's gas at, gwei (a testnet's is near 1). */
    gasPriceGwei: z.number().min(0),
    /**
     * On a chain whose accounts start empty (a testnet): before deploying, the operator tops every BS's account up
     * to this many ether (undefined: no funding; the BSs pay their own gas from what they hold).
     */
    fundBsEther: z.number().min(0).max(1000).optional(),
    quiet: z.boolean(),
    /** Fault injection: BS `bs` sends a faulty submission of kind `kind` every round. */
    faults: z.array(z.object({ bs: z.number().int().min(0), kind: z.enum(SUBMISSION_FAULTS) }).strict()),
    /**
     * Fault injection with --network localhost: BS `bs`'s agent process is SIGKILLed in round `round`, either
     * `afterSeconds` into the round (by the MBS process) or right after its phase `after` (the agent SIGKILLs itself
     * there, so the point is deterministic); it is started again once the round is over.
     */
    kill: z
      .object({ bs: z.number().int().min(0), round: z.number().int().min(1), afterSeconds: z.number().min(0).optional(), after: z.enum(AGENT_PHASES).optional() })
      .strict()
      .refine((k) => (k.afterSeconds === undefined) !== (k.after === undefined), { message: "give either afterSeconds or after (a phase)" })
      .optional(),
    /** Fault injection: the MBS's attack `kind`, in round `round` only or (without it) in every round. */
    mbsAttack: z.object({ kind: z.enum(MBS_ATTACKS), round: z.number().int().min(1).optional() }).strict().optional(),
    /** Fault injection: BS `bs` dies right after phase `after` of round `round`, and is restarted. */
    crash: z.object({ bs: z.number().int().min(0), round: z.number().int().min(1), after: z.enum(AGENT_PHASES) }).optional(),
  })
  .strict()
  .refine((o) => o.malicious < o.bss, { message: "malicious must be smaller than the number of BSs", path: ["malicious"] })
  .refine((o) => o.maliciousBss === undefined || (o.maliciousBss.every((i) => i < o.bss) && new Set(o.maliciousBss).size === o.maliciousBss.length && o.maliciousBss.length < o.bss), {
    message: "maliciousBss must name distinct BSs (0..bss-1), fewer than all of them",
    path: ["maliciousBss"],
  })
  .refine((o) => o.kill === undefined || o.kill.bs < o.bss, { message: "the killed BS must be one of the BSs", path: ["kill", "bs"] })
  .refine((o) => o.faults.every((f) => f.bs < o.bss), { message: "a faulty BS must be one of the BSs", path: ["faults"] })
  .refine((o) => o.crash === undefined || o.crash.bs < o.bss, { message: "the crashing BS must be one of the BSs", path: ["crash", "bs"] })
  .refine((o) => o.mbsAttack?.round === undefined || o.mbsAttack.round <= o.rounds, { message: "the MBS's attack round must be one of the run's rounds", path: ["mbsAttack", "round"] })
  .refine((o) => o.users >= o.bss, { message: "there must be at least one user per BS", path: ["users"] });

export type RunOptions = z.infer<typeof RunOptionsSchema>;

export const DEFAULT_RUN: RunOptions = {
  users: 100,
  bss: 5,
  rounds: 3,
  seed: 1,
  policy: "maddpg",
  localSteps: 10,
  learningRate: 0.001,
  optimizer: "adam",
  maxDrop: 0.1,
  malicious: 0,
  attack: "sign-flip",
  heldOutPerBs: 250,
  testImages: 2000,
  workers: Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8)),
  out: "runs/latest",
  slotSeconds: 4,
  // paper scale (5 BSs, 100 twins): each verifier fetches and scores K_i twin models of every peer, 60 s failed every
  // model on 2 cores (0 of 5 passed), 300 s passed all (5 of 5); a round whose ballots are all in settles earlier
  verificationWindowSeconds: 300,
  revealWindowSeconds: 30,
  firstRoundSeconds: 120,
  minRoundSeconds: 20,
  proposalWindowSeconds: 20,
  confirmations: 1,
  gasPriceGwei: 1,
  quiet: false,
  faults: [],
};

/** Validate run options; every bad field is named. */
export function resolveRunOptions(overrides: Partial<Record<keyof RunOptions, unknown>>): RunOptions {
  const parsed = RunOptionsSchema.safeParse({ ...DEFAULT_RUN, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) });
  if (!parsed.success) {
    throw new Error(`invalid run options:\n${parsed.error.issues.map((i) => `  - ${i.path.join(".") || "(options)"}: ${i.message}`).join("\n")}`);
  }
  return parsed.data;
}

