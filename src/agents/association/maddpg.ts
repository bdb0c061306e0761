/**
 * MADDPG for edge association, read top to bottom next to the paper's Algorithm 1 and Eqs. 21-25.
 * One actor per BS on the shared state s(t) (Eq. 21), one centralized critic per BS on s(t) and the joint action
 * (Eqs. 22-23), primary and target networks with soft update rate beta (Eqs. 24-25), Ornstein-Uhlenbeck exploration,
 * replay memory, discount gamma. All hyperparameters are in {@link MaddpgConfig}.
 *
 * Two ablations share this code path (config `critic` and `parameterSharing`):
 * - independent DDPG: critic i sees s(t) and a_i only, Q_i(s, a_i), so nothing is centralised;
 * - parameter sharing: one actor pi(s, e_i) for all BSs (e_i the one-hot id of BS i, so each BS still acts as itself)
 *   and one centralised critic Q(s, a_1..a_M). Every BS's reward is the same (Eq. 18 is a max over BSs), so the M
 *   critics of plain MADDPG learn one function; sharing trains it on M times the gradient signal per update. The
 *   exported actor of BS i is an ordinary actor on s(t): e_i folded into the first layer's bias.
 */
import { z } from "zod";
import { tf } from "../../ml/backend";
import { makeOptimizer } from "../../ml/optimizers";
import type { Scenario } from "../../twins/scenario";
import type { SlotState } from "../../twins/state";
import { initialState, nextState, step } from "../../twins/mdp";
import { mulberry32, type Rng } from "../../twins/random";
import { centreAction, decodeJointAction, rawActionSize } from "./decode";
import { observationSize, observe } from "./observation";
import { ReplayMemory } from "./replay";
import { OrnsteinUhlenbeck } from "./noise";
import { averageAllocation, objectiveLowerBound } from "./baselines";
import { timeCost } from "../../twins/timeCost";

export interface MaddpgConfig {
  seed: number;
  /** E, training episodes. */
  episodes: number;
  /** Time slots per episode. */
  slotsPerEpisode: number;
  /** gamma, discount rate (the paper's best: 0.9). */
  gamma: number;
  /** beta, soft update rate of the target networks (Eqs. 24-25). */
  beta: number;
  /** alpha_pi, actor learning rate (Eq. 22). */
  actorLearningRate: number;
  /** alpha_Q, critic learning rate (Eq. 23). */
  criticLearningRate: number;
  /** Hidden layer widths of actors and critics. */
  hidden: number[];
  /** Minibatch size sampled from the replay memory. */
  batchSize: number;
  replayCapacity: number;
  /** Transitions collected before the first update. */
  warmupSlots: number;
  /** Network updates per environment slot. */
  updatesPerSlot: number;
  /** Ornstein-Uhlenbeck theta and sigma (sigma decays linearly to ouSigmaFinal over training). */
  ouTheta: number;
  ouSigma: number;
  ouSigmaFinal: number;
  /**
   * Reward scale. "lower-bound": R = 1 - objective / LB(s), the Eq. 18 cost relative to the slot's relaxation lower
   * bound (a function of the state only), so that slots with bad fading do not dominate the critics' targets; within
   * a slot it ranks actions exactly as -objective does. "fixed": R = -objective / (average association's objective
   * in s(0)). "centre-advantage": R = (objective of the decoder's centre action in s - objective) / LB(s), how much
   * the joint action saves against the untrained policy in the same state; also a function of the state plus
   * -objective / LB(s), so it ranks actions within a slot exactly as -objective does, and the critics no longer have to
   * learn how good each slot's centre already is (its 2-5 % spread over slots is as large as what the actions change).
   */
  rewardScale: "lower-bound" | "fixed" | "centre-advantage";
  /**
   * Checkpoint selection: every `validateEvery` episodes the deterministic joint policy is priced on `validationSlots`
   * fixed slot states (from their own seed, never the held-out evaluation's); training ends with the actors of the
   * best validation. 0 disables it (the last actors are kept).
   */
  validateEvery: number;
  validationSlots: number;
  /** Weight of the penalty mean(logit(a)^2) in the actor's loss (Eq. 22), as in the reference MADDPG. */
  actorRegularization: number;
  /**
   * "centralised": critic i is Q_i(s, a_1..a_M) (Eq. 23, MADDPG). "independent": Q_i(s, a_i), the independent-DDPG
   * ablation (each BS learns as if the others were part of the environment).
   */
  critic: "centralised" | "independent";
  /** One actor pi(s, e_i) and one centralised critic shared by all BSs (the parameter-sharing ablation). */
  parameterSharing: boolean;
}

