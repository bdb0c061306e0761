/**
 * The end users' consents (EIP-712), as the TwinRegistry checks them: a user's device key signs the registration of
 * its twin on a BS, each digital-twin data record and each move of its twin to another BS in an edge-association
 * slot. Pure apart from signing with the given key.
 */
import { concat, getBytes, keccak256, solidityPacked, TypedDataEncoder, Wallet, type TypedDataDomain, type TypedDataField } from "ethers";

/** The EIP-712 types, field for field as in TwinRegistry's REGISTER_TYPEHASH, DATA_TYPEHASH and MOVE_TYPEHASH. */
export const CONSENT_TYPES = {
  RegisterTwin: [
    { name: "userId", type: "bytes32" },
    { name: "bs", type: "address" },
  ],
  TwinData: [
    { name: "twinId", type: "uint256" },
    { name: "bs", type: "address" },
    { name: "dataSize", type: "uint64" },
    { name: "dataCommitment", type: "bytes32" },
    { name: "state", type: "bytes32" },
    { name: "version", type: "uint32" },
  ],
  MoveTwin: [
    { name: "twinId", type: "uint256" },
    { name: "to", type: "address" },
    { name: "slot", type: "uint256" },
  ],
} as const satisfies Record<string, readonly TypedDataField[]>;

/** Bytes of one consent in AssociationLedger.commitAction's `consents` (r ‖ s ‖ v). */
export const CONSENT_BYTES = 65;

/** The EIP-712 domain of the consents: the TwinRegistry at `twinRegistry` on chain `chainId`. */
export function consentDomain(chainId: bigint | number, twinRegistry: string): TypedDataDomain {
  return { name: "dtwn TwinRegistry", version: "1", chainId, verifyingContract: twinRegistry };
}

export interface TwinDataConsent {
  twinId: bigint | number;
  bs: string;
  dataSize: bigint | number;
  dataCommitment: string;
  state: string;
  /** The record's version: the twin's current data version + 1. */
  version: bigint | number;
}

export interface MoveConsent {
  twinId: bigint | number;
  to: string;
  slot: bigint | number;
}

const one = <K extends keyof typeof CONSENT_TYPES>(k: K) => ({ [k]: CONSENT_TYPES[k].map((f) => ({ ...f })) });

/** The device's consent to register user `userId`'s twin on `bs`. */
export function signRegistration(device: Wallet, domain: TypedDataDomain, userId: string, bs: string): Promise<string> {
  return device.signTypedData(domain, one("RegisterTwin"), { userId, bs });
}

/** The device's consent to one data record of its twin. */
export function signTwinData(device: Wallet, domain: TypedDataDomain, c: TwinDataConsent): Promise<string> {
  return device.signTypedData(domain, one("TwinData"), { ...c });
}

/** The device's consent to move its twin to `to` in slot `slot`. */
export function signMove(device: Wallet, domain: TypedDataDomain, c: MoveConsent): Promise<string> {
  return device.signTypedData(domain, one("MoveTwin"), { ...c });
}

/** The EIP-712 digest of a move consent (what the device's signature covers). */
export function moveDigest(domain: TypedDataDomain, c: MoveConsent): string {
  return TypedDataEncoder.hash(domain, one("MoveTwin"), { ...c });
}

/**
 * commitAction's `consents` for its twin entries in order: "0x" when no twin moves, else one 65-byte signature per
 * entry, zeros for a twin that stays.
 */
export function packConsents(consents: readonly (string | undefined)[]): string {
  if (consents.every((c) => c === undefined)) return "0x";
  return concat(
    consents.map((c) => {
      if (c === undefined) return new Uint8Array(CONSENT_BYTES);
      const bytes = getBytes(c);
      if (bytes.length !== CONSENT_BYTES) throw new Error(`a move consent is ${CONSENT_BYTES} bytes, got ${bytes.length}.`);
      return bytes;
    }),
  );
}

/**
 * The device key of end user `u` derived from a secret (32 bytes, hex) held by the users' side of a run: no BS agent
 * is given it. Deterministic, so that a deployment's bootstrap and the run's devices hold the same keys.
 */
export function deviceKey(secret: string, u: number): Wallet {
  if (!/^0x[0-9a-fA-F]{64}$/.test(secret)) throw new Error("the device secret must be 32 bytes as 0x-prefixed hex.");
  return new Wallet(keccak256(solidityPacked(["bytes32", "string", "uint256"], [secret, "dtwn-device", u])));
}
