/**
 * The attacks table of the running system: for each run folder under results/system/attacks (written by
 * scripts/run-attacks.sh), test accuracy after the last round against the honest run's, the attackers' stake against
 * the honest BSs', whether any honest BS ever lost stake, and the attackers' share of the Eq. 5 weight in the last
 * round. Reads only the runs' metrics.json; writes results/system/attacks/table.md and prints it.
 *
 *   npx ts-node --transpile-only scripts/attack-table.ts [folder]
 */
import fs from "node:fs";
import path from "node:path";
import type { RunMetrics } from "../src/system/metrics";

const dir = process.argv[2] ?? path.join(__dirname, "..", "results", "system", "attacks");
const runs = fs
  .readdirSync(dir)
  .filter((d) => fs.existsSync(path.join(dir, d, "metrics.json")))
  .map((d) => ({ name: d, m: JSON.parse(fs.readFileSync(path.join(dir, d, "metrics.json"), "utf8")) as RunMetrics }));
const honest = runs.find((r) => r.name === "honest");
if (!honest) throw new Error(`no honest run in ${dir}: run scripts/run-attacks.sh first`);
const accuracy = (m: RunMetrics, rounds = m.rounds.length) => m.rounds[rounds - 1].mbs.testAccuracy * 100;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

const rows = runs.map(({ name, m }) => {
  const last = m.rounds[m.rounds.length - 1];
  const bad = m.malicious;
  const good = last.coins.map((_, i) => i).filter((i) => !bad.includes(i));
  // An honest BS lost stake if its stake fell from one round to the next (from genesis: round 1's includes its reward).
  const losers = good.filter((i) => m.rounds.some((r, k) => k > 0 && r.coins[i] < m.rounds[k - 1].coins[i] - 1e-9));
  const weights = last.agents.filter((a) => a.submitted);
  const total = weights.reduce((s, a) => s + (a.weightSamples ?? a.samples), 0);
  const attackerWeight = weights.filter((a) => bad.includes(a.bs)).reduce((s, a) => s + (a.weightSamples ?? a.samples), 0);
  const attackerTrue = weights.filter((a) => bad.includes(a.bs)).reduce((s, a) => s + a.samples, 0);
  const trueTotal = weights.reduce((s, a) => s + a.samples, 0);
  const passedBad = m.rounds.reduce((s, r) => s + r.mbs.passed.filter((bs) => bad.some((i) => m.bsAddresses[i] === bs)).length, 0);
  const failedGood = m.rounds.reduce((s, r) => s + r.mbs.failed.filter((bs) => good.some((i) => m.bsAddresses[i] === bs)).length, 0);
  const o = m.options as { attack?: string; seed?: number; mbsAttack?: { kind: string; round?: number } };
  const stopped = m.stopped ? ` (stopped after round ${m.rounds.length})` : "";
  return [
    name + stopped,
    bad.length ? `${o.attack} by BS ${bad.join(", ")}` : o.mbsAttack ? `${o.mbsAttack.kind} by the MBS${o.mbsAttack.round ? ` in round ${o.mbsAttack.round}` : ""}` : "none",
    accuracy(m).toFixed(2),
    (accuracy(m) - accuracy(honest.m, m.rounds.length)).toFixed(2),
    bad.length ? mean(bad.map((i) => last.coins[i])).toFixed(1) : "-",
    mean(good.map((i) => last.coins[i])).toFixed(1),
    losers.length ? `yes (BS ${losers.join(", ")})` : "no",
    String(passedBad),
    String(failedGood),
    bad.length && total ? `${((100 * attackerWeight) / total).toFixed(1)} % (true ${((100 * attackerTrue) / trueTotal).toFixed(1)} %)` : "-",
  ];
});
const header = ["run", "attack", "accuracy %", "vs honest (points)", "attackers' stake", "honest BSs' mean stake", "honest BS lost stake", "attacker models passed", "honest models failed", "attackers' Eq. 5 weight, last round"];
const table = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
const rounds = honest.m.rounds.length;
const text = `Attacks on the running system, ${rounds} rounds each (a stopped run against the honest run at the same round), seed ${(honest.m.options as { seed?: number }).seed} (stake in coins after the last round).\n\n${table}\n`;
fs.writeFileSync(path.join(dir, "table.md"), text);
console.log(text);
