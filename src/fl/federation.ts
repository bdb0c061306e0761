/**
 * Federated learning on digital twins (Section II-B), one process: every round, each twin's model is trained from the
 * global model on its twin's data with its batch size b_j (local training), each BS aggregates its twins' models
 * (Eq. 4), the other BSs verify each BS model on their own held-out data, and the MBS aggregates the accepted BS
 * models (Eq. 5) with the chosen strategy. A malicious BS may replace its model by an attack. Every round is logged
 * with test accuracy and loss and the verdicts against who was honest.
 */
import { decide, DEFAULT_QUORUM_BPS } from "./acceptance";
import { mulberry32 } from "../twins/random";
import { shuffle } from "./partition";
import type { Dataset } from "./datasets/types";
import { createCnn, getModelWeights, type LocalOptimizer } from "./cnn";
import { InProcessTrainer, type EvalTask, type TwinJob, type TwinTrainer } from "./trainers";
import type { AggregationStrategy, ModelUpdate } from "./aggregation";
import { attack, type ModelAttackName } from "./attacks";
import { judge, referenceAccuracy } from "./verification";
import { ServerOptimizer, type ServerOptimizerConfig } from "./serverOptimizer";
import type { WeightTensor } from "./tensors";

export interface FederationConfig {
  rounds: number;
  learningRate: number;
  /** The local learning rate over the rounds: constant (default) or cosine from learningRate down to 0 (see {@link roundLearningRate}). */
  learningRateSchedule?: LearningRateSchedule;
  /** Local epochs per twin and round. */
  localEpochs: number;
  /** Cap on each twin's mini-batches per round (bounds the work of a round); undefined = full epochs. */
  localSteps?: number;
  /** The MBS's update from the Eq. 5 aggregate (default: none, the global model is Eq. 5's aggregate). */
  server?: ServerOptimizerConfig;
  /**
   * C, the fraction of each BS's twins that train in a round (McMahan et al.'s client fraction; default 1, every
   * twin). Each BS trains ceil(C K_i) of its K_i twins, drawn afresh every round from the seed; Eq. 4 aggregates the
   * twins that trained.
   */
  participation?: number;
  /** The twins' local optimiser (default sgd); its state starts afresh every round. */
  optimizer?: LocalOptimizer;
  /** MBS aggregation of the accepted BS models (Eq. 5). */
  strategy: AggregationStrategy;
  /** Verification by the other BSs; `quorumBps` as on chain (default {@link DEFAULT_QUORUM_BPS}). */
  verification: { enabled: boolean; maxDrop: number; quorumBps?: number };
  /**
   * A malicious BS, its attack, and the round from which it attacks (default 1). Verification compares against the
   * current global model, so it cannot tell a poisoned model from an honest one while the global model is at chance.
   */
  adversary?: { bs: number; attack: ModelAttackName; fromRound?: number };
  seed: number;
}

export interface FederationSetup {
  dataset: Dataset;
  /** Sample indices (into dataset.train) of every user, i.e. of its twin. */
  userData: readonly (readonly number[])[];
  /** The BS hosting each twin (the association). */
  association: readonly number[];
  /** b_j of each twin. */
  batchSize: readonly number[];
  /** Per BS, the indices (into dataset.train) it holds out for verification; never trained on. */
  heldOut: readonly (readonly number[])[];
}

export interface BsRoundLog {
  bs: number;
  malicious: boolean;
  twins: number;
  samples: number;
  /** Accuracy on each verifier's held-out data (verifier BS -> accuracy). */
  verifierAccuracy: Record<number, number>;
  accepted: boolean;
}

export interface RoundLog {
  round: number;
  testAccuracy: number;
  testLoss: number;
  bs: BsRoundLog[];
  /** Verdict counts: accepted/rejected x honest/malicious. */
  verdicts: {
    acceptedHonest: number;
    rejectedHonest: number;
    acceptedMalicious: number;
    rejectedMalicious: number;
  };
  seconds: number;
}

