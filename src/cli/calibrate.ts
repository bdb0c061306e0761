/** `dtwn calibrate`: this machine's training speed per core, and the f^C of Eq. 12 the model then uses. */
import type { Command } from "commander";
import { positiveInt } from "./args";
import { DEFAULT_RUN } from "../system/options";

function intList(v: string): number[] {
  if (!/^\d+(,\d+)*$/.test(v.trim())) throw new Error(`expected comma-separated positive integers such as 16,32,64, got "${v}".`);
  return v.trim().split(",").map(Number);
}

export function registerCalibrateCommand(program: Command): void {
  program
    .command("calibrate")
    .description("measure samples/s of the paper's CNN on one core (one training process, one thread, the system's data) and write the constants of Eq. 12 (f^C, and the calibrated b^0 and f^T) that `dtwn run --calibration <file>` then uses")
    .option("--batch-sizes <list>", "batch sizes to measure (b_min..b_max of (18d))", intList, [16, 32, 64, 128])
    .option("--steps <a,b>", "mini-batches of the short and the long measurement (their difference gives the marginal speed)", intList, [4, 16])
    .option("--repeats <n>", "measurements per batch size (medians are kept)", positiveInt, 3)
    .option("--optimizer <name>", "the optimizer of the runs it is for: sgd, momentum or adam (its update is part of every mini-batch)", DEFAULT_RUN.optimizer)
    .option("--core-hz <hz>", "the clock one core stands for, Hz (default: this machine's, from /proc/cpuinfo)", Number)
    .option("--local-steps <n>", "s_ref of the runs the printed f^C is for (the file keeps the speed; runs derive f^C with their own)", positiveInt, DEFAULT_RUN.localSteps)
    .option("-o, --out <file>", "where to write the calibration (JSON)", "runs/calibration.json")
    .option("--xi-from <metrics.json>", "instead of measuring training: fit xi of Eqs. 15-16 to the uploads of an emulated run (its metrics.json) and store it in the calibration at --out")
    .action(async (opts: { batchSizes: number[]; steps: number[]; repeats: number; optimizer: string; coreHz?: number; localSteps: number; out: string; xiFrom?: string }) => {
      if (opts.xiFrom !== undefined) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { calibrateXi } = require("../bench/calibrate") as typeof import("../bench/calibrate");
        console.log(calibrateXi(opts.xiFrom, opts.out));
        return;
      }
      if (opts.steps.length !== 2) throw new Error(`--steps takes two counts, e.g. 4,16; got ${opts.steps.join(",")}.`);
      if (!["sgd", "momentum", "adam"].includes(opts.optimizer)) throw new Error(`--optimizer takes sgd, momentum or adam, got "${opts.optimizer}".`);
      if (opts.coreHz !== undefined && !(opts.coreHz > 0)) throw new Error(`--core-hz must be a positive number of Hz, e.g. 2.4e9.`);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { calibrate, renderCalibration, writeCalibration } = require("../bench/calibrate") as typeof import("../bench/calibrate");
      const c = await calibrate({ batchSizes: opts.batchSizes, steps: [opts.steps[0], opts.steps[1]], repeats: opts.repeats, optimizer: opts.optimizer as "sgd" | "momentum" | "adam", ...(opts.coreHz ? { coreHz: opts.coreHz } : {}), log: (l) => console.error(l) });
      writeCalibration(opts.out, c);
      console.log(renderCalibration(c, opts.localSteps));
      console.log(`\nwrote ${opts.out}; use it with \`npx dtwn run --calibration ${opts.out}\`.`);
    });
}
