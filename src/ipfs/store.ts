/**
 * Model weights in IPFS behind one small interface, so the embedded Helia node (./helia) and a Kubo daemon
 * (./kubo) are interchangeable: bytes in, CID text out, and back. Both give the CIDs of Kubo's `ipfs add` (./unixfs).
 * `putWeights` / `getWeights` add the weights file format (src/fl/weightsFormat.ts) on top, so a blob of another
 * architecture is refused with a message naming the CID.
 */
import { setMaxListeners } from "node:events";
import { CID } from "multiformats/cid";
import { decodeWeights, decodeWeightsHeader, encodeWeights, WeightsFormatError, type DecodeExpectation } from "../fl/weightsFormat";
import type { ModelWeights, WeightTensor } from "../fl/tensors";

import { DEFAULT_CAT_TIMEOUT_MS } from "./defaults";

export { DEFAULT_CAT_TIMEOUT_MS };

export interface CatOptions {
  /** Give up when no data arrived for this long, ms (default {@link DEFAULT_CAT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /**
   * Fetch the blocks only from these peers (multiaddrs with /p2p/ID), in one bitswap session. Without it a node sends
   * its want to every connected peer and each peer that has a block sends it: with M BSs fetching each other's
   * models, every model crossed the links about four times. Ignored by a store that fetches through a daemon (Kubo).
   */
  from?: readonly string[];
}

/** A content-addressed store of byte blobs (model weights). CIDs are text: CIDv0 "Qm..." as `ipfs add` prints. */
export interface WeightsStore {
  /** Which backend this is, for messages: "helia" (embedded) or "kubo" (a daemon's RPC API). */
  readonly kind: "helia" | "kubo";
  /** Store `bytes` and pin them; resolves to their CID (the one Kubo's `ipfs add` gives). */
  add(bytes: Uint8Array): Promise<string>;
  /** The bytes of `cid`, from the local store or from connected peers; {@link CidNotFoundError} when they are not found. */
  cat(cid: string, opts?: CatOptions): Promise<Uint8Array>;
  /** Pin `cid` (fetching what is missing) so that garbage collection keeps it; a no-op when it is pinned already. */
  pin(cid: string, opts?: CatOptions): Promise<void>;
  /** Whether `cid` is pinned (recursively) in this store. */
  isPinned(cid: string): Promise<boolean>;
  /** Whether the root block of `cid` is in the local store (never asks the network). */
  has(cid: string): Promise<boolean>;
  /** Connect to a peer by multiaddr so that `cat` can fetch from it (only a store with networking has it). */
  dial?(multiaddr: string): Promise<void>;
  /** Release the store (stop the node, close files). */
  close(): Promise<void>;
}

/** A CID text that does not parse. */
export class InvalidCidError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidCidError";
  }
}

/** A CID whose content is neither in the local store nor delivered by a peer in time. */
export class CidNotFoundError extends Error {
  constructor(
    readonly cid: string,
    message: string,
  ) {
    super(message);
    this.name = "CidNotFoundError";
  }
}

/**
 * Parse a CID text ("Qm..." CIDv0 or multibase CIDv1 such as "bafy..."); a leading "/ipfs/" is accepted.
 * @throws InvalidCidError naming the text
 */
export function parseCid(text: string): CID {
  const t = String(text).trim().replace(/^\/ipfs\//, "");
  try {
    return CID.parse(t);
  } catch (e) {
    throw new InvalidCidError(`Not a valid CID: ${JSON.stringify(text)} (expected CIDv0 "Qm..." or CIDv1 such as "bafy..."; ${(e as Error).message}).`);
  }
}

/**
 * Store model weights and return their CID. Takes either an architecture id and the tensors (encoded here with the
 * weights format) or an already encoded blob, which is checked to be one before it is stored.
 */
export async function putWeights(store: WeightsStore, blob: Uint8Array): Promise<string>;
export async function putWeights(store: WeightsStore, arch: string, weights: ModelWeights): Promise<string>;
export async function putWeights(store: WeightsStore, archOrBlob: string | Uint8Array, weights?: ModelWeights): Promise<string> {
  let blob: Uint8Array;
  if (typeof archOrBlob === "string") {
    if (!weights) throw new WeightsFormatError("putWeights: the weights are missing.");
    blob = encodeWeights(archOrBlob, weights);
  } else {
    blob = archOrBlob;
    decodeWeightsHeader(blob);
  }
  return store.add(blob);
}

/**
 * Fetch the weights of `cid` and decode them, refusing another architecture (or other layer shapes) before any value
 * is read.
 * @param expect the architecture id the caller's model has, or {arch, shapes}
 * @throws WeightsFormatError naming the CID when the blob is not weights of that architecture
 */
export async function getWeights(store: WeightsStore, cid: string, expect: string | DecodeExpectation, opts?: CatOptions): Promise<{ arch: string; weights: WeightTensor[] }> {
  const bytes = await store.cat(cid, opts);
  try {
    return decodeWeights(bytes, typeof expect === "string" ? { arch: expect } : expect);
  } catch (e) {
    if (e instanceof WeightsFormatError) throw new WeightsFormatError(`IPFS ${cid}: ${e.message}`);
    throw e;
  }
}

/** Concatenate chunks into one array (the length is counted, not guessed). */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * Collect an async stream of chunks, aborting through `controller` when no chunk arrives for `timeoutMs` ms; the
 * caller maps the abort to its error. The timer restarts on every chunk, so a large transfer is never cut short.
 */
export async function collectWithStallTimeout(stream: (signal: AbortSignal) => AsyncIterable<Uint8Array>, timeoutMs: number): Promise<{ bytes?: Uint8Array; stalled: boolean; error?: unknown }> {
  const controller = stallController();
  const timer = setTimeout(() => controller.abort(new Error(`no data for ${timeoutMs} ms`)), timeoutMs);
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of stream(controller.signal)) {
      chunks.push(chunk);
      timer.refresh();
    }
    return { bytes: concatChunks(chunks), stalled: false };
  } catch (error) {
    return { stalled: controller.signal.aborted, error };
  } finally {
    clearTimeout(timer);
  }
}

/** An AbortController for a stall timer; bitswap adds one abort listener per wanted block, so no listener limit. */
export function stallController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(Infinity, controller.signal);
  return controller;
}

/** Check a timeout option: a positive number of ms. */
export function checkTimeoutMs(ms: number | undefined): number {
  const t = ms ?? DEFAULT_CAT_TIMEOUT_MS;
  if (!Number.isFinite(t) || t <= 0) throw new Error(`The IPFS timeout must be a positive number of ms, got ${ms}.`);
  return t;
}
