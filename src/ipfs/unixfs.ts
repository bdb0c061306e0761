/**
 * How bytes become a UnixFS DAG, chosen so that both backends give the CID Kubo's `ipfs add` gives by default
 * (Kubo's "unixfs-v0-2015" profile): CIDv0 (dag-pb, sha2-256, base58btc "Qm..."), dag-pb leaves (no raw leaves),
 * fixed 256 KiB chunks, a balanced DAG of at most 174 links per node, and a one-chunk file being that chunk's node.
 * @helia/unixfs defaults differ (CIDv1, raw leaves, 1 MiB chunks), so the options are always passed explicitly.
 */
import { importBytes, type ImporterOptions } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";

/** Kubo's default chunk size, bytes (`--chunker size-262144`). */
export const KUBO_CHUNK_BYTES = 262_144;
/** Kubo's default fan-out of the balanced layout (links per internal node). */
export const KUBO_MAX_LINKS = 174;

/** Importer options equal to Kubo's `ipfs add` defaults. */
export const KUBO_IMPORT_OPTIONS: Omit<ImporterOptions, "onProgress"> = {
  cidVersion: 0,
  rawLeaves: false,
  leafType: "file",
  chunker: fixedSize({ chunkSize: KUBO_CHUNK_BYTES }),
  layout: balanced({ maxChildrenPerNode: KUBO_MAX_LINKS }),
  reduceSingleLeafToSelf: true,
};

/**
 * The CID `ipfs add` would give `bytes`, without storing anything (like `ipfs add --only-hash`).
 * @returns the CID text ("Qm...")
 */
export async function cidOf(bytes: Uint8Array): Promise<string> {
  const discard = { put: (cid: Parameters<Parameters<typeof importBytes>[1]["put"]>[0]) => cid };
  const { cid } = await importBytes(bytes, discard, KUBO_IMPORT_OPTIONS);
  return cid.toString();
}
