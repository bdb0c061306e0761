/**
 * Deployment parameters of the on-chain protocol, with their units and defaults, validated in one place.
 * The Ignition module, the deploy script and the tests all read them from here.
 */
import { z } from "zod";

const COIN = 10n ** 18n;

const uint = (max: number) => z.number().int().min(0).max(max);

export const ProtocolParamsSchema = z
  .object({
    /** S_ini of Eq. 6: total initial training coins (base units, 18 decimals). */
    initialSupply: z.bigint().positive(),
    /** Bonded coins credited for each model that passes verification (base units). */
    rewardPerModel: z.bigint().min(0n),
    /** Basis points of a BS's bonded and unbonding coins burned when its model fails verification. */
    roundSlashBps: uint(10_000),
    /** Seconds after a round's submission deadline during which verdicts are committed. */
    verificationWindowSeconds: z.number().int().positive(),
    /** Seconds after the commit window during which committed verdicts are revealed. */
    revealWindowSeconds: z.number().int().positive(),
    /** Share of the other BSs' bonded stake whose verdicts decide a model, basis points (below it: unverified). */
    verificationQuorumBps: z.number().int().min(1).max(10_000),
    /** Bonded coins credited per round to a verifier whose revealed verdicts all agree with the outcomes (base units). */
    verifierReward: z.bigint().min(0n),
    /** Basis points of a verifier's stake burned for a committed ballot it never revealed (a wrong verdict forfeits the reward only). */
    withheldSlashBps: uint(10_000),
    /**
     * Seconds unbonded coins wait (still slashable) before they can be withdrawn; at least one DPoS epoch. A round's
     * deadline plus its commit and reveal windows must end within half of it (TrainingRounds `RoundTooLong`).
     */
    unbondingDelaySeconds: z.number().int().positive(),
    /** C, the number of OFDMA subchannels (Eq. 7). */
    subchannels: z.number().int().min(1).max(64),
    /** Largest data size one twin's data record may state, samples (bounds what a BS can claim for Eq. 6 and Eq. 5). */
    maxTwinDataSize: z.number().int().min(1).max(2 ** 32 - 1),
    /** b_min of constraint (18d), samples. */
    minBatchSize: z.number().int().min(1).max(65_535),
    /** b_max of constraint (18d), samples. */
    maxBatchSize: z.number().int().min(1).max(65_535),
    /** Start of DPoS slot 0 (unix seconds); 0 = the deployment block's timestamp. */
    genesisTime: z.number().int().min(0),
    /** Length of a DPoS slot (seconds): the block interval T of Section II-C. */
    slotDurationSeconds: z.number().int().positive(),
    /** DPoS slots per epoch (one election per epoch). */
    slotsPerEpoch: z.number().int().positive(),
    /** Number of block producers M_p elected per epoch (Eq. 16). */
    producersPerEpoch: z.number().int().min(3, "at least 3 producers (ProducerElection.MIN_PRODUCERS): with fewer, one producer decides a block").max(32),
    /** Epochs a faulty producer is excluded from elections. */
    jailEpochs: z.number().int().positive(),
    /** Basis points of a faulty producer's coins burned. */
    blockSlashBps: uint(10_000),
  })
  .strict()
  .refine((p) => p.minBatchSize <= p.maxBatchSize, {
    message: "minBatchSize (b_min) must not exceed maxBatchSize (b_max)",
    path: ["minBatchSize"],
  })
  .refine((p) => p.unbondingDelaySeconds / 2 > p.verificationWindowSeconds + p.revealWindowSeconds, {
    message: "unbondingDelaySeconds must exceed twice the commit and reveal windows (verificationWindowSeconds + revealWindowSeconds): every round ends its reveal window within half the delay",
    path: ["unbondingDelaySeconds"],
  })
  .refine((p) => p.unbondingDelaySeconds >= p.slotDurationSeconds * p.slotsPerEpoch, {
    message: "unbondingDelaySeconds must be at least one DPoS epoch (slotDurationSeconds x slotsPerEpoch): a shorter delay lets a BS unbond and withdraw between an offence and its slash",
    path: ["unbondingDelaySeconds"],
  });

export type ProtocolParams = z.infer<typeof ProtocolParamsSchema>;

/** Defaults: 5 BSs of the paper's Section V share C = 10 subchannels; batch sizes 16..128 samples. */
export const DEFAULT_PROTOCOL_PARAMS: ProtocolParams = {
  initialSupply: 1_000n * COIN,
  rewardPerModel: 10n * COIN,
  roundSlashBps: 1_000,
  verificationWindowSeconds: 60,
  revealWindowSeconds: 30,
  verificationQuorumBps: 5_000,
  verifierReward: 1n * COIN,
  withheldSlashBps: 500,
  unbondingDelaySeconds: 86_400,
  subchannels: 10,
  maxTwinDataSize: 60_000,
  minBatchSize: 16,
  maxBatchSize: 128,
  genesisTime: 0,
  slotDurationSeconds: 12,
  slotsPerEpoch: 10,
  producersPerEpoch: 3,
  jailEpochs: 2,
  blockSlashBps: 1_000,
};

/**
 * Validate user-supplied parameters (merged over the defaults).
 * @throws Error naming every invalid field and what it expects.
 */
export function resolveProtocolParams(overrides: Partial<Record<keyof ProtocolParams, unknown>> = {}): ProtocolParams {
  const merged: Record<string, unknown> = { ...DEFAULT_PROTOCOL_PARAMS };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const current = (DEFAULT_PROTOCOL_PARAMS as Record<string, unknown>)[key];
    // Coin amounts may be given as decimal strings in JSON files.
    merged[key] = typeof current === "bigint" && (typeof value === "string" || typeof value === "number") ? toBigInt(key, value) : value;
  }
  const parsed = ProtocolParamsSchema.safeParse(merged);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `  - ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n");
    throw new Error(`Invalid protocol parameters:\n${details}\nFix these fields (see src/chain/protocolParams.ts for units and defaults).`);
  }
  return parsed.data;
}

function toBigInt(key: string, value: string | number): bigint {
  try {
    return BigInt(value);
  } catch {
    throw new Error(`Invalid protocol parameters:\n  - ${key}: expected an integer amount of coin base units, got ${JSON.stringify(value)}`);
  }
}
