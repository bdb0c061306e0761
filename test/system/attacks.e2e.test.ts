/**
 * End to end: three attacks on the running system, each a `dtwn run` as a user runs it (its own
 * process and in-process chain, 3 BSs with their own IPFS nodes, 6 users, 2 rounds of real training with one local
 * step). BS 2 is the attacker in both; it holds the least stake (below 1/3: its twins hold the least data, Eq. 6).
 * - inflate-data: BS 2 asks its users' devices to sign 1000x their data; they refuse, and the chain refuses the
 *   record under the consent they gave for the true size (InvalidConsent), so BS 2's Eq. 5 weight stays its true data;
 * - free-ride: BS 2 submits the global model without training; its verifiers recompute its model from the twin
 *   models it recorded (Eq. 4), find another CID and fail it, whatever its accuracy;
 * - collude: BS 2 fails every honest model and passes its own; the honest models still pass (the other verifier's
 *   stake decides), no honest BS loses coins, and the attacker gains less than any honest BS (its verdicts disagree
 *   with the outcomes, so it forfeits the verifier reward).
 * (forge-global, the MBS's attack, is test/system/audit.e2e.test.ts.)
 */
import fs from "node:fs";
import { expect } from "chai";
import { dtwnRun, type DtwnRun } from "./dtwnRun";

const ARGS = ["--users", "6", "--bss", "3", "--rounds", "2", "--policy", "average", "--local-steps", "1", "--test-images", "100", "--held-out-per-bs", "20", "--workers", "2", "-q", "--min-round-seconds", "90", "--verification-window-seconds", "120"];
// (generous windows: they close early once every BS is done, and keep a loaded machine from missing them)
const ATTACKER = 2;

/** Each honest BS's coins never go down from round to round, and end above where they started. */
function honestCoinsNeverFall(run: DtwnRun) {
  const rounds = run.metrics.rounds;
  for (let bs = 0; bs < 3; bs++) {
    if (bs === ATTACKER) continue;
    for (let r = 1; r < rounds.length; r++) expect(rounds[r].coins[bs], `BS ${bs} round ${r + 1}`).to.be.at.least(rounds[r - 1].coins[bs]);
  }
}

describe("attacks on the running system (end to end: inflate-data, free-ride, collude)", function () {
  this.timeout(300_000);
  const runs: DtwnRun[] = [];
  after(() => runs.forEach((r) => fs.rmSync(r.out, { recursive: true, force: true })));

  describe("inflate-data", () => {
    let run: DtwnRun;
    before(() => {
      run = dtwnRun([...ARGS, "--malicious-bss", String(ATTACKER), "--attack", "inflate-data"], { prefix: "dtwn-inflate-e2e-" });
      runs.push(run);
    });

    it("the devices refuse 1000x their data and the chain refuses the record under the true size's consent", () => {
      const notes = run.metrics.rounds.flatMap((r) => r.agents.filter((a) => a.bs === ATTACKER).flatMap((a) => a.attackNotes ?? []));
      expect(notes.length).to.be.greaterThan(0);
      for (const n of notes) {
        expect(n).to.match(/the device refused \d+ samples/);
        expect(n).to.match(/InvalidConsent/);
        expect(n).not.to.match(/ recorded($|;)/);
      }
    });

    it("weighs the attacker's model by its true data in every round", () => {
      for (const r of run.metrics.rounds) {
        for (const a of r.agents) expect(a.weightSamples, `round ${r.round} BS ${a.bs}`).to.equal(a.samples);
      }
    });

    it("passes every honest model and no honest BS loses coins", () => {
      for (const r of run.metrics.rounds) for (const a of r.agents) if (a.bs !== ATTACKER) expect(a.outcome, `round ${r.round} BS ${a.bs}`).to.equal("passed");
      honestCoinsNeverFall(run);
    });
  });

  describe("free-ride (submits the global model: no training, an accuracy close to the reference)", () => {
    let run: DtwnRun;
    before(() => {
      run = dtwnRun([...ARGS, "--malicious-bss", String(ATTACKER), "--attack", "free-ride"], { prefix: "dtwn-freeride-e2e-" });
      runs.push(run);
    });

    it("every honest verifier fails the model unscored: it is not Eq. 4 of the twin models the attacker recorded", () => {
      for (const r of run.metrics.rounds) {
        const verdicts = r.agents.filter((a) => a.bs !== ATTACKER).flatMap((a) => a.verdicts.filter((v) => v.bs === ATTACKER));
        expect(verdicts.length, `round ${r.round}`).to.equal(2);
        for (const v of verdicts) {
          expect(v.pass, `round ${r.round}`).to.equal(false);
          expect(v.error).to.match(/^not Eq\. 4 of its twin model records: the recomputed model's CID is Qm\w+/);
        }
        expect(r.agents.find((a) => a.bs === ATTACKER)?.outcome, `round ${r.round}`).to.equal("failed");
      }
    });

    it("passes every honest model and no honest BS loses coins", () => {
      for (const r of run.metrics.rounds) for (const a of r.agents) if (a.bs !== ATTACKER) expect(a.outcome, `round ${r.round} BS ${a.bs}`).to.equal("passed");
      honestCoinsNeverFall(run);
    });
  });

  describe("collude (one colluder below 1/3 of the stake)", () => {
    let run: DtwnRun;
    before(() => {
      run = dtwnRun([...ARGS, "--malicious-bss", String(ATTACKER), "--attack", "collude"], { prefix: "dtwn-collude-e2e-" });
      runs.push(run);
    });

    it("the colluder holds less than 1/3 of the stake and fails every honest model", () => {
      const first = run.metrics.rounds[0];
      const total = first.coins.reduce((s, c) => s + c, 0);
      expect(first.coins[ATTACKER] / total).to.be.below(1 / 3);
      for (const r of run.metrics.rounds) {
        const attacker = r.agents.find((a) => a.bs === ATTACKER)!;
        const onHonest = attacker.verdicts.filter((v) => v.bs !== ATTACKER);
        expect(onHonest.length).to.be.greaterThan(0);
        for (const v of onHonest) expect(v.pass, `round ${r.round}: its verdict on BS ${v.bs}`).to.equal(false);
      }
    });

    it("fails no honest model, and no honest BS loses coins", () => {
      for (const r of run.metrics.rounds) for (const a of r.agents) if (a.bs !== ATTACKER) expect(a.outcome, `round ${r.round} BS ${a.bs}`).to.equal("passed");
      honestCoinsNeverFall(run);
    });

    it("the colluder gains less than any honest BS", () => {
      const rounds = run.metrics.rounds;
      const gain = (bs: number) => rounds[rounds.length - 1].coins[bs] - rounds[0].coins[bs];
      for (let bs = 0; bs < 3; bs++) if (bs !== ATTACKER) expect(gain(ATTACKER)).to.be.below(gain(bs));
    });
  });
});
