/**
 * `dtwn bench ipfs`: how fast model weights go in and out of IPFS.
 * - add and cat on the embedded store on disk (a fresh repository per repetition; add includes pinning);
 * - bitswap between two processes on 127.0.0.1: this process stores a blob, a forked peer (`dtwn ipfs-peer`) dials
 *   it and fetches the CID; the rate is over the peer's fetch time (dialling excluded, reported apart).
 * The blob is the weights file (src/fl/weightsFormat.ts) of the paper's CNN on 32x32x3 (2,156,490 float32, 8.6 MB)
 * with deterministic pseudo-random values; each bitswap repetition uses other values so nothing is cached.
 * MB = 10^6 bytes. Speed is measured here, never asserted in tests.
 */
import crypto from "node:crypto";
import { median } from "../eval/stats";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { encodeWeights } from "../fl/weightsFormat";
import { sizeOf, type WeightTensor } from "../fl/tensors";
import { archId } from "../fl/cnn";
import { mulberry32 } from "../twins/random";
import { HeliaWeightsStore } from "../ipfs/helia";
import { IpfsPeerProcess } from "../ipfs/peer";

/** Layer shapes of the paper's CNN on 32x32x3 in tf.js order (kernel, bias per layer; src/fl/cnn.ts). */
export const PAPER_CNN_32X32X3_SHAPES: readonly (readonly number[])[] = [[5, 5, 3, 32], [32], [5, 5, 32, 64], [64], [8 * 8 * 64, 512], [512], [512, 10], [10]];

/** A weights blob of the 32x32x3 CNN with values uniform in [-0.1, 0.1) from `seed` (mulberry32). */
export function benchWeightsBlob(seed: number): { arch: string; params: number; blob: Uint8Array } {
  const rng = mulberry32(seed);
  const weights: WeightTensor[] = PAPER_CNN_32X32X3_SHAPES.map((shape) => {
    const values = new Float32Array(sizeOf(shape));
    for (let i = 0; i < values.length; i++) values[i] = (rng() - 0.5) * 0.2;
    return { shape, values };
  });
  const arch = archId({ height: 32, width: 32, channels: 3 });
  return { arch, params: weights.reduce((s, w) => s + w.values.length, 0), blob: encodeWeights(arch, weights) };
}

export interface IpfsBenchOptions {
  /** Repetitions of each measurement. */
  reps: number;
  /** Seed of the blob values (default 1). */
  seed?: number;
}

export interface IpfsBenchResult {
  arch: string;
  params: number;
  /** Size of the weights blob, bytes. */
  blobBytes: number;
  /** CID of the first blob. */
  cid: string;
  reps: number;
  /** Per repetition, MB/s. */
  addMBps: number[];
  catMBps: number[];
  bitswapMBps: number[];
  /** Dialling the first node from the peer, ms (first repetition). */
  dialMs: number;
  /** Starting the peer process (CLI, Helia, libp2p), ms. */
  peerStartMs: number;
}

const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** Run the benchmark; `log` receives progress lines. Temporary repositories are removed, the peer is stopped. */
export async function benchIpfs(opts: IpfsBenchOptions, log: (line: string) => void = () => undefined): Promise<IpfsBenchResult> {
  const seed = opts.seed ?? 1;
  const first = benchWeightsBlob(seed);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-bench-ipfs-"));
  log(`bench ipfs: ${first.arch} weights, ${first.params} float32 = ${first.blob.length} bytes; temporary repositories in ${root}`);
  const result: IpfsBenchResult = { arch: first.arch, params: first.params, blobBytes: first.blob.length, cid: "", reps: opts.reps, addMBps: [], catMBps: [], bitswapMBps: [], dialMs: NaN, peerStartMs: NaN };
  try {
    for (let r = 0; r < opts.reps; r++) {
      const store = await HeliaWeightsStore.open({ repo: path.join(root, `disk-${r}`) });
      try {
        const t0 = performance.now();
        const cid = await store.add(first.blob);
        const t1 = performance.now();
        const back = await store.cat(cid);
        const t2 = performance.now();
        if (!sameBytes(back, first.blob)) throw new Error(`bench ipfs: cat of ${cid} returned other bytes than were added.`);
        result.cid = cid;
        result.addMBps.push(mbps(first.blob.length, t1 - t0));
        result.catMBps.push(mbps(back.length, t2 - t1));
        log(`  on disk ${r + 1}/${opts.reps}: add ${result.addMBps[r].toFixed(1)} MB/s, cat ${result.catMBps[r].toFixed(1)} MB/s`);
      } finally {
        await store.close();
      }
    }

    const node = await HeliaWeightsStore.open({ repo: path.join(root, "source"), network: true });
    let peer: IpfsPeerProcess | undefined;
    try {
      const t0 = performance.now();
      peer = await IpfsPeerProcess.start(path.join(root, "peer"));
      result.peerStartMs = performance.now() - t0;
      const from = node.multiaddrs()[0];
      log(`  peer process up in ${result.peerStartMs.toFixed(0)} ms; it fetches from ${from}`);
      for (let r = 0; r < opts.reps; r++) {
        const { blob } = r === 0 ? first : benchWeightsBlob(seed + r);
        const cid = await node.add(blob);
        const f = await peer.fetch(cid, from, { timeoutMs: 30_000 });
        if (f.bytes !== blob.length || f.sha256 !== crypto.createHash("sha256").update(blob).digest("hex")) throw new Error(`bench ipfs: the peer fetched other bytes for ${cid}.`);
        if (r === 0) result.dialMs = f.dialMs;
        result.bitswapMBps.push(mbps(f.bytes, f.catMs));
        log(`  bitswap ${r + 1}/${opts.reps}: ${f.bytes} bytes in ${f.catMs.toFixed(0)} ms = ${result.bitswapMBps[r].toFixed(1)} MB/s`);
      }
    } finally {
      await peer?.close();
      await node.close();
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return result;
}

/** The figures as a Markdown table, with the blob and the units. */
export function formatIpfsBench(r: IpfsBenchResult): string {
  const row = (what: string, xs: number[]) => `| ${what} | ${median(xs).toFixed(1)} | ${xs.map((x) => x.toFixed(1)).join(", ")} |`;
  return [
    `blob: ${r.arch} weights, ${r.params.toLocaleString("en-US")} float32 = ${r.blobBytes.toLocaleString("en-US")} bytes, CID ${r.cid}; MB = 10^6 bytes`,
    "",
    `| measurement | MB/s, median of ${r.reps} | each run, MB/s |`,
    "|---|---:|---|",
    row("add, embedded store on disk (chunk, hash, write, pin)", r.addMBps),
    row("cat, embedded store on disk", r.catMBps),
    row("bitswap fetch, 2 processes on 127.0.0.1", r.bitswapMBps),
    "",
    `peer process start ${r.peerStartMs.toFixed(0)} ms; dial ${r.dialMs.toFixed(0)} ms`,
  ].join("\n");
}
