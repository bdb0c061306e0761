/**
 * The Kubo backend: a Kubo daemon that the user runs (`ipfs daemon`), reached through its RPC API with
 * kubo-rpc-client. Chosen when IPFS_API_URL (or `--api`) is set. Adds pass Kubo's default import options explicitly
 * (CIDv0, dag-pb leaves, 256 KiB chunks, balanced layout) so a daemon configured otherwise still gives the CIDs of the
 * embedded store.
 */
import "./polyfill";
import { create, type KuboRPCClient } from "kubo-rpc-client";
import { KUBO_CHUNK_BYTES } from "./unixfs";
import { checkTimeoutMs, CidNotFoundError, collectWithStallTimeout, parseCid, type CatOptions, type WeightsStore } from "./store";

/**
 * Check a Kubo RPC API URL ("http://127.0.0.1:5001", optionally ending in /api/v0) and return it normalised.
 * @param from where the URL came from, for the message (e.g. "IPFS_API_URL")
 */
export function checkApiUrl(text: string, from = "IPFS_API_URL"): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new Error(`${from} ${JSON.stringify(text)} is not a URL; expected the Kubo RPC API address, e.g. http://127.0.0.1:5001`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`${from} ${text} must be an http:// or https:// URL (the Kubo RPC API, e.g. http://127.0.0.1:5001).`);
  if (url.pathname !== "/" && url.pathname.replace(/\/$/, "") !== "/api/v0") throw new Error(`${from} ${text} must be the API root (http://HOST:PORT or http://HOST:PORT/api/v0), not another path.`);
  if (url.search || url.hash || url.username || url.password) throw new Error(`${from} ${text} must not carry a query, fragment or credentials.`);
  url.pathname = "/api/v0";
  return url;
}

/** The Kubo RPC backend; `new KuboWeightsStore(url)`. */
export class KuboWeightsStore implements WeightsStore {
  readonly kind = "kubo";
  private readonly client: KuboRPCClient;
  /** The API URL in use (normalised, ending in /api/v0). */
  readonly url: string;

  constructor(apiUrl: string, from = "IPFS_API_URL") {
    const url = checkApiUrl(apiUrl, from);
    this.url = url.toString();
    this.client = create({ url });
  }

  private wrap(e: unknown, what: string): Error {
    const err = e as Error & { cause?: Error & { code?: string } };
    if (err?.message === "fetch failed" || err?.cause?.code === "ECONNREFUSED") {
      return new Error(`Cannot reach the Kubo RPC API at ${this.url} (${what}): ${err.cause?.message ?? err.message}. Is \`ipfs daemon\` running there?`);
    }
    return new Error(`Kubo at ${this.url}, ${what}: ${err?.message ?? String(e)}`);
  }

  async add(bytes: Uint8Array): Promise<string> {
    try {
      const r = await this.client.add(bytes, { cidVersion: 0, rawLeaves: false, chunker: `size-${KUBO_CHUNK_BYTES}`, trickle: false, pin: true });
      return r.cid.toString();
    } catch (e) {
      throw this.wrap(e, "add");
    }
  }

  async cat(cid: string, opts: CatOptions = {}): Promise<Uint8Array> {
    const c = parseCid(cid);
    const timeoutMs = checkTimeoutMs(opts.timeoutMs);
    const r = await collectWithStallTimeout((signal) => this.client.cat(c, { signal }), timeoutMs);
    if (r.bytes) return r.bytes;
    if (r.stalled) throw new CidNotFoundError(cid, `IPFS ${cid}: the Kubo daemon at ${this.url} delivered no data within ${timeoutMs} ms; it neither has the CID nor found a provider. Add it there, or connect the daemon to the node that has it (ipfs swarm connect).`);
    throw this.wrap(r.error, `cat ${cid}`);
  }

  async pin(cid: string, opts: CatOptions = {}): Promise<void> {
    const c = parseCid(cid);
    const timeoutMs = checkTimeoutMs(opts.timeoutMs);
    try {
      await this.client.pin.add(c, { timeout: timeoutMs });
    } catch (e) {
      if (/deadline|timeout|timed out/i.test((e as Error)?.message ?? "")) throw new CidNotFoundError(cid, `IPFS ${cid}: the Kubo daemon at ${this.url} could not fetch it within ${timeoutMs} ms to pin it.`);
      throw this.wrap(e, `pin ${cid}`);
    }
  }

  async isPinned(cid: string): Promise<boolean> {
    const c = parseCid(cid);
    try {
      for await (const p of this.client.pin.ls({ paths: c, type: "recursive" })) if (p.cid.equals(c)) return true;
      return false;
    } catch (e) {
      if (/not pinned/i.test((e as Error)?.message ?? "")) return false;
      throw this.wrap(e, `pin ls ${cid}`);
    }
  }

  async has(cid: string): Promise<boolean> {
    const c = parseCid(cid);
    try {
      // `offline`: Kubo answers from its own blockstore and never asks the network.
      await this.client.block.stat(c, { offline: true } as Parameters<KuboRPCClient["block"]["stat"]>[1]);
      return true;
    } catch (e) {
      if (/not found|could not find/i.test((e as Error)?.message ?? "")) return false;
      throw this.wrap(e, `block stat ${cid}`);
    }
  }

  async close(): Promise<void> {
    // Nothing to release: the client holds no connection between requests that would keep the process alive.
  }
}
