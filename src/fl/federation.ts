/**
 * Federated learning on digital twins (Section II-B), one process: every round, each twin's model is trained from the
 * global model on its twin's data with its batch size b_j (local training), each BS aggregates its twins' models
 * (Eq. 4), the other BSs verify each BS model on their own held-out data, and the MBS aggregates the accepted BS
 * models (Eq. 5) with the chosen strategy. A malicious BS may replace its model by an attack. Every round is logged
 * with test accuracy and loss and the verdicts against who was honest.
 */
import { mulberry32 } from "../twins/random";
import type { Dataset } from "./datasets/types";
import {
  createCnn,
  evaluateModel,
  getModelWeights,
  setModelWeights,
} from "./cnn";
import { InProcessTrainer, type TwinJob, type TwinTrainer } from "./trainers";
import {
  aggregateAtBs,
  FedAvg,
  type AggregationStrategy,
  type ModelUpdate,
} from "./aggregation";
import { attack, type AttackName } from "./attacks";
import { judge } from "./verification";
import type { WeightTensor } from "./tensors";

export interface FederationConfig {
  rounds: number;
  learningRate: number;
  /** Local epochs per twin and round. */
  localEpochs: number;
  /** Cap on each twin's mini-batches per round (bounds the work of a round); undefined = full epochs. */
  localSteps?: number;
  /** MBS aggregation of the accepted BS models (Eq. 5). */
  strategy: AggregationStrategy;
  verification: { enabled: boolean; maxDrop: number };
  /**
   * A malicious BS, its attack, and the round from which it attacks (default 1). Verification compares against the
   * current global model, so it cannot tell a poisoned model from an honest one while the global model is at chance.
   */
  adversary?: { bs: number; attack: AttackName; fromRound?: number };
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

function isMalicious(c: FederationConfig, bs: number, round: number): boolean {
  return (
    c.adversary !== undefined &&
    c.adversary.bs === bs &&
    round >= (c.adversary.fromRound ?? 1)
  );
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
  const input = {
    height: dataset.train.height,
    width: dataset.train.width,
    channels: dataset.train.channels,
  };
  const worker = createCnn(input, c.seed);
  let global = getModelWeights(worker);
  const rng = mulberry32(c.seed + 17);
  const logs: RoundLog[] = [];
  const fedavg = new FedAvg();
  const local = trainer ?? new InProcessTrainer(dataset);
  try {
    for (let round = 1; round <= c.rounds; round++) {
      const t0 = performance.now();
      // Local training of every twin from the global model (in parallel with a process pool) ...
      const jobs: TwinJob[] = setup.association.flatMap((_, j) =>
        setup.userData[j].length
          ? [
              {
                twin: j,
                indices: setup.userData[j].slice(),
                batchSize: setup.batchSize[j],
                seed: c.seed * 1000 + round * 101 + j,
              },
            ]
          : [],
      );
      const trained = await local.train(global, jobs, {
        learningRate: c.learningRate,
        localEpochs: c.localEpochs,
        localSteps: c.localSteps,
      });
      // ... and Eq. 4 at every BS.
      const bsModels: (ModelUpdate | undefined)[] = [];
      for (let bs = 0; bs < m; bs++) {
        const twins: ModelUpdate[] = [];
        setup.association.forEach((host, j) => {
          const w = trained.get(j);
          if (host !== bs || !w) return;
          twins.push({
            weights: w,
            samples: setup.userData[j].length,
            from: `twin ${j}`,
          });
        });
        if (twins.length === 0) {
          bsModels.push(undefined);
          continue;
        }
        let g = aggregateAtBs(twins, `BS ${bs}`, fedavg);
        if (isMalicious(c, bs, round))
          g = {
            ...g,
            weights: attack(
              (c.adversary as { attack: AttackName }).attack,
              g.weights,
              global,
              rng,
            ),
          };
        bsModels.push(g);
      }
      // Verification by the other BSs on their held-out data, against the current global model.
      setModelWeights(worker, global);
      const reference = setup.heldOut.map((idx) =>
        idx.length ? evaluateModel(worker, dataset.train, idx).accuracy : NaN,
      );
      const bsLogs: BsRoundLog[] = [];
      const accepted: ModelUpdate[] = [];
      bsModels.forEach((g, bs) => {
        if (!g) return;
        const verifierAccuracy: Record<number, number> = {};
        let ok = true;
        if (c.verification.enabled) {
          setModelWeights(worker, g.weights);
          let yes = 0;
          let votes = 0;
          for (let v = 0; v < m; v++) {
            if (v === bs || setup.heldOut[v].length === 0) continue;
            const acc = evaluateModel(
              worker,
              dataset.train,
              setup.heldOut[v],
            ).accuracy;
            verifierAccuracy[v] = acc;
            votes++;
            if (judge(acc, reference[v], c.verification.maxDrop).accepted)
              yes++;
          }
          ok = votes === 0 || yes * 2 > votes; // a majority of the other BSs accepts
        }
        if (ok) accepted.push(g);
        bsLogs.push({
          bs,
          malicious: isMalicious(c, bs, round),
          twins: setup.association.filter((h) => h === bs).length,
          samples: g.samples,
          verifierAccuracy,
          accepted: ok,
        });
      });
      // Eq. 5 at the MBS over the accepted BS models (the global model stays when none is accepted).
      if (accepted.length > 0) global = c.strategy.aggregate(accepted);
      setModelWeights(worker, global);
      const test = evaluateModel(worker, dataset.test);
      const verdicts = {
        acceptedHonest: bsLogs.filter((b) => b.accepted && !b.malicious).length,
        rejectedHonest: bsLogs.filter((b) => !b.accepted && !b.malicious)
          .length,
        acceptedMalicious: bsLogs.filter((b) => b.accepted && b.malicious)
          .length,
        rejectedMalicious: bsLogs.filter((b) => !b.accepted && b.malicious)
          .length,
      };
      const log: RoundLog = {
        round,
        testAccuracy: test.accuracy,
        testLoss: test.loss,
        bs: bsLogs,
        verdicts,
        seconds: (performance.now() - t0) / 1000,
      };
      logs.push(log);
      onRound(log);
    }
  } finally {
    if (!trainer) await local.close();
    worker.dispose();
  }
  return { logs, global };
}
