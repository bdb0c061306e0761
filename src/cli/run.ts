/** `dtwn run`: the whole system (chain, IPFS, FL, BS agents) on embedded defaults, writing a run folder with a report. */
import type { Command } from "commander";
import { finiteNumber, positiveInt } from "./args";
import { DEFAULT_RUN, resolveRunOptions, runSystem } from "../system/run";
import { formatRoundLine, writeRunReport } from "../system/report";

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
    .option("--seed <n>", "seed of the topology, data and environment", positiveInt, DEFAULT_RUN.seed)
    .option("-o, --out <dir>", "run folder", DEFAULT_RUN.out)
    .option("-q, --quiet", "only one line per round", false)
    .action(async (opts: Record<string, unknown>) => {
      const o = resolveRunOptions(opts);
      const started = Date.now();
      const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
      const metrics = await runSystem(o, { log: o.quiet ? undefined : log, onRound: (r) => console.log(formatRoundLine(r, [])) });
      const { files } = writeRunReport(o.out, metrics);
      console.log(`\n${o.rounds} rounds in ${metrics.seconds.toFixed(0)} s; report: ${files.find((f) => f.endsWith("report.md"))}`);
    });
}
