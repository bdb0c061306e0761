/**
 * Fashion-MNIST from its standard gzip IDX files. Looked for in $DTWN_FASHION_MNIST_DIR, then in the copy shipped in
 * the repository (data/fashion-mnist), then where Debian's dataset-fashion-mnist package puts it.
 */
import fs from "node:fs";
import path from "node:path";
import { parseIdx } from "./idx";
import { DatasetMissingError, type Dataset, type ImageSet } from "./types";

export const FASHION_MNIST_FILES = {
  trainImages: "train-images-idx3-ubyte.gz",
  trainLabels: "train-labels-idx1-ubyte.gz",
  testImages: "t10k-images-idx3-ubyte.gz",
  testLabels: "t10k-labels-idx1-ubyte.gz",
} as const;

export const FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

export function fashionMnistCandidates(): string[] {
  const env = process.env.DTWN_FASHION_MNIST_DIR;
  return [...(env ? [env] : []), path.resolve(__dirname, "..", "..", "..", "data", "fashion-mnist"), "/usr/share/datasets/fashion-mnist"];
}

/** The first candidate folder holding all four files, or a DatasetMissingError saying how to get them. */
export function findFashionMnist(candidates: readonly string[] = fashionMnistCandidates()): string {
  for (const dir of candidates) {
    if (Object.values(FASHION_MNIST_FILES).every((f) => fs.existsSync(path.join(dir, f)))) return dir;
  }
  throw new DatasetMissingError(
    `Fashion-MNIST not found in ${candidates.join(", ")}. It ships with the repository (data/fashion-mnist); on a ` +
      `checkout without it run \`sudo apt-get install dataset-fashion-mnist\` or set DTWN_FASHION_MNIST_DIR to a folder ` +
      `with ${Object.values(FASHION_MNIST_FILES).join(", ")}.`,
  );
}

function readSet(dir: string, images: string, labels: string): ImageSet {
  const img = parseIdx(fs.readFileSync(path.join(dir, images)), images);
  const lab = parseIdx(fs.readFileSync(path.join(dir, labels)), labels);
  if (img.shape.length !== 3 || lab.shape.length !== 1 || img.shape[0] !== lab.shape[0]) {
    throw new Error(`${dir}: ${images} [${img.shape.join(", ")}] and ${labels} [${lab.shape.join(", ")}] do not match.`);
  }
  return { images: img.data, labels: lab.data, count: img.shape[0], height: img.shape[1], width: img.shape[2], channels: 1, classes: 10 };
}

export function loadFashionMnist(dir: string = findFashionMnist()): Dataset {
  const f = FASHION_MNIST_FILES;
  return { name: "fashion-mnist", train: readSet(dir, f.trainImages, f.trainLabels), test: readSet(dir, f.testImages, f.testLabels) };
}
