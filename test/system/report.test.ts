/**
 * The run report (pure formatting + files): on a hand-made run of 2 rounds and 3 BSs (BS 2 malicious) it writes
 * metrics.json, the two CSVs with the right rows and columns, every figure as SVG and PNG, and a report.md that
 * states the final accuracy, counts the verdicts by the target's role and embeds each figure; the live progress line;
 * the error for a run without rounds.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AgentRoundReport, VerdictLog } from "../../src/agents/bsAgent";
import type { RoundMetrics, RunMetrics } from "../../src/system/metrics";
import { formatRoundLine, writeRunReport } from "../../src/system/report";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const ADDRESSES = ["0x00000000000000000000000000000000000000A0", "0x00000000000000000000000000000000000000A1", "0x00000000000000000000000000000000000000A2"];
const MALICIOUS = [2];
const COIN = 10n ** 18n;

/** Minimal RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\n") row.push(field), rows.push(row), (row = []), (field = "");
    else field += c;
  }
  if (field !== "" || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

/** Honest BSs pass honest models and fail the malicious one; the malicious BS passes everyone. */
function verdictsOf(bs: number): VerdictLog[] {
  return [0, 1, 2]
    .filter((j) => j !== bs)
    .map((j) => ({ bs: j, pass: MALICIOUS.includes(bs) || !MALICIOUS.includes(j), accuracy: MALICIOUS.includes(j) ? 0.1 : 0.7, reference: 0.68 }));
}

function agent(round: number, bs: number, coins: bigint, extra: Partial<AgentRoundReport> = {}): AgentRoundReport {
  const malicious = MALICIOUS.includes(bs);
  return {
    round,
    bs,
    address: ADDRESSES[bs],
    malicious,
    twins: 2 + bs,
    samples: 100 * (2 + bs),
    weightSamples: 100 * (2 + bs),
    meanBatch: 16,
    movedIn: round === 1 ? 2 + bs : 0,
    cid: `bafy-${round}-${bs}`,
    submitted: true,
    resumed: [],
    measured: { observe: 0.1, act: 0.2, sync: 0.3, train: 4 + bs + round, upload: 0.5, verify: 1.5, collect: 2, attest: 0.4 },
    predicted: {
      localTrainingSeconds: 3 + bs,
      aggregationSeconds: 0.01,
      transmissionSeconds: 0.2,
      blockBroadcastSeconds: 0.05,
      blockValidationSeconds: 0.02,
      totalSeconds: 3.28 + bs,
    },
    verdicts: verdictsOf(bs),
    outcome: malicious ? "failed" : "passed",
    coins: coins.toString(),
    ...extra,
  };
}

function round(r: number, accuracy: number, loss: number, coins: number[], agents: AgentRoundReport[]): RoundMetrics {
  return {
    round: r,
    mbs: {
      round: r,
      globalCid: `bafy-global-${r - 1}`,
      newGlobalCid: `bafy-global-${r}`,
      deadlineSeconds: 60,
      submitted: 3,
      passed: ADDRESSES.slice(0, 2),
      failed: [ADDRESSES[2]],
      unfetched: [],
      testAccuracy: accuracy,
      testLoss: loss,
      phases: { submit: 30 + r, verify: 9, fetch: 0.5, aggregate: 0.25, evaluate: 1.25 },
      submissionDelays: { [ADDRESSES[0]]: 20, [ADDRESSES[1]]: 22, [ADDRESSES[2]]: 25 },
      gasUsed: String(2_500_000 * r),
      gasByCall: [
        { call: "TrainingRounds.submitModel", calls: 3, gas: String(1_500_000 * r) },
        { call: "BlockLedger.proposeBlock", calls: r, gas: String(1_000_000 * r) },
      ],
      seconds: 41 + r,
    },
    agents,
    producers: ADDRESSES.slice(0, 3),
    coins,
    blocks: { total: 10 * r, final: 10 * r - 2 },
    records: 20 * r,
    seconds: 42.5 + r,
  };
}

