/**
 * Fetching a model by CID from the node that stored it: dial its IPFS address (from the chain), then fetch over
 * bitswap, in a session with that node only (so no other peer sends a copy). On a loaded machine a dial or a
 * transfer can stall, so both are retried (a few attempts, the connection dialled again each time); weights of
 * another architecture are refused at once (no retry can fix them).
 */
import { WeightsFormatError } from "../fl/weightsFormat";
import type { WeightTensor } from "../fl/tensors";
import { getWeights, type WeightsStore } from "../ipfs/store";

/** Give up on a transfer when no block arrived for this long, ms (per attempt). */
export const FETCH_TIMEOUT_MS = 10_000;

/** Pause before retry k (1-based), ms: a session that fails at once (a connection the loaded node just dropped) is not retried in the same instant. */
export const RETRY_BACKOFF_MS = (k: number) => 500 * 2 ** (k - 1);

/** Run `get` up to `attempts` times, dialling `peers` before each; the first attempts ask the first peer only, the last every peer. */
async function withPeers<T>(store: WeightsStore, peers: readonly string[], attempts: number, get: (from: readonly string[]) => Promise<T>): Promise<T> {
  let last: unknown;
  for (let k = 0; k < attempts; k++) {
    if (k > 0) await new Promise((r) => setTimeout(r, RETRY_BACKOFF_MS(k)));
    const dialErrors: string[] = [];
    for (const peer of peers) {
      try {
        await store.dial?.(peer);
      } catch (e) {
        dialErrors.push((e as Error).message.split("\n")[0]);
      }
    }
    try {
      return await get(k < attempts - 1 ? peers.slice(0, 1) : peers);
    } catch (e) {
      if (e instanceof WeightsFormatError) throw e;
      last = dialErrors.length > 0 ? new Error(`${(e as Error).message} (dial: ${dialErrors.join("; ")})`) : e;
    }
  }
  throw last;
}

/** Weights of architecture `arch` by CID, fetched from `peers` (the node that stored them first). */
export async function fetchWeights(store: WeightsStore, cid: string, arch: string, peers: readonly string[], timeoutMs: number, attempts = 3): Promise<WeightTensor[]> {
  return withPeers(store, peers, attempts, async (from) => (await getWeights(store, cid, arch, { timeoutMs, from })).weights);
}

/** The bytes of `cid`, from this store when it has them, else fetched from `peers` as {@link fetchWeights} does. */
export async function fetchBlob(store: WeightsStore, cid: string, peers: readonly string[], timeoutMs: number, attempts = 3): Promise<Uint8Array> {
  if (await store.has(cid)) return store.cat(cid, { timeoutMs });
  return withPeers(store, peers, attempts, (from) => store.cat(cid, { timeoutMs, from }));
}
