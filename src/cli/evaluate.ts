/**
 * `dtwn evaluate-association`: train MADDPG for several seeds (child `dtwn train-policy` processes, `--jobs` at a
 * time; finished runs are reused with --reuse), evaluate every method on the same held-out slots, and write
 *   results.json, results.md        per-seed and mean system cost of every method, and the acceptance ratios
 *   fig5-system-cost.{svg,png}      system time cost per held-out FL round (mean and 95% interval over seeds)
 *   fig7-gamma.{svg,png}            cumulative average system cost during training for each gamma
 *   fig8-time-per-iteration.{svg,png}  wall time per iteration: training step vs inference (and the heuristic)
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { positiveInt, twinSyncBits } from "./args";
import { initBackend, threadsPerProcess, trainingProcessEnv } from "../ml/backend";
import { generateScenario } from "../twins/scenario";
import { loadPolicy } from "../agents/association/policyStore";
import { DEFAULT_MADDPG, resolveMaddpgConfig } from "../agents/association/maddpg";
import { evaluateOnSlots, METHOD_LABELS, METHODS, type Method, type SlotResult } from "../eval/association";
import { cumulativeMean, curveInterval, interval95, mean } from "../eval/stats";
import { barChart, lineChart } from "../plot/svg";
import { writeFigure } from "../plot/files";
import { withTwinSync, type TrainingLog } from "./train";
import { formatSeconds } from "./progress";

const ROOT = path.resolve(__dirname, "..", "..");

/** Legend labels of the figures (the tables use METHOD_LABELS). */
const SHORT_LABELS: Record<Method | "lowerBound", string> = {
  maddpg: "MADDPG",
  random: "Random association",
  average: "Average association",
  heuristic: "Heuristic",
  centre: "Centre action",
  lowerBound: "Lower bound",
};

export interface EvaluateOptions {
  seeds: number;
  slots: number;
  episodes: number;
  gamma: number;
  gammas: number[];
  fig7Episodes: number;
  jobs: number;
  out: string;
  reuse: boolean;
  /** JSON file of MADDPG overrides for every training run (e.g. an ablation), passed to `dtwn train-policy --config`. */
  config?: string;
  /** Extension: bits per sample a moved twin's data syncs (`--twin-sync`; absent: the paper's model). */
  twinSync?: string | boolean;
}

interface RunSpec {
  seed: number;
  gamma: number;
  episodes: number;
  dir: string;
}

/** Runs with a configuration file are kept apart by a hash of its content, so --reuse never mixes configurations. */
const configTag = (config?: string) => (config ? `-config-${createHash("sha256").update(fs.readFileSync(config)).digest("hex").slice(0, 8)}` : "");
const runDir = (out: string, seed: number, gamma: number, episodes: number, tag: string) => path.join(out, "runs", `seed-${seed}-gamma-${gamma}-episodes-${episodes}${tag}`);

/** Run `dtwn train-policy` for every spec not already finished, at most `jobs` at a time. */
async function trainAll(specs: RunSpec[], jobs: number, reuse: boolean, config?: string, twinSync?: number): Promise<void> {
  const todo = specs.filter((s) => !(reuse && fs.existsSync(path.join(s.dir, "training-log.json"))));
  console.error(`training: ${todo.length} run(s) to do, ${specs.length - todo.length} reused, ${jobs} at a time`);
  let next = 0;
  let done = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < todo.length) {
      const s = todo[next++];
      const args = [path.join(ROOT, "bin", "dtwn.js"), "train-policy", "--quiet", "--scenario-seed", String(s.seed), "--seed", String(s.seed), "--episodes", String(s.episodes), "--gamma", String(s.gamma), "--out", s.dir, ...(config ? ["--config", path.resolve(config)] : []), ...(twinSync !== undefined ? ["--twin-sync", String(twinSync)] : [])];
      const t0 = Date.now();
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env: trainingProcessEnv(threadsPerProcess(jobs)) });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += String(d)));
        child.on("error", reject);
        child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`training seed ${s.seed} gamma ${s.gamma} failed (exit ${code}):\n${stderr.trim()}`))));
      });
      done++;
      const elapsed = (Date.now() - started) / 1000;
      console.error(`  [${done}/${todo.length}] seed ${s.seed}, gamma ${s.gamma}, ${s.episodes} episodes: ${formatSeconds((Date.now() - t0) / 1000)} (ETA ${formatSeconds((elapsed / done) * (todo.length - done))})`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker));
}

function readLog(dir: string): TrainingLog {
  return JSON.parse(fs.readFileSync(path.join(dir, "training-log.json"), "utf8")) as TrainingLog;
}

