/**
 * `dtwn calibrate`: how fast one core of this machine trains the paper's CNN as the running system trains it (one
 * training process with one TensorFlow thread, the system's dataset and optimizer, twins of D_ref samples), and the
 * constants of Eq. 12 that follow (src/twins/work.ts). For each batch size b it times a twin trained for s1 and for
 * s2 mini-batches. One model of the time, t = o + s (c0 + b / v), is fitted through every measurement (least
 * relative error): v the marginal samples/s (f^C), c0 the fixed seconds of a mini-batch (b^0 = c0 v) and o the
 * seconds of a twin besides its mini-batches (f^T). The report shows how far each batch size is from the fit.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { createCnn, getModelWeights } from "../fl/cnn";
import { ProcessPoolTrainer } from "../fl/trainers";
import { initBackend } from "../ml/backend";
import { median } from "../eval/stats";
import { readJsonFile } from "../io/jsonFile";
import { REFERENCE_TWIN_SAMPLES, trainCyclesPerSampleOf, trainingConstantsOf, type TrainingConstants } from "../twins/work";

export const CalibrationSchema = z
  .object({
    /** What was measured: the CNN on this dataset, one process with one thread, this optimizer. */
    dataset: z.string(),
    optimizer: z.enum(["sgd", "momentum", "adam"]),
    backend: z.string(),
    machine: z.object({ cpu: z.string(), cores: z.number().int().positive(), hostname: z.string() }).strict(),
    measuredAt: z.string(),
    /** D_ref of src/twins/work.ts, samples. */
    referenceSamples: z.number().positive(),
    /** Per batch size: marginal samples/s and per-twin overhead, seconds (medians). */
    batches: z
      .array(
        z
          .object({
            batchSize: z.number().int().positive(),
            samplesPerSecond: z.number().positive(),
            overheadSeconds: z.number(),
            /** The long measurement: mini-batches and median seconds of one twin of D_ref samples. */
            steps: z.number().int().positive(),
            seconds: z.number().positive(),
          })
          .strict(),
      )
      .min(1),
    /** The fit through every measurement: marginal samples/s (v), seconds per mini-batch besides (c0), seconds per twin besides (o). */
    samplesPerSecond: z.number().positive(),
    stepSeconds: z.number().min(0),
    overheadSeconds: z.number().min(0),
    /** The clock of one core (Hz) that f^C is expressed against, and where it came from. */
    coreHz: z.number().positive(),
    coreHzSource: z.string(),
    /** xi of Eqs. 15-16 fitted to the uploads of an emulated run (`dtwn calibrate --xi-from`); absent: the model's 1. */
    xi: z.object({ value: z.number().positive(), run: z.string(), uploads: z.number().int().positive(), fittedAt: z.string() }).strict().optional(),
  })
  .strict();
export type Calibration = z.infer<typeof CalibrationSchema>;

export interface CalibrateOptions {
  batchSizes: number[];
  /** Mini-batches of the short and the long measurement. */
  steps: [number, number];
  repeats: number;
  /** The optimizer the runs train with (its update is part of every mini-batch). */
  optimizer: "sgd" | "momentum" | "adam";
  /** Hz of one core; default: this machine's clock from /proc/cpuinfo. */
  coreHz?: number;
  log?: (line: string) => void;
}

/** This machine's core clock (Hz) from /proc/cpuinfo, if it says. */
export function machineCoreHz(cpuinfo = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : ""): number | undefined {
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  return mhz ? Number(mhz[1]) * 1e6 : undefined;
}

/** One measurement: a twin trained for `steps` mini-batches of `batchSize` samples took `seconds`. */
export interface TrainingTime {
  steps: number;
  batchSize: number;
  seconds: number;
}