export const DEFAULT_MADDPG: MaddpgConfig = {
  seed: 1,
  episodes: 120,
  slotsPerEpisode: 50,
  gamma: 0.9,
  beta: 0.01,
  actorLearningRate: 1e-3,
  criticLearningRate: 2e-3,
  hidden: [64, 64],
  batchSize: 128,
  replayCapacity: 50_000,
  warmupSlots: 256,
  updatesPerSlot: 1,
  ouTheta: 0.15,
  ouSigma: 0.08,
  ouSigmaFinal: 0.005,
  rewardScale: "lower-bound",
  validateEvery: 5,
  validationSlots: 50,
  actorRegularization: 0.1,
  critic: "centralised",
  parameterSharing: false,
};

const pos = () => z.number().positive().finite();
const posInt = () => z.number().int().positive();
const unitOpen = () => z.number().gt(0).lt(1);

/** Validation of a (partial) MADDPG configuration, as read from a JSON file or the command line. */
export const MaddpgConfigSchema = z
  .object({
    seed: z.number().int().nonnegative(),
    episodes: posInt(),
    slotsPerEpisode: posInt(),
    gamma: z.number().min(0).lt(1),
    beta: unitOpen().or(z.literal(1)),
    actorLearningRate: pos(),
    criticLearningRate: pos(),
    hidden: z.array(posInt()).min(1).max(4),
    batchSize: posInt(),
    replayCapacity: posInt(),
    warmupSlots: z.number().int().nonnegative(),
    updatesPerSlot: z.number().int().nonnegative(),
    ouTheta: z.number().gt(0).max(1),
    ouSigma: z.number().nonnegative(),
    ouSigmaFinal: z.number().nonnegative(),
    rewardScale: z.enum(["lower-bound", "fixed", "centre-advantage"]),
    validateEvery: z.number().int().nonnegative(),
    validationSlots: posInt(),
    actorRegularization: z.number().nonnegative(),
    critic: z.enum(["centralised", "independent"]),
    parameterSharing: z.boolean(),
  })
  .strict();

/** DEFAULT_MADDPG with `overrides` applied; throws one error naming every bad field. */
export function resolveMaddpgConfig(overrides: unknown = {}): MaddpgConfig {
  const partial = MaddpgConfigSchema.partial().safeParse(overrides);
  if (!partial.success) {
    const lines = partial.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`Invalid MADDPG configuration:\n${lines.join("\n")}`);
  }
  const config = { ...DEFAULT_MADDPG, ...partial.data };
  if (config.parameterSharing && config.critic !== "centralised") {
    throw new Error(`Invalid MADDPG configuration: parameterSharing shares one centralised critic; set critic to "centralised" or parameterSharing to false.`);
  }
  if (config.batchSize > config.replayCapacity) throw new Error(`Invalid MADDPG configuration: batchSize ${config.batchSize} exceeds replayCapacity ${config.replayCapacity}.`);
  return config;
}

export interface EpisodeLog {
  episode: number;
  /** Mean Eq. 18 objective over the episode's slots, seconds. */
  meanObjectiveSeconds: number;
  /** Mean shared reward (scaled). */
  meanReward: number;
  /** Mean Eq. 18 objective relative to the slots' lower bounds. */
  meanRatioToLowerBound: number;
  /** Mean critic loss over the episode's updates. */
  criticLoss: number;
  /** Wall-clock time per slot including updates, milliseconds (Fig. 8, training). */
  msPerSlot: number;
  sigma: number;
  /** Mean Eq. 18 objective of the deterministic policy on the validation slots, seconds (when validated). */
  validationObjectiveSeconds?: number;
}

