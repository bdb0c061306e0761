/**
 * The embedded IPFS store: Helia in this process, blocks and pins on disk (blockstore-fs, datastore-fs) under one
 * directory. Two modes:
 * - offline (default): no networking at all; `cat` of a CID that is not stored here fails at once.
 * - network: libp2p with TCP on 127.0.0.1 only (an OS-chosen port unless given) and bitswap, so that another node
 *   fetches by CID after dialling this one's multiaddr. Never Helia's or libp2p's defaults (those listen on every
 *   interface and dial public bootstrap peers and delegated routers): no bootstrap, no peer discovery, no routers,
 *   no NAT traversal, and a connection gater that refuses to dial anything but 127.0.0.1. Peers are dialled
 *   explicitly with {@link HeliaWeightsStore.dial}.
 */
import "./polyfill";
import path from "node:path";
import { createHeliaLight, type Helia } from "helia";
import { withLibp2pLight, type HeliaWithLibp2p } from "@helia/libp2p";
import { withBitswap } from "@helia/bitswap";
import { unixfs, type UnixFS } from "@helia/unixfs";
import { tcp } from "@libp2p/tcp";
import { noise } from "@libp2p/noise";
import { yamux } from "@libp2p/yamux";
import { identify } from "@libp2p/identify";
import { multiaddr, type Multiaddr } from "@multiformats/multiaddr";
import type { CID } from "multiformats/cid";
import { FsBlockstore, FsDatastore, MemoryDatastore } from "./stores.mjs";
import { KUBO_IMPORT_OPTIONS } from "./unixfs";
import { hostNetwork, LOOPBACK, mayDial, type HostNetwork } from "../testbed/hostNetwork";
import { checkTimeoutMs, CidNotFoundError, collectWithStallTimeout, parseCid, stallController, type CatOptions, type WeightsStore } from "./store";

/**
 * Bitswap's limits, raised for slow links. Its defaults give a message 10 s to be sent or received and keep at most
 * 10 block sends queued per peer, dropping wants beyond that. On the emulated testbed's shaped uplinks (a few Mbit/s
 * shared by several fetchers) a 4 MB message takes longer than 10 s: the send was aborted, the want was gone, and the
 * fetch waited for a block that never came. How long a fetch may stall is decided by the caller's timeout instead.
 */
export const BITSWAP_OPTIONS = {
  messageSendTimeout: 600_000,
  messageReceiveTimeout: 600_000,
  sendBlocksTimeout: 600_000,
  sendBlocksMaxQueueLength: 4096,
  maxOutgoingMessageSize: 1024 * 1024,
} as const;

/** The listen address by default: loopback (inside the emulated testbed, the namespace's address), an OS-chosen port. */
export const LOOPBACK_LISTEN = "/ip4/127.0.0.1/tcp/0";
/** How long dialling a peer may take, ms. */
export const DIAL_TIMEOUT_MS = 5_000;

export interface HeliaStoreOptions {
  /** Directory of the on-disk repository (blocks/ and datastore/ inside); created when missing. */
  repo: string;
  /** Start libp2p (TCP on 127.0.0.1) and bitswap; default false (no networking at all). */
  network?: boolean;
  /** Listen multiaddrs when `network` is on; each must be /ip4/127.0.0.1/tcp/PORT (default {@link LOOPBACK_LISTEN}). */
  listen?: string[];
}

/** True when `ma` is a TCP address on 127.0.0.1 (optionally with /p2p/<peer id>). */
export function isLoopbackTcp(ma: Multiaddr): boolean {
  return isAllowedTcp(ma, LOOPBACK);
}

/**
 * True when `ma` is a TCP address this process may use (optionally with /p2p/<peer id>): 127.0.0.1, and inside the
 * emulated testbed the testbed's own subnet (src/testbed/hostNetwork.ts).
 */
export function isAllowedTcp(ma: Multiaddr, net: HostNetwork = hostNetwork()): boolean {
  const c = ma.getComponents();
  return c.length >= 2 && c[0].name === "ip4" && mayDial(net, c[0].value ?? "") && c[1].name === "tcp" && c.slice(2).every((x) => x.name === "p2p");
}