function syntheticRun(accuracies: [number, number] = [0.625, 0.715], losses: [number, number] = [1.1, 0.8]): RunMetrics {
  return {
    options: { users: 12, bss: 3, rounds: 2, attack: "sign-flip", localSteps: 10 },
    backend: "tensorflow",
    network: "hardhat (in-process)",
    policy: "maddpg",
    startedAt: "2024-01-01T00:00:00.000Z",
    seconds: 123.4,
    bsAddresses: ADDRESSES,
    malicious: MALICIOUS,
    rounds: [
      round(1, accuracies[0], losses[0], [110, 110, 90], [
        agent(1, 0, 110n * COIN),
        agent(1, 1, 110n * COIN),
        agent(1, 2, 90n * COIN),
      ]),
      round(2, accuracies[1], losses[1], [120, 120.5, 81], [
        agent(2, 0, 120n * COIN, { resumed: ["commit", "submit"] }),
        agent(2, 1, 120n * COIN + COIN / 2n, { verdicts: [{ bs: 0, pass: false, accuracy: 0, reference: 0.7, error: "fetch timed out" }, verdictsOf(1)[1]] }),
        agent(2, 2, 81n * COIN, { skipped: 'too late, "deadline" passed' }),
      ]),
    ],
    restarts: [{ bs: 1, round: 2, after: "upload", restartSeconds: 1.5 }],
    dpos: [
      { elections: 2, proposed: 5, validated: 9, rejected: 0, errors: [] },
      { elections: 2, proposed: 4, validated: 10, rejected: 1, errors: ["nonce too low"] },
      { elections: 1, proposed: 1, validated: 12, rejected: 0, errors: [] },
    ],
  };
}

