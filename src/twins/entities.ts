/**
 * The DTWN entities of the paper (Section II): end users, their digital twins DT_i = (M_i, D_i, s_t), the BSs that
 * keep the twins, and the MBS that serves the federated-learning model. Plain data, no behaviour, no I/O.
 */

/** A point in the plane, metres, with the MBS at the origin by default. */
export interface Position {
  xMetres: number;
  yMetres: number;
}

/** An end user (IoT device) u_i with its data D_i. */
export interface EndUser {
  id: number;
  position: Position;
  /** D_i, the size of the user's data, samples. */
  dataSamples: number;
}

/** The live running state s_t of a digital twin: what changes between slots. */
export interface TwinState {
  /** Slot t at which the state was last synchronised. */
  slot: number;
  /** Samples the user produced since the twin's data was created (data drift between slots). */
  dataSamples: number;
}

/** DT_i = (M_i, D_i, s_t): the digital twin of end user i. */
export interface DigitalTwin {
  userId: number;
  /** M_i, the behaviour model: an identifier of its weights (e.g. an IPFS CID), empty until trained. */
  model: string;
  /** D_i, the twin's data, samples. */
  dataSamples: number;
  /** s_t, the live state. */
  state: TwinState;
}

/** A base station with an MEC server. */
export interface BaseStation {
  id: number;
  position: Position;
  /** f_i^C at full availability, Hz (CPU cycles per second). */
  cpuHz: number;
  /** P_i^U, uplink transmit power, dBm. */
  txPowerDbm: number;
}

/** The macro base station: the federated-learning server and the uplink receiver. */
export interface MacroBaseStation {
  position: Position;
  /** P^D, downlink (broadcast) transmit power, dBm. */
  txPowerDbm: number;
}

/** An interfering base station of a neighbouring cell that reuses the subchannels (the set N' of Eq. 7). */
export interface Interferer {
  position: Position;
  txPowerDbm: number;
  /** Fraction of the time it is active on each subchannel, in [0, 1]. */
  dutyCycle: number;
}

export function distanceMetres(a: Position, b: Position): number {
  return Math.hypot(a.xMetres - b.xMetres, a.yMetres - b.yMetres);
}
