/** Unit conversions. Quantities in dtwn carry their unit in their name: Hz, bits, seconds, metres, watts, dBm. */

/** dBm to watts: P[W] = 10^((P[dBm] - 30) / 10). */
export function dbmToWatts(dbm: number): number {
  return 10 ** ((dbm - 30) / 10);
}

/** Watts to dBm. */
export function wattsToDbm(watts: number): number {
  return 10 * Math.log10(watts) + 30;
}

/** Noise power over a bandwidth: N0 [dBm/Hz] integrated over W [Hz], in watts. */
export function noisePowerWatts(noiseDbmPerHz: number, bandwidthHz: number): number {
  return dbmToWatts(noiseDbmPerHz) * bandwidthHz;
}