describe("system/report", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-report-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes metrics.json, the CSVs, every figure as SVG and PNG, and report.md, and lists them", () => {
    const m = syntheticRun();
    const { files } = writeRunReport(path.join(dir, "run"), m);
    const names = files.map((f) => path.relative(path.join(dir, "run"), f));
    // accuracy (60-70 %) and loss (~1) differ by far more than 10x: two figures instead of accuracy-loss.
    const figures = ["accuracy", "loss", "time-by-phase", "predicted-vs-measured", "coins", "gas"];
    expect(names).to.have.members(["metrics.json", "rounds.csv", "agents.csv", "report.md", ...figures.flatMap((f) => [`${f}.svg`, `${f}.png`])]);
    for (const f of files) {
      expect(path.isAbsolute(f), f).to.equal(true);
      expect(fs.statSync(f).size, f).to.be.greaterThan(0);
    }
    expect(JSON.parse(fs.readFileSync(path.join(dir, "run", "metrics.json"), "utf8"))).to.deep.equal(m);
    for (const f of figures) {
      expect([...fs.readFileSync(path.join(dir, "run", `${f}.png`)).subarray(0, 8)], f).to.deep.equal(PNG_MAGIC);
      expect(fs.readFileSync(path.join(dir, "run", `${f}.svg`), "utf8"), f).to.match(/^<\?xml[^]*<svg [^]*<\/svg>\n$/);
    }
    const svg = (f: string) => fs.readFileSync(path.join(dir, "run", `${f}.svg`), "utf8");
    expect(svg("coins")).to.include("BS 2 (malicious)").and.include("BS 0<").and.include("BS 1<");
    expect((svg("coins").match(/class="series"/g) ?? []).length).to.equal(3);
    expect((svg("predicted-vs-measured").match(/class="series"/g) ?? []).length).to.equal(4);
    expect(svg("predicted-vs-measured")).to.include("Eq. 12");
    expect((svg("time-by-phase").match(/class="bar"/g) ?? []).length).to.equal(10); // 2 rounds x 5 MBS phases
    expect(svg("time-by-phase")).to.include("Round 2, evaluate: 1.25");
    expect(svg("gas")).to.include("Round 2, gas used: 5").and.include("Gas (millions)");
  });

  it("rounds.csv has one row per round and agents.csv one per round x BS, with quoting and units", () => {
    writeRunReport(dir, syntheticRun());
    const rounds = parseCsv(fs.readFileSync(path.join(dir, "rounds.csv"), "utf8"));
    expect(rounds).to.have.length(3);
    const rh = rounds[0];
    expect(rh.slice(0, 10)).to.deep.equal(["round", "test_accuracy_percent", "test_loss", "round_seconds", "mbs_seconds", "mbs_submit_s", "mbs_verify_s", "mbs_fetch_s", "mbs_aggregate_s", "mbs_evaluate_s"]);
    expect(rh).to.include.members(["submitted", "passed", "failed", "gas_used", "records", "blocks_final", "producers"]);
    rounds.forEach((row, k) => expect(row, `rounds.csv line ${k + 1}`).to.have.length(rh.length));
    const r2 = Object.fromEntries(rh.map((h, k) => [h, rounds[2][k]]));
    expect(r2).to.include({ round: "2", test_accuracy_percent: "71.5", test_loss: "0.8", round_seconds: "44.5", mbs_submit_s: "32", passed: "2", failed: "1", gas_used: "5000000", blocks_final: "18", producers: "3" });

    const agents = parseCsv(fs.readFileSync(path.join(dir, "agents.csv"), "utf8"));
    expect(agents).to.have.length(1 + 2 * 3);
    const ah = agents[0];
    agents.forEach((row, k) => expect(row, `agents.csv line ${k + 1}`).to.have.length(ah.length));
    for (const p of ["observe", "act", "sync", "train", "upload", "verify", "collect", "attest"]) expect(ah).to.include(`measured_${p}_s`);
    expect(ah).to.include.members(["predicted_local_training_s_eq12", "predicted_aggregation_s_eq14", "predicted_transmission_s_eq15", "predicted_block_validation_s_eq16", "predicted_total_s", "skipped", "outcome", "coins", "resumed"]);
    const rows = agents.slice(1).map((row) => Object.fromEntries(ah.map((h, k) => [h, row[k]])));
    expect(rows.map((r) => `${r.round}/${r.bs}`)).to.deep.equal(["1/0", "1/1", "1/2", "2/0", "2/1", "2/2"]);
    expect(rows[3]).to.include({ malicious: "false", twins: "2", samples: "200", outcome: "passed", coins: "120", resumed: "commit;submit", measured_train_s: "6", predicted_local_training_s_eq12: "3" });
    expect(rows[4]).to.include({ coins: "120.5", coins_base_units: (120n * COIN + COIN / 2n).toString() });
    expect(rows[5]).to.include({ malicious: "true", skipped: 'too late, "deadline" passed', outcome: "failed" });
    // The field with a comma and quotes is quoted, quotes doubled, in the file itself.
    expect(fs.readFileSync(path.join(dir, "agents.csv"), "utf8")).to.include(`"too late, ""deadline"" passed"`);
  });

  it("prices the gas at the run's --gas-price-gwei", () => {
    const run = syntheticRun();
    writeRunReport(dir, { ...run, options: { ...run.options, gasPriceGwei: 20 } });
    const md = fs.readFileSync(path.join(dir, "report.md"), "utf8");
    expect(md).to.include("| Cost (ETH at 20 gwei) |").and.include("| 2.500 | 0.050000 |").and.include("7.500 Mgas, 0.150000 ETH at 20 gwei");
  });

  it("adds up the rounds' gas by call, largest first, with each call's share", () => {
    writeRunReport(dir, syntheticRun());
    const md = fs.readFileSync(path.join(dir, "report.md"), "utf8");
    // rounds 1 and 2: submitModel 1.5 + 3.0 Mgas in 6 transactions, proposeBlock 1.0 + 2.0 Mgas in 3
    expect(md).to.include("## Gas by call");
    expect(md).to.include("| TrainingRounds.submitModel | 6 | 750,000 | 4,500,000 | 60.0 |");
    expect(md).to.include("| BlockLedger.proposeBlock | 3 | 1,000,000 | 3,000,000 | 40.0 |");
    expect(md.indexOf("submitModel |")).to.be.lessThan(md.indexOf("proposeBlock |"));
    const old = syntheticRun();
    for (const r of old.rounds) delete r.mbs.gasByCall; // a run written before the breakdown existed
    writeRunReport(dir, old);
    expect(fs.readFileSync(path.join(dir, "report.md"), "utf8")).to.not.include("## Gas by call");
  });

  it("report.md summarises the run, the last round per BS, the verdicts by target and DPoS, and embeds each figure", () => {
    const { files } = writeRunReport(dir, syntheticRun());
    const md = fs.readFileSync(path.join(dir, "report.md"), "utf8");
    expect(md).to.match(/^# /);
    expect(md).to.include("Final test accuracy: 71.50 %");
    expect(md).to.include("hardhat (in-process)").and.include("maddpg").and.include("tensorflow");
    expect(md).to.include("BSs (M): 3 (malicious: BS 2, attack sign-flip)");
    expect(md).to.include("Users / twins (N): 12");
    expect(md).to.include("Total wall-clock time: 123.4 s");
    // Per-round table rows: accuracy, loss, seconds, passed / failed, gas in millions, its ether at 1 gwei.
    expect(md).to.include("| Cost (ETH at 1 gwei) |");
    expect(md).to.include("| 1 | 62.50 | 1.1000 | 43.5 | 3 | 2 / 1 | 2.500 | 0.002500 |");
    expect(md).to.include("| 2 | 71.50 | 0.8000 | 44.5 | 3 | 2 / 1 | 5.000 | 0.005000 |");
    expect(md).to.include("Gas of the rounds: 7.500 Mgas, 0.007500 ETH at 1 gwei");
    expect(md).to.include("Round 2: failed verification: BS 2");
    // Last round per BS: twins, samples, outcome, coins, measured train vs Eq. 12.
    expect(md).to.include("| BS 0 | honest | 2 | 200 | passed | 120.00 | 6.00 | 3.00 | 3.28 |");
    expect(md).to.include("| BS 2 | malicious | 4 | 400 | failed | 81.00 | 8.00 | 5.00 | 5.28 |");
    // Verdicts by target (verdictsOf). Round 1: BS 0 and BS 1 pass each other and fail BS 2, BS 2 passes both:
    // honest 4 pass, malicious 2 fail. Round 2: the same except that BS 1 failed BS 0 unscored (fetch error):
    // honest 3 pass + 1 fail (1 error), malicious 2 fail.
    expect(md).to.include("| honest BS | 7 | 1 | 1 |");
    expect(md).to.include("| malicious BS | 0 | 4 | 0 |");
    expect(md).to.include("| BS 1 | 2 | 4 | 10 | 1 | 1 |");
    expect(md).to.include("| BS 2 (malicious) | 1 | 1 | 12 | 0 | 0 |");
    expect(md).to.include("- BS 1: nonce too low");
    // The restarted agent: BS 1 died after upload in round 2 and found the listed steps done on chain.
    expect(md).to.match(/\| BS 1 \| 2 \| upload \| 1\.5 \| [^|]+ \|/);
    const embedded = [...md.matchAll(/!\[[^\]]+\]\(([^)]+)\)/g)].map((x) => x[1]);
    const svgs = files.filter((f) => f.endsWith(".svg")).map((f) => path.basename(f));
    expect(embedded).to.have.members(svgs);
    expect(embedded).to.include.members(["accuracy.svg", "loss.svg", "time-by-phase.svg", "predicted-vs-measured.svg", "coins.svg", "gas.svg"]);
    expect(files[files.length - 1]).to.equal(path.join(dir, "report.md"));
  });

  it("draws accuracy and loss in one accuracy-loss figure when their scales are comparable", () => {
    const { files } = writeRunReport(dir, syntheticRun([0.1, 0.12], [2.3, 2.2])); // 10-12 % against ~2.3
    const names = files.map((f) => path.basename(f));
    expect(names).to.include.members(["accuracy-loss.svg", "accuracy-loss.png"]);
    expect(names).to.not.include("accuracy.svg");
    expect(names).to.not.include("loss.svg");
    const svg = fs.readFileSync(path.join(dir, "accuracy-loss.svg"), "utf8");
    expect((svg.match(/class="series"/g) ?? []).length).to.equal(2);
    expect(fs.readFileSync(path.join(dir, "report.md"), "utf8")).to.include("(accuracy-loss.svg)");
  });

  it("formatRoundLine gives one short line with the round, accuracy, loss, passed/failed, coins and producers", () => {
    const m = syntheticRun();
    const line = formatRoundLine(m.rounds[1], m.malicious);
    expect(line).to.equal("round 2: accuracy 71.50 %, loss 0.8000, 44.5 s, passed 2 failed 1, coins 120 120.5 81*, producers 3");
    expect(formatRoundLine(m.rounds[0], [])).to.include("round 1: accuracy 62.50 %").and.include("coins 110 110 90,");
    // Many BSs: the coins are summarised so that the line stays short.
    const wide = { ...m.rounds[1], coins: Array.from({ length: 16 }, (_, i) => 1000.25 + i * 100) };
    const short = formatRoundLine(wide, [15]);
    expect(short.length).to.be.at.most(160);
    expect(short).to.include("coins 1000.3..2500.3 (16 BSs)").and.include("producers 3");
  });

  it("refuses a run without rounds, and writes nothing", () => {
    const out = path.join(dir, "empty");
    expect(() => writeRunReport(out, { ...syntheticRun(), rounds: [] })).to.throw(/no rounds, there is nothing to report/);
    expect(fs.existsSync(out)).to.equal(false);
  });
});
