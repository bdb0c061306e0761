/**
 * CIFAR-10 in its standard binary format (the paper's dataset), from a folder the user gives: data_batch_1.bin ..
 * data_batch_5.bin and test_batch.bin, each record 1 label byte + 3072 pixel bytes (1024 red, 1024 green, 1024 blue,
 * row-major). Pixels are returned channels-last (32 x 32 x 3) like every ImageSet.
 */
import fs from "node:fs";
import path from "node:path";
import { DatasetMissingError, type Dataset, type ImageSet } from "./types";

const RECORD = 1 + 3072;
export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`);
export const CIFAR10_TEST_FILE = "test_batch.bin";

/** Parse concatenated CIFAR-10 binary records. Pure. */
export function parseCifar10(bytes: Uint8Array, what = "CIFAR-10 data"): ImageSet {
  if (bytes.length % RECORD !== 0) throw new Error(`${what} has ${bytes.length} bytes, not a whole number of ${RECORD}-byte records.`);
  const count = bytes.length / RECORD;
  const images = new Uint8Array(count * 3072);
  const labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const base = r * RECORD;
    const label = bytes[base];
    if (label > 9) throw new Error(`${what}: record ${r} has label ${label}; CIFAR-10 labels are 0..9.`);
    labels[r] = label;
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) images[r * 3072 + p * 3 + c] = bytes[base + 1 + c * 1024 + p];
    }
  }
  return { images, labels, count, height: 32, width: 32, channels: 3, classes: 10 };
}

export function loadCifar10(dir: string | undefined = process.env.DTWN_CIFAR10_DIR): Dataset {
  const files = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  if (!dir || !files.every((f) => fs.existsSync(path.join(dir, f)))) {
    throw new DatasetMissingError(
      `CIFAR-10 not found${dir ? ` in ${dir}` : ""} (needs ${files.join(", ")}). It is in no npm or Debian package: on a ` +
        `machine with internet run \`curl -LO https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz && tar xzf ` +
        `cifar-10-binary.tar.gz\`, then pass --cifar10-dir cifar-10-batches-bin (or set DTWN_CIFAR10_DIR).`,
    );
  }
  const train = parseCifar10(Buffer.concat(CIFAR10_TRAIN_FILES.map((f) => fs.readFileSync(path.join(dir, f)))), "CIFAR-10 training batches");
  const test = parseCifar10(fs.readFileSync(path.join(dir, CIFAR10_TEST_FILE)), CIFAR10_TEST_FILE);
  return { name: "cifar-10", train, test };
}
