/** tasks/test: which files `npx hardhat test` runs alone (they time CPU quotas and links) and in what order the rest go. */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { longestFirst, measuresTime, TIMED_TEST_FILES } from "../../tasks/test";

const ROOT = path.resolve(__dirname, "..", "..");

describe("tasks/test: the split of `npx hardhat test`", () => {
  it("runs the testbed files that time CPU quotas and shaped links alone, every other file in parallel", () => {
    for (const f of TIMED_TEST_FILES) {
      expect(fs.existsSync(path.join(ROOT, f)), f).to.equal(true);
      expect(measuresTime(path.join(ROOT, f))).to.equal(true);
    }
    expect(measuresTime(path.join(ROOT, "test/testbed/fidelity.test.ts"))).to.equal(false); // pure: no timing
    expect(measuresTime(path.join(ROOT, "test/system/run.e2e.test.ts"))).to.equal(false);
  });

  it("starts the end-to-end files first, then the CLI and invariant files, then the rest, each group in name order", () => {
    const files = ["/r/test/fl/a.test.ts", "/r/test/cli/cli.test.ts", "/r/test/system/run.e2e.test.ts", "/r/test/chain/b.test.ts", "/r/test/system/attacks.e2e.test.ts"];
    expect(longestFirst(files)).to.deep.equal(["/r/test/system/attacks.e2e.test.ts", "/r/test/system/run.e2e.test.ts", "/r/test/cli/cli.test.ts", "/r/test/chain/b.test.ts", "/r/test/fl/a.test.ts"]);
  });
});
