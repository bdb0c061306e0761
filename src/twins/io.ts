/**
 * Validation of untrusted action/state input for `dtwn cost` (pure: parses values, reads no files).
 * Action file: { "allocation": Allocation, "state"?: SlotState, "stateSeed"?: number } (docs/model.md).
 */
import { z } from "zod";
import type { Scenario } from "./scenario";
import type { Allocation, SlotState } from "./state";
import { initialState } from "./mdp";
import { mulberry32 } from "./random";

const finite = z.number().finite();
const matrix = z.array(z.array(finite));

export const AllocationSchema = z
  .object({
    association: z.array(z.number().int()),
    batchSize: z.array(finite),
    tau: matrix,
  })
  .strict();

export const SlotStateSchema = z
  .object({
    slot: z.number().int().min(0),
    cpuAvailability: z.array(z.number().gt(0).max(1)),
    dataSamples: z.array(z.number().int().positive()),
    channel: z
      .object({
        uplink: matrix,
        downlink: matrix,
        interfererToMbs: matrix,
        interfererToBs: z.array(matrix),
      })
      .strict(),
    association: z.array(z.number().int().min(0)),
  })
  .strict();

export const ActionFileSchema = z
  .object({
    allocation: AllocationSchema,
    state: SlotStateSchema.optional(),
    stateSeed: z.number().int().min(0).optional(),
  })
  .strict();

function fail(what: string, error: z.ZodError): never {
  throw new Error(`Invalid ${what}:\n${error.issues.map((i) => `  - ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n")}`);
}

/** Check the state's shapes against the scenario; throws naming the mismatch. */
export function checkStateShape(scenario: Scenario, s: SlotState): void {
  const m = scenario.bss.length;
  const c = scenario.constants.subchannels;
  const n = scenario.users.length;
  const shape = (name: string, rows: number[][], r: number) => {
    if (rows.length !== r || rows.some((row) => row.length !== c)) throw new Error(`Invalid state: ${name} must be ${r} x ${c}.`);
  };
  if (s.cpuAvailability.length !== m) throw new Error(`Invalid state: cpuAvailability must list ${m} BSs.`);
  if (s.dataSamples.length !== n || s.association.length !== n) throw new Error(`Invalid state: dataSamples and association must list ${n} twins.`);
  if (s.association.some((bs) => bs >= m)) throw new Error(`Invalid state: association names a BS outside 0..${m - 1}.`);
  shape("channel.uplink", s.channel.uplink, m);
  shape("channel.downlink", s.channel.downlink, m);
  shape("channel.interfererToMbs", s.channel.interfererToMbs, scenario.interferers.length);
  if (s.channel.interfererToBs.length !== scenario.interferers.length) throw new Error(`Invalid state: channel.interfererToBs must list ${scenario.interferers.length} interferers.`);
  s.channel.interfererToBs.forEach((rows, k) => shape(`channel.interfererToBs[${k}]`, rows, m));
}

/** Parse an action file's JSON value: the allocation and the slot state it applies to. */
export function parseActionFile(scenario: Scenario, raw: unknown): { allocation: Allocation; state: SlotState } {
  const r = ActionFileSchema.safeParse(raw);
  if (!r.success) fail("action file", r.error);
  const state = r.data.state ?? initialState(scenario, mulberry32(r.data.stateSeed ?? 1));
  checkStateShape(scenario, state);
  return { allocation: r.data.allocation, state };
}
