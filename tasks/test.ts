/**
 * `npx hardhat test` on two cores: the files that measure time on the emulated testbed (CPU quotas, shaped links:
 * TIMED_TEST_FILES) run alone, one after another, as before; every other file runs first, in parallel worker processes
 * (`DTWN_TEST_JOBS`, default 3: the end-to-end runs wait on chain deadlines and child processes, so a third worker
 * fills the cores). The Hardhat tests took 16 min serially and take about 12 min this way (README, "Tests").
 *
 * Serial as before: `DTWN_TEST_SERIAL=1`, `REPORT_GAS=true` (the gas reporter needs one process), coverage, or a
 * list of files of which at most one is not a testbed file. `--parallel` keeps Hardhat's meaning (all in parallel).
 */
import { subtask } from "hardhat/config";
import { TASK_TEST_RUN_MOCHA_TESTS } from "hardhat/builtin-tasks/task-names";
import path from "node:path";

interface MochaTaskArgs {
  bail: boolean;
  parallel: boolean;
  testFiles: string[];
  grep?: string;
}

/**
 * Files that measure time against CPU quotas or shaped links (another test's load on the cores would skew them).
 * A new test file that times CPU or links belongs here.
 */
export const TIMED_TEST_FILES = ["test/testbed/cgroup.test.ts", "test/testbed/network.test.ts", "test/testbed/ipfsShaped.test.ts", "test/testbed/emulated.e2e.test.ts"];

export function measuresTime(file: string): boolean {
  const f = file.split(path.sep).join("/");
  return TIMED_TEST_FILES.some((t) => f.endsWith(`/${t}`) || f === t);
}

/** End-to-end files first: they run longest, so the workers finish together. */
export function longestFirst(files: string[]): string[] {
  const weight = (f: string) => (/\.e2e\.test\.ts$/.test(f) ? 0 : /\/test\/(cli|invariants)\//.test(f.split(path.sep).join("/")) ? 1 : 2);
  return [...files].sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));
}

subtask(TASK_TEST_RUN_MOCHA_TESTS).setAction(async (args: MochaTaskArgs, hre, runSuper) => {
  const serialOnly = process.env.DTWN_TEST_SERIAL === "1" || process.env.REPORT_GAS === "true" || (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
  const timed = args.testFiles.filter(measuresTime);
  const rest = longestFirst(args.testFiles.filter((f) => !measuresTime(f)));
  if (args.parallel || serialOnly || rest.length < 2) return runSuper(args);
  const failures = (await runSuper({ ...args, testFiles: rest, parallel: true })) as number;
  if (timed.length === 0 || (failures > 0 && args.bail)) return failures;
  console.log(`\n  ${timed.length} file(s) that measure time on the cores and links, one at a time:`);
  return failures + ((await runSuper({ ...args, testFiles: timed, parallel: false })) as number);
});
