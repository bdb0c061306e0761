/** Run options (`dtwn run`, `dtwn compare`, `dtwn agent`): defaults, validation with every bad field named. */
import { expect } from "chai";
import { DEFAULT_RUN, resolveRunOptions } from "../../src/system/options";

describe("src/system/options", () => {
  it("fills the defaults (the demo: the paper's 5 BSs and 100 users, 3 rounds, MADDPG) and keeps overrides", () => {
    expect(resolveRunOptions({})).to.deep.equal(DEFAULT_RUN);
    expect(DEFAULT_RUN).to.include({ bss: 5, users: 100, rounds: 3, policy: "maddpg" });
    const o = resolveRunOptions({ users: 100, rounds: 20, policy: "random", faults: [{ bs: 1, kind: "late" }] });
    expect(o).to.include({ users: 100, rounds: 20, policy: "random" });
    expect(o.faults).to.deep.equal([{ bs: 1, kind: "late" }]);
  });

  it("ignores undefined values (unset CLI flags) instead of failing on them", () => {
    expect(resolveRunOptions({ policyDir: undefined, crash: undefined }).policyDir).to.equal(undefined);
  });

  it("names every bad field: unknown policy, attack, fault kind, negative counts, unknown keys", () => {
    let message = "";
    try {
      resolveRunOptions({ policy: "greedy", attack: "flip", users: -3, faults: [{ bs: 0, kind: "slow" }], minRoundSeconds: 2, colour: "red" } as never);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/^invalid run options:/);
    for (const field of ["policy", "attack", "users", "faults.0.kind", "minRoundSeconds", "colour"]) expect(message, field).to.include(field);
  });

  it("refuses impossible combinations: as many malicious BSs as BSs, fewer users than BSs, a crash or fault of a BS that does not exist", () => {
    expect(() => resolveRunOptions({ bss: 3, malicious: 3 })).to.throw(/malicious: malicious must be smaller than the number of BSs/);
    expect(() => resolveRunOptions({ bss: 5, users: 4 })).to.throw(/users: there must be at least one user per BS/);
    expect(() => resolveRunOptions({ bss: 3, crash: { bs: 3, round: 1, after: "upload" } })).to.throw(/crash.bs: the crashing BS must be one of the BSs/);
    expect(() => resolveRunOptions({ bss: 3, crash: { bs: 0, round: 1, after: "lunch" } as never })).to.throw(/crash.after/);
    expect(() => resolveRunOptions({ bss: 3, faults: [{ bs: 7, kind: "late" }] })).to.throw(/faults: a faulty BS must be one of the BSs/);
  });

  it("takes a kill either after some seconds or after a phase, never both or neither", () => {
    expect(resolveRunOptions({ bss: 3, kill: { bs: 0, round: 2, after: "train" } }).kill).to.deep.equal({ bs: 0, round: 2, after: "train" });
    expect(resolveRunOptions({ bss: 3, kill: { bs: 1, round: 1, afterSeconds: 12.5 } }).kill).to.deep.equal({ bs: 1, round: 1, afterSeconds: 12.5 });
    expect(() => resolveRunOptions({ bss: 3, kill: { bs: 0, round: 2, after: "train", afterSeconds: 3 } })).to.throw(/kill: give either afterSeconds or after/);
    expect(() => resolveRunOptions({ bss: 3, kill: { bs: 0, round: 2 } })).to.throw(/kill: give either afterSeconds or after/);
    expect(() => resolveRunOptions({ bss: 3, kill: { bs: 0, round: 2, after: "nap" } as never })).to.throw(/kill.after/);
    expect(() => resolveRunOptions({ bss: 3, kill: { bs: 5, round: 2, after: "train" } })).to.throw(/kill.bs: the killed BS must be one of the BSs/);
  });
});

describe("src/system/options: the MBS's attack (--mbs-attack)", () => {
  it("takes forge-global in every round or in one round of the run, and nothing else", () => {
    expect(resolveRunOptions({}).mbsAttack).to.equal(undefined);
    expect(resolveRunOptions({ mbsAttack: { kind: "forge-global" } }).mbsAttack).to.deep.equal({ kind: "forge-global" });
    expect(resolveRunOptions({ rounds: 3, mbsAttack: { kind: "forge-global", round: 2 } }).mbsAttack).to.deep.equal({ kind: "forge-global", round: 2 });
    expect(() => resolveRunOptions({ mbsAttack: { kind: "steal-coins" } as never })).to.throw(/mbsAttack.kind/);
    expect(() => resolveRunOptions({ rounds: 3, mbsAttack: { kind: "forge-global", round: 4 } })).to.throw(/mbsAttack.round: the MBS's attack round must be one of the run's rounds/);
    expect(() => resolveRunOptions({ mbsAttack: { kind: "forge-global", round: 0 } })).to.throw(/mbsAttack.round/);
    expect(() => resolveRunOptions({ mbsAttack: { kind: "forge-global", extra: 1 } as never })).to.throw(/mbsAttack/);
  });

  it("is parsed from the command line as kind or kind:round and shown in `dtwn run --help`", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildProgram } = require("../../src/cli/main") as typeof import("../../src/cli/main");
    const run = buildProgram().commands.find((c) => c.name() === "run")!;
    expect(run.helpInformation()).to.include("--mbs-attack <kind[:round]>").and.include("forge-global");
    const opt = run.options.find((o) => o.long === "--mbs-attack")!;
    const parse = (v: string) => (opt.parseArg as (v: string, p: unknown) => unknown)(v, undefined);
    expect(parse("forge-global")).to.deep.equal({ kind: "forge-global" });
    expect(parse("forge-global:2")).to.deep.equal({ kind: "forge-global", round: 2 });
    expect(() => parse("forge-global:x")).to.throw(/--mbs-attack takes kind or kind:round/);
  });
});
