/**
 * The macro base station (MBS) of the running system, the FL server and the chain's operator. Per round:
 *   open    put the global model in IPFS and open the round with its CID and a submission deadline;
 *   wait    until every member has committed and revealed its verdicts, or the reveal window has passed (BSs submit,
 *           commit and reveal meanwhile);
 *   settle  settle the round on chain (passing models and agreeing verifiers are paid, failing models and verifiers
 *           against the outcome slashed);
 *   fetch   fetch the models that passed from the BSs' IPFS nodes (their addresses are on chain);
 *   aggregate  Eq. 5 over them, weighted by their data sizes (the chosen strategy), then the optional server step
 *           ({@link recomputeGlobal}, the function `dtwn audit` recomputes it with);
 *   publish put the new global model in IPFS and record its CID with the aggregated BSs (a malicious MBS, fault
 *           injection `--mbs-attack forge-global`, publishes Eq. 5 plus noise instead);
 *   evaluate  test accuracy and loss of the new global model.
 * The deadline adapts: the next round's submission window is 1.5 x the slowest submission of this one (bounded).
 */
import { Outcome } from "../chain/enums";
import { cidToBytes, bytesToCid } from "../chain/cid";
import { byAddress, recomputeGlobal, type AggregationStrategy, type ModelUpdate } from "../fl/aggregation";
import { perturbed } from "../fl/attacks";
import { mulberry32 } from "../twins/random";
import type { MbsAttack } from "./options";
import type { TwinTrainer } from "../fl/trainers";
import type { WeightTensor } from "../fl/tensors";
import { ServerOptimizer, type ServerOptimizerConfig } from "../fl/serverOptimizer";
import { putWeights, type WeightsStore } from "../ipfs/store";
import { fetchWeights } from "./fetch";
import { describeRevert, protocolContracts, type Protocol } from "./protocol";
import { gasByCall, totalGas } from "../chain/gasByCall";

export interface MbsSettings {
  /** Submission window of the first round, seconds. */
  firstRoundSeconds: number;
  /** Bounds of the adaptive submission window, seconds. */
  minRoundSeconds: number;
  maxRoundSeconds: number;
  pollMs: number;
  fetchTimeoutMs: number;
  /**
   * The submission window of round `round` from the model (src/testbed/deadlines.ts), seconds, with a note for the
   * log; absent: the adaptive window (the first round's, then 1.5 x the previous round's slowest submission).
   */
  window?: (round: number) => Promise<{ seconds: number; note: string }>;
  /** How long to wait for the BSs' attestations of a global model before the next round (default 10 min), ms. */
  attestationTimeoutMs?: number;
  /** Test-set indices to evaluate the global model on. */
  testIndices: readonly number[];
  server?: ServerOptimizerConfig;
  /** Fault injection: the MBS's attack, in round `round` only or (without it) in every round. */
  attack?: { kind: MbsAttack; round?: number };
}

/** Standard deviation of the noise a forging MBS adds to every weight of Eq. 5's model. */
export const FORGE_NOISE_STD = 0.01;

export interface MbsRoundReport {
  round: number;
  globalCid: string;
  newGlobalCid: string;
  deadlineSeconds: number;
  submitted: number;
  passed: string[];
  failed: string[];
  /** BSs whose passing model could not be fetched or decoded (left out of Eq. 5). */
  unfetched: { bs: string; error: string }[];
  testAccuracy: number;
  testLoss: number;
  /** Whether this (malicious) MBS published a forged global model in this round instead of Eq. 5's. */
  forged?: boolean;
  /** Seconds: from opening to the deadline, from the deadline to settlement, fetching, aggregating + publishing, evaluating. */
  phases: { submit: number; verify: number; fetch: number; aggregate: number; evaluate: number };
  /** Seconds after opening at which each BS's model record was mined. */
  submissionDelays: Record<string, number>;
  /** Gas of every transaction mined from the opening to the end of the round (decimal string of a bigint). */
  gasUsed: string;
  /** The same gas by call (`Contract.function`, src/chain/gasByCall.ts), gas as decimal strings; absent in older runs. */
  gasByCall?: { call: string; calls: number; gas: string }[];
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The BSs disputed the last global model with a quorum of stake: the chain opens no further round from it. */
export class FederationStopped extends Error {
  constructor(
    readonly round: number,
    readonly disputeStake: bigint,
    readonly quorum: bigint,
  ) {
    super(`the BSs disputed round ${round}'s global model with ${disputeStake} of the ${quorum} stake a quorum needs (base units): it is not Eq. 5 of the models it lists, and the chain opens no round from it (GlobalModelDisputed). The federation stops here; \`dtwn audit\` on the run folder shows the mismatch.`);
    this.name = "FederationStopped";
  }
}

export class Mbs {
  private global: WeightTensor[];
  private globalCid?: string;
  private windowSeconds: number;
  private readonly server: ServerOptimizer;

