/**
 * The one file format of model weights (what is stored in IPFS and whose CID goes on chain):
 *
 *   bytes 0-3   magic "DTWN"
 *   byte  4     format version (1)
 *   bytes 5-7   zero
 *   bytes 8-11  header length H, uint32 little-endian
 *   12..12+H    header, UTF-8 JSON {"arch": string, "dtype": "float32", "shapes": number[][]}, space-padded so the
 *               data starts at a multiple of 4
 *   then        the float32 little-endian values of every tensor in order, row-major
 *
 * Decoding checks everything and names what is wrong; with `expect`, a blob of another architecture or other shapes
 * is refused before any value is read. Pure (bytes in, bytes out).
 */
import { sizeOf, type ModelWeights, type WeightTensor } from "./tensors";

/** Whether this machine stores floats little-endian (then the values are copied as bytes, bit for bit). */
const LITTLE_ENDIAN = new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f;

export const WEIGHTS_MAGIC = "DTWN";
export const WEIGHTS_VERSION = 1;
const PREFIX = 12;

export interface WeightsHeader {
  arch: string;
  dtype: "float32";
  shapes: number[][];
}

export class WeightsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WeightsFormatError";
  }
}

export function encodeWeights(arch: string, weights: ModelWeights): Uint8Array {
  if (!arch) throw new WeightsFormatError("encodeWeights: the architecture id is empty.");
  weights.forEach((t, k) => {
    if (t.values.length !== sizeOf(t.shape)) throw new WeightsFormatError(`encodeWeights: tensor ${k} has ${t.values.length} values for shape [${t.shape.join(", ")}].`);
  });
  const header: WeightsHeader = { arch, dtype: "float32", shapes: weights.map((t) => t.shape.slice()) };
  let json = JSON.stringify(header);
  while ((PREFIX + Buffer.byteLength(json)) % 4 !== 0) json += " ";
  const head = Buffer.from(json, "utf8");
  const count = weights.reduce((s, t) => s + t.values.length, 0);
  const out = new Uint8Array(PREFIX + head.length + 4 * count);
  const view = new DataView(out.buffer);
  out.set(Buffer.from(WEIGHTS_MAGIC, "ascii"), 0);
  out[4] = WEIGHTS_VERSION;
  view.setUint32(8, head.length, true);
  out.set(head, PREFIX);
  let o = PREFIX + head.length;
  for (const t of weights) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength), o);
      o += t.values.byteLength;
    } else {
      for (let i = 0; i < t.values.length; i++, o += 4) view.setFloat32(o, t.values[i], true);
    }
  }
  return out;
}

export function decodeWeightsHeader(bytes: Uint8Array): WeightsHeader {
  if (bytes.length < PREFIX || Buffer.from(bytes.subarray(0, 4)).toString("ascii") !== WEIGHTS_MAGIC) {
    throw new WeightsFormatError(`Not a dtwn weights blob: it does not start with "${WEIGHTS_MAGIC}".`);
  }
  if (bytes[4] !== WEIGHTS_VERSION) throw new WeightsFormatError(`Weights format version ${bytes[4]} is not supported (this build reads version ${WEIGHTS_VERSION}).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = view.getUint32(8, true);
  if (PREFIX + h > bytes.length) throw new WeightsFormatError(`Weights blob truncated: the header needs ${h} bytes, ${bytes.length - PREFIX} are left.`);
  let header: WeightsHeader;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(PREFIX, PREFIX + h)).toString("utf8")) as WeightsHeader;
  } catch (e) {
    throw new WeightsFormatError(`Weights header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof header.arch !== "string" || header.dtype !== "float32" || !Array.isArray(header.shapes) || !header.shapes.every((s) => Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0))) {
    throw new WeightsFormatError(`Weights header is malformed: expected {arch: string, dtype: "float32", shapes: integer[][]}.`);
  }
  return header;
}

export interface DecodeExpectation {
  arch?: string;
  shapes?: readonly (readonly number[])[];
}

export function decodeWeights(bytes: Uint8Array, expect: DecodeExpectation = {}): { arch: string; weights: WeightTensor[] } {
  const header = decodeWeightsHeader(bytes);
  if (expect.arch !== undefined && header.arch !== expect.arch) {
    throw new WeightsFormatError(`Weights are for architecture "${header.arch}", not "${expect.arch}": they cannot be loaded into this model.`);
  }
  if (expect.shapes) {
    const want = expect.shapes.map((s) => `[${s.join(",")}]`).join(" ");
    const got = header.shapes.map((s) => `[${s.join(",")}]`).join(" ");
    if (want !== got) throw new WeightsFormatError(`Weights have layer shapes ${got}; this model needs ${want}.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = PREFIX + view.getUint32(8, true);
  const count = header.shapes.reduce((s, sh) => s + sizeOf(sh), 0);
  if (bytes.length !== o + 4 * count) throw new WeightsFormatError(`Weights blob has ${bytes.length - o} data bytes; the header's shapes need ${4 * count}.`);
  const weights = header.shapes.map((shape) => {
    const values = new Float32Array(sizeOf(shape));
    if (LITTLE_ENDIAN) {
      new Uint8Array(values.buffer).set(bytes.subarray(o, o + values.byteLength));
      o += values.byteLength;
    } else {
      for (let i = 0; i < values.length; i++, o += 4) values[i] = view.getFloat32(o, true);
    }
    return { shape, values };
  });
  return { arch: header.arch, weights };
}