/** Seeded Glorot initialisation, so that a training run is reproducible from its seed. */
const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });

function buildActor(obsDim: number, actDim: number, hidden: number[], name: string, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [obsDim] });
  let x: tf.SymbolicTensor = input;
  hidden.forEach((h, k) => (x = tf.layers.dense({ units: h, activation: "relu", kernelInitializer: glorot(seed + k), name: `${name}_h${k}` }).apply(x) as tf.SymbolicTensor));
  // Output weights start within +-3e-3 (as in DDPG), so every untrained actor starts at the centre of the action box.
  const out = tf.layers
    .dense({ units: actDim, activation: "sigmoid", kernelInitializer: tf.initializers.randomUniform({ minval: -3e-3, maxval: 3e-3, seed: seed + 99 }), name: `${name}_out` })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name });
}

function buildCritic(inputDim: number, hidden: number[], name: string, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [inputDim] });
  let x: tf.SymbolicTensor = input;
  hidden.forEach((h, k) => (x = tf.layers.dense({ units: h, activation: "relu", kernelInitializer: glorot(seed + k), name: `${name}_h${k}` }).apply(x) as tf.SymbolicTensor));
  const out = tf.layers.dense({ units: 1, kernelInitializer: glorot(seed + 99), name: `${name}_q` }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name });
}

/** Eqs. 24-25: theta_target <- beta * theta + (1 - beta) * theta_target. */
export function softUpdate(target: tf.LayersModel, source: tf.LayersModel, beta: number): void {
  tf.tidy(() => {
    const s = source.getWeights();
    const t = target.getWeights();
    target.setWeights(t.map((w, k) => s[k].mul(beta).add(w.mul(1 - beta))));
  });
}

/** The primary and target networks of one learner: one per BS, or one for all under parameter sharing. */
export interface Agent {
  actor: tf.LayersModel;
  critic: tf.LayersModel;
  targetActor: tf.LayersModel;
  targetCritic: tf.LayersModel;
  actorOptimizer: tf.Optimizer;
  criticOptimizer: tf.Optimizer;
}

export class Maddpg {
  readonly m: number;
  readonly obsDim: number;
  readonly actDim: number;
  /** The learners: M of them, or 1 under parameter sharing (then BS i is the shared networks with input e_i). */
  readonly agents: Agent[];
  readonly memory: ReplayMemory;
  /** Objective of the average association in the initial state: the reward scale (rewards are about -1). */
  readonly rewardScaleSeconds: number;

  constructor(
    readonly scenario: Scenario,
    readonly config: MaddpgConfig = DEFAULT_MADDPG,
  ) {
    this.m = scenario.bss.length;
    this.obsDim = observationSize(scenario);
    this.actDim = rawActionSize(scenario);
    const actorIn = this.obsDim + (config.parameterSharing ? this.m : 0);
    const criticIn = this.obsDim + (config.critic === "centralised" ? this.m : 1) * this.actDim;
    // Algorithm 1, lines 1-3: primary and target actor-critic networks and the replay memory of every BS.
    this.agents = Array.from({ length: config.parameterSharing ? 1 : this.m }, (_, i) => {
      const seed = config.seed * 1000 + i * 200;
      const actor = buildActor(actorIn, this.actDim, config.hidden, `actor${i}`, seed);
      const critic = buildCritic(criticIn, config.hidden, `critic${i}`, seed + 100);
      const targetActor = buildActor(actorIn, this.actDim, config.hidden, `tactor${i}`, seed);
      const targetCritic = buildCritic(criticIn, config.hidden, `tcritic${i}`, seed + 100);
      targetActor.setWeights(actor.getWeights());
      targetCritic.setWeights(critic.getWeights());
      return {
        actor,
        critic,
        targetActor,
        targetCritic,
        actorOptimizer: makeOptimizer("adam", config.actorLearningRate),
        criticOptimizer: makeOptimizer("adam", config.criticLearningRate),
      };
    });
    this.memory = new ReplayMemory(config.replayCapacity, this.obsDim, this.m * this.actDim);
    const s0 = initialState(scenario, mulberry32(config.seed));
    this.rewardScaleSeconds = timeCost(scenario, s0, averageAllocation(scenario, s0)).objectiveSeconds;
  }

