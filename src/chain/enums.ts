/**
 * The contracts' enums as named TypeScript values, in the order Solidity numbers them (the ABI carries only the
 * uint8). test/chain/enums.test.ts reads each enum from its contract's source and fails when the order differs.
 */

/** `TrainingRounds.RoundStatus`: a round is opened, settled (verdicts counted), then finalised (global model recorded). */
export const RoundStatus = { None: 0, Open: 1, Settled: 2, Finalized: 3 } as const;
/** `TrainingRounds.Outcome` of a submitted model. */
export const Outcome = { Pending: 0, Passed: 1, Failed: 2, Unverified: 3 } as const;
/** `TrainingRounds.Attestation`: what a BS said of a round's global model. */
export const Attestation = { None: 0, Agrees: 1, Disputes: 2 } as const;
/** `AcceptanceRule.Decision`: the acceptance rule's answer for one model. */
export const Decision = { Unverified: 0, Passed: 1, Failed: 2 } as const;
/** `BlockLedger.BlockStatus` of a proposed DPoS block. */
export const BlockStatus = { None: 0, Pending: 1, Final: 2, Rejected: 3 } as const;
/** `RecordLog.RecordKind`: the paper's three record kinds. */
export const RecordKind = { TwinModel: 0, TwinData: 1, TrainingModel: 2 } as const;

/** Each mirrored enum by `Contract.Enum`, for the test that pins them to the Solidity sources. */
export const MIRRORED_ENUMS = {
  "fl/TrainingRounds.sol:RoundStatus": RoundStatus,
  "fl/TrainingRounds.sol:Outcome": Outcome,
  "fl/TrainingRounds.sol:Attestation": Attestation,
  "fl/AcceptanceRule.sol:Decision": Decision,
  "consensus/BlockLedger.sol:BlockStatus": BlockStatus,
  "records/RecordLog.sol:RecordKind": RecordKind,
} as const;

/** The name of value `v` of enum `e` (for reports), or `unknown(v)`. */
export function nameOf<E extends Record<string, number>>(e: E, v: bigint | number): keyof E | `unknown(${string})` {
  const n = Number(v);
  const found = Object.entries(e).find(([, x]) => x === n);
  return found ? (found[0] as keyof E) : `unknown(${n})`;
}
