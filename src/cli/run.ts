/** `dtwn run`: the whole system (chain, IPFS, FL, BS agents) on embedded defaults, writing a run folder with a report. */
import type { Command } from "commander";
import { finiteNumber, positiveInt } from "./args";
import { DEFAULT_RUN, resolveRunOptions, runSystem } from "../system/run";
import { formatRoundLine, writeRunReport } from "../system/report";

function parseCrash(v: string): { bs: number; round: number; after: string } {
  const m = /^(\d+):(\d+):([a-z]+)$/.exec(v);
  if (!m) throw new Error(`--crash takes bs:round:phase, e.g. 0:2:upload; got ${JSON.stringify(v)}.`);
  return { bs: Number(m[1]), round: Number(m[2]), after: m[3] };
}

export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description("run the system end to end: in-process chain, an IPFS node per BS, BS agents (MADDPG or a baseline), FL rounds on Fashion-MNIST; writes a report with figures")
    .option("--users <n>", "end users N (the paper: 100)", positiveInt, DEFAULT_RUN.users)
    .option("--bss <m>", "BSs M (the paper: 5)", positiveInt, DEFAULT_RUN.bss)
    .option("--rounds <n>", "FL rounds", positiveInt, DEFAULT_RUN.rounds)
    .option("--policy <name>", "edge association: maddpg | average | random", DEFAULT_RUN.policy)
    .option("--policy-dir <dir>", "trained MADDPG policy (default: the shipped one for this scenario under policies/)")
    .option("--local-steps <n>", "mini-batches each twin trains per round", positiveInt, DEFAULT_RUN.localSteps)
    .option("--learning-rate <x>", "local learning rate", finiteNumber, DEFAULT_RUN.learningRate)
    .option("--malicious <k>", "number of malicious BSs (the last ones)", (v) => Number(v), DEFAULT_RUN.malicious)
    .option("--attack <kind>", "what a malicious BS sends: sign-flip | scale | noise", DEFAULT_RUN.attack)
    .option("--test-images <n>", "test images the global model is scored on each round", positiveInt, DEFAULT_RUN.testImages)
    .option("--workers <n>", "training processes", positiveInt, DEFAULT_RUN.workers)
    .option("--held-out-per-bs <n>", "training samples each BS keeps to verify the others' models", positiveInt, DEFAULT_RUN.heldOutPerBs)
    .option("--first-round-seconds <s>", "submission window of round 1 (later rounds adapt, and close early when every BS has submitted)", positiveInt, DEFAULT_RUN.firstRoundSeconds)
    .option("--crash <bs:round:phase>", "fault injection: BS bs dies after phase (observe|act|sync|train|upload|verify|collect) of round round, and is restarted", parseCrash)
    .option("--seed <n>", "seed of the topology, data and environment", positiveInt, DEFAULT_RUN.seed)
    .option("-o, --out <dir>", "run folder", DEFAULT_RUN.out)
    .option("-q, --quiet", "only one line per round", false)
    .action(async (opts: Record<string, unknown>) => {
      const o = resolveRunOptions(opts);
      const started = Date.now();
      const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
      const metrics = await runSystem(o, { log: o.quiet ? undefined : log, onRound: (r) => console.log(formatRoundLine(r, r.agents.filter((a) => a.malicious).map((a) => a.bs))) });
      const { files } = writeRunReport(o.out, metrics);
      console.log(`\n${o.rounds} rounds in ${metrics.seconds.toFixed(0)} s; report: ${files.find((f) => f.endsWith("report.md"))}`);
    });
}
