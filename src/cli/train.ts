/**
 * `dtwn train-policy`: train MADDPG (Algorithm 1) on a seeded scenario, with a progress bar, and write
 *   <out>/policy/             the actors (src/agents/association/policyStore.ts), loadable by a BS agent process
 *   <out>/training-log.json   config, backend, wall time and the metrics of every episode
 *   <out>/training-log.csv    the same metrics as a table
 */
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { finiteNumber, twinSyncBits } from "./args";
import type { Scenario } from "../twins/scenario";
import { initBackend } from "../ml/backend";
import { Maddpg, resolveMaddpgConfig, type EpisodeLog, type MaddpgConfig } from "../agents/association/maddpg";
import { savePolicy } from "../agents/association/policyStore";
import { loadScenario, readJson } from "./cost";
import { ProgressBar } from "./progress";

export interface TrainingLog {
  scenarioSeed: number;
  /** The twin-sync extension's bits per sample (0: the paper's model). */
  twinSyncBitsPerSample: number;
  config: MaddpgConfig;
  backend: string;
  wallSeconds: number;
  /** The episode whose actors were saved (best validation), -1 when validation is off (the last ones). */
  selectedEpisode: number;
  episodes: EpisodeLog[];
}

export interface TrainOptions {
  scenario?: string;
  scenarioSeed: number;
  config?: string;
  seed?: number;
  episodes?: number;
  slots?: number;
  gamma?: number;
  /** Extension: bits per sample a moved twin's data syncs (`--twin-sync`; absent: the paper's model). */
  twinSync?: string | boolean;
  out: string;
  quiet: boolean;
}

export function trainingLogCsv(log: TrainingLog): string {
  const cols: (keyof EpisodeLog)[] = ["episode", "meanObjectiveSeconds", "meanRatioToLowerBound", "meanReward", "criticLoss", "msPerSlot", "sigma", "validationObjectiveSeconds"];
  return [cols.join(","), ...log.episodes.map((e) => cols.map((c) => e[c] ?? "").join(","))].join("\n") + "\n";
}

/** `scenario` with the twin-sync extension on (`bits` per sample), or unchanged when `bits` is undefined. */
export function withTwinSync(scenario: Scenario, bits: number | undefined): Scenario {
  return bits === undefined ? scenario : { ...scenario, constants: { ...scenario.constants, twinSyncBitsPerSample: bits } };
}

export async function trainPolicy(opts: TrainOptions): Promise<TrainingLog> {
  const overrides: Record<string, unknown> = opts.config ? (readJson(opts.config, "MADDPG configuration") as Record<string, unknown>) : {};
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) throw new Error(`MADDPG configuration file ${opts.config} must hold a JSON object.`);
  for (const [key, value] of [["seed", opts.seed], ["episodes", opts.episodes], ["slotsPerEpisode", opts.slots], ["gamma", opts.gamma]] as const) {
    if (value !== undefined) overrides[key] = value;
  }
  const config = resolveMaddpgConfig(overrides);
  const scenario = withTwinSync(loadScenario(opts.scenario, opts.scenarioSeed), opts.twinSync === undefined ? undefined : twinSyncBits(opts.twinSync));
  // MADDPG's networks are small: on tfjs-node a second TensorFlow thread costs more in hand-offs than it gives
  // (measured, 12 episodes of the paper scenario: 114 ms per slot on 2 threads, 51 ms on 1). Set before TensorFlow loads.
  process.env.TF_NUM_INTRAOP_THREADS ??= "1";
  process.env.TF_NUM_INTEROP_THREADS ??= "1";
  const backend = await initBackend("auto", opts.quiet ? () => undefined : undefined);
  const agent = new Maddpg(scenario, config);
  const bar = opts.quiet ? undefined : new ProgressBar(config.episodes, "train-policy");
  const started = Date.now();
  let validation = "";
  const episodes = agent.train((e) => {
    if (e.validationObjectiveSeconds !== undefined) validation = `, validation ${e.validationObjectiveSeconds.toFixed(2)} s`;
    bar?.update(e.episode + 1, `objective ${e.meanObjectiveSeconds.toFixed(2)} s (${e.meanRatioToLowerBound.toFixed(3)} x LB)${validation}, ${e.msPerSlot.toFixed(0)} ms/slot`);
  });
  const log: TrainingLog = { scenarioSeed: opts.scenarioSeed, twinSyncBitsPerSample: scenario.constants.twinSyncBitsPerSample ?? 0, config, backend, wallSeconds: (Date.now() - started) / 1000, selectedEpisode: agent.selectedEpisode, episodes };
  fs.mkdirSync(opts.out, { recursive: true });
  await savePolicy(path.join(opts.out, "policy"), scenario, agent.exportActors(), config, config.episodes);
  fs.writeFileSync(path.join(opts.out, "training-log.json"), JSON.stringify(log, null, 2) + "\n");
  fs.writeFileSync(path.join(opts.out, "training-log.csv"), trainingLogCsv(log));
  return log;
}

export function registerTrainCommands(program: Command): void {
  program
    .command("train-policy")
    .description("train the MADDPG edge-association agents (Algorithm 1) and write the policy and a training log")
    .option("--scenario <file>", "scenario JSON (default: the seeded paper scenario)")
    .option("--scenario-seed <n>", "seed of the generated scenario", finiteNumber, 1)
    .option("--config <file>", "JSON object overriding MADDPG hyperparameters (src/agents/association/maddpg.ts, DEFAULT_MADDPG)")
    .option("--seed <n>", "training seed (networks, noise, environment)", finiteNumber)
    .option("--episodes <n>", "training episodes E", finiteNumber)
    .option("--slots <n>", "time slots per episode", finiteNumber)
    .option("--gamma <x>", "discount rate gamma", finiteNumber)
    .option("--twin-sync [bits]", "extension beyond the paper: a moved twin's data syncs to its new BS over R^D_i, [bits] per sample (bare flag: one CIFAR-10 sample, 24584)")
    .option("-o, --out <dir>", "output directory", "runs/policy")
    .option("-q, --quiet", "no progress output", false)
    .action(async (opts: TrainOptions) => {
      const log = await trainPolicy(opts);
      const last = log.episodes.slice(-Math.max(1, Math.floor(log.episodes.length / 10)));
      const mean = last.reduce((s, e) => s + e.meanObjectiveSeconds, 0) / last.length;
      const kept = log.selectedEpisode >= 0 ? `kept the actors of episode ${log.selectedEpisode + 1} (validation ${log.episodes[log.selectedEpisode].validationObjectiveSeconds?.toFixed(2)} s)` : "kept the last actors";
      console.log(`trained ${log.config.episodes} episodes x ${log.config.slotsPerEpisode} slots in ${log.wallSeconds.toFixed(0)} s on ${log.backend}; last-10% mean training objective ${mean.toFixed(2)} s; ${kept}; wrote ${opts.out}/policy and ${opts.out}/training-log.{json,csv}`);
    });
}
