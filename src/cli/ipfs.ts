/**
 * `dtwn ipfs ...`: model weights in IPFS from the command line.
 *   dtwn ipfs add FILE     store a file (pinned) and print its CID, the one Kubo's `ipfs add` gives
 *   dtwn ipfs cat CID      write the bytes of a CID to stdout (binary-safe)
 *   dtwn ipfs serve        run the embedded node on 127.0.0.1 so that other nodes fetch from it (`cat --peer`)
 * The embedded Helia store is used unless IPFS_API_URL (or --api) names a Kubo daemon. Helia and libp2p take about
 * 1.5 s to load, so they are loaded only when an ipfs command runs, not for every `dtwn` command.
 */
import fs from "node:fs";
import type { Command } from "commander";
import { positiveInt } from "./args";
import { DEFAULT_CAT_TIMEOUT_MS } from "../ipfs/defaults";
import type * as Ipfs from "../ipfs";
import type * as IpfsPeer from "../ipfs/peer";
import type * as IpfsBench from "../bench/ipfs";

/* eslint-disable @typescript-eslint/no-require-imports -- deferred loading of Helia/libp2p, see the header */
const ipfs = (): typeof Ipfs => require("../ipfs") as typeof Ipfs;
const ipfsPeer = (): typeof IpfsPeer => require("../ipfs/peer") as typeof IpfsPeer;
const ipfsBench = (): typeof IpfsBench => require("../bench/ipfs") as typeof IpfsBench;
/* eslint-enable @typescript-eslint/no-require-imports */

interface StoreOptions {
  repo?: string;
  api?: string;
}

const REPO_HELP = "embedded store directory (default: $DTWN_IPFS_REPO, else .dtwn/ipfs in the working directory)";
const API_HELP = "Kubo RPC API URL, e.g. http://127.0.0.1:5001 (default: $IPFS_API_URL); when set, the Kubo daemon is used instead of the embedded store";

function readInput(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`Cannot add ${file}: no such file.`);
    if (code === "EISDIR") throw new Error(`Cannot add ${file}: it is a directory; dtwn ipfs add takes one file.`);
    throw new Error(`Cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Write `bytes` to stdout unchanged and wait until they are flushed. */
function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), (err) => (err ? reject(err) : resolve())));
}

/** `dtwn ipfs add`: the CID of `file` after storing it (or without storing, `onlyHash`). */
export async function ipfsAdd(file: string, opts: StoreOptions & { onlyHash?: boolean }): Promise<string> {
  const bytes = readInput(file);
  const m = ipfs();
  if (opts.onlyHash) return m.cidOf(bytes);
  const store = await m.openWeightsStore({ repo: opts.repo, api: opts.api });
  try {
    return await store.add(bytes);
  } finally {
    await store.close();
  }
}

/** `dtwn ipfs cat`: the bytes of `cid`, after dialling `peers` (embedded store only). */
export async function ipfsCat(cid: string, opts: StoreOptions & { peer?: string[]; timeout?: number }): Promise<Uint8Array> {
  const m = ipfs();
  m.parseCid(cid);
  const peers = opts.peer ?? [];
  if (peers.length > 0 && m.chooseBackend(opts).kind === "kubo") throw new Error("--peer applies to the embedded store; a Kubo daemon connects to peers itself (ipfs swarm connect).");
  const store = await m.openWeightsStore({ repo: opts.repo, api: opts.api, network: peers.length > 0 });
  try {
    for (const p of peers) await (store as Ipfs.HeliaWeightsStore).dial(p);
    return await store.cat(cid, { timeoutMs: opts.timeout });
  } finally {
    await store.close();
  }
}

/** Register `dtwn ipfs` (add, cat, serve) and the hidden `dtwn ipfs-peer` (the child of the two-process tests). */
export function registerIpfsCommands(program: Command): void {
  const cmd = program
    .command("ipfs")
    .description("model weights in IPFS: the embedded Helia store on disk (default) or a Kubo daemon (IPFS_API_URL); CIDs are those of Kubo's `ipfs add`");

  cmd
    .command("add")
    .description("store FILE (pinned) and print its CID")
    .argument("<file>", "the file to add, e.g. a weights blob")
    .option("--repo <dir>", REPO_HELP)
    .option("--api <url>", API_HELP)
    .option("-n, --only-hash", "print the CID without storing anything", false)
    .action(async (file: string, opts: StoreOptions & { onlyHash: boolean }) => {
      console.log(await ipfsAdd(file, opts));
    });

  cmd
    .command("cat")
    .description("write the bytes of CID to stdout (binary-safe); fails with a clear message when no one has them")
    .argument("<cid>", 'the CID, e.g. "Qm..." as `dtwn ipfs add` prints it')
    .option("--repo <dir>", REPO_HELP)
    .option("--api <url>", API_HELP)
    .option("--peer <multiaddr...>", "first dial these nodes (/ip4/127.0.0.1/tcp/PORT/p2p/ID, as `dtwn ipfs serve` prints) and fetch from them over bitswap")
    .option("--timeout <ms>", "give up when no data arrives for this long, ms", positiveInt, DEFAULT_CAT_TIMEOUT_MS)
    .action(async (cid: string, opts: StoreOptions & { peer?: string[]; timeout: number }) => {
      await writeStdout(await ipfsCat(cid, opts));
    });

  cmd
    .command("serve")
    .description("run the embedded node with networking on 127.0.0.1 until interrupted, so other nodes can fetch its CIDs (dtwn ipfs cat CID --peer ADDR)")
    .option("--repo <dir>", REPO_HELP)
    .option("--port <n>", "TCP port on 127.0.0.1 (default: one the OS picks)", positiveInt)
    .action(async (opts: { repo?: string; port?: number }) => {
      const m = ipfs();
      const store = await m.HeliaWeightsStore.open({ repo: m.resolveRepoDir(opts.repo), network: true, listen: [`/ip4/127.0.0.1/tcp/${opts.port ?? 0}`] });
      for (const a of store.multiaddrs()) console.log(a);
      console.error(`IPFS node ${store.peerId()} serving ${store.repo}; Ctrl-C stops it.`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
      });
      await store.close();
    });

  program
    .command("ipfs-peer", { hidden: true })
    .description("an IPFS node driven over IPC by its parent (two-process tests and `dtwn bench ipfs`)")
    .requiredOption("--repo <dir>", "on-disk repository")
    .action(async (opts: { repo: string }) => {
      await ipfsPeer().runIpfsPeer(opts.repo);
    });
}

/** Register `dtwn bench ipfs` under `bench`. */
export function registerIpfsBench(bench: Command): void {
  bench
    .command("ipfs")
    .description("IPFS weights store: add and cat MB/s of the 32x32x3 CNN's weights (8.6 MB) on the embedded on-disk store, and the bitswap fetch rate between two processes on 127.0.0.1 (medians)")
    .option("--reps <n>", "repetitions of each measurement (the median is printed)", positiveInt, 5)
    .option("--json", "print the measurements as JSON", false)
    .action(async (opts: { reps: number; json: boolean }) => {
      const b = ipfsBench();
      const r = await b.benchIpfs({ reps: opts.reps }, (line) => console.error(line));
      console.log(opts.json ? JSON.stringify(r, null, 2) : b.formatIpfsBench(r));
    });
}
