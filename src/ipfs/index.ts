/**
 * Model weights in IPFS: pick the backend and open it.
 * - IPFS_API_URL (or `api`) set: a Kubo daemon through its RPC API (./kubo).
 * - otherwise: the embedded Helia store on disk (./helia), in `repo`, else $DTWN_IPFS_REPO, else .dtwn/ipfs under
 *   the working directory; offline unless `network` is asked for.
 * Loading this module loads Helia and libp2p (about 1.5 s): the CLI requires it only in the commands that use it.
 */
import path from "node:path";
import { HeliaWeightsStore } from "./helia";
import { checkApiUrl, KuboWeightsStore } from "./kubo";
import type { WeightsStore } from "./store";

export * from "./store";
export { cidOf, KUBO_CHUNK_BYTES, KUBO_MAX_LINKS } from "./unixfs";
export { HeliaWeightsStore, isLoopbackTcp, LOOPBACK_LISTEN, type HeliaStoreOptions } from "./helia";
export { KuboWeightsStore, checkApiUrl } from "./kubo";

/** The embedded store's directory when neither an option nor DTWN_IPFS_REPO names one (relative to the cwd). */
export const DEFAULT_REPO_DIR = path.join(".dtwn", "ipfs");

export interface OpenStoreOptions {
  /** Kubo RPC API URL; default $IPFS_API_URL. When set, the Kubo backend is used and the options below do not apply. */
  api?: string;
  /** Embedded store directory; default $DTWN_IPFS_REPO, else {@link DEFAULT_REPO_DIR}. */
  repo?: string;
  /** Embedded store: start libp2p on 127.0.0.1 and bitswap (default false: no networking). */
  network?: boolean;
  /** Embedded store with `network`: listen multiaddrs, /ip4/127.0.0.1/tcp/PORT each (default port 0: the OS picks). */
  listen?: string[];
}

export type BackendChoice = { kind: "kubo"; url: string; from: string } | { kind: "helia"; repo: string };

/** Absolute path of the embedded store: `repo`, else $DTWN_IPFS_REPO, else .dtwn/ipfs under the working directory. */
export function resolveRepoDir(repo?: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(repo || env.DTWN_IPFS_REPO || DEFAULT_REPO_DIR);
}

/** Which backend `openWeightsStore` would open (no I/O); validates a Kubo API URL. */
export function chooseBackend(opts: OpenStoreOptions = {}, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  const api = opts.api ?? (env.IPFS_API_URL?.trim() || undefined);
  if (api !== undefined) {
    const from = opts.api !== undefined ? "--api" : "IPFS_API_URL";
    return { kind: "kubo", url: checkApiUrl(api, from).toString(), from };
  }
  return { kind: "helia", repo: resolveRepoDir(opts.repo, env) };
}

/** Open the weights store chosen by {@link chooseBackend}. Close it when done. */
export async function openWeightsStore(opts: OpenStoreOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<WeightsStore> {
  const choice = chooseBackend(opts, env);
  if (choice.kind === "kubo") return new KuboWeightsStore(choice.url, choice.from);
  return HeliaWeightsStore.open({ repo: choice.repo, network: opts.network, listen: opts.listen });
}