export const LEARNING_RATE_SCHEDULES = ["constant", "cosine"] as const;
export type LearningRateSchedule = (typeof LEARNING_RATE_SCHEDULES)[number];

/** The local learning rate of round r in 1..R: constant, or cosine decay lr * (1 + cos(pi (r - 1) / R)) / 2. */
export function roundLearningRate(lr: number, schedule: LearningRateSchedule, round: number, rounds: number): number {
  if (schedule === "constant") return lr;
  if (schedule === "cosine") return (lr * (1 + Math.cos((Math.PI * (round - 1)) / rounds))) / 2;
  throw new Error(`unknown learning-rate schedule ${JSON.stringify(schedule)}; use ${LEARNING_RATE_SCHEDULES.join(" or ")}.`);
}

function isMalicious(c: FederationConfig, bs: number, round: number): boolean {
  return (
    c.adversary !== undefined &&
    c.adversary.bs === bs &&
    round >= (c.adversary.fromRound ?? 1)
  );
}

/** Which twins train this round: ceil(C K_i) of each BS's K_i twins, uniformly without replacement. */
export function participants(setup: FederationSetup, m: number, fraction: number, rng: () => number): boolean[] {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`federation: participation must be in (0, 1], got ${fraction}.`);
  const chosen = new Array<boolean>(setup.association.length).fill(fraction === 1);
  if (fraction === 1) return chosen;
  for (let bs = 0; bs < m; bs++) {
    const twins = setup.association.flatMap((h, j) => (h === bs ? [j] : []));
    for (const j of shuffle(twins, rng).slice(0, Math.ceil(fraction * twins.length))) chosen[j] = true;
  }
  return chosen;
}

export function validateSetup(s: FederationSetup, m: number): void {
  const n = s.userData.length;
  if (s.association.length !== n || s.batchSize.length !== n)
    throw new Error(
      `federation: ${n} users but ${s.association.length} associations and ${s.batchSize.length} batch sizes.`,
    );
  s.association.forEach((bs, j) => {
    if (!Number.isInteger(bs) || bs < 0 || bs >= m)
      throw new Error(
        `federation: twin ${j} is associated with BS ${bs}; BSs are 0..${m - 1}.`,
      );
  });
  if (s.heldOut.length !== m)
    throw new Error(
      `federation: held-out data for ${s.heldOut.length} BSs; expected ${m}.`,
    );
}

/**
 * Run `c.rounds` rounds. Twins train through `trainer` (default: in this process); the caller closes a trainer it
 * passes. A failing trainer (e.g. a crashed worker) rejects the round before anything is aggregated.
 */
