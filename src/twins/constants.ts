/**
 * Every constant of the DTWN time-cost model (paper Sections II-D and III) with its unit and default.
 * Values the paper gives (Section V) are marked "paper"; the rest are documented choices (docs/model.md).
 */
export interface SystemConstants {
  /** C, number of OFDMA subchannels shared by the BSs (choice). */
  subchannels: number;
  /** W^U = W^D, bandwidth of one subchannel, Hz (paper: 30 MHz). */
  subchannelBandwidthHz: number;
  /** N0, noise power spectral density, dBm/Hz (paper: -174). The noise power on a subchannel is N0 * W. */
  noiseDbmPerHz: number;
  /** alpha, path-loss exponent of r^-alpha (choice: 3, urban macro cell). */
  pathLossExponent: number;
  /** P^U_i, BS uplink transmit power, dBm (paper: 34). */
  bsTxPowerDbm: number;
  /** P^D, MBS downlink transmit power, dBm (paper: 42). */
  mbsTxPowerDbm: number;
  /** xi, factor of the gossip transmission time of Eqs. 15-16 (choice: 1, dimensionless). */
  xi: number;
  /**
   * f^C of Eq. 12, CPU cycles per sample per unit of batch size (choice: 20,000). Eq. 12 charges b_j * D_DTj * f^C
   * cycles per local iteration of twin j (see docs/model.md for this reading of b_j * D_DTj).
   */
  trainCyclesPerSample: number;
  /**
   * b^0, the fixed cost of one mini-batch expressed in samples (calibrated extension of Eq. 12; absent: 0, the paper's
   * Eq. 12). Each mini-batch step costs what (b_j + b^0) samples would at f^C: a step has a part that does not grow with
   * the batch (kernel launches, the optimizer's update of every weight). `dtwn calibrate` measures it.
   */
  trainStepSamples?: number;
  /**
   * f^T, CPU cycles per twin per round besides its mini-batches (calibrated extension of Eq. 12; absent: 0): loading the
   * global model into the twin's copy and reading its weights out. `dtwn calibrate` measures it.
   */
  trainTwinCycles?: number;
  /**
   * Extension beyond the paper (absent: 0, the paper's Eqs. 17-18, where moving a twin is free): bits of a twin's data
   * per sample that a move to another BS synchronises to the new BS, over that BS's link from the MBS (R^D_i, Eq. 8),
   * the digital-twin data record the move writes. Each BS receives its incoming twins' data before it trains, so the
   * slot pays max_i of it once (see timeCost). {@link TWIN_SYNC_BITS_PER_SAMPLE} is one CIFAR-10 sample.
   */
  twinSyncBitsPerSample?: number;
  /** f^Cb of Eq. 13, CPU cycles to aggregate one bit of model (choice: 0.05 cycles/bit; the paper neglects it). */
  aggregationCyclesPerBit: number;
  /** f^v of Eq. 16, CPU cycles to validate one bit of block (choice: 10 cycles/bit). */
  validationCyclesPerBit: number;
  /** |w_g|, size of the model, bits (the paper's CNN on 32x32x3: 2,156,490 float32 parameters = 69,007,680 bits). */
  modelSizeBits: number;
  /** S_B, size of a block, bits (choice: 8 Mbit = 1 MB). */
  blockSizeBits: number;
  /** M_p, number of block producers (choice: 3, as the chain's default). */
  blockProducers: number;
  /** b_min of (18d), samples (choice: 16, as the chain's default). */
  minBatchSize: number;
  /** b_max of (18d), samples (choice: 128, as the chain's default). */
  maxBatchSize: number;
  /** theta_th of (18a), the required global accuracy level in (0, 1) (choice: 0.6). */
  thetaThreshold: number;
  /** theta_max, the accuracy level approached with large batches, theta_G(b) = theta_max (1 - exp(-b/b0)). */
  thetaMax: number;
  /** b0, the batch-size scale of theta_G(b), samples (choice: 32). */
  thetaBatchScale: number;
}

export const DEFAULT_CONSTANTS: SystemConstants = {
  subchannels: 10,
  subchannelBandwidthHz: 30e6,
  noiseDbmPerHz: -174,
  pathLossExponent: 3,
  bsTxPowerDbm: 34,
  mbsTxPowerDbm: 42,
  xi: 1,
  trainCyclesPerSample: 20_000,
  aggregationCyclesPerBit: 0.05,
  validationCyclesPerBit: 10,
  modelSizeBits: 2_156_490 * 32,
  blockSizeBits: 8e6,
  blockProducers: 3,
  minBatchSize: 16,
  maxBatchSize: 128,
  thetaThreshold: 0.6,
  thetaMax: 0.95,
  thetaBatchScale: 32,
};

/** One CIFAR-10 sample as a twin's data record holds it: 32 x 32 x 3 bytes of pixels and a 1-byte label, bits. */
export const TWIN_SYNC_BITS_PER_SAMPLE = (32 * 32 * 3 + 1) * 8;
