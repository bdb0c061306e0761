/**
 * The acceptance rule: what the verdicts on a BS model decide. The same function as the chain's
 * contracts/fl/AcceptanceRule.sol (`decide`), used by the simulator (src/fl/federation.ts); test/fl/acceptance.test.ts
 * checks that the two agree on random verdict sets. Pure.
 *
 * - Quorum: decided only when the weight of the verdicts given reaches `quorumBps` / 10000 of every eligible
 *   verifier's weight; otherwise unverified (neither aggregated, paid nor slashed).
 * - Majority: passed with more pass than fail weight, failed with more fail than pass weight.
 * - A tie is unverified, not a fail.
 */

/** Outcomes, in the order of the Solidity enum `AcceptanceRule.Decision`. */
export const DECISIONS = ["unverified", "passed", "failed"] as const;
export type Decision = (typeof DECISIONS)[number];

/** Default quorum (basis points): more than half of the other BSs cannot be outvoted by silence. */
export const DEFAULT_QUORUM_BPS = 5_000;

const BPS = 10_000n;

/**
 * Decide a model from its verdict weights (integers: today one per verifying BS). As on chain, verdicts beyond the
 * eligible weight (a verifier removed after its verdict lowers the chain's count) simply meet the quorum.
 * @throws Error when the weights are not non-negative integers, or the quorum is not 1..10000.
 */
export function decide(passWeight: bigint | number, failWeight: bigint | number, eligibleWeight: bigint | number, quorumBps: bigint | number = DEFAULT_QUORUM_BPS): Decision {
  const [pass, fail, eligible, quorum] = [passWeight, failWeight, eligibleWeight, quorumBps].map((x) => {
    if (typeof x === "number" && !Number.isSafeInteger(x)) throw new Error(`acceptance: weights and quorum must be integers, got ${x}.`);
    return BigInt(x);
  });
  if (pass < 0n || fail < 0n || eligible < 0n) throw new Error(`acceptance: weights must not be negative, got ${pass}, ${fail} of ${eligible}.`);
  if (quorum < 1n || quorum > BPS) throw new Error(`acceptance: the quorum must be 1..10000 basis points, got ${quorum}.`);
  const given = pass + fail;
  if (given === 0n || given * BPS < quorum * eligible) return "unverified";
  if (pass > fail) return "passed";
  if (fail > pass) return "failed";
  return "unverified";
}
