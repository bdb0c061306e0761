import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { MIRRORED_ENUMS, nameOf, Outcome, RoundStatus } from "../../src/chain/enums";
import { DECISIONS } from "../../src/fl/acceptance";
import { VERDICT } from "../../src/chain/ballot";

const CONTRACTS = path.resolve(__dirname, "..", "..", "contracts");

/** The members of `enum <name> { ... }` in a Solidity source, in declaration order. */
function solidityEnum(source: string, name: string): string[] {
  const m = new RegExp(`enum\\s+${name}\\s*\\{([^}]*)\\}`).exec(source);
  if (!m) throw new Error(`enum ${name} not found`);
  return m[1].split(",").map((s) => s.replace(/\/\/.*$/gm, "").trim()).filter(Boolean);
}

describe("chain enums mirrored in TypeScript (src/chain/enums.ts)", () => {
  for (const [where, mirror] of Object.entries(MIRRORED_ENUMS)) {
    it(`${where} has the members and order of the Solidity enum`, () => {
      const [file, name] = where.split(":");
      const members = solidityEnum(fs.readFileSync(path.join(CONTRACTS, file), "utf8"), name);
      expect(Object.entries(mirror).sort((a, b) => a[1] - b[1]).map(([k]) => k)).to.deep.equal(members);
      expect(Object.values(mirror)).to.deep.equal(members.map((_, i) => i));
    });
  }

  it("the verdict codes are TrainingRounds' ABSTAIN, PASS and FAIL constants", () => {
    const src = fs.readFileSync(path.join(CONTRACTS, "fl", "TrainingRounds.sol"), "utf8");
    const constant = (n: string) => Number(new RegExp(`uint8 public constant ${n} = (\\d+);`).exec(src)?.[1]);
    expect({ abstain: constant("ABSTAIN"), pass: constant("PASS"), fail: constant("FAIL") }).to.deep.equal(VERDICT);
  });

  it("the acceptance rule's decisions of src/fl/acceptance.ts follow AcceptanceRule.Decision", () => {
    const members = solidityEnum(fs.readFileSync(path.join(CONTRACTS, "fl", "AcceptanceRule.sol"), "utf8"), "Decision");
    expect(DECISIONS.map((d) => d[0].toUpperCase() + d.slice(1))).to.deep.equal(members);
  });

  it("nameOf names a value and flags one the enum does not have", () => {
    expect(nameOf(Outcome, 2n)).to.equal("Failed");
    expect(nameOf(RoundStatus, 7)).to.equal("unknown(7)");
  });
});
