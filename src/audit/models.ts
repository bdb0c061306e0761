/**
 * Where an auditor reads model weights: IPFS stores behind {@link ModelSource}. A run folder's repositories
 * (ipfs/bs-*, ipfs/mbs) are opened offline (no networking at all); a store with networking (libp2p on 127.0.0.1,
 * peers dialled explicitly) fetches what no local repository has. A few recent blobs are kept in memory, since a
 * BS model is read twice (its own check and Eq. 5).
 */
import fs from "node:fs";
import path from "node:path";
import type { WeightsStore } from "../ipfs/store";
import type { ModelSource } from "./recompute";

/** Blobs kept in memory (6.4 MB each for the paper's CNN on Fashion-MNIST). */
const CACHED_BLOBS = 12;

/** Tries each store in order: first the ones that hold the CID locally, then those that can fetch from peers. */
export class StoresModelSource implements ModelSource {
  private readonly cache = new Map<string, Uint8Array>();

  constructor(
    private readonly stores: readonly WeightsStore[],
    private readonly timeoutMs = 10_000,
  ) {}

  async get(cid: string): Promise<Uint8Array | undefined> {
    const cached = this.cache.get(cid);
    if (cached) return cached;
    let found: Uint8Array | undefined;
    for (const s of this.stores) {
      try {
        if (await s.has(cid)) {
          found = await s.cat(cid, { timeoutMs: this.timeoutMs });
          break;
        }
      } catch {
        // a partial DAG in this store: try the next
      }
    }
    for (const s of this.stores) {
      if (found || !s.dial) continue;
      try {
        found = await s.cat(cid, { timeoutMs: this.timeoutMs });
      } catch {
        // no connected peer has it
      }
    }
    if (found) {
      this.cache.set(cid, found);
      if (this.cache.size > CACHED_BLOBS) this.cache.delete(this.cache.keys().next().value as string);
    }
    return found;
  }
}

/** The IPFS repositories of a run folder (`<run>/ipfs/<name>` holding blocks/), sorted by name. */
export function runFolderRepos(runFolder: string): string[] {
  const dir = path.join(runFolder, "ipfs");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .map((n) => path.join(dir, n))
    .filter((p) => fs.existsSync(path.join(p, "blocks")));
}
