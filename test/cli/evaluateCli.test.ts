/**
 * `dtwn train-policy` and `dtwn evaluate-association` end to end with a tiny budget (real processes, real training
 * steps, real files): the figures and tables exist and agree with each other. Quality is a benchmark, not a test.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const dtwn = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bin", "dtwn.js"), ...args], { cwd: ROOT, encoding: "utf8" });

describe("dtwn train-policy and evaluate-association (tiny budget)", function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-eval-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("train-policy writes a loadable policy and a training log with one row per episode", () => {
    const cfg = path.join(dir, "cfg.json");
    fs.writeFileSync(cfg, JSON.stringify({ slotsPerEpisode: 10, warmupSlots: 8, batchSize: 8, hidden: [16] }));
    const out = path.join(dir, "train");
    const r = dtwn(["train-policy", "--episodes", "3", "--config", cfg, "--out", out]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/train-policy \[#+\.*\] 3\/3 objective/);
    const log = JSON.parse(fs.readFileSync(path.join(out, "training-log.json"), "utf8"));
    expect(log.episodes).to.have.length(3);
    expect(log.config.slotsPerEpisode).to.equal(10);
    expect(log.episodes[2].criticLoss).to.be.above(0); // updates ran after the warm-up
    expect(fs.readFileSync(path.join(out, "training-log.csv"), "utf8").trim().split("\n")).to.have.length(4);
    expect(fs.readdirSync(path.join(out, "policy")).sort()).to.include.members(["policy.json", "actor-0.json", "actor-4.weights.bin"]);
  });

  it("train-policy rejects a malformed configuration with every bad field named, and writes nothing", () => {
    const cfg = path.join(dir, "bad.json");
    fs.writeFileSync(cfg, JSON.stringify({ gamma: 2, hidden: "64" }));
    const out = path.join(dir, "bad-run");
    const r = dtwn(["train-policy", "--config", cfg, "--out", out]);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.match(/Invalid MADDPG configuration:[\s\S]*gamma[\s\S]*hidden/);
    expect(fs.existsSync(out)).to.equal(false);
  });

  it("evaluate-association trains per seed and gamma, then writes tables and Figs. 5, 7, 8 as SVG and PNG", () => {
    const out = path.join(dir, "eval");
    const args = ["evaluate-association", "--seeds", "2", "--slots", "3", "--episodes", "2", "--gammas", "0.5,0.9", "--fig7-episodes", "2", "--out", out];
    const r = dtwn(args);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/training: 4 run\(s\) to do, 0 reused/);
    for (const f of ["results.json", "results.md", "fig5-system-cost.svg", "fig5-system-cost.png", "fig7-gamma.svg", "fig7-gamma.png", "fig8-time-per-iteration.svg", "fig8-time-per-iteration.png"]) {
      expect(fs.existsSync(path.join(out, f)), f).to.equal(true);
    }
    const results = JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8"));
    expect(results.seeds).to.have.length(2);
    const s = results.seeds[0];
    expect(s.slots).to.have.length(3);
    const meanMaddpg = s.slots.reduce((acc: number, x: { objectiveSeconds: { maddpg: number } }) => acc + x.objectiveSeconds.maddpg, 0) / 3;
    expect(s.summary.meanObjectiveSeconds.maddpg).to.be.closeTo(meanMaddpg, 1e-9);
    expect(s.summary.ratios.maddpgToAverage).to.be.closeTo(meanMaddpg / s.summary.meanObjectiveSeconds.average, 1e-12);
    for (const x of s.slots) expect(x.lowerBoundSeconds).to.be.at.most(Math.min(...Object.values(x.objectiveSeconds as Record<string, number>)));
    const fig7 = fs.readFileSync(path.join(out, "fig7-gamma.svg"), "utf8");
    expect(fig7).to.include("gamma = 0.5").and.to.include("gamma = 0.9");
    expect(fs.readFileSync(path.join(out, "results.md"), "utf8")).to.match(/\| 1 \| [\d.]+ \|/);
    // A second run reuses the finished trainings.
    const again = dtwn([...args, "--reuse"]);
    expect(again.status, again.stderr).to.equal(0);
    expect(again.stderr).to.match(/training: 0 run\(s\) to do, 4 reused/);
  });
});
