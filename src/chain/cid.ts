/**
 * IPFS CIDs on chain are stored in binary form (the CID's bytes); these convert between that and the text form.
 * CIDv0 text is base58btc of the sha2-256 multihash ("Qm..."); CIDv1 text is multibase base32 ("b...").
 * Implemented here (not with multiformats, which is ESM-only) so the chain layer stays a plain CommonJS module.
 */
import { decodeBase58, encodeBase58, getBytes, hexlify, toBeHex } from "ethers";

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

function base32Decode(text: string): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`invalid base32 character ${JSON.stringify(ch)}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Text CID ("Qm...", "bafy...") to the 0x-hex bytes the contracts take. */
export function cidToBytes(cid: string): string {
  if (/^Qm[1-9A-HJ-NP-Za-km-z]{44}$/.test(cid)) {
    const hex = toBeHex(decodeBase58(cid), 34);
    const bytes = getBytes(hex);
    if (bytes[0] !== 0x12 || bytes[1] !== 0x20) throw new Error(`Not a valid CIDv0: ${JSON.stringify(cid)} (not a sha2-256 multihash).`);
    return hex;
  }
  if (/^b[a-z2-7]+$/.test(cid)) {
    const bytes = base32Decode(cid.slice(1));
    if (bytes.length < 34 || bytes[0] !== 0x01) throw new Error(`Not a valid CIDv1: ${JSON.stringify(cid)}.`);
    return hexlify(bytes);
  }
  throw new Error(`Not a valid CID: ${JSON.stringify(cid)} (expected CIDv0 "Qm..." or base32 CIDv1 "b...").`);
}

/** The 0x-hex bytes of an on-chain CID back to its text form (base58btc for CIDv0, base32 for CIDv1). */
export function bytesToCid(hex: string): string {
  const bytes = getBytes(hex);
  if (bytes.length === 34 && bytes[0] === 0x12 && bytes[1] === 0x20) return encodeBase58(bytes);
  if (bytes.length >= 34 && bytes[0] === 0x01) return "b" + base32Encode(bytes);
  throw new Error(`On-chain bytes ${hex} are not a CID.`);
}

/**
 * A CIDv0's sha2-256 digest (0x-hex, 32 bytes): how TwinRegistry's digital-twin model records carry a CID. Refuses any
 * other CID (a twin model is stored as a CIDv0 by src/ipfs).
 */
export function cidToDigest(cid: string): string {
  const bytes = cidToBytes(cid);
  if (!bytes.startsWith("0x1220") || bytes.length !== 2 + 68) throw new Error(`${JSON.stringify(cid)} is not a CIDv0 ("Qm..."): a twin model record holds a CIDv0's sha2-256 digest.`);
  return "0x" + bytes.slice(6);
}

/** The CIDv0 ("Qm...") of a sha2-256 digest (0x-hex, 32 bytes), as {@link cidToDigest} wrote it. */
export function digestToCid(digest: string): string {
  const bytes = getBytes(digest);
  if (bytes.length !== 32) throw new Error(`${digest} is not a 32-byte digest.`);
  return bytesToCid("0x1220" + digest.slice(2).toLowerCase());
}
