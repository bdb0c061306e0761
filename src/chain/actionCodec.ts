/**
 * Compact encoding of an edge-association action a_i(t) = (K_i, b_i, tau_i) (paper Section IV-A) as committed to
 * the AssociationLedger contract. Big-endian, packed:
 *   twins: one 6-byte entry per twin, uint32 twinId | uint16 batchSize, twin ids strictly increasing;
 *   tau:   one uint16 per subchannel, the time fraction scaled by TAU_SCALE (10000 = the whole subchannel).
 * Pure functions; the contract performs the same checks on chain.
 */
export const TAU_SCALE = 10_000;
export const TWIN_ENTRY_BYTES = 6;

export interface TwinAssignment {
  /** On-chain twin id (1..2^32-1). */
  twinId: number;
  /** Training batch size b_n (samples). */
  batchSize: number;
}

export interface AssociationAction {
  /** The twins this BS hosts for the slot, with their batch sizes. */
  twins: TwinAssignment[];
  /** tau_{i,c}: time fraction on each subchannel c, in [0, 1]. */
  tau: number[];
}

export interface EncodedAction {
  twins: Uint8Array;
  tau: Uint8Array;
}

/** Encode an action; throws a clear error for anything the contract would reject on shape alone. */
export function encodeAction(action: AssociationAction): EncodedAction {
  if (action.twins.length === 0) throw new Error("An action must list at least one twin.");
  const sorted = [...action.twins].sort((a, b) => a.twinId - b.twinId);
  const twins = new Uint8Array(sorted.length * TWIN_ENTRY_BYTES);
  const view = new DataView(twins.buffer);
  let previous = 0;
  sorted.forEach(({ twinId, batchSize }, i) => {
    if (!Number.isInteger(twinId) || twinId < 1 || twinId > 0xffffffff) throw new Error(`Twin id ${twinId} is not a uint32 >= 1.`);
    if (twinId === previous) throw new Error(`Twin ${twinId} is listed twice.`);
    if (!Number.isInteger(batchSize) || batchSize < 0 || batchSize > 0xffff) throw new Error(`Batch size ${batchSize} of twin ${twinId} is not a uint16.`);
    view.setUint32(i * TWIN_ENTRY_BYTES, twinId);
    view.setUint16(i * TWIN_ENTRY_BYTES + 4, batchSize);
    previous = twinId;
  });
  const tau = new Uint8Array(action.tau.length * 2);
  const tauView = new DataView(tau.buffer);
  action.tau.forEach((fraction, c) => {
    if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) throw new Error(`tau on subchannel ${c} is ${fraction}; it must be in [0, 1].`);
    tauView.setUint16(c * 2, Math.round(fraction * TAU_SCALE));
  });
  return { twins, tau };
}

/** Decode the bytes of an ActionCommitted event back into an action. */
export function decodeAction(twinsBytes: Uint8Array, tauBytes: Uint8Array): AssociationAction {
  if (twinsBytes.length % TWIN_ENTRY_BYTES !== 0) throw new Error(`Malformed twins encoding: ${twinsBytes.length} bytes is not a multiple of ${TWIN_ENTRY_BYTES}.`);
  if (tauBytes.length % 2 !== 0) throw new Error(`Malformed tau encoding: ${tauBytes.length} bytes is odd.`);
  const view = new DataView(twinsBytes.buffer, twinsBytes.byteOffset, twinsBytes.byteLength);
  const twins: TwinAssignment[] = [];
  for (let o = 0; o < twinsBytes.length; o += TWIN_ENTRY_BYTES) {
    twins.push({ twinId: view.getUint32(o), batchSize: view.getUint16(o + 4) });
  }
  const tauView = new DataView(tauBytes.buffer, tauBytes.byteOffset, tauBytes.byteLength);
  const tau: number[] = [];
  for (let o = 0; o < tauBytes.length; o += 2) tau.push(tauView.getUint16(o) / TAU_SCALE);
  return { twins, tau };
}

/** Entries of an agent's raw action (load, batch level, bandwidth demand) as proposed to the AssociationLedger. */
export const RAW_ACTION_ENTRIES = 3;

/** Encode an actor's raw output (entries clipped to [0, 1]) as RAW_ACTION_ENTRIES big-endian uint16 / TAU_SCALE. */
export function encodeRawAction(raw: readonly number[]): Uint8Array {
  if (raw.length !== RAW_ACTION_ENTRIES) throw new Error(`A raw action has ${RAW_ACTION_ENTRIES} entries; got ${raw.length}.`);
  const out = new Uint8Array(2 * RAW_ACTION_ENTRIES);
  const view = new DataView(out.buffer);
  raw.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new Error(`Raw action entry ${i} is ${x}; it must be a finite number.`);
    view.setUint16(2 * i, Math.round(Math.min(1, Math.max(0, x)) * TAU_SCALE));
  });
  return out;
}

/** Decode the bytes of an ActionProposed event. */
export function decodeRawAction(bytes: Uint8Array): number[] {
  if (bytes.length !== 2 * RAW_ACTION_ENTRIES) throw new Error(`Malformed raw action: ${bytes.length} bytes; expected ${2 * RAW_ACTION_ENTRIES}.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: RAW_ACTION_ENTRIES }, (_, i) => view.getUint16(2 * i) / TAU_SCALE);
}

/** tau in [0, 1] rounded down to the encoding's grid, so that per-subchannel sums never grow past 1 on chain. */
export function floorTau(tau: readonly number[]): number[] {
  return tau.map((x) => Math.floor(Math.min(1, Math.max(0, x)) * TAU_SCALE) / TAU_SCALE);
}
