/** Option parsers shared by the `dtwn` commands; commander reports their errors with the option's name. */
import { InvalidArgumentError } from "commander";
import { TWIN_SYNC_BITS_PER_SAMPLE } from "../twins/constants";

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** A non-negative number of bits per sample for `--twin-sync [bits]`; the bare flag means one CIFAR-10 sample. */
export function twinSyncBits(value: string | boolean): number {
  if (value === true) return TWIN_SYNC_BITS_PER_SAMPLE;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected bits per sample (a number >= 0), got ${JSON.stringify(value)}`);
  return n;
}

export function finiteNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got ${JSON.stringify(value)}`);
  return n;
}
