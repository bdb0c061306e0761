/**
 * The IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed): a 4-byte magic 0x0000 <type> <dims>,
 * <dims> big-endian uint32 sizes, then the data. Only unsigned bytes (type 0x08) occur in these datasets. Pure.
 */
import zlib from "node:zlib";

export interface IdxArray {
  readonly shape: number[];
  readonly data: Uint8Array;
}

export function parseIdx(raw: Uint8Array, what = "IDX data"): IdxArray {
  const bytes = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b ? new Uint8Array(zlib.gunzipSync(raw)) : raw;
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new Error(`${what} is not an IDX file (bad magic number).`);
  if (bytes[2] !== 0x08) throw new Error(`${what} holds IDX type 0x${bytes[2].toString(16)}; only unsigned bytes (0x08) are supported.`);
  const dims = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 + 4 * dims) throw new Error(`${what} is truncated inside its header.`);
  const shape = Array.from({ length: dims }, (_, k) => view.getUint32(4 + 4 * k, false));
  const count = shape.reduce((p, d) => p * d, 1);
  const offset = 4 + 4 * dims;
  if (bytes.length !== offset + count) throw new Error(`${what} has ${bytes.length - offset} data bytes; its shape [${shape.join(", ")}] needs ${count}.`);
  return { shape, data: bytes.subarray(offset) };
}
