/**
 * The shared observation of every agent: the system state s(t) = (f^C, K, D, h) of Section IV-A as a normalised
 * vector (each BS reads it from the chain in the running system). Pure.
 *   f^C: available CPU of each BS / the fastest BS's full CPU                         (M)
 *   K:   twins per BS in the previous association / N                                 (M)
 *   D:   data per BS in the previous association / all data, and all data / N / 1000  (M + 1)
 *   h:   per BS, the mean and the best uplink spectral efficiency log2(1 + SINR_{i,c}) over the C subchannels, / 20
 *        (2 M). The subchannel-level detail is the decoder's job (the LP of subchannels.ts clears the demands on the
 *        actual gains); a first version fed all M x C values, which the critics had to learn to ignore.
 */
import type { Scenario } from "../../twins/scenario";
import { availableCpuHz, twinsPerBs, type SlotState } from "../../twins/state";
import { uplinkSpectralEfficiency } from "../../twins/wireless";

export function observationSize(scenario: Scenario): number {
  const m = scenario.bss.length;
  return 5 * m + 1;
}

export function observe(scenario: Scenario, state: SlotState): Float32Array {
  const m = scenario.bss.length;
  const C = scenario.constants.subchannels;
  const n = state.dataSamples.length;
  const out = new Float32Array(observationSize(scenario));
  const fMax = Math.max(...scenario.bss.map((b) => b.cpuHz));
  const cpu = availableCpuHz(scenario.bss.map((b) => b.cpuHz), state);
  const k = twinsPerBs(state.association, m);
  const data = new Array<number>(m).fill(0);
  state.association.forEach((bs, i) => (data[bs] += state.dataSamples[i]));
  const total = state.dataSamples.reduce((s, d) => s + d, 0);
  let o = 0;
  for (let i = 0; i < m; i++) out[o++] = cpu[i] / fMax;
  for (let i = 0; i < m; i++) out[o++] = k[i] / n;
  for (let i = 0; i < m; i++) out[o++] = data[i] / total;
  out[o++] = total / n / 1000;
  const se = uplinkSpectralEfficiency(scenario, state.channel);
  for (let i = 0; i < m; i++) {
    let sum = 0;
    let best = 0;
    for (let c = 0; c < C; c++) {
      sum += se[i][c];
      best = Math.max(best, se[i][c]);
    }
    out[o++] = sum / C / 20;
    out[o++] = best / 20;
  }
  return out;
}
