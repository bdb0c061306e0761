/**
 * What every process of the running system agrees on without asking anyone: the seeded scenario (the same topology
 * the bootstrap registered on chain), each user's data (a seeded IID split of the training set, D_n samples for user
 * n as registered), each BS's held-out verification data, and the environment the paper leaves to nature: the CPU
 * availability u_i(t) and the fading h(t) of slot t (the MDP dynamics of src/twins/mdp.ts, seeded by slot, so that
 * every agent reads the same s(t)). Pure.
 */
import { bootstrapScenario, DEFAULT_BOOTSTRAP, type BootstrapOptions } from "../chain/bootstrap";
import { drawChannel, DEFAULT_DYNAMICS } from "../twins/mdp";
import { mulberry32, randNormal } from "../twins/random";
import type { Scenario } from "../twins/scenario";
import type { ChannelState } from "../twins/state";
import { shuffle } from "../fl/partition";
import { withTrainCycles } from "../twins/work";

export interface WorldOptions {
  /** N end users. */
  users: number;
  /** M BSs. */
  bss: number;
  /** Seed of the topology, the data split and the environment. */
  seed: number;
  /** D_n of each user is drawn from this range (samples). */
  samplesPerUser: [number, number];
  /** Training samples each BS keeps for verifying other BSs' models (never trained on). */
  heldOutPerBs: number;
  /** f^C of Eq. 12 measured on this machine (`dtwn calibrate`); absent: the model's default constant. */
  trainCyclesPerSample?: number;
  /** b^0 of the calibrated Eq. 12 (samples per mini-batch); absent: 0. */
  trainStepSamples?: number;
  /** f^T of the calibrated Eq. 12 (cycles per twin); absent: 0. */
  trainTwinCycles?: number;
  /** xi of Eqs. 15-16 fitted to an emulated run (`dtwn calibrate --xi-from`); absent: the model's default. */
  xi?: number;
}

export interface World {
  options: WorldOptions;
  scenario: Scenario;
  /** Sample indices (into the training split) of each user's data, D_n = length. */
  userData: number[][];
  /** Per BS, the indices it holds out for verification. */
  heldOut: number[][];
}

export function bootstrapOptionsOf(o: WorldOptions): Omit<BootstrapOptions, "log"> {
  return { ...DEFAULT_BOOTSTRAP, users: o.users, samplesPerUser: o.samplesPerUser, seed: o.seed };
}

/**
 * The world for a training split of `trainCount` samples. Held-out data comes first from one seeded permutation, the
 * users' data after it; when the users ask for more than is left, the permutation wraps around (users then share
 * samples, never with a BS's held-out set).
 */
export function buildWorld(o: WorldOptions, trainCount: number): World {
  const topology = bootstrapScenario(bootstrapOptionsOf(o), o.bss);
  const constants = withTrainCycles(topology.constants, o);
  const scenario = { ...topology, constants: o.xi !== undefined ? { ...constants, xi: o.xi } : constants };
  const order = shuffle(Array.from({ length: trainCount }, (_, i) => i), mulberry32(o.seed * 7919 + 1));
  const heldCount = o.bss * o.heldOutPerBs;
  if (heldCount >= trainCount) throw new Error(`${o.bss} BSs x ${o.heldOutPerBs} held-out samples leave no training data out of ${trainCount}.`);
  const heldOut = Array.from({ length: o.bss }, (_, i) => order.slice(i * o.heldOutPerBs, (i + 1) * o.heldOutPerBs));
  const pool = order.slice(heldCount);
  let next = 0;
  const userData = scenario.users.map((u) =>
    Array.from({ length: u.dataSamples }, () => {
      const k = pool[next % pool.length];
      next++;
      return k;
    }),
  );
  return { options: o, scenario, userData, heldOut };
}

/** The environment of slot t >= 1: CPU availability (a seeded random walk from full availability) and fresh fading. */
export function environmentAt(world: World, slot: number): { cpuAvailability: number[]; channel: ChannelState } {
  if (!Number.isInteger(slot) || slot < 0) throw new Error(`slot must be a non-negative integer, got ${slot}.`);
  const m = world.scenario.bss.length;
  const walk = mulberry32(world.options.seed * 104729 + 3);
  let u = new Array<number>(m).fill(1);
  for (let t = 1; t <= slot; t++) {
    u = u.map((x) => Math.min(1, Math.max(DEFAULT_DYNAMICS.cpuMinAvailability, x + DEFAULT_DYNAMICS.cpuDriftStd * randNormal(walk))));
  }
  return { cpuAvailability: u, channel: drawChannel(world.scenario, mulberry32(world.options.seed * 1_000_003 + slot)) };
}
