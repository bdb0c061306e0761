/**
 * Fetching a model by CID from the node that stored it: dial its IPFS address (from the chain), then fetch over
 * bitswap. On a loaded machine a dial or a transfer can stall, so both are retried (a few attempts, the connection
 * dialled again each time); weights of another architecture are refused at once (no retry can fix them).
 */
import { WeightsFormatError } from "../fl/weightsFormat";
import type { WeightTensor } from "../fl/tensors";
import { getWeights, type WeightsStore } from "../ipfs/store";

/** Give up on a transfer when no block arrived for this long, ms (per attempt). */
export const FETCH_TIMEOUT_MS = 10_000;

export async function fetchWeights(store: WeightsStore, cid: string, arch: string, peers: readonly string[], timeoutMs: number, attempts = 3): Promise<WeightTensor[]> {
  let last: unknown;
  for (let k = 0; k < attempts; k++) {
    const dialErrors: string[] = [];
    for (const peer of peers) {
      try {
        await store.dial?.(peer);
      } catch (e) {
        dialErrors.push((e as Error).message.split("\n")[0]);
      }
    }
    try {
      return (await getWeights(store, cid, arch, { timeoutMs })).weights;
    } catch (e) {
      if (e instanceof WeightsFormatError) throw e;
      last = dialErrors.length > 0 ? new Error(`${(e as Error).message} (dial: ${dialErrors.join("; ")})`) : e;
    }
  }
  throw last;
}
