/**
 * `dtwn calibrate`: how fast one core of this machine trains the paper's CNN as the running system trains it (one
 * training process with one TensorFlow thread, the system's dataset, twins of D_ref samples), and the f^C of Eq. 12
 * that follows (src/twins/work.ts). For each batch size b it times a twin trained for s1 and for s2 mini-batches;
 * the difference gives the marginal samples/s (no per-twin overhead in it), the rest the per-twin overhead. One
 * straight line t = overhead + samples / v fitted through every measurement (least relative error) gives the single v
 * Eq. 12 can use (Eq. 12 is linear in b_j D_j); the report shows how far each batch size is from that line.
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
import { REFERENCE_TWIN_SAMPLES, trainCyclesPerSampleOf } from "../twins/work";

export const CalibrationSchema = z
  .object({
    /** What was measured: the CNN on this dataset, one process with one thread. */
    dataset: z.string(),
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
    /** The line through every measurement: samples/s (v) and per-twin overhead, seconds. */
    samplesPerSecond: z.number().positive(),
    overheadSeconds: z.number(),
    /** The clock of one core (Hz) that f^C is expressed against, and where it came from. */
    coreHz: z.number().positive(),
    coreHzSource: z.string(),
  })
  .strict();
export type Calibration = z.infer<typeof CalibrationSchema>;

export interface CalibrateOptions {
  batchSizes: number[];
  /** Mini-batches of the short and the long measurement. */
  steps: [number, number];
  repeats: number;
  /** Hz of one core; default: this machine's clock from /proc/cpuinfo. */
  coreHz?: number;
  log?: (line: string) => void;
}

/** This machine's core clock (Hz) from /proc/cpuinfo, if it says. */
export function machineCoreHz(cpuinfo = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : ""): number | undefined {
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo);
  return mhz ? Number(mhz[1]) * 1e6 : undefined;
}

/**
 * The line y = a + b x with the least squared *relative* error sum ((a + b x - y) / y)^2 (weighted least squares with
 * weights 1/y^2): a prediction off by 10 % counts the same for a short and a long training.
 */
export function fitLine(points: readonly { x: number; y: number }[]): { intercept: number; slope: number } {
  const w = points.map((p) => 1 / (p.y * p.y));
  const sw = w.reduce((s, x) => s + x, 0);
  const mx = points.reduce((s, p, i) => s + w[i] * p.x, 0) / sw;
  const my = points.reduce((s, p, i) => s + w[i] * p.y, 0) / sw;
  const sxx = points.reduce((s, p, i) => s + w[i] * (p.x - mx) ** 2, 0);
  const sxy = points.reduce((s, p, i) => s + w[i] * (p.x - mx) * (p.y - my), 0);
  if (sxx === 0) throw new Error("fitLine: every point has the same x");
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope };
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
  const settings = { learningRate: 0.01, localEpochs: 1, optimizer: "sgd" as const };
  const time = async (batchSize: number, steps: number): Promise<number> => {
    const t0 = performance.now();
    await trainer.trainTwins(global, [{ twin: 0, bs: 0, indices, batchSize, seed: 1, steps }], settings);
    return (performance.now() - t0) / 1000;
  };
  try {
    await time(o.batchSizes[0], 2); // start the worker and warm its kernels up
    const points: { x: number; y: number }[] = [];
    const batches: Calibration["batches"] = [];
    for (const b of o.batchSizes) {
      const short: number[] = [];
      const long: number[] = [];
      for (let r = 0; r < o.repeats; r++) {
        short.push(await time(b, s1));
        long.push(await time(b, s2));
      }
      short.forEach((y) => points.push({ x: s1 * b, y }));
      long.forEach((y) => points.push({ x: s2 * b, y }));
      const v = ((s2 - s1) * b) / (median(long) - median(short));
      const overhead = median(short) - (s1 * b) / v;
      batches.push({ batchSize: b, samplesPerSecond: v, overheadSeconds: overhead, steps: s2, seconds: median(long) });
      log(`batch ${b}: ${v.toFixed(0)} samples/s, ${overhead.toFixed(3)} s per twin besides (median of ${o.repeats})`);
    }
    const line = fitLine(points);
    const hz = o.coreHz ?? machineCoreHz();
    return {
      dataset: "fashion-mnist 28x28x1",
      backend,
      machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.availableParallelism?.() ?? os.cpus().length, hostname: os.hostname() },
      measuredAt: new Date().toISOString(),
      referenceSamples: REFERENCE_TWIN_SAMPLES,
      batches,
      samplesPerSecond: 1 / line.slope,
      overheadSeconds: line.intercept,
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

export function readCalibration(file: string): Calibration {
  return readJsonFile(file, CalibrationSchema, { what: "Calibration", missing: `no calibration at ${file}: write one with \`npx dtwn calibrate --out ${file}\`.` });
}

export function writeCalibration(file: string, c: Calibration): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(c, null, 2) + "\n");
}

/** The calibration as a table: per batch size the measured speed and how far the fitted line is from the measurement. */
export function renderCalibration(c: Calibration, localSteps: number): string {
  const line = (b: Calibration["batches"][number]) => c.overheadSeconds + (b.steps * b.batchSize) / c.samplesPerSecond;
  const lines = [
    `| batch | samples/s (marginal) | overhead per twin, s | one twin, ${c.batches[0].steps} mini-batches: measured s | the line's s | the line's error |`,
    `|---:|---:|---:|---:|---:|---:|`,
    ...c.batches.map((b) => `| ${b.batchSize} | ${b.samplesPerSecond.toFixed(0)} | ${b.overheadSeconds.toFixed(3)} | ${b.seconds.toFixed(3)} | ${line(b).toFixed(3)} | ${(100 * (line(b) / b.seconds - 1)).toFixed(1)} % |`),
    ``,
    `The line: t = ${c.overheadSeconds.toFixed(3)} s + samples / ${c.samplesPerSecond.toFixed(0)} samples/s per core (${c.backend}, 1 thread); core clock ${(c.coreHz / 1e9).toFixed(3)} GHz (${c.coreHzSource}).`,
    `f^C of Eq. 12 with --local-steps ${localSteps} (s_ref) and D_ref = ${c.referenceSamples}: ${calibratedTrainCycles(c, localSteps).toFixed(0)} cycles per sample per unit of batch size (Eq. 12 has no per-twin overhead term).`,
  ];
  return lines.join("\n");
}
