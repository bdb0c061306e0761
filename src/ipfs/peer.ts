/**
 * A second IPFS node in its own process, for the two-process bitswap test and `dtwn bench ipfs`: the parent forks
 * `dtwn ipfs-peer --repo DIR` and drives it over IPC. The child runs the embedded store with networking (TCP on
 * 127.0.0.1), reports its multiaddrs, and on request adds bytes or dials a peer and fetches a CID, timing both.
 * The child exits when the parent says stop or when the IPC channel closes (the parent died).
 */
import { fork, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { HeliaWeightsStore } from "./helia";

type ToPeer =
  | { type: "add"; id: number; bytes: Uint8Array }
  | { type: "fetch"; id: number; cid: string; from: string; timeoutMs?: number; returnBytes?: boolean }
  | { type: "stop" };

/** What the peer reports after a fetch. */
export interface PeerFetchResult {
  /** Bytes received. */
  bytes: number;
  /** Time to dial the source peer, ms (about 0 when already connected). */
  dialMs: number;
  /** Time from asking for the CID to having all its bytes, ms. */
  catMs: number;
  /** SHA-256 of the bytes, hex. */
  sha256: string;
  /** The bytes themselves when asked for. */
  data?: Uint8Array;
}

type FromPeer =
  | { type: "ready"; multiaddrs: string[]; peerId: string }
  | { type: "added"; id: number; cid: string }
  | ({ type: "fetched"; id: number } & PeerFetchResult)
  | { type: "error"; id?: number; message: string };

const ROOT = path.resolve(__dirname, "..", "..");

/** The child side (the hidden `dtwn ipfs-peer` command): serve requests over IPC until told to stop. */
export async function runIpfsPeer(repo: string): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error("dtwn ipfs-peer is started by dtwn itself (over an IPC channel), not by hand; use `dtwn ipfs serve` to run a node.");
  const store = await HeliaWeightsStore.open({ repo, network: true });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await store.close().catch(() => undefined);
    if (process.connected) process.disconnect();
    setTimeout(() => process.exit(0), 1_000).unref(); // in case a libp2p timer still holds the event loop
  };
  process.on("disconnect", () => void stop());
  process.on("message", async (m: ToPeer) => {
    if (m.type === "stop") return void stop();
    try {
      if (m.type === "add") {
        send({ type: "added", id: m.id, cid: await store.add(m.bytes) } satisfies FromPeer);
      } else if (m.type === "fetch") {
        const t0 = performance.now();
        await store.dial(m.from);
        const t1 = performance.now();
        const data = await store.cat(m.cid, { timeoutMs: m.timeoutMs, from: [m.from] }); // a session with that peer only
        const t2 = performance.now();
        const sha256 = crypto.createHash("sha256").update(data).digest("hex");
        send({ type: "fetched", id: m.id, bytes: data.length, dialMs: t1 - t0, catMs: t2 - t1, sha256, data: m.returnBytes ? data : undefined } satisfies FromPeer);
      }
    } catch (e) {
      send({ type: "error", id: "id" in m ? m.id : undefined, message: (e as Error).message } satisfies FromPeer);
    }
  });
  send({ type: "ready", multiaddrs: store.multiaddrs(), peerId: store.peerId() } satisfies FromPeer);
}

/** The parent side: a forked `dtwn ipfs-peer` process. Start it with {@link IpfsPeerProcess.start}; always `close()` it. */
export class IpfsPeerProcess {
  private nextId = 1;

  private constructor(
    private readonly child: ChildProcess,
    /** The last 2,000 characters the peer wrote to stderr, for error messages. */
    private readonly stderr: { tail: string },
    /** The peer's listen multiaddrs (127.0.0.1, with /p2p/ID). */
    readonly multiaddrs: string[],
    /** The peer's id. */
    readonly peerId: string,
  ) {}

  /**
   * Fork the peer on the on-disk repository `repo` and wait until it listens.
   * @param startTimeoutMs how long starting may take, ms (the CLI and Helia load in about 4 s)
   * @param where to run it elsewhere than this process's network: an argv prefix that execs node there (e.g. an
   *   emulated testbed namespace's `nsenter --net=... --`, which keeps the IPC descriptor) and its environment
   */
  static async start(repo: string, startTimeoutMs = 60_000, where: { prefix?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Promise<IpfsPeerProcess> {
    const prefix = where.prefix ?? [];
    const placed = prefix.length > 0 ? { execPath: prefix[0], execArgv: [...prefix.slice(1), process.execPath, ...process.execArgv] } : {};
    const child = fork(path.join(ROOT, "bin", "dtwn.js"), ["ipfs-peer", "--repo", repo], { serialization: "advanced", stdio: ["ignore", "ignore", "pipe", "ipc"], ...placed, ...(where.env ? { env: where.env } : {}) });
    const stderr = { tail: "" };
    child.stderr?.on("data", (d: Buffer) => (stderr.tail = (stderr.tail + d.toString()).slice(-2000)));
    let timer: NodeJS.Timeout | undefined;
    let onStart: ((m: FromPeer) => void) | undefined;
    try {
      const ready = await new Promise<Extract<FromPeer, { type: "ready" }>>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`the IPFS peer process did not start within ${startTimeoutMs} ms.`)), startTimeoutMs);
        onStart = (m: FromPeer) => {
          if (m.type === "ready") resolve(m);
          else if (m.type === "error") reject(new Error(`the IPFS peer process failed to start: ${m.message}`));
        };
        child.on("message", onStart);
        child.once("exit", (code) => reject(new Error(`the IPFS peer process exited with code ${code} while starting: ${stderr.tail.trim()}`)));
        child.once("error", reject);
      });
      return new IpfsPeerProcess(child, stderr, ready.multiaddrs, ready.peerId);
    } catch (e) {
      child.kill("SIGKILL");
      throw e;
    } finally {
      clearTimeout(timer);
      if (onStart) child.off("message", onStart);
    }
  }

  private request<T extends FromPeer["type"]>(message: ToPeer, want: T): Promise<Extract<FromPeer, { type: T }>> {
    return new Promise((resolve, reject) => {
      const id = (message as { id?: number }).id;
      const onMessage = (m: FromPeer) => {
        if (m.type === want && (m as { id?: number }).id === id) {
          cleanup();
          resolve(m as Extract<FromPeer, { type: T }>);
        } else if (m.type === "error" && m.id === id) {
          cleanup();
          reject(new Error(`IPFS peer: ${m.message}`));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new Error(`the IPFS peer process exited (code ${code}, signal ${signal}): ${this.stderr.tail.trim()}`));
      };
      const cleanup = () => {
        this.child.off("message", onMessage);
        this.child.off("exit", onExit);
      };
      this.child.on("message", onMessage);
      this.child.on("exit", onExit);
      this.child.send(message);
    });
  }

  /** Add `bytes` on the peer (pinned); resolves to the CID. */
  async add(bytes: Uint8Array): Promise<string> {
    return (await this.request({ type: "add", id: this.nextId++, bytes }, "added")).cid;
  }

  /** Have the peer dial `from` and fetch `cid` from it over bitswap. */
  async fetch(cid: string, from: string, opts: { timeoutMs?: number; returnBytes?: boolean } = {}): Promise<PeerFetchResult> {
    const { type: _t, id: _i, ...r } = await this.request({ type: "fetch", id: this.nextId++, cid, from, ...opts }, "fetched");
    return r;
  }

  /** Stop the peer (its node, then the process); kills it when it does not exit within `timeoutMs` ms. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    if (this.child.connected) this.child.send({ type: "stop" } satisfies ToPeer);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
