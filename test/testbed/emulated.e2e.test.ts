/**
 * The emulated testbed end to end, through the CLI as users start it: a small run (2 BSs, 4 users, 2 rounds) whose
 * quotas and link rates follow the model every slot, and a run stopped with SIGINT that leaves nothing behind.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cgroupSupport } from "../../src/testbed/cgroup";
import { CPU_PERIOD_US } from "../../src/testbed/emulation";
import { alive, namespaces } from "../../src/testbed/network";
import type { SlotLine } from "../../src/testbed/placement";
import { testbedPrerequisites } from "../../src/testbed/prerequisites";
import { readTestbedSpec } from "../../src/testbed/spec";

const ROOT = path.resolve(__dirname, "..", "..");
const SMALL = ["--users", "4", "--bss", "2", "--policy", "average", "--local-steps", "4", "--test-images", "200", "--verification-window-seconds", "60"];

/** `dtwn run --testbed emulated` as a child; resolves with its exit code and output. `onLine` may act on a line. */
function launch(args: string[], onLine?: (line: string, pid: number) => void): { pid: number; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(process.execPath, [path.join(ROOT, "bin", "dtwn.js"), "run", "--testbed", "emulated", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const take = (d: Buffer) => {
    const text = d.toString();
    out += text;
    for (const line of text.split("\n")) if (line) onLine?.(line, child.pid as number);
  };
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  return { pid: child.pid as number, done: new Promise((resolve) => child.once("exit", (code) => resolve({ code, out }))) };
}

function leftovers(pid: number): string[] {
  const support = cgroupSupport();
  const cg = "missing" in support ? [] : fs.readdirSync(support.dir).filter((n) => n === `dtwn-${pid}`);
  return [...namespaces().filter((n) => n.startsWith(`dtwn-${pid}-`)), ...cg];
}

describe("dtwn run --testbed emulated", function () {
  this.timeout(600_000);

  before(function () {
    if (!testbedPrerequisites().ready) this.skip(); // without root, cgroups, ip or tc: the unit test of the refusal below covers it
  });

  it("runs 2 BSs for 2 rounds with every model accepted, CPU quotas f_i u_i(t) / H and links at Eqs. 7-8 / slowdown every slot, and leaves nothing behind", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-emulated-"));
    const run = launch([...SMALL, "-q", "--rounds", "2", "-o", out]);
    const { code, out: text } = await run.done;
    expect(code, text.slice(-3000)).to.equal(0);
    expect(leftovers(run.pid)).to.deep.equal([]);
    const spec = readTestbedSpec(path.join(out, "testbed.json"));
    const lines = fs.readFileSync(path.join(out, "testbed-slots.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as SlotLine);
    for (const r of [1, 2]) {
      for (const bs of [0, 1]) {
        const cpu = lines.find((l) => l.round === r && l.bs === bs && l.what === "cpu") as SlotLine;
        expect(cpu.applied).to.be.closeTo((cpu.model / spec.coreHz) * CPU_PERIOD_US, 1);
        const up = lines.filter((l) => l.round === r && l.bs === bs && l.what === "uplink");
        const committed = up.find((l) => l.committed) as SlotLine;
        expect(committed, `BS ${bs}'s committed tau in slot ${r}`).to.not.equal(undefined);
        expect(committed.applied).to.be.closeTo(committed.model / spec.linkSlowdown, 1e-6);
      }
    }
    // each agent moved its training process into its BS's training cgroup (the one with the quota); the agent itself
    // started in its control cgroup
    expect(spec.cgroups.map((d) => path.basename(path.dirname(d)))).to.deep.equal(["train", "train"]);
    expect(spec.agentCgroups.map((d) => path.basename(path.dirname(d)))).to.deep.equal(["control", "control"]);
    for (const bs of [0, 1]) expect(fs.readFileSync(path.join(out, `agent-${bs}.log`), "utf8")).to.include(`in cgroup ${spec.cgroups[bs]}`);
    // slot 2's CPU availability differs from slot 1's: the quota followed it
    const q = (r: number) => (lines.find((l) => l.round === r && l.bs === 0 && l.what === "cpu") as SlotLine).applied;
    expect(q(1)).to.not.equal(q(2));
    const report = JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8")) as { rounds: { agents: { outcome: string; bs: number }[] }[]; network: string; testbed: { modelBytes: number; traffic: { round: number; bs: number; uplinkBytes: number; downlinkBytes: number }[] } };
    expect(report.network).to.match(/emulated testbed/);
    // the models crossed the shaped links: each BS's model left through its uplink (to the other BS and the MBS),
    // and the global model came in through its downlink, every round
    for (const r of [1, 2]) {
      for (const bs of [0, 1]) {
        const t = report.testbed.traffic.find((x) => x.round === r && x.bs === bs);
        expect(t?.uplinkBytes, `BS ${bs}'s uplink in round ${r}`).to.be.greaterThan(report.testbed.modelBytes);
        expect(t?.downlinkBytes, `BS ${bs}'s downlink in round ${r}`).to.be.greaterThan(report.testbed.modelBytes);
      }
    }
    expect(report.rounds.map((r) => r.agents.map((a) => a.outcome))).to.deep.equal([
      ["passed", "passed"],
      ["passed", "passed"],
    ]);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("stopped with SIGINT mid-round, kills its processes and removes its namespaces, veths and cgroups", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-emulated-kill-"));
    let agentPids: number[] = [];
    let sent = false;
    const run = launch([...SMALL, "--rounds", "3", "-o", out], (line, pid) => {
      const m = /agent processes started \(pids ([\d, ]+)\)/.exec(line);
      if (m) agentPids = m[1].split(", ").map(Number);
      if (!sent && /round 1: train/.test(line)) {
        sent = true;
        process.kill(pid, "SIGINT");
      }
    });
    const { code, out: text } = await run.done;
    expect(sent, text.slice(-2000)).to.equal(true);
    expect(code, text.slice(-2000)).to.equal(130);
    expect(agentPids).to.have.length(2);
    expect(agentPids.filter(alive)).to.deep.equal([]);
    expect(leftovers(run.pid)).to.deep.equal([]);
    fs.rmSync(out, { recursive: true, force: true });
  });
});
