import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { cgroupSupport, CpuCgroup, removeCgroupTree } from "../../src/testbed/cgroup";
import { CPU_PERIOD_US } from "../../src/testbed/emulation";
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
