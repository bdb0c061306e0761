/** `dtwn bench ...`: benchmarks that print their figures (speed is measured here, never asserted in tests). */
import os from "node:os";
import type { Command } from "commander";
import { benchTrain, measureTfjs, type TrainBenchCase } from "../bench/train";

const posInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
};

export function registerBenchCommands(program: Command): void {
  const bench = program.command("bench").description("benchmarks (training throughput, ...)");
  bench
    .command("train")
    .description("samples/s of the paper's CNN (32x32x3 and 28x28x1, batch 32 and 64) on the tfjs backend in use, 1 process and one per core, against PyTorch when installed")
    .option("--steps <n>", "timed SGD steps per measurement", posInt, 20)
    .option("--workers <n>", "parallel training processes (default: one per core)", posInt, os.availableParallelism?.() ?? os.cpus().length)
    .option("--json", "print the rows as JSON", false)
    .action(async (opts: { steps: number; workers: number; json: boolean }) => {
      const rows = await benchTrain(opts.steps, opts.workers);
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      console.log(`| input | batch | backend | 1 process, samples/s | ${opts.workers} processes, samples/s | PyTorch (${opts.workers} threads), samples/s | ratio |`);
      console.log("|---|---:|---|---:|---:|---:|---:|");
      for (const r of rows) {
        console.log(`| ${r.height}x${r.width}x${r.channels} | ${r.batch} | ${r.backend} | ${r.oneProcess.toFixed(1)} | ${r.allProcesses.toFixed(1)} | ${r.torch ? r.torch.toFixed(1) : "not installed"} | ${r.ratio ? r.ratio.toFixed(2) : "-"} |`);
      }
    });
  bench
    .command("train-worker", { hidden: true })
    .requiredOption("--case <json>", "the TrainBenchCase")
    .option("--steps <n>", "timed steps", posInt, 10)
    .action(async (opts: { case: string; steps: number }) => {
      const r = await measureTfjs(JSON.parse(opts.case) as TrainBenchCase, opts.steps);
      console.log(JSON.stringify(r));
    });
}