/** Solve the small dense system A x = y (Gaussian elimination with partial pivoting); throws when A is singular. */
function solve(a: number[][], y: number[]): number[] {
  const n = y.length;
  const m = a.map((row, i) => [...row, y[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (Math.abs(m[p][c]) < 1e-300) throw new Error("singular");
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/**
 * The model t = o + s c0 + s b / v with the least squared *relative* error (weights 1/t^2: a prediction off by 10 %
 * counts the same for a short and a long training), with o, c0 >= 0 (a term fitted negative is dropped and the rest
 * refitted). Needs at least two batch sizes and two step counts.
 */
export function fitTrainingTime(points: readonly TrainingTime[]): { samplesPerSecond: number; stepSeconds: number; overheadSeconds: number } {
  const columns: ((p: TrainingTime) => number)[] = [() => 1, (p) => p.steps, (p) => p.steps * p.batchSize];
  let active = [0, 1, 2];
  for (;;) {
    const ata = active.map(() => active.map(() => 0));
    const aty = active.map(() => 0);
    for (const p of points) {
      const w = 1 / (p.seconds * p.seconds);
      const x = active.map((c) => columns[c](p));
      for (let i = 0; i < x.length; i++) {
        aty[i] += w * x[i] * p.seconds;
        for (let j = 0; j < x.length; j++) ata[i][j] += w * x[i] * x[j];
      }
    }
    let coef: number[];
    try {
      coef = solve(ata, aty);
    } catch {
      throw new Error("fitTrainingTime: the measurements do not separate the terms (measure at least two batch sizes and two step counts)");
    }
    const get = (c: number) => (active.includes(c) ? coef[active.indexOf(c)] : 0);
    const negative = active.filter((c) => c !== 2 && get(c) < 0);
    if (negative.length > 0) {
      active = active.filter((c) => !negative.includes(c));
      continue;
    }
    if (!(get(2) > 0)) throw new Error("fitTrainingTime: training did not take longer with more samples; the measurements are noise");
    return { samplesPerSecond: 1 / get(2), stepSeconds: get(1), overheadSeconds: get(0) };
  }
}

export async function calibrate(o: CalibrateOptions): Promise<Calibration> {
  const log = o.log ?? (() => undefined);
  const [s1, s2] = o.steps;
  if (!(s2 > s1 && s1 >= 1)) throw new Error(`--steps takes two counts, the second larger, e.g. 4,16; got ${s1},${s2}.`);
  const backend = await initBackend("auto", log); // the workers choose the same way
  const trainer = new ProcessPoolTrainer({ kind: "fashion-mnist" }, 1, 1);
  const model = createCnn({ height: 28, width: 28, channels: 1 }, 1);
  const global = getModelWeights(model);
  model.dispose();
  const indices = Array.from({ length: REFERENCE_TWIN_SAMPLES }, (_, k) => k);
  const settings = { learningRate: 0.001, localEpochs: 1, optimizer: o.optimizer };
  const time = async (batchSize: number, steps: number): Promise<number> => {
    const t0 = performance.now();
    await trainer.trainTwins(global, [{ twin: 0, bs: 0, indices, batchSize, seed: 1, steps }], settings);
    return (performance.now() - t0) / 1000;
  };
  try {
    await time(o.batchSizes[0], 2); // start the worker and warm its kernels up
    const points: TrainingTime[] = [];
    const batches: Calibration["batches"] = [];
    for (const b of o.batchSizes) {
      const short: number[] = [];
      const long: number[] = [];
      for (let r = 0; r < o.repeats; r++) {
        short.push(await time(b, s1));
        long.push(await time(b, s2));
      }
      short.forEach((seconds) => points.push({ steps: s1, batchSize: b, seconds }));
      long.forEach((seconds) => points.push({ steps: s2, batchSize: b, seconds }));
      const v = ((s2 - s1) * b) / (median(long) - median(short));
      const overhead = median(short) - (s1 * b) / v;
      batches.push({ batchSize: b, samplesPerSecond: v, overheadSeconds: overhead, steps: s2, seconds: median(long) });
      log(`batch ${b}: ${v.toFixed(0)} samples/s, ${overhead.toFixed(3)} s per twin besides (median of ${o.repeats})`);
    }
    const fit = fitTrainingTime(points);
    const hz = o.coreHz ?? machineCoreHz();
    return {
      dataset: "fashion-mnist 28x28x1",
      optimizer: o.optimizer,
      backend,
      machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.availableParallelism?.() ?? os.cpus().length, hostname: os.hostname() },
      measuredAt: new Date().toISOString(),
      referenceSamples: REFERENCE_TWIN_SAMPLES,
      batches,
      samplesPerSecond: fit.samplesPerSecond,
      stepSeconds: fit.stepSeconds,
      overheadSeconds: fit.overheadSeconds,
      coreHz: hz ?? 1e9,
      coreHzSource: o.coreHz !== undefined ? "--core-hz" : hz !== undefined ? "/proc/cpuinfo cpu MHz" : "no clock found: 1 GHz assumed",
    };
  } finally {
    await trainer.close();
  }
}

/** f^C of Eq. 12 for a run with s_ref = `localSteps`, from a calibration. */
export function calibratedTrainCycles(c: Calibration, localSteps: number): number {
  return trainCyclesPerSampleOf(c.samplesPerSecond, c.coreHz, localSteps, c.referenceSamples);
}

/** Eq. 12's constants (f^C, b^0, f^T) for a run with s_ref = `localSteps` on CPUs whose one core stands for `coreHz` (default: the calibration's clock). */
export function calibratedTraining(c: Calibration, localSteps: number, coreHz = c.coreHz): TrainingConstants {
  // the launcher of emulated runs does the same with the Hz one core stands for (src/testbed/launch.ts)
  return trainingConstantsOf({ samplesPerSecond: c.samplesPerSecond, stepSeconds: c.stepSeconds, twinSeconds: c.overheadSeconds }, coreHz, localSteps, c.referenceSamples);
}

/**
 * Store in the calibration at `file` the xi of Eqs. 15-16 that fits the uploads of the emulated run whose metrics are
 * at `metricsFile` (src/testbed/fidelity.ts, fitXi). Returns what it did, for the user.
 */
export function calibrateXi(metricsFile: string, file: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fidelity, fitXi, runXi } = require("../testbed/fidelity") as typeof import("../testbed/fidelity");
  const c = readCalibration(file);
  const m = readJsonFile(metricsFile, z.object({ options: z.record(z.unknown()), rounds: z.array(z.any()), testbed: z.object({ linkSlowdown: z.number().positive() }).passthrough() }).passthrough(), { what: "Run metrics", missing: `no run metrics at ${metricsFile}: point --xi-from at the metrics.json of a \`dtwn run --testbed emulated\`.` });
  const used = runXi(m.options);
  const [, upload] = fidelity(m.rounds, m.testbed.linkSlowdown);
  const xi = fitXi(upload, used);
  if (!(xi > 0)) throw new Error(`${metricsFile} has no upload measured by the verifiers (no BS submitted, or no verdict has a fetch time): run an emulated run with at least 2 BSs first.`);
  c.xi = { value: xi, run: metricsFile, uploads: upload.pairs.length, fittedAt: new Date().toISOString() };
  writeCalibration(file, c);
  return `xi = ${xi.toFixed(3)} fits the ${upload.pairs.length} uploads of ${metricsFile} (it ran with xi = ${used}); wrote ${file}.`;
}

/** A calibration fits a run only if it measured the run's optimizer (Adam's update of every weight is part of each step). */
export function checkCalibrationFits(c: Calibration, file: string, optimizer: string): void {
  if (c.optimizer !== optimizer) throw new Error(`${file} was measured with --optimizer ${c.optimizer}, but this run trains with ${optimizer}: calibrate again with \`npx dtwn calibrate --optimizer ${optimizer} --out ${file}\`.`);
}

export function readCalibration(file: string): Calibration {
  return readJsonFile(file, CalibrationSchema, { what: "Calibration", missing: `no calibration at ${file}: write one with \`npx dtwn calibrate --out ${file}\`.` });
}

export function writeCalibration(file: string, c: Calibration): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(c, null, 2) + "\n");
}

