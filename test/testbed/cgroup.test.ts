import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { cgroupSupport, CpuCgroup, removeCgroupTree } from "../../src/testbed/cgroup";
import { CPU_PERIOD_US } from "../../src/testbed/emulation";
import { CONTROL_WEIGHT, TRAINING_WEIGHT } from "../../src/testbed/launch";
import { testbedPrerequisites } from "../../src/testbed/prerequisites";
import os from "node:os";

/** A child that waits for "go" on stdin, then spins through a fixed amount of work and prints its wall-clock seconds. */
function worker(): { pid: number; go: () => Promise<number> } {
  const code = `process.stdin.once("data", () => { const t = process.hrtime.bigint(); let x = 0; for (let i = 0; i < 4e8; i++) x = (x + i * 7) % 1000003; process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e9) + " " + x); process.exit(0); });`;
  const child = spawn(process.execPath, ["-e", code], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const done = new Promise<number>((resolve, reject) => child.once("exit", (c) => (c === 0 ? resolve(Number(out.split(" ")[0])) : reject(new Error(`worker exited ${c}`)))));
  done.catch(() => undefined); // a worker the test kills on purpose is not an unhandled rejection
  return {
    pid: child.pid as number,
    go: () => {
      child.stdin.write("go\n");
      return done;
    },
  };
}

describe("src/testbed/cgroup: CPU quotas in force", function () {
  this.timeout(120_000);
  const support = cgroupSupport();
  const parentName = `dtwn-test-${process.pid}`;

  before(function () {
    if ("missing" in support) this.skip(); // a machine without cgroups: `dtwn doctor` says why
  });
  after(() => {
    if (!("missing" in support)) removeCgroupTree(path.join(support.dir, parentName), support);
  });

  it("a BS at half a core takes twice as long (+-20 %) on the same work as one at a full core", async () => {
    const full = CpuCgroup.create(`${parentName}/bs-full`, CPU_PERIOD_US, support);
    const half = CpuCgroup.create(`${parentName}/bs-half`, CPU_PERIOD_US / 2, support);
    const a = worker();
    const b = worker();
    full.add(a.pid);
    half.add(b.pid);
    expect(full.pids()).to.include(a.pid);
    const [tFull, tHalf] = await Promise.all([a.go(), b.go()]);
    expect(tHalf / tFull).to.be.within(1.6, 2.4);
  });

  it("training cgroups of the top weight get their quotas against a busy control cgroup, which gets the cores they leave idle", async () => {
    // the launcher's layout (src/testbed/launch.ts): train/ first in line, control/ last, neither capped below the machine
    const cores = os.availableParallelism();
    const machine = cores * CPU_PERIOD_US;
    const alone = CpuCgroup.create(`${parentName}/alone`, CPU_PERIOD_US, support);
    const a = worker();
    alone.add(a.pid);
    const tCore = await a.go(); // the work at one full core
    CpuCgroup.create(`${parentName}/prio/train`, machine, support, TRAINING_WEIGHT);
    const control = CpuCgroup.create(`${parentName}/prio/control`, machine, support, CONTROL_WEIGHT);
    // idle training: one control process runs at a full core, more than the 0.75 core it is sized for
    const c0 = worker();
    control.add(c0.pid);
    expect((await c0.go()) / tCore).to.be.below(1.2);
    // contended: 2 training processes with 0.75 core each (1.5 in all) against `cores` busy control processes; at
    // equal weights they would get half the machine (0.5 core each on 2 cores, 2x tCore)
    const trains = [0, 1].map((i) => CpuCgroup.create(`${parentName}/prio/train/bs-${i}`, 0.75 * CPU_PERIOD_US, support));
    const busy = Array.from({ length: cores }, () => worker());
    busy.forEach((w) => control.add(w.pid));
    const ts = trains.map((g) => {
      const w = worker();
      g.add(w.pid);
      return w;
    });
    busy.forEach((w) => void w.go());
    const times = await Promise.all(ts.map((w) => w.go()));
    busy.forEach((w) => process.kill(w.pid, "SIGKILL"));
    for (const t of times) expect(t / tCore).to.be.within((0.8 * 1) / 0.75, (1.2 * 1) / 0.75); // 1 / 0.75 core = 1.33x, +-20 %
  });

  it("removes its cgroups, also with a process still in one", () => {
    const g = CpuCgroup.create(`${parentName}/bs-left`, CPU_PERIOD_US, support);
    const w = worker();
    g.add(w.pid);
    const parent = path.join((support as { dir: string }).dir, parentName);
    removeCgroupTree(parent, support);
    expect(fs.existsSync(parent)).to.equal(false);
    process.kill(w.pid, "SIGKILL");
  });
});

describe("src/testbed/prerequisites: what an emulated run needs", () => {
  it("names a missing CPU controller (a directory without one) instead of failing later", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-nocg-"));
    try {
      const s = cgroupSupport(dir);
      expect("missing" in s && s.missing).to.match(/no CPU cgroup controller/);
      expect(() => CpuCgroup.create("x/bs-0", 1000, s)).to.throw(/--testbed emulated needs a CPU cgroup/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports ready exactly when nothing is missing, and lists what is", () => {
    const p = testbedPrerequisites();
    expect(p.ready).to.equal(p.missing.length === 0);
    expect(p.missing.some((m) => m.startsWith("root"))).to.equal(!p.root);
    expect(p.missing.some((m) => m.includes("`tc`"))).to.equal(!p.tc);
  });
});
