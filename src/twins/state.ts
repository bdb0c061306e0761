/**
 * The state of the DTWN in a time slot t, and the joint allocation chosen for it.
 * s(t) = (f^C, K, D, h) of Section IV-A: CPU capability of the BSs, twins per BS, data per twin, channel states.
 */

/** Small-scale fading power gains |h|^2 (Rayleigh: exponential with mean 1), redrawn every slot. */
export interface ChannelState {
  /** h^U_{i,c}: BS i to the MBS on subchannel c. */
  uplink: number[][];
  /** h^D_{i,c}: the MBS to BS i on subchannel c. */
  downlink: number[][];
  /** Interferer k to the MBS on subchannel c. */
  interfererToMbs: number[][];
  /** Interferer k to BS i on subchannel c: [k][i][c]. */
  interfererToBs: number[][][];
}

export interface SlotState {
  slot: number;
  /** u_i(t) in (0, 1]: fraction of f_i^C available to learning (the rest serves other MEC work). */
  cpuAvailability: number[];
  /** D_n(t), samples held by each twin n. */
  dataSamples: number[];
  channel: ChannelState;
  /** The previous slot's association (twin n -> BS index); K_i of the state counts it. */
  association: number[];
}

/** The joint action a(t) = (a_1..a_M), a_i = (K_i, b_i, tau_i), decoded into an allocation. */
export interface Allocation {
  /** Phi: twin n -> the BS index it is associated with (Definition 1: exactly one BS). */
  association: number[];
  /** b_n, training batch size of each twin, samples. */
  batchSize: number[];
  /** tau_{i,c}, time fraction of BS i on subchannel c, in [0, 1]. */
  tau: number[][];
}

/** f_i^C(t) = u_i(t) * f_i^C, Hz. */
export function availableCpuHz(cpuHz: readonly number[], state: SlotState): number[] {
  return cpuHz.map((f, i) => f * state.cpuAvailability[i]);
}

/** K_i: number of twins on each of `m` BSs under `association`. */
export function twinsPerBs(association: readonly number[], m: number): number[] {
  const k = new Array<number>(m).fill(0);
  for (const bs of association) k[bs]++;
  return k;
}
