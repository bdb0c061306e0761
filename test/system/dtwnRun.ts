/** Shared by the end-to-end tests: run `dtwn run` as a user would (its own process), and read its run folder. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RunMetrics } from "../../src/system/metrics";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface DtwnRun {
  out: string;
  stdout: string;
  metrics: RunMetrics;
}

/** `dtwn run <args> -o <fresh temp folder>`; throws with the process's output if it fails. */
export function dtwnRun(args: string[], options: { prefix: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): DtwnRun {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), options.prefix));
  const r = spawnSync(process.execPath, ["bin/dtwn.js", "run", ...args, "-o", out], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 280_000,
    env: { ...process.env, ...options.env },
  });
  if (r.status !== 0) throw new Error(`dtwn run exited with ${r.status} (signal ${r.signal}):\n${r.stdout}\n${r.stderr}`);
  return { out, stdout: r.stdout, metrics: JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8")) as RunMetrics };
}

/**
 * As {@link dtwnRun}, without blocking this process: the test can act on the chain while the run goes on (a reorg).
 * `done` resolves when the run exits; rejects with its output if it fails or outlives `timeoutMs`.
 */
export function dtwnRunAsync(args: string[], options: { prefix: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): { out: string; done: Promise<DtwnRun>; child: ChildProcess; output: () => string } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), options.prefix));
  const child = spawn(process.execPath, ["bin/dtwn.js", "run", ...args, "-o", out], { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<DtwnRun>((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGTERM"), options.timeoutMs ?? 280_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`dtwn run exited with ${code} (signal ${signal}):\n${stdout}\n${stderr}`));
      else resolve({ out, stdout, metrics: JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8")) as RunMetrics });
    });
  });
  return { out, done, child, output: () => stdout };
}

/** Every failing verdict of a run with its reason, for assertion messages: why an honest model failed shows in the log. */
export function failingVerdicts(m: RunMetrics): string {
  const lines = m.rounds.flatMap((r) => r.agents.flatMap((a) => a.verdicts.filter((v) => !v.pass).map((v) => `round ${r.round}: BS ${a.bs} failed BS ${v.bs} (accuracy ${v.accuracy.toFixed(3)}, reference ${v.reference.toFixed(3)}${v.error ? `; ${v.error}` : ""})`)));
  return lines.length > 0 ? `\nfailing verdicts:\n  ${lines.join("\n  ")}` : "\nno failing verdicts";
}