  constructor(
    private readonly p: Protocol,
    private readonly store: WeightsStore,
    private readonly trainer: TwinTrainer,
    private readonly arch: string,
    initial: WeightTensor[],
    private readonly strategy: AggregationStrategy,
    private readonly settings: MbsSettings,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.global = initial;
    this.windowSeconds = settings.firstRoundSeconds;
    this.server = new ServerOptimizer(settings.server);
  }

  get globalModel(): WeightTensor[] {
    return this.global;
  }

  /**
   * Wait until the BSs attested round `round`'s global model with a quorum of stake (the chain opens the next round
   * only then); {@link FederationStopped} when they disputed it with a quorum. A round with no passed model needs none.
   */
  async awaitAttestation(round: number, onPhase: (phase: string) => void = () => undefined): Promise<void> {
    const { rounds } = this.p;
    if (Number((await rounds.getRound(round)).passed) === 0) return;
    onPhase("attestations");
    const t0 = Date.now();
    for (;;) {
      const [attest, dispute, quorum] = await rounds.attestationTally(round);
      if (dispute >= quorum) throw new FederationStopped(round, dispute, quorum);
      if (attest >= quorum) return;
      const timeoutMs = this.settings.attestationTimeoutMs ?? 600_000;
      if (Date.now() - t0 > timeoutMs) throw new Error(`round ${round}'s global model was attested by ${attest} of the ${quorum} stake a quorum needs within ${timeoutMs / 1000} s: too few BSs checked it (see their logs); no round can open before they do.`);
      await sleep(this.settings.pollMs);
    }
  }

  /** Run the next round end to end. `gasOf` reads the gas used by the round's transactions (from the chain). */
  async runRound(onPhase: (phase: string) => void = () => undefined): Promise<MbsRoundReport> {
    const { rounds } = this.p;
    const t0 = performance.now();
    this.globalCid ??= await putWeights(this.store, this.arch, this.global);
    const globalCid = this.globalCid;
    const previous = Number(await rounds.currentRound());
    if (previous > 0) await this.awaitAttestation(previous, onPhase);
    const { clock } = this.p;
    const startBlock = await this.p.rounds.runner!.provider!.getBlockNumber();
    const now = await clock.nextBlockAt(); // the deadline counts from the chain's clock, as the contract does
    // The chain refuses a round whose reveal window ends later than half the unbonding delay from its opening.
    const longest = Number(await this.p.stake.unbondingDelay()) / 2 - Number(await rounds.verificationWindow()) - Number(await rounds.revealWindow()) - 5;
    const planned = this.settings.window ? await this.settings.window(previous + 1) : undefined;
    const windowSeconds = planned?.seconds ?? this.windowSeconds;
    const deadline = Math.ceil(now + Math.min(windowSeconds, longest));
    onPhase("open");
    const opened = await (await rounds.openRound(cidToBytes(globalCid), deadline)).wait();
    const round = previous + 1;
    const openedAt = (await opened!.getBlock()).timestamp;
    this.log(`round ${round} open until ${new Date(deadline * 1000).toISOString().slice(11, 19)} (${windowSeconds} s${planned ? `: ${planned.note}` : ""}), global ${globalCid}`);
    onPhase("train");
    // Close submissions early once every member BS has submitted (the chain allows nothing earlier: closing sooner
    // could shut out a BS that is still training).
    const memberCount = Number(await this.p.registry.memberCount());
    while (!(await clock.isPast(deadline))) {
      const submitted = (await rounds.submitters(round)).length;
      if (submitted >= memberCount) {
        await (await rounds.closeSubmissions(round)).wait().catch(() => undefined); // the deadline may just have passed
        break;
      }
      await sleep(this.settings.pollMs);
    }
    const tSubmit = performance.now();
    onPhase("verify");
    // Settle as soon as every member has committed and revealed its ballot (what the chain allows), else after the
    // reveal window.
    const members = Number(await this.p.registry.memberCount());
    for (;;) {
      const r = await rounds.getRound(round);
      if (await clock.isPast(Number(r.revealUntil))) break;
      if ((await clock.isPast(Number(r.deadline))) && Number(r.committed) >= members && Number(r.revealed) === Number(r.committed)) break;
      await sleep(this.settings.pollMs);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await (await rounds.settleRound(round)).wait();
        break;
      } catch (e) {
        // every ballot was revealed in a block the node has not yet made the latest one: try again shortly
        if (attempt >= 10 || !/VerificationStillOpen/.test(describeRevert(this.p, e))) throw e;
        await sleep(500);
      }
    }
    const tVerify = performance.now();