/** The calibration as a table: per batch size the measured speed and how far the fitted model is from the measurement. */
export function renderCalibration(c: Calibration, localSteps: number): string {
  const fitted = (b: Calibration["batches"][number]) => c.overheadSeconds + b.steps * (c.stepSeconds + b.batchSize / c.samplesPerSecond);
  const k = calibratedTraining(c, localSteps);
  const lines = [
    `| batch | samples/s (marginal) | overhead per twin, s | one twin, ${c.batches[0].steps} mini-batches: measured s | the fit's s | the fit's error |`,
    `|---:|---:|---:|---:|---:|---:|`,
    ...c.batches.map((b) => `| ${b.batchSize} | ${b.samplesPerSecond.toFixed(0)} | ${b.overheadSeconds.toFixed(3)} | ${b.seconds.toFixed(3)} | ${fitted(b).toFixed(3)} | ${(100 * (fitted(b) / b.seconds - 1)).toFixed(1)} % |`),
    ``,
    `The fit: t = ${c.overheadSeconds.toFixed(3)} s per twin + s_j x (${(1000 * c.stepSeconds).toFixed(2)} ms + b_j / ${c.samplesPerSecond.toFixed(0)} samples/s) per core (${c.backend}, 1 thread, ${c.optimizer}); core clock ${(c.coreHz / 1e9).toFixed(3)} GHz (${c.coreHzSource}).`,
    `Eq. 12 with --local-steps ${localSteps} (s_ref) and D_ref = ${c.referenceSamples}: f^C = ${k.trainCyclesPerSample.toFixed(0)} cycles per sample per unit of batch size, b^0 = ${(k.trainStepSamples ?? 0).toFixed(1)} samples per mini-batch, f^T = ${((k.trainTwinCycles ?? 0) / 1e6).toFixed(1)} Mcycles per twin (src/twins/work.ts).`,
  ];
  return lines.join("\n");
}
