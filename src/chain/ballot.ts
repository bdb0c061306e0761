/**
 * Verifier ballots of contracts/fl/TrainingRounds.sol: one verdict and one score per model of a round, in the order of
 * `submitters(round)`, committed as a hash before any is revealed. Pure apart from {ballotSalt}, which asks the signer.
 */
import { AbiCoder, keccak256, toUtf8Bytes, type Signer } from "ethers";

/** Verdict codes, as the contract's ABSTAIN, PASS and FAIL constants. */
export const VERDICT = { abstain: 0, pass: 1, fail: 2 } as const;
export type VerdictCode = (typeof VERDICT)[keyof typeof VERDICT];

export interface Ballot {
  verdicts: VerdictCode[];
  /** Scores in basis points (0..10000), one per model. */
  scores: number[];
  salt: string;
}

/** keccak256(abi.encode(round, verifier, verdicts, scores, salt)): what `commitVerdicts` takes and `revealVerdicts` checks. */
export function ballotCommitment(round: bigint | number, verifier: string, b: Ballot): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "address", "uint8[]", "uint16[]", "bytes32"], [round, verifier, b.verdicts, b.scores, b.salt]));
}

/**
 * The ballot's salt: the hash of the verifier's signature over the contract and round. Secret until revealed (only the
 * key holder can sign), and the same after a restart (ECDSA signatures of ethers' keys are deterministic, RFC 6979),
 * so a restarted agent can still reveal what it committed.
 */
export async function ballotSalt(signer: Signer, rounds: string, round: bigint | number): Promise<string> {
  return keccak256(toUtf8Bytes(await signer.signMessage(`dtwn verdict salt: TrainingRounds ${rounds.toLowerCase()} round ${round}`)));
}
