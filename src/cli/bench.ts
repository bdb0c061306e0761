/** `dtwn bench ...`: benchmarks that print their figures (speed is measured here, never asserted in tests). */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { finiteNumber, positiveInt } from "./args";
import { benchTrain, renderTrainBench, runTrainBenchWorker, torchPython, torchVersion, type TrainBenchCase } from "../bench/train";
import { tfjsNodeStatus, type BackendName } from "../ml/backend";
import { benchFl, plotFlRuns, readFlRun, writeFlRun, type FlBenchOptions } from "../bench/fl";
import { runFlWorker } from "../fl/trainers";
import { registerIpfsBench } from "./ipfs";
import { LOCAL_OPTIMIZERS } from "../fl/cnn";
import { MODEL_ATTACKS } from "../fl/attacks";
import { LEARNING_RATE_SCHEDULES } from "../fl/federation";
import { SERVER_OPTIMIZERS } from "../fl/serverOptimizer";

export function registerBenchCommands(program: Command): void {
  const bench = program.command("bench").description("benchmarks (training throughput, ...)");
  bench
    .command("train")
    .description("samples/s of the paper's CNN (32x32x3 and 28x28x1, batch 32 and 64), SGD, on tfjs-node and wasm against PyTorch in the same run: 1 process x all cores, and one process per core")
    .option("--steps <n>", "timed SGD steps per measurement", positiveInt, 20)
    .option("--repeats <n>", "measurements per figure (the median is reported); the backends take turns", positiveInt, 3)
    .option("--backends <list>", "tfjs backends to measure, comma-separated: tensorflow, wasm (default: both, tensorflow only where tfjs-node loads)")
    .option("--no-torch", "skip the PyTorch reference")
    .option("--json", "print the rows as JSON", false)
    .option("--out <base>", "also write the table and the rows to <base>.md and <base>.json")
    .action(async (opts: { steps: number; repeats: number; backends?: string; torch: boolean; json: boolean; out?: string }) => {
      const available = tfjsNodeStatus();
      const backends = (opts.backends ?? (available.available ? "tensorflow,wasm" : "wasm")).split(",").map((b) => b.trim()) as BackendName[];
      for (const b of backends) {
        if (b !== "tensorflow" && b !== "wasm") throw new Error(`--backends: unknown backend ${JSON.stringify(b)}; use tensorflow and/or wasm.`);
        if (b === "tensorflow" && !available.available) throw new Error(`--backends tensorflow: ${available.reason}`);
      }
      if (!available.available) console.error(`tfjs-node unavailable, measuring wasm only: ${available.reason}`);
      let torch = opts.torch;
      if (torch) {
        const t = torchVersion();
        if (t.version) console.error(`PyTorch ${t.version} (${torchPython()}) as the reference`);
        else {
          console.error(`no PyTorch reference: ${t.reason}`);
          torch = false;
        }
      }
      const rows = await benchTrain({ steps: opts.steps, repeats: opts.repeats, backends, torch });
      const table = renderTrainBench(rows, backends, torch);
      if (opts.out) {
        fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
        fs.writeFileSync(`${opts.out}.json`, JSON.stringify({ steps: opts.steps, repeats: opts.repeats, backends, torch: torch ? torchVersion().version : undefined, at: new Date().toISOString(), rows }, null, 1) + "\n");
        fs.writeFileSync(`${opts.out}.md`, table + "\n");
        console.error(`wrote ${opts.out}.md and ${opts.out}.json`);
      }
      console.log(opts.json ? JSON.stringify(rows, null, 2) : table);
    });
  bench
    .command("fl")
    .description("federated learning on Fashion-MNIST (N users IID on M BSs): test accuracy and loss on the 10,000 test images per round")
    .option("--users <n>", "end users N", positiveInt, 100)
    .option("--bss <n>", "BSs M", positiveInt, 5)
    .option("--rounds <n>", "FL rounds", positiveInt, 20)
    .option("--local-steps <n>", "at most this many mini-batches per twin and round", positiveInt, 120)
    .option("--local-epochs <n>", "passes over each twin's data per round (capped by --local-steps)", positiveInt, 3)
    .option("--batch-size <n>", "batch size of every twin", positiveInt, 16)
    .option("--participation <x>", "fraction C of each BS's twins that train in a round (1 = every twin)", finiteNumber, 0.2)
    .option("--learning-rate <x>", "local learning rate", finiteNumber, 0.001)
    .option("--optimizer <name>", "local optimiser: sgd | momentum | adam", "adam")
    .option("--lr-schedule <name>", "local learning rate over the rounds: constant | cosine (down to 0 at the last round)", "cosine")
    .option("--server-momentum <x>", "MBS momentum on the Eq. 5 step (FedAvgM); 0 = the global model is Eq. 5's aggregate", finiteNumber, 0.5)
    .option("--server-lr <x>", "MBS learning rate on the Eq. 5 step", finiteNumber, 1)
    .option("--server-optimizer <name>", "MBS update from the Eq. 5 aggregate: momentum (FedAvgM) | adam (FedAdam)", "momentum")
    .option("--held-out-per-bs <n>", "training samples each BS keeps for verification", positiveInt, 250)
    .option("--strategy <name>", "MBS aggregation: fedavg | median | trimmed-mean | krum", "fedavg")
    .option("--no-verification", "aggregate every BS model without verification")
    .option("--max-drop <x>", "verification: largest accuracy drop below the global model", Number, 0.1)
    .option("--attack <kind>", `BS 0 attacks its model: ${MODEL_ATTACKS.join(" | ")}`)
    .option("--attack-from <n>", "first attacking round", positiveInt, 1)
    .option("--seed <n>", "seed", positiveInt, 1)
    .option("--workers <n>", "training processes (default: one per core)", positiveInt, os.availableParallelism?.() ?? os.cpus().length)
    .option("--json", "print the round logs as JSON at the end", false)
    .option("--out <file>", "also write the options, backend, time and round logs to this JSON file (for `bench fl-plot`)")
    .action(async (opts: FlBenchOptions & { json: boolean; out?: string }) => {
      if (!LOCAL_OPTIMIZERS.includes(opts.optimizer)) throw new Error(`unknown optimizer ${JSON.stringify(opts.optimizer)}; use ${LOCAL_OPTIMIZERS.join(", ")}.`);
      if (!LEARNING_RATE_SCHEDULES.includes(opts.lrSchedule)) throw new Error(`unknown --lr-schedule ${JSON.stringify(opts.lrSchedule)}; use ${LEARNING_RATE_SCHEDULES.join(", ")}.`);
      if (!SERVER_OPTIMIZERS.includes(opts.serverOptimizer)) throw new Error(`unknown --server-optimizer ${JSON.stringify(opts.serverOptimizer)}; use ${SERVER_OPTIMIZERS.join(", ")}.`);
      if (opts.attack && !(MODEL_ATTACKS as readonly string[]).includes(opts.attack)) throw new Error(`unknown attack ${JSON.stringify(opts.attack)}; use ${MODEL_ATTACKS.join(", ")}.`);
      console.log("| round | test accuracy | test loss | accepted honest | rejected honest | accepted malicious | rejected malicious | seconds |");
      console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
      const r = await benchFl(opts, (l) => console.log(`| ${l.round} | ${(100 * l.testAccuracy).toFixed(2)} % | ${l.testLoss.toFixed(4)} | ${l.verdicts.acceptedHonest} | ${l.verdicts.rejectedHonest} | ${l.verdicts.acceptedMalicious} | ${l.verdicts.rejectedMalicious} | ${l.seconds.toFixed(1)} |`));
      console.log(`\n${opts.rounds} rounds in ${r.seconds.toFixed(0)} s on tfjs-${r.backend}; final test accuracy ${(100 * r.logs[r.logs.length - 1].testAccuracy).toFixed(2)} %`);
      if (opts.json) console.log(JSON.stringify(r.logs, null, 1));
      if (opts.out) {
        const { json: _json, out, ...options } = opts;
        writeFlRun(out, { options, backend: r.backend, seconds: r.seconds, logs: r.logs });
        console.error(`wrote ${out}`);
      }
    });
  bench
    .command("fl-plot")
    .description("plot test accuracy per round of `bench fl --out` runs (Fig. 6 style) as SVG and PNG")
    .argument("<runs...>", "JSON files written by `dtwn bench fl --out`")
    .option("--out <base>", "figure path without extension", "results/fl/fig6-accuracy")
    .option("--title <text>", "figure title", "Federated learning on Fashion-MNIST: test accuracy per round")
    .action((runs: string[], opts: { out: string; title: string }) => {
      const written = plotFlRuns(runs.map(readFlRun), opts.out, opts.title);
      console.log(`wrote ${written.svg} and ${written.png}`);
    });
  program
    .command("fl-worker", { hidden: true })
    .description("a federated-learning training worker (started by the process pool over IPC)")
    .action(async () => {
      await runFlWorker();
    });
  bench
    .command("train-worker", { hidden: true })
    .requiredOption("--case <json>", "the TrainBenchCase")
    .option("--steps <n>", "timed steps", positiveInt, 10)
    .option("--barrier", "wait for a line on stdin after the warm-up", false)
    .action(async (opts: { case: string; steps: number; barrier: boolean }) => {
      await runTrainBenchWorker(JSON.parse(opts.case) as TrainBenchCase, opts.steps, opts.barrier);
      process.exit(0);
    });
  registerIpfsBench(bench);
}