export interface SeedSummary {
  seed: number;
  trainingSeconds: number;
  meanObjectiveSeconds: Record<Method, number>;
  meanLowerBoundSeconds: number;
  ratios: { maddpgToAverage: number; maddpgToRandom: number; maddpgToHeuristic: number; maddpgToLowerBound: number; maddpgToBest: number };
  trainingMsPerSlot: number;
  inferenceMsPerSlot: number;
  heuristicMsPerSlot: number;
}

function summarise(seed: number, log: TrainingLog, slots: SlotResult[]): SeedSummary {
  const m = (f: (r: SlotResult) => number) => mean(slots.map(f));
  const meanObjectiveSeconds = Object.fromEntries(METHODS.map((k) => [k, m((r) => r.objectiveSeconds[k])])) as Record<Method, number>;
  const lb = m((r) => r.lowerBoundSeconds);
  const best = Math.min(meanObjectiveSeconds.heuristic, lb);
  const after = log.episodes.filter((e) => e.criticLoss > 0);
  return {
    seed,
    trainingSeconds: log.wallSeconds,
    meanObjectiveSeconds,
    meanLowerBoundSeconds: lb,
    ratios: {
      maddpgToAverage: meanObjectiveSeconds.maddpg / meanObjectiveSeconds.average,
      maddpgToRandom: meanObjectiveSeconds.maddpg / meanObjectiveSeconds.random,
      maddpgToHeuristic: meanObjectiveSeconds.maddpg / meanObjectiveSeconds.heuristic,
      maddpgToLowerBound: meanObjectiveSeconds.maddpg / lb,
      maddpgToBest: meanObjectiveSeconds.maddpg / best,
    },
    trainingMsPerSlot: mean((after.length ? after : log.episodes).map((e) => e.msPerSlot)),
    inferenceMsPerSlot: m((r) => r.decisionMs.maddpg),
    heuristicMsPerSlot: m((r) => r.decisionMs.heuristic),
  };
}

