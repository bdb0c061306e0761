/**
 * How the MBS aggregated (Eq. 5's strategy and its optional server optimiser). The chain does not record these
 * settings, so an auditor has to be told them: `dtwn run` writes them to the run folder (aggregation.json); without
 * the file the run's defaults apply (FedAvg, no server optimiser: the global model is Eq. 5 itself).
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { SERVER_OPTIMIZERS } from "../fl/serverOptimizer";
import { readJsonFile } from "../io/jsonFile";

export const AGGREGATION_FILE = "aggregation.json";

export const AggregationSettingsSchema = z
  .object({
    /** Eq. 5's strategy (src/fl/aggregation.ts strategyByName). */
    strategy: z.enum(["fedavg", "median", "trimmed-mean", "krum"]),
    /** Models a robust strategy tolerates (trimmed mean trims it, Krum tolerates it). */
    faulty: z.number().int().min(0),
    /** The server optimiser after Eq. 5 (src/fl/serverOptimizer.ts), or null for none (plain Eq. 5). */
    server: z
      .object({
        kind: z.enum(SERVER_OPTIMIZERS).optional(),
        learningRate: z.number().positive(),
        momentum: z.number().min(0).lt(1),
        beta2: z.number().min(0).lt(1).optional(),
        tau: z.number().positive().optional(),
      })
      .strict()
      .nullable(),
  })
  .strict();
export type AggregationSettings = z.infer<typeof AggregationSettingsSchema>;

/** What `dtwn run`'s MBS uses: FedAvg, no server optimiser. */
export const DEFAULT_AGGREGATION: AggregationSettings = { strategy: "fedavg", faulty: 1, server: null };

export function writeAggregationSettings(dir: string, s: AggregationSettings): void {
  fs.writeFileSync(path.join(dir, AGGREGATION_FILE), JSON.stringify(AggregationSettingsSchema.parse(s), null, 2) + "\n");
}

/** The run folder's aggregation settings, or the defaults when it has none; `from` says which. */
export function readAggregationSettings(dir: string): { settings: AggregationSettings; from: string } {
  const file = path.join(dir, AGGREGATION_FILE);
  if (!fs.existsSync(file)) return { settings: DEFAULT_AGGREGATION, from: "the run's defaults (no aggregation.json in the run folder)" };
  return { settings: readJsonFile(file, AggregationSettingsSchema, { what: "Aggregation settings", missing: `No aggregation settings at ${file}.` }), from: file };
}

/** One line: "fedavg, no server optimizer (plain Eq. 5)" or "fedavg, server momentum (eta 1, beta 0.9)". */
export function describeAggregation(s: AggregationSettings): string {
  const strategy = s.strategy === "fedavg" ? "fedavg" : `${s.strategy} (faulty ${s.faulty})`;
  if (!s.server) return `${strategy}, no server optimizer (plain Eq. 5)`;
  const kind = s.server.kind ?? "momentum";
  return `${strategy}, server ${kind} (eta ${s.server.learningRate}, beta ${s.server.momentum}${kind === "adam" ? `, beta2 ${s.server.beta2 ?? 0.99}, tau ${s.server.tau ?? 1e-3}` : ""})`;
}