  /** The learner whose networks BS i uses. */
  private learner(i: number): Agent {
    return this.agents[this.config.parameterSharing ? 0 : i];
  }

  /** pi_i(s) (or the target pi'_i(s)) for a batch of observations. */
  private policy(i: number, obs: tf.Tensor2D, target = false): tf.Tensor2D {
    const net = target ? this.learner(i).targetActor : this.learner(i).actor;
    if (!this.config.parameterSharing) return net.apply(obs) as tf.Tensor2D;
    const id = tf.oneHot(tf.fill([obs.shape[0]], i, "int32"), this.m).toFloat() as tf.Tensor2D;
    return net.apply(tf.concat([obs, id], 1)) as tf.Tensor2D;
  }

  /** The input of BS i's critic: s and the joint action (centralised), or s and a_i (independent). */
  private criticInput(i: number, obs: tf.Tensor2D, joint: tf.Tensor2D): tf.Tensor2D {
    if (this.config.critic === "centralised") return tf.concat([obs, joint], 1);
    return tf.concat([obs, joint.slice([0, i * this.actDim], [-1, this.actDim])], 1);
  }

  /** Deterministic joint raw action pi_1(s)..pi_M(s) (inference). */
  act(obs: Float32Array): number[][] {
    return tf.tidy(() => {
      const x = tf.tensor2d(obs, [1, this.obsDim]);
      return Array.from({ length: this.m }, (_, i) => Array.from(this.policy(i, x).dataSync()));
    });
  }

  /**
   * The actor of every BS as an ordinary model on s(t), for saving and for a BS agent process. Under parameter
   * sharing, BS i's copy folds its one-hot input e_i into the first layer: W [s; e_i] + b = W_s s + (b + W_e e_i).
   */
  exportActors(): tf.LayersModel[] {
    if (!this.config.parameterSharing) return this.agents.map((a) => a.actor);
    const shared = this.agents[0].actor;
    return Array.from({ length: this.m }, (_, i) => {
      const actor = buildActor(this.obsDim, this.actDim, this.config.hidden, `actor${i}`, 0);
      tf.tidy(() => {
        const [kernel, bias, ...rest] = shared.getWeights();
        const ws = kernel.slice([0, 0], [this.obsDim, -1]);
        const we = kernel.slice([this.obsDim + i, 0], [1, -1]).reshape(bias.shape);
        actor.setWeights([ws, bias.add(we), ...rest]);
      });
      return actor;
    });
  }