function markdown(opts: EvaluateOptions, seeds: SeedSummary[]): string {
  const f = (x: number) => x.toFixed(2);
  const r = (x: number) => x.toFixed(3);
  const lines = [
    `# Edge association on held-out slots`,
    ``,
    `${seeds.length} seeds (topology, training and held-out slots), ${opts.slots} held-out slots each; MADDPG trained ${opts.episodes} episodes x ${DEFAULT_MADDPG.slotsPerEpisode} slots with gamma = ${opts.gamma}${opts.config ? `, configuration ${path.basename(opts.config)} (${JSON.stringify(JSON.parse(fs.readFileSync(opts.config, "utf8")))})` : ""}. ${opts.twinSync !== undefined ? `, with the twin-sync extension (a moved twin's data, ${twinSyncBits(opts.twinSync)} bits per sample, syncs to its new BS over R^D_i; not the paper's model)` : ""}. Mean Eq. 18 system cost per FL round, seconds.`,
    ``,
    `| seed | MADDPG | random | average | heuristic | centre action | lower bound | MADDPG/average | MADDPG/random | MADDPG/heuristic | MADDPG/LB | training |`,
    `|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
    ...seeds.map((s) => {
      const o = s.meanObjectiveSeconds;
      return `| ${s.seed} | ${f(o.maddpg)} | ${f(o.random)} | ${f(o.average)} | ${f(o.heuristic)} | ${f(o.centre)} | ${f(s.meanLowerBoundSeconds)} | ${r(s.ratios.maddpgToAverage)} | ${r(s.ratios.maddpgToRandom)} | ${r(s.ratios.maddpgToHeuristic)} | ${r(s.ratios.maddpgToLowerBound)} | ${formatSeconds(s.trainingSeconds)} |`;
    }),
  ];
  const iv = (xs: number[]) => {
    const i = interval95(xs);
    return `${f(i.mean)} [${f(i.lower)}, ${f(i.upper)}]`;
  };
  lines.push(
    `| mean [95% CI] | ${METHODS.map((k) => iv(seeds.map((s) => s.meanObjectiveSeconds[k]))).join(" | ")} | ${iv(seeds.map((s) => s.meanLowerBoundSeconds))} | ${r(mean(seeds.map((s) => s.ratios.maddpgToAverage)))} | ${r(mean(seeds.map((s) => s.ratios.maddpgToRandom)))} | ${r(mean(seeds.map((s) => s.ratios.maddpgToHeuristic)))} | ${r(mean(seeds.map((s) => s.ratios.maddpgToLowerBound)))} | ${formatSeconds(mean(seeds.map((s) => s.trainingSeconds)))} |`,
    ``,
    `Targets of the comparison:`,
    `- MADDPG below average association on every seed: **${seeds.every((s) => s.ratios.maddpgToAverage < 1) ? "yes" : "no"}**`,
    `- MADDPG below random association on every seed: **${seeds.every((s) => s.ratios.maddpgToRandom < 1) ? "yes" : "no"}**`,
    `- MADDPG within 10% of the best of heuristic and lower bound (here the lower bound) on every seed: **${seeds.every((s) => s.ratios.maddpgToBest <= 1.1) ? "yes" : "no"}** (worst ratio ${r(Math.max(...seeds.map((s) => s.ratios.maddpgToBest)))})`,
    `- Longest training run: ${formatSeconds(Math.max(...seeds.map((s) => s.trainingSeconds)))}`,
    ``,
    `Time per iteration (Fig. 8): training ${f(mean(seeds.map((s) => s.trainingMsPerSlot)))} ms/slot (act + step + ${DEFAULT_MADDPG.updatesPerSlot} update(s) of all ${"M"} agents), inference ${f(mean(seeds.map((s) => s.inferenceMsPerSlot)))} ms/slot (actors + decoder), heuristic ${f(mean(seeds.map((s) => s.heuristicMsPerSlot)))} ms/slot.`,
    ``,
    `Methods: ${(Object.keys(METHOD_LABELS) as (keyof typeof METHOD_LABELS)[]).map((k) => `${k} = ${METHOD_LABELS[k]}`).join("; ")}.`,
  );
  return lines.join("\n") + "\n";
}

export async function evaluateAssociation(opts: EvaluateOptions): Promise<SeedSummary[]> {
  if (!opts.gammas.includes(opts.gamma)) throw new Error(`--gammas ${opts.gammas.join(",")} must include the main --gamma ${opts.gamma}.`);
  if (opts.config !== undefined) {
    if (!fs.existsSync(opts.config)) throw new Error(`--config ${opts.config}: no such file. Give a JSON object of MADDPG overrides (see DEFAULT_MADDPG in src/agents/association/maddpg.ts).`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(opts.config, "utf8"));
    } catch (e) {
      throw new Error(`--config ${opts.config} is not valid JSON: ${(e as Error).message}`);
    }
    // Fail here, not in the first child: every field is checked before any training starts.
    resolveMaddpgConfig(parsed);
  }
  const sync = opts.twinSync === undefined ? undefined : twinSyncBits(opts.twinSync);
  const tag = configTag(opts.config) + (sync !== undefined ? `-twin-sync-${sync}` : "");
  const seeds = Array.from({ length: opts.seeds }, (_, k) => k + 1);
  const main = seeds.map((seed) => ({ seed, gamma: opts.gamma, episodes: opts.episodes, dir: runDir(opts.out, seed, opts.gamma, opts.episodes, tag) }));
  const fig7Runs = seeds.flatMap((seed) => opts.gammas.map((gamma) => ({ seed, gamma, episodes: opts.fig7Episodes, dir: runDir(opts.out, seed, gamma, opts.fig7Episodes, tag) })));
  const specs = [...main, ...fig7Runs.filter((s) => !main.some((m) => m.dir === s.dir))];
  await trainAll(specs, opts.jobs, opts.reuse, opts.config, sync);

  await initBackend("auto", () => undefined);
  const perSeed: { summary: SeedSummary; slots: SlotResult[] }[] = [];
  for (const spec of main) {
    const scenario = withTwinSync(generateScenario({ seed: spec.seed }), sync);
    const policy = await loadPolicy(path.join(spec.dir, "policy"), scenario);
    const slots = evaluateOnSlots(scenario, spec.seed, opts.slots, (obs) => policy.act(obs));
    policy.dispose();
    perSeed.push({ summary: summarise(spec.seed, readLog(spec.dir), slots), slots });
    console.error(`evaluated seed ${spec.seed} on ${opts.slots} held-out slots`);
  }
  const summaries = perSeed.map((p) => p.summary);
  fs.mkdirSync(opts.out, { recursive: true });
  fs.writeFileSync(path.join(opts.out, "results.json"), JSON.stringify({ options: opts, seeds: perSeed }, null, 1) + "\n");
  fs.writeFileSync(path.join(opts.out, "results.md"), markdown(opts, summaries));

  // Fig. 5: system time cost per held-out FL round.
  const rounds = Array.from({ length: opts.slots }, (_, t) => t + 1);
  const fig5Methods: Method[] = ["maddpg", "random", "average", "heuristic"];
  const fig5Series = [
    ...fig5Methods.map((k) => ({ label: SHORT_LABELS[k], x: rounds, ...curveInterval(perSeed.map((p) => p.slots.map((s) => s.objectiveSeconds[k]))) })),
    { label: SHORT_LABELS.lowerBound, x: rounds, mean: curveInterval(perSeed.map((p) => p.slots.map((s) => s.lowerBoundSeconds))).mean },
  ];
  // Random association costs ~6x the rest: a log axis keeps MADDPG and the heuristic apart, unless an interval
  // (few seeds) reaches below zero, which a log axis cannot show.
  const logY = fig5Series.every((s) => !("lower" in s) || s.lower.every((v) => v > 0));
  const fig5 = lineChart({
    title: `Fig. 5: system time cost per FL round (${opts.seeds} seeds, 95% interval)`,
    xLabel: "held-out FL round",
    yLabel: `system time cost (Eq. 18), s${logY ? " (log scale)" : ""}`,
    logY,
    width: 900,
    height: 500,
    series: fig5Series,
  });
  // Fig. 7: cumulative average system cost during training, per gamma.
  const fig7Series = opts.gammas.map((gamma) => {
    const curves = seeds.map((seed) => cumulativeMean(readLog(runDir(opts.out, seed, gamma, opts.fig7Episodes, tag)).episodes.map((e) => e.meanObjectiveSeconds)));
    return { label: `gamma = ${gamma}`, x: curves[0].map((_, e) => e + 1), ...curveInterval(curves) };
  });
  const fig7 = lineChart({ title: `Fig. 7: cumulative average cost in training (${opts.seeds} seeds)`, xLabel: "training episode", yLabel: "cumulative average system cost, s", series: fig7Series, width: 900, height: 500 });
  // Fig. 8: time per iteration, training vs inference.
  const bar = (label: string, xs: number[]) => ({ label, ...interval95(xs) });
  const fig8 = barChart({
    title: `Fig. 8: wall time per iteration (${opts.seeds} seeds, 95% interval)`,
    width: 900,
    height: 500,
    yLabel: "milliseconds per time slot",
    groups: [
      { label: "MADDPG training", bars: [bar("time per iteration", summaries.map((s) => s.trainingMsPerSlot))] },
      { label: "MADDPG inference", bars: [bar("time per iteration", summaries.map((s) => s.inferenceMsPerSlot))] },
      { label: "heuristic solve", bars: [bar("time per iteration", summaries.map((s) => s.heuristicMsPerSlot))] },
    ],
  });
  writeFigure(path.join(opts.out, "fig5-system-cost"), fig5);
  writeFigure(path.join(opts.out, "fig7-gamma"), fig7);
  writeFigure(path.join(opts.out, "fig8-time-per-iteration"), fig8);
  return summaries;
}

const gammaList = (v: string) =>
  v.split(",").map((x) => {
    const g = Number(x);
    if (!(g >= 0 && g < 1)) throw new Error(`gamma must be in [0, 1), got ${JSON.stringify(x)}`);
    return g;
  });

export function registerEvaluateCommands(program: Command): void {
  program
    .command("evaluate-association")
    .description("train MADDPG per seed, evaluate it against random, average and heuristic association on held-out slots, and write tables and Figs. 5, 7, 8")
    .option("--seeds <n>", "number of seeds (1..n)", positiveInt, 5)
    .option("--slots <n>", "held-out slots per seed", positiveInt, 50)
    .option("--episodes <n>", "training episodes of the evaluated policies", positiveInt, DEFAULT_MADDPG.episodes)
    .option("--gamma <x>", "discount rate of the evaluated policies", Number, DEFAULT_MADDPG.gamma)
    .option("--gammas <list>", "discount rates compared in Fig. 7", gammaList, [0.5, 0.7, 0.9, 0.99])
    .option("--fig7-episodes <n>", "training episodes of each Fig. 7 run", positiveInt, 30)
    .option("-j, --jobs <n>", "training processes at a time", positiveInt, 2)
    .option("-o, --out <dir>", "output directory", "results/association")
    .option("--reuse", "reuse finished training runs found in <out>/runs", false)
    .option("--twin-sync [bits]", "extension beyond the paper: moving a twin costs the sync of its data to the new BS ([bits] per sample; bare flag: one CIFAR-10 sample)")
    .option("--config <file>", "JSON object of MADDPG overrides for every run, e.g. configs/ablation-independent-ddpg.json")
    .action(async (opts: EvaluateOptions) => {
      const summaries = await evaluateAssociation(opts);
      console.log(fs.readFileSync(path.join(opts.out, "results.md"), "utf8"));
      console.log(`wrote ${opts.out}/results.{json,md} and fig5/fig7/fig8 .svg/.png (${summaries.length} seeds)`);
    });
}
