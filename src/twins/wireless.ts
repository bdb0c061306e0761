/**
 * The communication model of Section II-D: OFDMA uplink (Eq. 7) and the MBS's downlink broadcast (Eq. 8).
 *
 * Choices where the paper is ambiguous (docs/model.md):
 * - Time sharing is orthogonal: BSs sharing subchannel c use disjoint fractions tau_{i,c} of the time, which
 *   constraint (18c), sum_i tau_{i,c} <= 1, makes possible. So the BSs of this system never interfere with each other;
 *   the interference set N' of Eq. 7 is the co-channel BSs of neighbouring cells (`scenario.interferers`), each active
 *   a `dutyCycle` fraction of the time, counted by their mean power: I_c = sum_k duty_k P_k g_{k,c} r_{k,m}^-alpha.
 * - Eq. 7 writes the interferer's path loss with r_{i,m}; we use each interferer's own distance to the receiver.
 * - Eq. 8 has no path loss on the useful signal; we apply r_{i,m}^-alpha to it as to every other link, and the
 *   broadcast uses every subchannel for the whole time.
 * - N0 is a density (dBm/Hz): the noise power on a subchannel is N0 * W.
 */
import { dbmToWatts, noisePowerWatts } from "./units";
import { distanceMetres } from "./entities";
import type { Scenario } from "./scenario";
import type { ChannelState } from "./state";

/** Guard against a zero distance (a BS on top of the MBS) in r^-alpha, metres. */
const MIN_DISTANCE_METRES = 1;

function pathGain(distance: number, alpha: number): number {
  return Math.max(distance, MIN_DISTANCE_METRES) ** -alpha;
}

/** SINR of BS i's uplink to the MBS on subchannel c (linear). */
export function uplinkSinr(scenario: Scenario, channel: ChannelState, i: number, c: number): number {
  const k = scenario.constants;
  const bs = scenario.bss[i];
  const signal = dbmToWatts(bs.txPowerDbm) * channel.uplink[i][c] * pathGain(distanceMetres(bs.position, scenario.mbs.position), k.pathLossExponent);
  let interference = 0;
  scenario.interferers.forEach((f, j) => {
    interference +=
      f.dutyCycle * dbmToWatts(f.txPowerDbm) * channel.interfererToMbs[j][c] * pathGain(distanceMetres(f.position, scenario.mbs.position), k.pathLossExponent);
  });
  return signal / (interference + noisePowerWatts(k.noiseDbmPerHz, k.subchannelBandwidthHz));
}

/** Uplink spectral efficiency log2(1 + SINR_{i,c}) of every BS i on every subchannel c, bits/s/Hz. */
export function uplinkSpectralEfficiency(scenario: Scenario, channel: ChannelState): number[][] {
  return scenario.bss.map((_, i) => Array.from({ length: scenario.constants.subchannels }, (_, c) => Math.log2(1 + uplinkSinr(scenario, channel, i, c))));
}

/** Eq. 7: R^U_i = sum_c tau_{i,c} W^U log2(1 + SINR_{i,c}), bits/s, for every BS. */
export function uplinkRatesBps(scenario: Scenario, channel: ChannelState, tau: readonly (readonly number[])[]): number[] {
  const w = scenario.constants.subchannelBandwidthHz;
  return scenario.bss.map((_, i) => {
    let rate = 0;
    for (let c = 0; c < scenario.constants.subchannels; c++) {
      if (tau[i][c] > 0) rate += tau[i][c] * w * Math.log2(1 + uplinkSinr(scenario, channel, i, c));
    }
    return rate;
  });
}

/** SINR of the MBS's broadcast at BS i on subchannel c (linear). */
export function downlinkSinr(scenario: Scenario, channel: ChannelState, i: number, c: number): number {
  const k = scenario.constants;
  const bs = scenario.bss[i];
  const signal = dbmToWatts(scenario.mbs.txPowerDbm) * channel.downlink[i][c] * pathGain(distanceMetres(bs.position, scenario.mbs.position), k.pathLossExponent);
  let interference = 0;
  scenario.interferers.forEach((f, j) => {
    interference += f.dutyCycle * dbmToWatts(f.txPowerDbm) * channel.interfererToBs[j][i][c] * pathGain(distanceMetres(f.position, bs.position), k.pathLossExponent);
  });
  return signal / (interference + noisePowerWatts(k.noiseDbmPerHz, k.subchannelBandwidthHz));
}

/** Eq. 8: R^D_i = sum_c W^D log2(1 + SINR^D_{i,c}), bits/s, for every BS. */
export function downlinkRatesBps(scenario: Scenario, channel: ChannelState): number[] {
  const w = scenario.constants.subchannelBandwidthHz;
  return scenario.bss.map((_, i) => {
    let rate = 0;
    for (let c = 0; c < scenario.constants.subchannels; c++) rate += w * Math.log2(1 + downlinkSinr(scenario, channel, i, c));
    return rate;
  });
}