  /** One update of every critic (Eq. 23) and actor (Eq. 22), then the targets (Eqs. 24-25). */
  update(rng: Rng): number {
    const { batchSize, gamma, beta } = this.config;
    const b = this.memory.sample(batchSize, rng);
    let loss = 0;
    tf.tidy(() => {
      const obs = tf.tensor2d(b.obs, [b.size, this.obsDim]);
      const nextObs = tf.tensor2d(b.nextObs, [b.size, this.obsDim]);
      const actions = tf.tensor2d(b.actions, [b.size, this.m * this.actDim]);
      const rewards = tf.tensor2d(b.rewards, [b.size, 1]);
      // a' = (pi'_1(s'), ..., pi'_M(s')) from the target actors.
      const nextActions = tf.concat(Array.from({ length: this.m }, (_, i) => this.policy(i, nextObs, true)), 1);
      const perAgent = (joint: tf.Tensor2D, i: number) => joint.slice([0, i * this.actDim], [-1, this.actDim]);
      // The BSs each learner acts for: BS k alone, or all of them under parameter sharing.
      const bssOf = (k: number) => (this.config.parameterSharing ? Array.from({ length: this.m }, (_, i) => i) : [k]);
      this.agents.forEach((agent, k) => {
        // y = R + gamma * Q'_k(s', a'): the target value (the shared critic's input is the same for every BS).
        const y = rewards.add((agent.targetCritic.predict(this.criticInput(k, nextObs, nextActions)) as tf.Tensor).mul(gamma));
        // Eq. 23: descend the gradient of E[(y - Q_k(s, a_1..a_M))^2].
        const cost = agent.criticOptimizer.minimize(
          () => tf.losses.meanSquaredError(y, agent.critic.apply(this.criticInput(k, obs, actions)) as tf.Tensor) as tf.Scalar,
          true,
          agent.critic.trainableWeights.map((w) => w.read() as tf.Variable),
        );
        loss += cost ? cost.dataSync()[0] : 0;
        // Eq. 22: ascend E[Q_i(s, a_1..a_i = pi_i(s)..a_M)] in the actor's parameters (summed over the BSs it acts for).
        agent.actorOptimizer.minimize(
          () => {
            const terms = bssOf(k).map((i) => {
              const mine = this.policy(i, obs);
              const joint = tf.concat(Array.from({ length: this.m }, (_, j) => (j === i ? mine : perAgent(actions, j))), 1);
              const q = (agent.critic.apply(this.criticInput(i, obs, joint)) as tf.Tensor).mean();
              // As in the reference MADDPG: a small penalty on the actor's pre-activations (z = logit(a)) keeps actions
              // off the sigmoid's flat ends while the critic is still inaccurate.
              const p = mine.clipByValue(1e-6, 1 - 1e-6);
              const z = p.log().sub(tf.scalar(1).sub(p).log());
              return z.square().mean().mul(this.config.actorRegularization).sub(q);
            });
            return tf.addN(terms).div(terms.length) as tf.Scalar;
          },
          false,
          agent.actor.trainableWeights.map((w) => w.read() as tf.Variable),
        );
      });
    });
    // Eqs. 24-25.
    for (const agent of this.agents) {
      softUpdate(agent.targetActor, agent.actor, beta);
      softUpdate(agent.targetCritic, agent.critic, beta);
    }
    return loss / this.agents.length;
  }

  /** The shared reward of a joint action whose Eq. 18 objective is `objectiveSeconds` in `state` (see rewardScale). */
  reward(state: SlotState, objectiveSeconds: number, lowerBoundSeconds: number, rawReward: number): number {
    switch (this.config.rewardScale) {
      case "lower-bound":
        return 1 - objectiveSeconds / lowerBoundSeconds;
      case "fixed":
        return rawReward / this.rewardScaleSeconds;
      case "centre-advantage": {
        const centre = timeCost(this.scenario, state, decodeJointAction(this.scenario, state, centreAction(this.m))).objectiveSeconds;
        return (centre - objectiveSeconds) / lowerBoundSeconds;
      }
    }
  }