function parseLoopbackAddr(text: string, what: string): Multiaddr {
  let ma: Multiaddr;
  try {
    ma = multiaddr(text);
  } catch (e) {
    throw new Error(`${what} ${JSON.stringify(text)} is not a multiaddr (${(e as Error).message}); expected e.g. /ip4/127.0.0.1/tcp/4101/p2p/12D3Koo...`);
  }
  const net = hostNetwork();
  if (!isAllowedTcp(ma, net)) throw new Error(`${what} ${text} is refused: the embedded IPFS node only uses TCP on 127.0.0.1${net.subnet ? ` and the testbed's ${net.subnet}` : ""} (/ip4/127.0.0.1/tcp/PORT[/p2p/ID]).`);
  return ma;
}

/**
 * blockstore-fs writes a block through a temporary file and a rename; two concurrent writes of the same block (a blob
 * with repeated chunks, e.g. zero-filled layers) collide and blockstore-fs's writer backs off, which made such an add
 * about 20 times slower (9 MB/s). Here a second write of a block already being written waits for the first instead.
 */
class DedupFsBlockstore extends FsBlockstore {
  private readonly writing = new Map<string, Promise<CID>>();

  override put(key: CID, val: Parameters<FsBlockstore["put"]>[1], options?: Parameters<FsBlockstore["put"]>[2]): Promise<CID> {
    const k = key.toString();
    const running = this.writing.get(k);
    if (running) return running;
    const p = super.put(key, val, options).finally(() => this.writing.delete(k));
    this.writing.set(k, p);
    return p;
  }
}

/** The embedded Helia store; create it with {@link HeliaWeightsStore.open}. */
export class HeliaWeightsStore implements WeightsStore {
  readonly kind = "helia";

  private constructor(
    private readonly helia: Helia | HeliaWithLibp2p,
    private readonly fs: UnixFS,
    private readonly blocks: FsBlockstore,
    private readonly data: FsDatastore,
    /** Absolute path of the repository directory. */
    readonly repo: string,
    /** Whether libp2p and bitswap run. */
    readonly network: boolean,
  ) {}

  /** Open (creating when missing) the repository at `opts.repo` and start the node. */
  static async open(opts: HeliaStoreOptions): Promise<HeliaWeightsStore> {
    const repo = path.resolve(opts.repo);
    const network = opts.network ?? false;
    const listen = (opts.listen ?? [`/ip4/${hostNetwork().bind}/tcp/0`]).map((a) => parseLoopbackAddr(a, "Listen address").toString());
    const blocks = new DedupFsBlockstore(path.join(repo, "blocks"));
    const data = new FsDatastore(path.join(repo, "datastore"));
    try {
      await blocks.open();
      await data.open();
    } catch (e) {
      throw new Error(`Cannot open the IPFS repository ${repo}: ${(e as Error).message}`);
    }
    const base = createHeliaLight({ blockstore: blocks, datastore: data });
    const helia = network
      ? withBitswap(
          withLibp2pLight(base, {
            addresses: { listen },
            transports: [tcp()],
            connectionEncrypters: [noise()],
            streamMuxers: [yamux()],
            peerDiscovery: [],
            services: { identify: identify() },
            // The peer store in memory: peers are dialled explicitly each run, nothing is remembered on disk (and no
            // late peer-store write outlives close()). The node's key stays in the repository's datastore.
            datastore: new MemoryDatastore(),
            connectionGater: {
              denyDialMultiaddr: (ma: Multiaddr) => !isAllowedTcp(ma),
            },
            // No connection monitor: it pings with a protocol this node does not run (no ping service), and a ping
            // waiting behind megabytes on a shaped link is not a dead peer. With it, libp2p closed connections under
            // load and every transfer on them was lost (the testbed's fetches hung).
            connectionMonitor: { enabled: false },
          }),
          BITSWAP_OPTIONS,
        )
      : base;
    try {
      await helia.start();
    } catch (e) {
      await Promise.allSettled([helia.stop(), blocks.close(), data.close()]);
      throw new Error(`Cannot start the IPFS node on ${repo}${network ? ` listening on ${listen.join(", ")}` : ""}: ${(e as Error).message}`);
    }
    return new HeliaWeightsStore(helia, unixfs(helia), blocks, data, repo, network);
  }

  private get libp2p(): HeliaWithLibp2p["libp2p"] {
    if (!this.network) throw new Error(`The IPFS store at ${this.repo} was opened without networking: it has no multiaddr and dials no peer (open it with network: true).`);
    return (this.helia as HeliaWithLibp2p).libp2p;
  }

  /** Listen multiaddrs with this node's peer id (/ip4/127.0.0.1/tcp/PORT/p2p/ID), to hand to peers that fetch from it. */
  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((m) => m.toString());
  }

  /** This node's peer id. */
  peerId(): string {
    return this.libp2p.peerId.toString();
  }

  /** Connect to the peer at `addr` (a 127.0.0.1 multiaddr with /p2p/ID), so `cat` can fetch its blocks over bitswap. */
  async dial(addr: string): Promise<void> {
    const ma = parseLoopbackAddr(addr, "Peer address");
    try {
      await this.libp2p.dial(ma, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
    } catch (e) {
      throw new Error(`Cannot connect to IPFS peer ${addr} within ${DIAL_TIMEOUT_MS} ms: ${(e as Error).message}. Is that node running (dtwn ipfs serve) and is the address, with its /p2p/ peer id, current?`);
    }
  }

  /** Number of open peer connections. */
  connections(): number {
    return this.network ? this.libp2p.getConnections().length : 0;
  }

  async add(bytes: Uint8Array): Promise<string> {
    const cid = await this.fs.addBytes(bytes, KUBO_IMPORT_OPTIONS);
    await this.pinCid(cid, true);
    return cid.toString();
  }

  /** Why `cid` cannot be found right now, or undefined when it is local or may come from a connected peer. */
  private async unreachable(cid: CID, text: string): Promise<CidNotFoundError | undefined> {
    if (await this.blocks.has(cid)) return undefined;
    if (!this.network) {
      return new CidNotFoundError(text, `IPFS ${text} is not in the local store ${this.repo} and this store is offline. Add the file here first, or fetch it from the node that has it (dtwn ipfs cat ${text} --peer /ip4/127.0.0.1/tcp/PORT/p2p/ID).`);
    }
    if (this.connections() === 0) {
      return new CidNotFoundError(text, `IPFS ${text} is not in the local store ${this.repo} and no peer is connected. Dial the node that has it first (its /ip4/127.0.0.1/tcp/PORT/p2p/ID multiaddr).`);
    }
    return undefined;
  }

  async cat(cid: string, opts: CatOptions = {}): Promise<Uint8Array> {
    const c = parseCid(cid);
    const timeoutMs = checkTimeoutMs(opts.timeoutMs);
    const missing = await this.unreachable(c, cid);
    if (missing) throw missing;
    const providers = this.network && opts.from && opts.from.length > 0 && !(await this.blocks.has(c)) ? opts.from.map((a) => parseLoopbackAddr(a, "Provider address")) : undefined;
    // With providers: one bitswap session with only these providers: its wants go to them alone (no copy from every peer that has it).
    // The session is not closed: closing aborts the signal of every block it stored, and bitswap sends the blocks
    // other peers want from this node under that signal, so a closed session cut off this node's uploads in flight
    // (marked sent, never resent: the peers' fetches then hung). An unreferenced session is collected.
    const fs = providers ? unixfs({ blockstore: this.helia.blockstore.createSession(c, { providers, minProviders: 1, maxProviders: providers.length }) }) : this.fs;
    const r = await collectWithStallTimeout((signal) => fs.cat(c, { signal, offline: !this.network }), timeoutMs);
    if (r.bytes) return r.bytes;
    throw this.fetchError(cid, r.stalled, r.error, timeoutMs, providers ? opts.from : undefined);
  }

  /** The error of a fetch that got no bytes; `asked`: the only peers a session asked. */
  private fetchError(cid: string, stalled: boolean, error: unknown, timeoutMs: number, asked?: readonly string[]): Error {
    if (asked && !stalled && /failed to load block/i.test((error as Error)?.message ?? "")) {
      // A session gives up as soon as every provider it was given answered that it does not have the block.
      return new CidNotFoundError(cid, `IPFS ${cid}: no block arrived from the ${asked.length} peer(s) asked (${asked.join(", ")}); they do not have it. Fetch it from the node that stored it.`);
    }
    if (stalled) {
      return new CidNotFoundError(cid, `IPFS ${cid}: no block arrived from the ${this.connections()} connected peer(s) within ${timeoutMs} ms; none of them has it. Dial the node that stored it, or raise the timeout if it is slow.`);
    }
    const e = error as Error;
    if (e?.name === "NotFoundError" || /not found/i.test(e?.message ?? "")) {
      return new CidNotFoundError(cid, `IPFS ${cid}: part of its DAG is missing from the local store ${this.repo} (${e.message}).`);
    }
    return new Error(`IPFS ${cid}: ${e?.message ?? String(error)}`);
  }

  /** Options for `pins.add`: `offline` is passed on to the blockstore by the DAG walker, but its type omits it. */
  private static pinOptions(offline: boolean, signal?: AbortSignal): { signal?: AbortSignal } {
    return { offline, signal } as { signal?: AbortSignal };
  }

  /** Pin `cid` (unless it is pinned already), walking its whole DAG; `onBlock` is called for every block walked. */
  private async pinCid(cid: CID, offline: boolean, signal?: AbortSignal, onBlock: () => void = () => undefined): Promise<void> {
    if (await this.helia.pins.isPinned(cid)) return;
    for await (const _ of this.helia.pins.add(cid, HeliaWeightsStore.pinOptions(offline, signal))) onBlock();
  }

  async pin(cid: string, opts: CatOptions = {}): Promise<void> {
    const c = parseCid(cid);
    const timeoutMs = checkTimeoutMs(opts.timeoutMs);
    const missing = await this.unreachable(c, cid);
    if (missing) throw missing;
    // Pinning walks the whole DAG, fetching what is missing: the stall timer restarts on every block walked.
    const controller = stallController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      await this.pinCid(c, !this.network, controller.signal, () => timer.refresh());
    } catch (e) {
      throw this.fetchError(cid, controller.signal.aborted, e, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  async isPinned(cid: string): Promise<boolean> {
    return this.helia.pins.isPinned(parseCid(cid));
  }

  async has(cid: string): Promise<boolean> {
    return this.blocks.has(parseCid(cid));
  }

  async close(): Promise<void> {
    await this.helia.stop();
    await this.blocks.close();
    await this.data.close();
  }
}
