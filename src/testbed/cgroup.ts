/**
 * CPU cgroups for emulated BSs: a cgroup per BS under a run's own parent, its quota, the processes in it, and removal
 * (also of what a killed run left behind). cgroup v1's `cpu` controller (cpu.cfs_quota_us / cpu.cfs_period_us) and
 * cgroup v2's `cpu.max` are both supported; `cgroupSupport()` says which one this machine has, or why neither.
 */
import fs from "node:fs";
import path from "node:path";
import { cpuMaxLine, CPU_PERIOD_US } from "./emulation";
import { awaitExit, sleepSync } from "./network";

export type CgroupVersion = "v1" | "v2";

/** The writable CPU controller of this machine, or why there is none. */
export function cgroupSupport(root = "/sys/fs/cgroup"): { version: CgroupVersion; dir: string } | { missing: string } {
  const v1 = path.join(root, "cpu");
  if (fs.existsSync(path.join(v1, "cpu.cfs_quota_us"))) {
    try {
      fs.accessSync(v1, fs.constants.W_OK);
      return { version: "v1", dir: v1 };
    } catch {
      return { missing: `the cgroup v1 cpu controller at ${v1} is not writable (run as root)` };
    }
  }
  const controllers = path.join(root, "cgroup.controllers");
  if (fs.existsSync(controllers) && /\bcpu\b/.test(fs.readFileSync(controllers, "utf8"))) {
    try {
      fs.accessSync(root, fs.constants.W_OK);
      return { version: "v2", dir: root };
    } catch {
      return { missing: `the cgroup v2 hierarchy at ${root} is not writable (run as root)` };
    }
  }
  return { missing: `no CPU cgroup controller under ${root} (neither v1 cpu/cpu.cfs_quota_us nor v2 cgroup.controllers with cpu)` };
}

/**
 * The environment variable that tells an agent process of an emulated run its training cgroup (a directory): it
 * moves its training process there, where the BS's quota f_i u_i(t) / H applies (src/testbed/placement.ts).
 */
export const TRAIN_CGROUP_ENV = "DTWN_TRAIN_CGROUP";

/** One cgroup with a CPU quota. */
export class CpuCgroup {
  private constructor(
    readonly version: CgroupVersion,
    readonly dir: string,
  ) {}

  /** The cgroup at `dir` (created by another process of the run). */
  static at(dir: string, version: CgroupVersion): CpuCgroup {
    return new CpuCgroup(version, dir);
  }

  /**
   * Create cgroup `name` (a path under the controller, e.g. dtwn-1234/bs-0) with `quotaUs` per period, and a CPU
   * weight if given (see `setWeight`).
   */
  static create(name: string, quotaUs: number, support = cgroupSupport(), weight?: number): CpuCgroup {
    if ("missing" in support) throw new Error(`--testbed emulated needs a CPU cgroup: ${support.missing}.`);
    const dir = path.join(support.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    if (support.version === "v2") {
      // v2: every ancestor below the root must hand the cpu controller down to its children
      for (let a = path.dirname(dir); a !== support.dir && a.startsWith(support.dir); a = path.dirname(a)) fs.writeFileSync(path.join(a, "cgroup.subtree_control"), "+cpu");
    }
    const g = new CpuCgroup(support.version, dir);
    g.setQuota(quotaUs);
    if (weight !== undefined) g.setWeight(weight);
    return g;
  }

  setQuota(quotaUs: number, periodUs = CPU_PERIOD_US): void {
    if (this.version === "v1") {
      fs.writeFileSync(path.join(this.dir, "cpu.cfs_period_us"), String(periodUs));
      fs.writeFileSync(path.join(this.dir, "cpu.cfs_quota_us"), String(Math.round(quotaUs)));
    } else {
      fs.writeFileSync(path.join(this.dir, "cpu.max"), cpuMaxLine(quotaUs, periodUs));
    }
  }

  /**
   * Its CPU weight against its siblings when the CPUs are contended, on cgroup v2's scale (`cpu.weight`, 1-10000,
   * default 100); on v1 `cpu.shares` = weight x 1024 / 100 (default 1024). A quota caps a cgroup; a weight decides
   * who runs first below the caps.
   */
  setWeight(weight: number): void {
    if (!Number.isInteger(weight) || weight < 1 || weight > 10_000) throw new Error(`a CPU weight is an integer in 1-10000, not ${weight}`);
    if (this.version === "v1") fs.writeFileSync(path.join(this.dir, "cpu.shares"), String(Math.max(2, Math.round((weight * 1024) / 100))));
    else fs.writeFileSync(path.join(this.dir, "cpu.weight"), String(weight));
  }

  /** Move process `pid` (all its threads) into this cgroup. */
  add(pid: number): void {
    moveToCgroup(this.dir, pid);
  }

  /**
   * The command that runs `argv` inside this cgroup from its first instruction: a shell moves itself in, then execs
   * `argv` (the same pid), so every process it forks is in the cgroup too.
   */
  command(argv: readonly string[]): { file: string; args: string[] } {
    return { file: "/bin/sh", args: ["-c", 'echo $$ > "$0" && exec "$@"', path.join(this.dir, "cgroup.procs"), ...argv] };
  }

  /** The processes in it. */
  pids(): number[] {
    return procsOf(this.dir);
  }
}

/** Move process `pid` (all its threads) into the cgroup at directory `dir` (either version). */
export function moveToCgroup(dir: string, pid: number): void {
  fs.writeFileSync(path.join(dir, "cgroup.procs"), String(pid));
}

/** Cgroup directory `dir` and every cgroup below it, deepest first (none if it does not exist). */
function cgroupTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return [...fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => cgroupTree(path.join(dir, e.name))), dir];
}

/** The processes of one cgroup directory (none if it is gone). */
function procsOf(dir: string): number[] {
  const procs = path.join(dir, "cgroup.procs");
  return fs.existsSync(procs) ? fs.readFileSync(procs, "utf8").split("\n").filter(Boolean).map(Number) : [];
}

/** The processes in cgroup directory `dir` and its children. */
export function cgroupTreePids(dir: string): number[] {
  return cgroupTree(dir).flatMap(procsOf);
}

/**
 * SIGKILL every process in cgroup directory `dir` and its children, and wait until they are gone (a cgroup with a
 * dying task cannot be removed), at most `timeoutMs`.
 */
export function killCgroupTree(dir: string, timeoutMs = 10_000): void {
  const pids = cgroupTreePids(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // ended meanwhile
    }
  }
  awaitExit(pids);
  const t = Date.now();
  while (cgroupTreePids(dir).length > 0 && Date.now() - t < timeoutMs) sleepSync(50);
}

/**
 * Remove cgroup directory `dir` and its children, deepest first; processes still in them are moved to the root
 * first (a cgroup with processes cannot be removed). Missing directories are fine.
 */
export function removeCgroupTree(dir: string, support = cgroupSupport()): void {
  for (const d of cgroupTree(dir)) {
    if (!("missing" in support)) {
      for (const pid of procsOf(d)) {
        try {
          moveToCgroup(support.dir, pid);
        } catch {
          // the process ended meanwhile
        }
      }
    }
    fs.rmdirSync(d);
  }
}
