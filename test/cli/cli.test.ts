/** The `dtwn` CLI as a user runs it: --help, `dtwn cost` output, and clear errors for bad input. */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const dtwn = (...args: string[]) => spawnSync("node", [path.join(ROOT, "bin", "dtwn.js"), ...args], { cwd: ROOT, encoding: "utf8" });

describe("dtwn CLI", function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-cli-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("--help lists the commands", () => {
    const r = dtwn("--help");
    expect(r.status).to.equal(0);
    for (const cmd of ["chain", "scenario", "cost", "train-policy", "evaluate-association"]) expect(r.stdout).to.match(new RegExp(`^\\s+${cmd}\\b`, "m"));
  });

  it("cost prints the whole breakdown as JSON, and the same allocation fed back gives the same objective", () => {
    const scenarioFile = path.join(dir, "scenario.json");
    const s = dtwn("scenario", "--seed", "4", "--users", "20");
    expect(s.status, s.stderr).to.equal(0);
    fs.writeFileSync(scenarioFile, s.stdout);
    const r = dtwn("cost", "--scenario", scenarioFile, "--method", "heuristic", "--seed", "4");
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out.cost.perBs).to.have.length(5);
    for (const key of ["localTrainingSeconds", "aggregationSeconds", "uplinkRateBps", "transmissionSeconds", "downlinkRateBps", "blockBroadcastSeconds", "blockValidationSeconds", "totalSeconds"]) {
      expect(out.cost.perBs[0]).to.have.property(key).that.is.a("number");
    }
    expect(out.cost.objectiveSeconds).to.be.closeTo(out.cost.iterationSeconds / (1 - out.cost.thetaG), 1e-9);
    expect(out.cost.objectiveSeconds).to.be.at.least(out.lowerBoundSeconds);
    const actionFile = path.join(dir, "action.json");
    fs.writeFileSync(actionFile, JSON.stringify({ allocation: out.allocation, state: out.state }));
    const again = dtwn("cost", "--scenario", scenarioFile, "--action", actionFile);
    expect(again.status, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout).cost.objectiveSeconds).to.equal(out.cost.objectiveSeconds);
  });

  it("names the violated constraint of an infeasible action and the fields of a malformed one", () => {
    const bad = path.join(dir, "bad.json");
    const s = JSON.parse(dtwn("cost", "--method", "average").stdout);
    s.allocation.tau[0][3] = 0.9; // 0.9 + 4 x 0.2 > 1 on subchannel 3
    fs.writeFileSync(bad, JSON.stringify({ allocation: s.allocation }));
    const r = dtwn("cost", "--action", bad);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/constraint 18c\): subchannel 3 is shared beyond its time/);
    fs.writeFileSync(bad, JSON.stringify({ allocation: { association: "x" } }));
    const m = dtwn("cost", "--action", bad);
    expect(m.status).to.equal(1);
    expect(m.stderr).to.match(/Invalid action file:[\s\S]*allocation.association: Expected array[\s\S]*allocation.tau: Required/);
    const missing = dtwn("cost", "--action", path.join(dir, "nope.json"));
    expect(missing.stderr).to.match(/Action file .*nope\.json does not exist/);
    const scenario = path.join(dir, "scenario-bad.json");
    fs.writeFileSync(scenario, JSON.stringify({ mbs: { position: { xMetres: 0, yMetres: 0 }, txPowerDbm: 42 }, bss: [], users: [] }));
    const sc = dtwn("cost", "--scenario", scenario, "--method", "average");
    expect(sc.stderr).to.match(/Invalid scenario:[\s\S]*bss: Array must contain at least 1 element/);
  });
});