  /** Algorithm 1, lines 4-14. `onEpisode` receives the metrics of every episode. */
  train(onEpisode: (log: EpisodeLog) => void = () => undefined): EpisodeLog[] {
    const c = this.config;
    const rng = mulberry32(c.seed + 1);
    const envRng = mulberry32(c.seed + 2);
    const noise = Array.from({ length: this.m }, (_, i) => new OrnsteinUhlenbeck(this.actDim, mulberry32(c.seed * 100 + i), c.ouTheta, c.ouSigma));
    const logs: EpisodeLog[] = [];
    const totalSlots = c.episodes * c.slotsPerEpisode;
    let best = { objective: Infinity, episode: -1, weights: [] as tf.Tensor[][] };
    let slotsDone = 0;
    for (let episode = 0; episode < c.episodes; episode++) {
      // Line 6: initialise the DTWN environment.
      let state: SlotState = initialState(this.scenario, envRng);
      noise.forEach((n) => n.reset());
      let objective = 0;
      let ratio = 0;
      let reward = 0;
      let criticLoss = 0;
      let updates = 0;
      const started = performance.now();
      for (let t = 0; t < c.slotsPerEpisode; t++) {
        const sigma = c.ouSigma + (c.ouSigmaFinal - c.ouSigma) * (slotsDone / totalSlots);
        noise.forEach((n) => (n.sigma = sigma));
        // Line 8: observe s and act a_i = pi_i(s) + N (Eq. 21), clipped to the action box.
        const obs = observe(this.scenario, state);
        const raw = this.act(obs).map((a, i) => {
          const eps = noise[i].sample();
          return a.map((x, k) => Math.min(1, Math.max(0, x + eps[k])));
        });
        // Line 9: the reward of the joint action and the next state.
        const allocation = decodeJointAction(this.scenario, state, raw);
        const result = step(this.scenario, state, allocation, envRng);
        const lb = objectiveLowerBound(this.scenario, state);
        const r = this.reward(state, result.cost.objectiveSeconds, lb, result.reward);
        // Line 10: store the transition.
        const nextObs = observe(this.scenario, result.next);
        this.memory.push(obs, Float32Array.from(raw.flat()), r, nextObs);
        // Lines 11-12: update the primary networks (Eqs. 22-23) and the targets (Eqs. 24-25).
        if (this.memory.size >= c.warmupSlots) {
          for (let u = 0; u < c.updatesPerSlot; u++) {
            criticLoss += this.update(rng);
            updates++;
          }
        }
        objective += result.cost.objectiveSeconds;
        ratio += result.cost.objectiveSeconds / lb;
        reward += r;
        state = result.next;
        slotsDone++;
      }
      const log: EpisodeLog = {
        episode,
        meanObjectiveSeconds: objective / c.slotsPerEpisode,
        meanRatioToLowerBound: ratio / c.slotsPerEpisode,
        meanReward: reward / c.slotsPerEpisode,
        criticLoss: updates ? criticLoss / updates : 0,
        msPerSlot: (performance.now() - started) / c.slotsPerEpisode,
        sigma: noise[0].sigma,
      };
      if (c.validateEvery > 0 && ((episode + 1) % c.validateEvery === 0 || episode === c.episodes - 1)) {
        log.validationObjectiveSeconds = this.validate();
        if (log.validationObjectiveSeconds < best.objective) {
          best.weights.flat().forEach((w) => w.dispose());
          best = { objective: log.validationObjectiveSeconds, episode, weights: this.agents.map((a) => a.actor.getWeights().map((w) => w.clone())) };
        }
      }
      logs.push(log);
      onEpisode(log);
    }
    if (best.episode >= 0) {
      this.agents.forEach((a, i) => a.actor.setWeights(best.weights[i]));
      best.weights.flat().forEach((w) => w.dispose());
      this.selectedEpisode = best.episode;
    }
    return logs;
  }

  /** The episode whose actors training kept (checkpoint selection), or the last one. */
  selectedEpisode = -1;

  /**
   * Mean Eq. 18 objective of the deterministic joint policy over `validationSlots` slots of its own trajectory from a
   * fixed seed (the same channels, CPUs and data at every validation; the seed is not the held-out evaluation's).
   */
  validate(): number {
    const rng = mulberry32(this.config.seed + 3);
    let state = initialState(this.scenario, rng);
    let sum = 0;
    for (let t = 0; t < this.config.validationSlots; t++) {
      const allocation = decodeJointAction(this.scenario, state, this.act(observe(this.scenario, state)));
      sum += timeCost(this.scenario, state, allocation).objectiveSeconds;
      state = nextState(this.scenario, state, allocation, rng);
    }
    return sum / this.config.validationSlots;
  }
}
