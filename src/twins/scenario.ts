/**
 * A DTWN scenario (paper Section V, Fig. 4): 1 MBS, M BSs, N end users placed at random in the BSs' coverage,
 * optional interfering BSs of neighbouring cells, and the model constants. Seeded and pure.
 */
import { z } from "zod";
import { DEFAULT_CONSTANTS, type SystemConstants } from "./constants";
import type { BaseStation, EndUser, Interferer, MacroBaseStation } from "./entities";
import { mulberry32, randInt } from "./random";

export interface Scenario {
  mbs: MacroBaseStation;
  bss: BaseStation[];
  users: EndUser[];
  interferers: Interferer[];
  constants: SystemConstants;
}

export interface TopologyOptions {
  /** f_i^C of each BS, Hz (paper: 2.6, 1.8, 3.6, 2.4, 2.4 GHz). */
  bsCpuHz: number[];
  /** N, number of end users (paper: 100). */
  users: number;
  /** BSs sit evenly on a circle of this radius around the MBS, metres. */
  bsRingRadiusMetres: number;
  /** Users are uniform in a disc of this radius around a uniformly chosen BS, metres. */
  coverageRadiusMetres: number;
  /** D_i of each user is uniform in this range, samples (default 600 = Fashion-MNIST's 60,000 / 100 users). */
  samplesPerUser: [number, number];
  /** Neighbouring-cell interferers evenly on a circle of this radius, metres. */
  interfererRingRadiusMetres: number;
  interferers: number;
  /** Fraction of time each interferer is active on a subchannel. */
  interfererDutyCycle: number;
  constants: SystemConstants;
  seed: number;
}

export const PAPER_BS_CPU_HZ = [2.6e9, 1.8e9, 3.6e9, 2.4e9, 2.4e9];

export const DEFAULT_TOPOLOGY: TopologyOptions = {
  bsCpuHz: PAPER_BS_CPU_HZ,
  users: 100,
  bsRingRadiusMetres: 400,
  coverageRadiusMetres: 250,
  samplesPerUser: [600, 600],
  interfererRingRadiusMetres: 1500,
  interferers: 3,
  interfererDutyCycle: 0.3,
  constants: DEFAULT_CONSTANTS,
  seed: 1,
};

/** Seeded topology generator: BSs on a ring, users uniform in the coverage disc of a random BS (Fig. 4). */
export function generateScenario(options: Partial<TopologyOptions> = {}): Scenario {
  const o: TopologyOptions = { ...DEFAULT_TOPOLOGY, ...options, constants: { ...DEFAULT_CONSTANTS, ...options.constants } };
  const rng = mulberry32(o.seed);
  const m = o.bsCpuHz.length;
  if (m === 0) throw new Error("A scenario needs at least one BS (bsCpuHz is empty).");
  if (!Number.isInteger(o.users) || o.users < 1) throw new Error(`users must be a positive integer, got ${o.users}.`);
  const bss: BaseStation[] = o.bsCpuHz.map((cpuHz, id) => ({
    id,
    cpuHz,
    txPowerDbm: o.constants.bsTxPowerDbm,
    position: {
      xMetres: o.bsRingRadiusMetres * Math.cos((2 * Math.PI * id) / m),
      yMetres: o.bsRingRadiusMetres * Math.sin((2 * Math.PI * id) / m),
    },
  }));
  const users: EndUser[] = [];
  for (let id = 0; id < o.users; id++) {
    const home = bss[randInt(rng, 0, m - 1)];
    const r = o.coverageRadiusMetres * Math.sqrt(rng());
    const a = 2 * Math.PI * rng();
    users.push({
      id,
      position: { xMetres: home.position.xMetres + r * Math.cos(a), yMetres: home.position.yMetres + r * Math.sin(a) },
      dataSamples: randInt(rng, o.samplesPerUser[0], o.samplesPerUser[1]),
    });
  }
  const interferers: Interferer[] = [];
  for (let k = 0; k < o.interferers; k++) {
    const a = (2 * Math.PI * (k + 0.5)) / o.interferers;
    interferers.push({
      position: { xMetres: o.interfererRingRadiusMetres * Math.cos(a), yMetres: o.interfererRingRadiusMetres * Math.sin(a) },
      txPowerDbm: o.constants.bsTxPowerDbm,
      dutyCycle: o.interfererDutyCycle,
    });
  }
  return { mbs: { position: { xMetres: 0, yMetres: 0 }, txPowerDbm: o.constants.mbsTxPowerDbm }, bss, users, interferers, constants: o.constants };
}

// ---- JSON schema of a scenario file (dtwn cost --scenario FILE) ----

const PositionSchema = z.object({ xMetres: z.number().finite(), yMetres: z.number().finite() }).strict();
const positive = z.number().finite().positive();

export const ConstantsSchema = z
  .object({
    subchannels: z.number().int().min(1).max(64),
    subchannelBandwidthHz: positive,
    noiseDbmPerHz: z.number().finite(),
    pathLossExponent: positive,
    bsTxPowerDbm: z.number().finite(),
    mbsTxPowerDbm: z.number().finite(),
    xi: positive,
    trainCyclesPerSample: positive,
    trainStepSamples: z.number().finite().min(0).optional(),
    trainTwinCycles: z.number().finite().min(0).optional(),
    twinSyncBitsPerSample: z.number().finite().min(0).optional(),
    aggregationCyclesPerBit: z.number().finite().min(0),
    validationCyclesPerBit: z.number().finite().min(0),
    modelSizeBits: positive,
    blockSizeBits: positive,
    blockProducers: z.number().int().min(1),
    minBatchSize: z.number().int().min(1),
    maxBatchSize: z.number().int().min(1),
    thetaThreshold: z.number().gt(0).lt(1),
    thetaMax: z.number().gt(0).lt(1),
    thetaBatchScale: positive,
  })
  .strict()
  .refine((c) => c.minBatchSize <= c.maxBatchSize, { message: "minBatchSize must not exceed maxBatchSize" });

export const ScenarioSchema = z
  .object({
    mbs: z.object({ position: PositionSchema, txPowerDbm: z.number().finite() }).strict(),
    bss: z
      .array(z.object({ id: z.number().int().min(0), position: PositionSchema, cpuHz: positive, txPowerDbm: z.number().finite() }).strict())
      .min(1),
    users: z.array(z.object({ id: z.number().int().min(0), position: PositionSchema, dataSamples: z.number().int().positive() }).strict()).min(1),
    interferers: z
      .array(z.object({ position: PositionSchema, txPowerDbm: z.number().finite(), dutyCycle: z.number().min(0).max(1) }).strict())
      .default([]),
    constants: ConstantsSchema.default(DEFAULT_CONSTANTS),
  })
  .strict()
  .superRefine((s, ctx) => {
    s.bss.forEach((b, i) => {
      if (b.id !== i) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["bss", i, "id"], message: `BS ids must be 0..M-1 in order; expected ${i}` });
    });
    s.users.forEach((u, i) => {
      if (u.id !== i) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["users", i, "id"], message: `user ids must be 0..N-1 in order; expected ${i}` });
    });
  });

/** Validate an untrusted scenario (e.g. parsed JSON); the error lists every problem with its path. */
export function parseScenario(raw: unknown): Scenario {
  const r = ScenarioSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(`Invalid scenario:\n${r.error.issues.map((i) => `  - ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n")}`);
  }
  return r.data as Scenario;
}
