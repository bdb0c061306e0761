/**
 * End to end (issue 11): `dtwn run` as a user runs it (its own process, its own in-process chain, 3 BSs with their own
 * IPFS nodes, 6 users, up to 3 rounds of real training on Fashion-MNIST with one local step), with a malicious MBS that
 * forges the global model of round 2 (`--mbs-attack forge-global:2`), then `dtwn audit` on its run folder, the chain
 * long gone (its exported logs and the IPFS repositories alone). One run serves every case, to keep the test short:
 * - round 1 is honest: every BS recomputes its global model, attests it on chain, and round 2 opens from it;
 *   `dtwn audit --round 1` prints a match for its BS models and its global model, exit code 0;
 * - round 2's global model is forged: every BS recomputes it, finds a mismatch and disputes it on chain, and the
 *   chain opens no round 3 from it (GlobalModelDisputed): the run stops with that reason; `dtwn audit` prints a
 *   mismatch for that global model (and a match for everything else), exit code 1, and `--json` says the same.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { AuditResult } from "../../src/audit/recompute";
import { dtwnRun, ROOT, type DtwnRun } from "./dtwnRun";

function dtwnAudit(args: string[]) {
  const r = spawnSync(process.execPath, ["bin/dtwn.js", "audit", ...args], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("dtwn audit (end to end: a run with a forging MBS, audited from its run folder)", function () {
  this.timeout(300_000);
  let run: DtwnRun;

  before(() => {
    run = dtwnRun(
      [
        "--users", "6", "--bss", "3", "--policy", "average", "--local-steps", "1", "--test-images", "100",
        "--held-out-per-bs", "20", "--workers", "2", "--mbs-attack", "forge-global:2", "--rounds", "3", "-q",
        "--min-round-seconds", "90", "--verification-window-seconds", "120", // close early when all are done; a loaded machine misses no window
      ],
      { prefix: "dtwn-audit-e2e-" },
    );
  });

  after(() => (process.env.DTWN_KEEP_RUN ? console.log(`run folder kept: ${run.out}`) : fs.rmSync(run.out, { recursive: true, force: true })));

  it("exports what the audit needs into the run folder", () => {
    for (const f of ["chain-log.json", "deployment.json", "aggregation.json", "ipfs/mbs", "ipfs/bs-0"]) expect(fs.existsSync(path.join(run.out, f)), f).to.equal(true);
    expect(run.metrics.rounds.map((r) => r.mbs.forged)).to.deep.equal([false, true]);
    // every BS recorded one twin model record per twin of its action, in the round it trained
    for (const r of run.metrics.rounds) for (const a of r.agents.filter((x) => x.submitted)) expect(a.twinModels, `round ${r.round} BS ${a.bs}`).to.equal(a.twins);
  });

  it("the BSs attested round 1's global model and disputed round 2's forged one; the chain opened no round 3", () => {
    expect(run.metrics.rounds[0].agents.map((a) => [a.globalCheck, a.attestation])).to.deep.equal([["match", "agrees"], ["match", "agrees"], ["match", "agrees"]]);
    expect(run.metrics.rounds[1].agents.map((a) => [a.globalCheck, a.attestation])).to.deep.equal([["mismatch", "disputes"], ["mismatch", "disputes"], ["mismatch", "disputes"]]);
    expect(run.metrics.rounds).to.have.length(2);
    expect(run.metrics.stopped).to.match(/disputed round 2's global model .*GlobalModelDisputed/);
    expect(run.stdout).to.match(/The federation stopped after round 2: /);
  });

  it("an honest round: every BS model and the global model match, exit code 0 (--json)", () => {
    const r = dtwnAudit([run.out, "--round", "1", "--json"]);
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    const result = JSON.parse(r.stdout) as AuditResult & { aggregation: unknown };
    expect(result.ok).to.equal(true);
    expect(result.rounds).to.deep.equal([1]);
    const submitted = run.metrics.rounds[0].agents.filter((a) => a.submitted).length;
    expect(result.counts).to.deep.equal({ match: submitted + 1, mismatch: 0, unavailable: 0 });
    expect(result.checks.map((c) => c.kind)).to.deep.equal([...Array(submitted).fill("bs"), "global"]);
    for (const c of result.checks) expect(c.recomputedCid).to.equal(c.cid);
    expect(result.checks[submitted].inputs).to.equal(run.metrics.rounds[0].mbs.passed.length);
    expect(result.aggregation).to.deep.equal({ strategy: "fedavg", faulty: 1, server: null });
  });

  it("the forged round: a mismatch for its global model only, exit code 1", () => {
    const r = dtwnAudit([run.out]);
    expect(r.status, r.stdout + r.stderr).to.equal(1);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("round "));
    const models = run.metrics.rounds.reduce((s, x) => s + x.agents.filter((a) => a.submitted).length + 1, 0);
    expect(lines, r.stdout).to.have.length(models);
    const bad = lines.filter((l) => !/ match$/.test(l));
    expect(bad, r.stdout).to.have.length(1);
    expect(bad[0]).to.match(new RegExp(`^round 2 {2}global model +Eq\\. 5 over ${run.metrics.rounds[1].mbs.passed.length} BS models? +mismatch \\(max \\|diff\\| \\d\\.\\de-\\d+\\)$`));
    for (const l of lines.filter((x) => x.includes(" BS 0x"))) expect(l).to.match(/^round [12] {2}BS 0x[0-9a-fA-F]{40} {2}Eq\. 4 over \d+ twin models? +match$/);
    expect(r.stdout).to.include(`${models} models in 2 rounds: ${models - 1} match, 1 mismatch, 0 unavailable`);
  });
});