export async function runFederation(
  setup: FederationSetup,
  m: number,
  c: FederationConfig,
  onRound: (log: RoundLog) => void = () => undefined,
  trainer?: TwinTrainer,
): Promise<{ logs: RoundLog[]; global: WeightTensor[] }> {
  validateSetup(setup, m);
  const { dataset } = setup;
  const init = createCnn({ height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels }, c.seed);
  let global: WeightTensor[] = getModelWeights(init);
  init.dispose();
  const rng = mulberry32(c.seed + 17);
  const logs: RoundLog[] = [];
  const local = trainer ?? new InProcessTrainer(dataset);
  const server = new ServerOptimizer(c.server);
  const testIndices = Array.from({ length: dataset.test.count }, (_, i) => i);
  const holders = setup.heldOut.flatMap((idx, v) => (idx.length > 0 ? [v] : [])); // the BSs that can verify
  try {
    for (let round = 1; round <= c.rounds; round++) {
      const t0 = performance.now();
      // Local training of every twin from the global model, and Eq. 4 at every BS (where the twins trained).
      const chosen = participants(setup, m, c.participation ?? 1, mulberry32(c.seed * 7777 + round));
      const jobs: TwinJob[] = setup.association.flatMap((bs, j) =>
        chosen[j] && setup.userData[j].length ? [{ twin: j, bs, indices: setup.userData[j], batchSize: setup.batchSize[j], seed: c.seed * 1000 + round * 101 + j }] : [],
      );
      const trained = await local.trainRound(global, jobs, { learningRate: roundLearningRate(c.learningRate, c.learningRateSchedule ?? "constant", round, c.rounds), localEpochs: c.localEpochs, localSteps: c.localSteps, optimizer: c.optimizer });
      const bsModels: (ModelUpdate | undefined)[] = [];
      for (let bs = 0; bs < m; bs++) {
        const g = trained.get(bs);
        bsModels.push(g && isMalicious(c, bs, round) ? { ...g, weights: attack((c.adversary as { attack: ModelAttackName }).attack, g.weights, global, rng) } : g);
      }
      // Verification by the other BSs on their held-out data: every BS holding data scores the current global model
      // (model 0) and every submitted BS model (model bs + 1); the reference is the better of the global model and the
      // submissions' median.
      const models = [global, ...bsModels.map((g) => g?.weights ?? global)];
      const scored = c.verification.enabled ? models.flatMap((_, k) => (k === 0 || bsModels[k - 1] ? holders.map((v) => ({ k, v })) : [])) : [];
      const results = scored.length > 0 ? await local.evaluate(models, scored.map(({ k, v }): EvalTask => ({ model: k, split: "train", indices: setup.heldOut[v] }))) : [];
      const accuracy: number[][] = models.map(() => []); // accuracy[model][verifier]
      scored.forEach(({ k, v }, i) => (accuracy[k][v] = results[i].accuracy));
      const referenceFor: number[] = []; // by verifier
      for (const v of holders) referenceFor[v] = referenceAccuracy(accuracy[0][v], bsModels.flatMap((g, bs) => (g ? [accuracy[bs + 1][v]] : [])));
      const bsLogs: BsRoundLog[] = [];
      const accepted: ModelUpdate[] = [];
      bsModels.forEach((g, bs) => {
        if (!g) return;
        const verifierAccuracy: Record<number, number> = {};
        let ok = true;
        if (c.verification.enabled) {
          const vs = holders.filter((v) => v !== bs);
          let yes = 0;
          for (const v of vs) {
            const acc = accuracy[bs + 1][v];
            verifierAccuracy[v] = acc;
            if (judge(acc, referenceFor[v], c.verification.maxDrop).accepted) yes++;
          }
          // the chain's rule (contracts/fl/AcceptanceRule.sol): every other BS holding data gives a verdict of weight one
          ok = decide(yes, vs.length - yes, vs.length, c.verification.quorumBps ?? DEFAULT_QUORUM_BPS) === "passed";
        }
        if (ok) accepted.push(g);
        bsLogs.push({ bs, malicious: isMalicious(c, bs, round), twins: setup.association.filter((h) => h === bs).length, samples: g.samples, verifierAccuracy, accepted: ok });
      });
      // Eq. 5 at the MBS over the accepted BS models (the global model stays when none is accepted).
      if (accepted.length > 0) global = server.step(global, c.strategy.aggregate(accepted));
      const [test] = await local.evaluate([global], [{ model: 0, split: "test", indices: testIndices }]);
      const verdicts = {
        acceptedHonest: bsLogs.filter((b) => b.accepted && !b.malicious).length,
        rejectedHonest: bsLogs.filter((b) => !b.accepted && !b.malicious).length,
        acceptedMalicious: bsLogs.filter((b) => b.accepted && b.malicious).length,
        rejectedMalicious: bsLogs.filter((b) => !b.accepted && b.malicious).length,
      };
      const log: RoundLog = { round, testAccuracy: test.accuracy, testLoss: test.loss, bs: bsLogs, verdicts, seconds: (performance.now() - t0) / 1000 };
      logs.push(log);
      onRound(log);
    }
  } finally {
    if (!trainer) await local.close();
  }
  return { logs, global };
}
