/**
 * The Merkle tree of a DPoS block (see contracts/consensus/BlockLedger.sol): leaves in record-log order; each level
 * hashes pairs with keccak256 of the sorted pair (OpenZeppelin's commutative hashing, so MerkleProof.verify accepts
 * the proofs); an odd last node is carried up unchanged. The root of one leaf is the leaf, of none bytes32(0).
 */
import { AbiCoder, concat, keccak256, ZeroHash } from "ethers";

/**
 * A record's leaf, as RecordLog.leafHash: keccak256(abi.encode(uint256 index, uint8 kind, bytes32 payloadHash,
 * uint64 appendedAt)), appendedAt the block timestamp of the append (all four are in its RecordAppended event).
 */
export function recordLeaf(index: bigint | number, kind: bigint | number, payloadHash: string, appendedAt: bigint | number): string {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint8", "bytes32", "uint64"], [index, kind, payloadHash, appendedAt]));
}

function hashPair(a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
}

/** All levels, from the leaves (level 0) to the root. */
function levels(leaves: readonly string[]): string[][] {
  const out: string[][] = [leaves.slice()];
  while (out[out.length - 1].length > 1) {
    const prev = out[out.length - 1];
    const next: string[] = [];
    for (let i = 0; i < prev.length; i += 2) next.push(i + 1 < prev.length ? hashPair(prev[i], prev[i + 1]) : prev[i]);
    out.push(next);
  }
  return out;
}

export function merkleRoot(leaves: readonly string[]): string {
  if (leaves.length === 0) return ZeroHash;
  const all = levels(leaves);
  return all[all.length - 1][0];
}

/** Proof for the leaf at `index` (position within the block's interval). */
export function merkleProof(leaves: readonly string[], index: number): string[] {
  if (index < 0 || index >= leaves.length) throw new Error(`Leaf ${index} is outside the ${leaves.length} leaves.`);
  const proof: string[] = [];
  let i = index;
  for (const level of levels(leaves).slice(0, -1)) {
    const sibling = i ^ 1;
    if (sibling < level.length) proof.push(level[sibling]);
    i = Math.floor(i / 2);
  }
  return proof;
}