    onPhase("aggregate");
    const submitters = await rounds.submitters(round);
    const passed: string[] = [];
    const failed: string[] = [];
    const updates: ModelUpdate[] = [];
    const unfetched: MbsRoundReport["unfetched"] = [];
    const submissionDelays: Record<string, number> = {};
    for (const e of await rounds.queryFilter(rounds.filters.ModelSubmitted(round))) {
      submissionDelays[e.args.bs] = (await e.getBlock()).timestamp - openedAt;
    }
    // A passed model was fetched by its verifiers: ask its BS first, then every other BS's node.
    const peers = new Map<string, string>();
    for (const bs of await this.p.registry.members()) peers.set(bs, (await this.p.registry.metadataOf(bs)).ipfsPeerAddress);
    // Every passed model at once (each from its own BS's uplink), kept in the chain's order of submitters.
    const subs = await Promise.all(submitters.map(async (bs) => ({ bs, s: await rounds.submission(round, bs) })));
    const got = await Promise.all(
      subs.map(async ({ bs, s }) => {
        if (Number(s.outcome) !== Outcome.Passed) return { bs, outcome: Number(s.outcome) };
        try {
          const own = peers.get(bs) ?? (await this.p.registry.metadataOf(bs)).ipfsPeerAddress;
          const order = [own, ...[...peers.values()].filter((a) => a !== own)];
          const weights = await fetchWeights(this.store, bytesToCid(s.cid), this.arch, order, this.settings.fetchTimeoutMs);
          return { bs, outcome: Number(s.outcome), update: { weights, samples: Number(s.dataSize), from: bs } };
        } catch (e) {
          return { bs, outcome: Number(s.outcome), error: (e as Error).message.split("\n")[0] };
        }
      }),
    );
    for (const g of got) {
      if (g.outcome === Outcome.Failed) failed.push(g.bs);
      if (g.update) {
        updates.push(g.update);
        passed.push(g.bs);
      } else if (g.error !== undefined) unfetched.push({ bs: g.bs, error: g.error });
    }
    const tFetch = performance.now();
    if (unfetched.length > 0) {
      // The chain records only the aggregation of every passed model, so the round cannot be finalised without them.
      throw new Error(
        `round ${round}: ${unfetched.length} passed model(s) could not be fetched from any BS's IPFS node ` +
          `(${unfetched.map((u) => `${u.bs}: ${u.error}`).join("; ")}); the chain accepts only an aggregation of every passed model. ` +
          "Check that the BSs' IPFS nodes are up, then rerun.",
      );
    }
    // Eq. 5 over the passing models, summed in the order the chain records them (ascending BS address), not in the
    // order they were submitted: the result is then bit for bit the same on every run and for anyone recomputing it
    // from the chain. With no passing model, the global model stays.
    updates.sort((a, b) => byAddress(a.from as string, b.from as string));
    const honest = recomputeGlobal(this.global, updates, this.strategy, this.server);
    // A forging MBS publishes another model (a round without passed models keeps its global model: the chain allows
    // nothing else). The optimiser's state stays the honest one; the next round trains from the forged model.
    const attack = this.settings.attack;
    const forged = attack?.kind === "forge-global" && (attack.round === undefined || attack.round === round) && updates.length > 0;
    this.global = forged ? perturbed(honest, FORGE_NOISE_STD, mulberry32(round * 7919 + 11)) : honest;
    if (forged) this.log(`round ${round}: the MBS forges the global model (Eq. 5 plus noise, std ${FORGE_NOISE_STD}; fault injection)`);
    const newGlobalCid = await putWeights(this.store, this.arch, this.global);
    const aggregated = updates.map((u) => u.from as string); // every passed model, in the same order
    await (await rounds.recordGlobalModel(round, cidToBytes(newGlobalCid), aggregated)).wait();
    this.globalCid = newGlobalCid;
    const tAggregate = performance.now();

    onPhase("evaluate");
    const [test] = await this.trainer.evaluate([this.global], [{ model: 0, split: "test", indices: this.settings.testIndices }]);
    const tEnd = performance.now();
    const delays = Object.values(submissionDelays);
    if (delays.length > 0) {
      this.windowSeconds = Math.min(this.settings.maxRoundSeconds, Math.max(this.settings.minRoundSeconds, Math.ceil(1.5 * Math.max(...delays))));
    }
    const provider = this.p.rounds.runner!.provider!;
    // Every transaction mined during the round (the MBS's, the agents', DPoS blocks), by call.
    const byCall = await gasByCall(provider, protocolContracts(this.p), startBlock, await provider.getBlockNumber());
    return {
      round,
      globalCid,
      newGlobalCid,
      deadlineSeconds: deadline - openedAt,
      submitted: submitters.length,
      passed,
      failed,
      unfetched,
      testAccuracy: test.accuracy,
      testLoss: test.loss,
      forged,
      phases: {
        submit: (tSubmit - t0) / 1000,
        verify: (tVerify - tSubmit) / 1000,
        fetch: (tFetch - tVerify) / 1000,
        aggregate: (tAggregate - tFetch) / 1000,
        evaluate: (tEnd - tAggregate) / 1000,
      },
      submissionDelays,
      gasUsed: totalGas(byCall).toString(),
      gasByCall: byCall.map((g) => ({ call: g.call, calls: g.calls, gas: g.gas.toString() })),
      seconds: (tEnd - t0) / 1000,
    };
  }
}
