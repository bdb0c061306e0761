/**
 * A base-station agent of the running system (Figs. 1-3). Per FL round t, in the order of Fig. 2:
 *   1. observe  rebuild s(t) from the chain: the previous association (the twins' hosts), the twins' data, and the
 *               slot's environment (src/system/world.ts);
 *   2. act      propose its actor's raw action, read the peers' proposals of the slot, decode the joint action and
 *               commit its own part a_i(t) = (K_i, b_i, tau_i) (src/agents/policies.ts);
 *   3. sync     record the data of twins that moved to it (a digital-twin data record per twin);
 *   4. train    train its twins from the global model (weights from IPFS) with their batch sizes, meanwhile check
 *               that the global model is Eq. 5 of the previous round's passed models (src/audit), and aggregate
 *               them (Eq. 4, in the canonical order of src/fl/aggregation.ts, so anyone can recompute it bit for bit);
 *   5. upload   put every twin's model in IPFS and record their CIDs (digital-twin model records of the round,
 *               TwinRegistry.recordTwinModels), then put its BS model in IPFS and submit the training model record
 *               (its CID; the chain weighs it by the K_i and D_i it recorded for the committed action);
 *   6. verify   fetch the other BSs' models by CID from their IPFS nodes (addresses registered on chain), score
 *               them on its held-out data, commit its ballot (one verdict per model) and reveal it;
 *   7. collect  wait for the round's settlement and read its stake (credited for a passing model and for verdicts
 *               that agree with the outcomes, slashed otherwise).
 * Block production and validation (DPoS) run next to this on a timer (src/agents/dpos.ts).
 * Every step first asks the chain whether it was done already, so a restarted agent resumes a round without
 * committing, submitting or verifying twice. The wall-clock time of every phase is measured next to the time the
 * model predicts for it (Eqs. 12-16).
 */
import { keccak256, solidityPacked, type Signer } from "ethers";
import { encodeAction, encodeRawAction, floorTau } from "../chain/actionCodec";
import { packConsents } from "../chain/consent";
import { dataCommitmentOf, DeviceRefused, type DeviceLink } from "../system/devices";
import { JointActionReader } from "./jointAction";
import { ballotCommitment, ballotSalt, VERDICT, type Ballot } from "../chain/ballot";
import { bytesToCid, cidToBytes, cidToDigest } from "../chain/cid";
import { attack, INFLATE_FACTOR, isModelAttack, type AttackName } from "../fl/attacks";
import type { LocalOptimizer } from "../fl/cnn";
import { canonicalBsModel, type ModelUpdate, type TwinModel } from "../fl/aggregation";
import type { TwinTrainer } from "../fl/trainers";
import { LiveChainSource } from "../audit/chainSource";
import { ChainRecords } from "../audit/records";
import { GlobalChecker, recomputeBsModel, type ModelSource } from "../audit/recompute";
import type { AggregationSettings } from "../audit/settings";
import { AssociationLedger__factory, TrainingRounds__factory, TwinRegistry__factory } from "../../typechain-types";
import type { WeightTensor } from "../fl/tensors";
import { judge, referenceAccuracy } from "../fl/verification";
import { getWeights, putWeights, type WeightsStore } from "../ipfs/store";
import { fetchBlob, fetchWeights } from "../system/fetch";
import { cidOf } from "../ipfs/unixfs";
import { encodeWeights } from "../fl/weightsFormat";
import { mulberry32 } from "../twins/random";
import type { Allocation, SlotState } from "../twins/state";
import { timeCost, type BsCost } from "../twins/timeCost";
import { localStepsOf } from "../twins/work";
import type { AssociationPolicy } from "./policies";
import { AGENT_PHASES, type AgentPhase, type SubmissionFault } from "../system/options";
import { Attestation, Outcome, RoundStatus } from "../chain/enums";
import { describeRevert, stakeOf, type Protocol } from "../system/protocol";
import type { World } from "../system/world";

export interface AgentSettings {
  /**
   * s_ref: mini-batches of its batch size b_j that a twin of D_ref samples trains per round; twin j trains
   * s_j = round(s_ref D_j / D_ref), the work of Eq. 12 (src/twins/work.ts).
   */
  localSteps: number;
  learningRate: number;
  optimizer: LocalOptimizer;
  /** Verification: largest accuracy drop below the reference that still passes. */
  maxDrop: number;
  /** Seconds after a round opens during which raw actions are proposed (later proposals are ignored by all). */
  proposalWindowSeconds: number;
  /** How often the agent polls the chain, ms. */
  pollMs: number;
  /** Give up fetching a model when no data arrived for this long, ms. */
  fetchTimeoutMs: number;
  /** A malicious BS's attack: on its model, or on the protocol (src/fl/attacks.ts). */
  attack?: AttackName;
  /** With attack "collude": the colluding BSs (indices), whose models the colluders pass while failing all others. */
  colluders?: readonly number[];
  /**
   * Fault injection (a faulty BS, to test that the others reject it and the round goes on): "unknown-cid" submits the
   * CID of bytes it never stored, "wrong-shape" submits weights of another architecture, "late" submits after the
   * deadline.
   */
  fault?: SubmissionFault;
  /** Fault injection: the agent dies (throws {@link AgentCrashed}) right after this phase of this round. */
  crash?: { round: number; after: keyof PhaseSeconds };
  /**
   * How the MBS aggregates (Eq. 5's strategy and server optimiser): when set, the agent checks every new global
   * model against Eq. 5 of the previous round's passed models before it trains from it (reported, not enforced).
   */
  globalCheck?: AggregationSettings;
}

/** Twins per twin-model-record transaction (TwinRegistry.MAX_MODELS_PER_BATCH; about 3 kgas per twin). */
export const TWIN_RECORDS_PER_TX = 256;

/** An injected crash (see {@link AgentSettings.crash}): the agent's process would be gone at this point. */
export class AgentCrashed extends Error {
  constructor(
    readonly bs: number,
    readonly round: number,
    readonly after: keyof PhaseSeconds,
  ) {
    super(`BS ${bs} crashed in round ${round} after ${after} (injected fault)`);
    this.name = "AgentCrashed";
  }
}

export interface AgentContext {
  /** This BS's index i in the scenario (its seat). */
  index: number;
  signer: Signer;
  address: string;
  protocol: Protocol;
  world: World;
  /** BS index -> address (the registry's members in seat order). */
  bsAddresses: readonly string[];
  /** User n -> on-chain twin id. */
  twinIds: readonly number[];
  store: WeightsStore;
  trainer: TwinTrainer;
  /** The architecture id of the CNN (weights of another architecture are refused). */
  arch: string;
  policy: AssociationPolicy;
  /** The users' devices, whose consent moves and data records need (they live on the users' side, not in the agent). */
  devices: DeviceLink;
  settings: AgentSettings;
  /** Multiaddrs to dial before fetching the global model (the MBS's IPFS node). */
  mbsPeers: readonly string[];
  log: (line: string) => void;
}

/** Seconds of each phase of a round, measured. */
export type PhaseSeconds = Record<AgentPhase, number>;

export interface VerdictLog {
  bs: number;
  pass: boolean;
  /** Held-out accuracy of the model (0 when it could not be scored). */
  accuracy: number;
  reference: number;
  /** Why a model was failed without a score (fetch or format error). */
  error?: string;
  /** Seconds to fetch the model from its BS's IPFS node (its BS's uplink, in the emulated testbed). */
  fetchSeconds?: number;
}

export interface AgentRoundReport {
  round: number;
  bs: number;
  address: string;
  malicious: boolean;
  /** K_i and D_i of its committed action. */
  twins: number;
  samples: number;
  meanBatch: number;
  movedIn: number;
  cid?: string;
  /** Digital-twin model records of this round on chain (those recorded now and those found there). */
  twinModels?: number;
  /**
   * Whether this round's recorded global model is Eq. 5 of its passed models, recomputed by this BS (with
   * {@link AgentSettings.globalCheck}); with what it found and how long it took. Absent when no model passed.
   */
  globalCheck?: "match" | "mismatch" | "unavailable";
  /** What this BS said of the round's global model on chain (none when it could not check it). */
  attestation?: "agrees" | "disputes";
  globalCheckDetail?: string;
  globalCheckSeconds?: number;
  submitted: boolean;
  /** Why nothing was submitted (no twins, too late, ...). */
  skipped?: string;
  /** The Eq. 5 weight the chain gives its model this round: the data of its committed action's twins (samples). */
  weightSamples: number;
  /** What a protocol attack tried and what the chain answered. */
  attackNotes?: string[];
  /** Steps found done on chain already (a restarted agent). */
  resumed: string[];
  measured: PhaseSeconds;
  /** Of the train phase, the seconds its twins trained (the work Eq. 12 prices; without fetching and checking the global model). */
  trainingSeconds?: number;
  /** The model's terms for this BS and slot (Eqs. 12-16), seconds. */
  predicted: Pick<BsCost, "localTrainingSeconds" | "aggregationSeconds" | "transmissionSeconds" | "blockBroadcastSeconds" | "blockValidationSeconds" | "totalSeconds">;
  verdicts: VerdictLog[];
  outcome: "passed" | "failed" | "unverified" | "none";
  coins: string;
  /** The BSs (indices) this BS approves as block producers after the round (its DPoS vote). */
  votedFor?: number[];
}

/** Report names of the chain's `Outcome` values (a pending model reads as "none"). */
const OUTCOME_NAMES: Record<number, AgentRoundReport["outcome"]> = { [Outcome.Pending]: "none", [Outcome.Passed]: "passed", [Outcome.Failed]: "failed", [Outcome.Unverified]: "unverified" };
const NO_PREDICTION: AgentRoundReport["predicted"] = { localTrainingSeconds: 0, aggregationSeconds: 0, transmissionSeconds: 0, blockBroadcastSeconds: 0, blockValidationSeconds: 0, totalSeconds: 0 };

/** How a phase ended: its work done, or failed and reported (void: done). */
type PhaseOutcome = "done" | "failed" | void;

/** What the phases of one round hand each other. */
interface RoundContext {
  round: number;
  /** The submission deadline (chain seconds). */
  deadline: number;
  openedAt: number;
  openedBlock: number | "latest";
  /** The global model the round trains from. */
  globalCid: string;
  state?: SlotState;
  allocation?: Allocation;
  /** Users whose twins this BS hosts in the joint action. */
  mine: number[];
  /** What the round submits: nothing, a submission already on chain, or a model trained now. */
  plan: "none" | "submitted" | "train";
  twinModels: (TwinModel & { cid?: string })[];
  model?: ModelUpdate;
  report: AgentRoundReport;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ZERO_HASH = "0x" + "0".repeat(64);

export class BsAgent {
  private chainRecords?: ChainRecords;
  private globalChecker?: GlobalChecker;
  private readonly joint: JointActionReader;

  constructor(readonly ctx: AgentContext) {
    this.joint = new JointActionReader({ protocol: ctx.protocol, world: ctx.world, bsAddresses: ctx.bsAddresses, twinIds: ctx.twinIds, rule: ctx.policy, proposalWindowSeconds: ctx.settings.proposalWindowSeconds, pollMs: ctx.settings.pollMs });
  }

  /** The chain's records as an auditor reads them (events through this agent's provider). */
  private records(): ChainRecords {
    const { rounds, ledger, twins } = this.ctx.protocol;
    const provider = rounds.runner?.provider;
    if (!provider) throw new Error("the agent's signer has no provider to read the chain's events with");
    this.chainRecords ??= new ChainRecords(new LiveChainSource(provider), {
      contracts: {
        TrainingRounds: { address: rounds.target as string, abi: TrainingRounds__factory.abi },
        AssociationLedger: { address: ledger.target as string, abi: AssociationLedger__factory.abi },
        TwinRegistry: { address: twins.target as string, abi: TwinRegistry__factory.abi },
      },
    });
    return this.chainRecords;
  }

  /** Model blobs from this BS's store, else from the MBS's and the other BSs' IPFS nodes (addresses on chain). */
  private modelSource(): ModelSource {
    const { store, protocol, settings, mbsPeers } = this.ctx;
    return {
      get: async (cid) => {
        try {
          if (await store.has(cid)) return await store.cat(cid, { timeoutMs: settings.fetchTimeoutMs });
          for (const peer of [...mbsPeers, ...(await Promise.all(this.ctx.bsAddresses.map(async (a) => (await protocol.registry.metadataOf(a)).ipfsPeerAddress)))]) {
            await store.dial?.(peer).catch(() => undefined);
          }
          return await store.cat(cid, { timeoutMs: settings.fetchTimeoutMs });
        } catch {
          return undefined;
        }
      },
    };
  }

  /**
   * Step 8: wait for the MBS's record of round `round`'s global model, recompute it (Eq. 5, with the MBS's settings,
   * of the round's passed models with their on-chain weights) and attest it on chain if it matches, dispute it if it
   * does not; abstain when it cannot be checked (models unavailable). The next round opens only from an attested
   * model. A round with no passed model keeps its global model (the chain checks that): nothing to attest.
   */
  private async attestGlobal(round: number, report: AgentRoundReport, resumed: string[]): Promise<void> {
    const { rounds } = this.ctx.protocol;
    const how = this.ctx.settings.globalCheck;
    const t = Date.now();
    while (Number((await rounds.getRound(round)).status) !== RoundStatus.Finalized) {
      if (Date.now() - t > 600_000) throw new Error(`BS ${this.ctx.index}: the MBS recorded no global model for round ${round} within 600 s.`);
      await sleep(this.ctx.settings.pollMs);
    }
    if (Number((await rounds.getRound(round)).passed) === 0) return;
    const said = Number(await rounds.attestation(round, this.ctx.address));
    if (said !== Attestation.None) {
      resumed.push("attest");
      report.attestation = said === Attestation.Agrees ? "agrees" : "disputes";
      return;
    }
    const t0 = performance.now();
    try {
      if (!how) throw new Error("the agent was not told how the MBS aggregates (settings.globalCheck)");
      const records = this.records();
      const [record] = await records.rounds(round);
      if (!record) throw new Error(`round ${round} is not on chain`);
      this.globalChecker ??= new GlobalChecker(records, this.modelSource(), how);
      const c = await this.globalChecker.check(record);
      report.globalCheck = c.status;
      if (c.status !== "match") {
        report.globalCheckDetail = c.maxAbsDiff !== undefined ? `max |diff| ${c.maxAbsDiff.toExponential(1)}` : c.reason;
        this.ctx.log(`BS ${this.ctx.index}: the global model of round ${round} (${record.newGlobalCid}) is ${c.status === "mismatch" ? "NOT Eq. 5 of the round's passed models" : "not checkable"}: ${report.globalCheckDetail ?? ""}`);
      }
    } catch (e) {
      report.globalCheck = "unavailable";
      report.globalCheckDetail = (e as Error).message.split("\n")[0];
    } finally {
      report.globalCheckSeconds = (performance.now() - t0) / 1000;
    }
    if (report.globalCheck === "unavailable") return; // neither attest nor dispute what it could not check
    const agrees = report.globalCheck === "match";
    await (await rounds.attestGlobalModel(round, agrees)).wait();
    report.attestation = agrees ? "agrees" : "disputes";
  }

  /**
   * This BS's twin model records of round `round` on chain whose weights are in its store (a restarted agent reuses
   * them instead of training those twins again, so its BS model stays Eq. 4 of what it recorded), by twin id.
   */
  private async recordedTwinModels(round: number): Promise<Map<number, { cid: string; weights: WeightTensor[] }>> {
    const out = new Map<number, { cid: string; weights: WeightTensor[] }>();
    for (const [twinId, rec] of await this.records().twinModels(round, this.ctx.address)) {
      try {
        if (await this.ctx.store.has(rec.cid)) out.set(twinId, { cid: rec.cid, weights: (await getWeights(this.ctx.store, rec.cid, this.ctx.arch)).weights });
      } catch {
        // not usable: that twin trains again and is recorded again (the later record counts)
      }
    }
    return out;
  }

  /**
   * Step 5's twin model records: put the twin models not recorded yet in IPFS and record their CIDs for round
   * `round` in batches of {@link TWIN_RECORDS_PER_TX}. Returns how many twin model records the round has on chain.
   */
  private async recordTwinModels(round: number, twins: readonly (TwinModel & { cid?: string })[], resumed: string[]): Promise<number> {
    const todo: { twinId: number; cid: string }[] = [];
    for (const t of [...twins].sort((a, b) => a.twinId - b.twinId)) {
      if (t.cid === undefined) todo.push({ twinId: t.twinId, cid: await putWeights(this.ctx.store, this.ctx.arch, t.weights) });
    }
    if (todo.length === 0 && twins.length > 0) resumed.push("record");
    for (let k = 0; k < todo.length; k += TWIN_RECORDS_PER_TX) {
      const batch = todo.slice(k, k + TWIN_RECORDS_PER_TX);
      await (await this.ctx.protocol.twins.recordTwinModels(round, batch.map((b) => b.twinId), batch.map((b) => cidToDigest(b.cid)))).wait();
    }
    return twins.length;
  }

  get malicious(): boolean {
    return this.ctx.settings.attack !== undefined;
  }

  /** Register this BS's IPFS address on chain (peers find its node there); keeps CPU and position. */
  async announcePeer(multiaddr: string): Promise<void> {
    const { registry } = this.ctx.protocol;
    const meta = await registry.metadataOf(this.ctx.address);
    if (meta.ipfsPeerAddress === multiaddr) return;
    await (await registry.registerMetadata(meta.cpuFrequencyHz, meta.xMetres, meta.yMetres, multiaddr)).wait();
  }

  /** Wait until round `round` is open (or later), polling the chain. */
  async awaitRound(round: number, timeoutMs = 600_000): Promise<void> {
    const t0 = Date.now();
    while (Number(await this.ctx.protocol.rounds.currentRound()) < round) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`BS ${this.ctx.index}: round ${round} did not open within ${timeoutMs / 1000} s.`);
      await sleep(this.ctx.settings.pollMs);
    }
  }

  /** s(t) as every agent rebuilds it (src/agents/jointAction.ts). */
  observe(slot: number, blockTag: number | "latest" = "latest"): Promise<SlotState> {
    return this.joint.observe(slot, blockTag);
  }

  /** Run round `round` to its settlement: its phases in order (Fig. 2), each timed, then the fault hook. */
  async runRound(round: number): Promise<AgentRoundReport> {
    const rc = await this.beginRound(round);
    for (const phase of AGENT_PHASES) {
      if (!this.phaseRuns(phase, rc)) continue;
      const t0 = performance.now();
      let outcome: PhaseOutcome;
      try {
        outcome = await this.phases[phase](rc);
      } finally {
        rc.report.measured[phase] += (performance.now() - t0) / 1000;
      }
      // Fault hook: an injected crash right after this phase, when it did its work (the agent's process would be
      // gone here); a phase that failed and reported why is not followed by the crash.
      if (outcome === "failed") continue;
      const crash = this.ctx.settings.crash;
      if (crash?.round === round && crash.after === phase) throw new AgentCrashed(this.ctx.index, round, phase);
    }
    return rc.report;
  }

  /** One method per phase of a round, in the order of {@link AGENT_PHASES}. */
  private readonly phases: Record<AgentPhase, (rc: RoundContext) => Promise<PhaseOutcome>> = {
    observe: (rc) => this.observePhase(rc),
    act: (rc) => this.actPhase(rc),
    sync: (rc) => this.syncPhase(rc),
    train: (rc) => this.trainPhase(rc),
    upload: (rc) => this.uploadPhase(rc),
    verify: (rc) => this.verify(rc.round, rc.globalCid, rc.report),
    collect: (rc) => this.collectPhase(rc),
    attest: (rc) => this.attestGlobal(rc.round, rc.report, rc.report.resumed),
  };

  /** Whether a phase has work this round: training and upload only when this BS has a model to submit. */
  private phaseRuns(phase: AgentPhase, rc: RoundContext): boolean {
    if (phase === "train") return rc.plan === "train";
    if (phase === "upload") return rc.plan === "train" && rc.model !== undefined;
    return true;
  }

  /** Wait for round `round` to open and read what every phase starts from: its deadline, opening and global model. */
  private async beginRound(round: number): Promise<RoundContext> {
    await this.awaitRound(round);
    const info = await this.ctx.protocol.rounds.getRound(round);
    const { openedAt, openedBlock } = await this.joint.opening(round);
    const measured = Object.fromEntries(AGENT_PHASES.map((p) => [p, 0])) as PhaseSeconds;
    const report: AgentRoundReport = {
      round, bs: this.ctx.index, address: this.ctx.address, malicious: this.malicious, twins: 0, samples: 0, meanBatch: 0, movedIn: 0, submitted: false,
      resumed: [], measured, predicted: NO_PREDICTION, verdicts: [], outcome: "none", coins: "0", weightSamples: 0,
    };
    return { round, deadline: Number(info.deadline), openedAt, openedBlock, globalCid: bytesToCid(info.globalCid), mine: [], plan: "none", twinModels: [], report };
  }

  /** A step of the round that could not be done: reported (and logged), the round goes on. */
  private skip(rc: RoundContext, reason: string): void {
    rc.report.skipped = reason;
    this.ctx.log(`BS ${this.ctx.index}: round ${rc.round}: ${reason}`);
  }

  /** 1. observe: s(t) rebuilt from the chain as of the round's opening block. */
  private async observePhase(rc: RoundContext): Promise<void> {
    rc.state = await this.observe(rc.round, rc.openedBlock);
  }

  /**
   * 2. act: propose, wait for the peers (or the cutoff), decode the joint action and commit this BS's part, with the
   * consent of each user whose twin moves here (its device checks the move against the same joint action). Then the
   * model's prediction of this BS's time (Eqs. 12-16) for the joint action.
   */
  private async actPhase(rc: RoundContext): Promise<PhaseOutcome> {
    const state = this.stateOf(rc);
    const { protocol, index, world } = this.ctx;
    let allocation: Allocation;
    let failed = false;
    try {
      allocation = await this.act(rc.round, rc.openedAt, state, rc.report.resumed);
    } catch (e) {
      this.ctx.log(`BS ${index}: action for slot ${rc.round} failed: ${describeRevert(protocol, e)}`);
      allocation = { association: state.association.map(() => -1), batchSize: state.dataSamples.map(() => 0), tau: [] };
      failed = true;
    }
    rc.allocation = allocation;
    rc.mine = allocation.association.flatMap((bs, n) => (bs === index ? [n] : []));
    const samples = rc.mine.reduce((s, n) => s + world.userData[n].length, 0);
    Object.assign(rc.report, {
      twins: rc.mine.length,
      samples,
      meanBatch: rc.mine.length ? rc.mine.reduce((s, n) => s + allocation.batchSize[n] * world.userData[n].length, 0) / Math.max(1, samples) : 0,
    });
    try {
      const c = timeCost(world.scenario, state, allocation).perBs[index];
      rc.report.predicted = { localTrainingSeconds: c.localTrainingSeconds, aggregationSeconds: c.aggregationSeconds, transmissionSeconds: c.transmissionSeconds, blockBroadcastSeconds: c.blockBroadcastSeconds, blockValidationSeconds: c.blockValidationSeconds, totalSeconds: c.totalSeconds };
    } catch {
      // an allocation the model cannot price (e.g. no action): no prediction
    }
    return failed ? "failed" : "done";
  }

  /** Propose, decide and commit (step 2's chain part). */
  private async act(round: number, openedAt: number, state: SlotState, resumed: string[]): Promise<Allocation> {
    const { protocol, policy, index, address } = this.ctx;
    const { ledger } = protocol;
    if (policy.proposes) {
      if (await ledger.hasProposed(round, address)) resumed.push("propose");
      else await (await ledger.proposeAction(round, encodeRawAction(policy.propose(state, index)))).wait();
    }
    const allocation = await this.joint.decide(round, state, openedAt);
    // in the order of the action's twin entries (ascending twin id), which the consents must follow
    const mine = allocation.association.flatMap((bs, n) => (bs === index ? [n] : [])).sort((a, b) => this.ctx.twinIds[a] - this.ctx.twinIds[b]);
    if (mine.length === 0) return allocation;
    if ((await ledger.actionHash(round, address)) !== ZERO_HASH) {
      resumed.push("commit");
      return allocation;
    }
    const consents: (string | undefined)[] = [];
    for (const n of mine) consents.push(state.association[n] === index ? undefined : await this.ctx.devices.moveConsent(n, address, round));
    const enc = encodeAction({ twins: mine.map((n) => ({ twinId: this.ctx.twinIds[n], batchSize: allocation.batchSize[n] })), tau: floorTau(allocation.tau[index]) });
    await (await ledger.commitAction(round, enc.twins, enc.tau, packConsents(consents))).wait();
    return allocation;
  }

  /**
   * 3. sync: twins that moved here bring their data (a digital-twin data record each). Then what this round
   * submits: nothing (no twins, or the round closed while this BS was down), a submission found on chain already
   * (a restarted agent), or a model to train.
   */
  private async syncPhase(rc: RoundContext): Promise<void> {
    const { protocol, index, address, world, settings, twinIds } = this.ctx;
    const state = this.stateOf(rc);
    for (const n of rc.mine) {
      if (state.association[n] === index) continue;
      const id = twinIds[n];
      const t = await protocol.twins.twin(id);
      if (Number(t.dataVersion) > 0 && t.bs.toLowerCase() === address.toLowerCase() && (await this.syncedHere(id, rc.round))) continue;
      await this.recordData(n, world.userData[n].length, rc.round);
      rc.report.movedIn++;
    }
    if (settings.attack === "inflate-data") rc.report.attackNotes = await this.inflateData(rc.mine, rc.round);
    if (rc.report.attackNotes?.length === 0) delete rc.report.attackNotes;
    rc.report.weightSamples = Number((await protocol.ledger.committedAction(rc.round, address)).dataSize);
    const existing = await protocol.rounds.submission(rc.round, address);
    if (existing.exists) {
      rc.report.resumed.push("submit");
      rc.report.submitted = true;
      rc.report.cid = bytesToCid(existing.cid);
      rc.plan = "submitted";
    } else if (rc.mine.length === 0) {
      this.skip(rc, "no twins in the joint action");
    } else if (!(await this.openForSubmissions(rc.round))) {
      this.skip(rc, `round ${rc.round} closed to submissions while this BS was down`);
    } else {
      rc.plan = "train";
    }
  }

  /**
   * 4. train: its twins from the global model (weights from IPFS) with their batch sizes, reusing twin models it
   * recorded before a restart, then Eq. 4 in the canonical order over exactly the twin models it records.
   */
  private async trainPhase(rc: RoundContext): Promise<PhaseOutcome> {
    const { world, settings, index, twinIds } = this.ctx;
    const allocation = rc.allocation as Allocation;
    try {
      const global = await fetchWeights(this.ctx.store, rc.globalCid, this.ctx.arch, this.ctx.mbsPeers, settings.fetchTimeoutMs);
      const recorded = await this.recordedTwinModels(rc.round);
      const jobs = rc.mine.filter((n) => !recorded.has(twinIds[n])).map((n) => ({ twin: n, bs: index, indices: world.userData[n], batchSize: allocation.batchSize[n], seed: world.options.seed * 100_003 + rc.round * 1009 + n, steps: localStepsOf(world.userData[n].length, settings.localSteps) }));
      const tTrain = performance.now();
      const trained = await this.ctx.trainer.trainTwins(global, jobs, { learningRate: settings.learningRate, localEpochs: 1, localSteps: settings.localSteps, optimizer: settings.optimizer });
      rc.report.trainingSeconds = (rc.report.trainingSeconds ?? 0) + (performance.now() - tTrain) / 1000;
      rc.twinModels = [
        ...rc.mine.flatMap((n) => {
          const r = recorded.get(twinIds[n]);
          return r ? [{ twinId: twinIds[n], samples: world.userData[n].length, weights: r.weights, cid: r.cid }] : [];
        }),
        ...trained.map((t) => ({ twinId: twinIds[t.twin], samples: t.samples, weights: t.weights })),
      ];
      if (rc.twinModels.length === 0) throw new Error("training returned no model");
      const eq4 = canonicalBsModel(rc.twinModels); // what an auditor recomputes
      const model: ModelUpdate = { weights: eq4.weights, samples: eq4.samples, from: `BS ${index}` };
      rc.model = settings.attack && isModelAttack(settings.attack) ? { ...model, weights: attack(settings.attack, model.weights, global, mulberry32(rc.round * 7 + index)) } : model;
    } catch (e) {
      this.skip(rc, `training failed: ${(e as Error).message.split("\n")[0]}`);
      return "failed";
    }
    return "done";
  }

  /**
   * 5. upload: the digital-twin model records of the round (Eq. 4's inputs) first, then its BS model in IPFS and the
   * training model record (its CID; the chain weighs it by the K_i and D_i it recorded for the committed action).
   */
  private async uploadPhase(rc: RoundContext): Promise<PhaseOutcome> {
    const { protocol, settings } = this.ctx;
    const { rounds } = protocol;
    const model = rc.model as ModelUpdate;
    try {
      rc.report.twinModels = await this.recordTwinModels(rc.round, rc.twinModels, rc.report.resumed);
      rc.twinModels = [];
      const cid = await this.putSubmission(model);
      rc.report.cid = cid;
      if (settings.fault === "late") {
        // until a mined block is past the deadline (the MBS may have closed submissions early): then the chain
        // certainly refuses it, whatever the node's clock
        for (;;) {
          const deadline = Number((await rounds.getRound(rc.round)).deadline);
          if ((await protocol.clock.latest()) > deadline + 1) break;
          await sleep(settings.pollMs);
        }
      } else if (await protocol.clock.isPast(rc.deadline)) {
        throw new Error(`too late: the chain's clock is ${Math.round((await protocol.clock.now()) - rc.deadline)} s past round ${rc.round}'s deadline`);
      }
      await (await rounds.submitModel(rc.round, cidToBytes(cid))).wait();
      rc.report.submitted = true;
    } catch (e) {
      this.skip(rc, `submission refused: ${describeRevert(protocol, e)}`);
      return "failed";
    }
    return "done";
  }

  /** Its BS model in IPFS, or (fault injection) the CID of bytes never stored, or weights of another architecture. */
  private async putSubmission(model: ModelUpdate): Promise<string> {
    const { fault } = this.ctx.settings;
    if (fault === "unknown-cid") return cidOf(encodeWeights(this.ctx.arch, model.weights).subarray(0, 4096));
    if (fault === "wrong-shape") return putWeights(this.ctx.store, `${this.ctx.arch}-wrong`, model.weights.slice(0, 2) as WeightTensor[]);
    return putWeights(this.ctx.store, this.ctx.arch, model.weights as WeightTensor[]);
  }

  /** 7. collect: wait for the settlement, read its model's outcome and its stake, and vote for block producers. */
  private async collectPhase(rc: RoundContext): Promise<void> {
    const { protocol, address, settings } = this.ctx;
    const { rounds } = protocol;
    while (Number((await rounds.getRound(rc.round)).status) === RoundStatus.Open) await sleep(settings.pollMs);
    const s = await rounds.submission(rc.round, address);
    rc.report.outcome = s.exists ? OUTCOME_NAMES[Number(s.outcome)] ?? "none" : "none";
    rc.report.coins = (await stakeOf(protocol, address)).toString();
    rc.report.votedFor = await this.vote(rc.round);
  }

  private stateOf(rc: RoundContext): SlotState {
    if (!rc.state) throw new Error(`BS ${this.ctx.index}: round ${rc.round} has no observed state`);
    return rc.state;
  }

  /**
   * Vote with its coins for the block producers (DPoS): approve, among the BSs whose model passed this round, the
   * ones with the most coins, as many as there are producer places. A BS whose model failed loses this BS's approval.
   * Only sends a vote when the approvals change. Returns the approved BS indices.
   */
  private async vote(round: number): Promise<number[]> {
    const { protocol, address, bsAddresses } = this.ctx;
    const { rounds, election } = protocol;
    const passed: { bs: string; coins: bigint }[] = [];
    for (const bs of await rounds.submitters(round)) {
      if (Number((await rounds.submission(round, bs)).outcome) === Outcome.Passed) passed.push({ bs, coins: await stakeOf(protocol, bs) });
    }
    if (passed.length === 0) return [];
    const places = Number(await election.producersPerEpoch());
    const candidates = new Set((await election.candidates()).map((c) => c.toLowerCase()));
    const approved = passed
      .filter((p) => candidates.has(p.bs.toLowerCase()))
      .sort((a, b) => (b.coins > a.coins ? 1 : b.coins < a.coins ? -1 : 0))
      .slice(0, places)
      .map((p) => p.bs);
    const current = await election.approvalsOf(address);
    const same = current.length === approved.length && approved.every((a) => current.some((c) => c.toLowerCase() === a.toLowerCase()));
    if (!same && approved.length > 0) {
      try {
        await (await election.vote(approved)).wait();
      } catch (e) {
        this.ctx.log(`BS ${this.ctx.index}: vote refused: ${describeRevert(protocol, e)}`);
      }
    }
    const index = new Map(bsAddresses.map((a, i) => [a.toLowerCase(), i]));
    return approved.map((a) => index.get(a.toLowerCase()) ?? -1);
  }

  /**
   * A digital-twin data record of user n's twin here, `dataSize` samples (its true size unless attacking), with the
   * consent its device gives (it signs only its own data).
   */
  private async recordData(n: number, dataSize: number, round: number): Promise<void> {
    const { protocol, world, twinIds, address, devices } = this.ctx;
    const id = twinIds[n];
    const record = { twinId: id, bs: address, dataSize, dataCommitment: dataCommitmentOf(world, n), state: keccak256(solidityPacked(["uint256", "uint256"], [id, round])), version: (await protocol.twins.twin(id)).dataVersion + 1n };
    const consent = await devices.dataConsent(n, record);
    await (await protocol.twins.recordTwinData(id, dataSize, record.dataCommitment, record.state, consent)).wait();
  }

  /**
   * Attack "inflate-data": record each of its twins' data as 1000x its size. The device refuses to sign a size that
   * is not its data; the attacker then sends the record with the consent the device gave for the true size, which
   * the chain refuses (the signature covers the size); where 1000x is above the chain's bound, the bound is tried
   * too. Returns what was tried and the answers.
   */
  private async inflateData(mine: readonly number[], round: number): Promise<string[]> {
    const { protocol, world, twinIds, address, devices } = this.ctx;
    const max = Number(await protocol.twins.maxDataSize());
    const notes: string[] = [];
    for (const n of mine) {
      const id = twinIds[n];
      const size = world.userData[n].length;
      const claim = size * INFLATE_FACTOR;
      const record = { twinId: id, bs: address, dataSize: claim, dataCommitment: dataCommitmentOf(world, n), state: keccak256(solidityPacked(["uint256", "uint256", "string"], [id, round, "inflated"])), version: (await protocol.twins.twin(id)).dataVersion + 1n };
      let refusedByDevice = "";
      try {
        const consent = await devices.dataConsent(n, record);
        await (await protocol.twins.recordTwinData(id, claim, record.dataCommitment, record.state, consent)).wait();
        notes.push(`twin ${id}: ${claim} samples recorded (true ${size})`);
        continue;
      } catch (e) {
        if (!(e instanceof DeviceRefused)) throw e;
        refusedByDevice = e.message;
      }
      const honest = await devices.dataConsent(n, { ...record, dataSize: size });
      const answers: string[] = [];
      for (const tried of claim > max ? [claim, max] : [claim]) {
        try {
          await (await protocol.twins.recordTwinData(id, tried, record.dataCommitment, record.state, honest)).wait();
          answers.push(`${tried} recorded`);
          break;
        } catch (e) {
          answers.push(`${tried} refused: ${describeRevert(protocol, e)}`);
        }
      }
      notes.push(`twin ${id} (true ${size}): the device refused ${claim} samples (${refusedByDevice}); under the consent to ${size} the chain answered ${answers.join("; ")}`);
    }
    return notes;
  }

  /** Whether round `round` still takes submissions: open (not closed early by the MBS) and before its deadline. */
  private async openForSubmissions(round: number): Promise<boolean> {
    const r = await this.ctx.protocol.rounds.getRound(round);
    return Number(r.status) === RoundStatus.Open && !(await this.ctx.protocol.clock.isPast(Number(r.deadline)));
  }

  /** Whether this BS already recorded twin `id`'s data in this round (a restarted agent). */
  private async syncedHere(id: number, round: number): Promise<boolean> {
    const t = await this.ctx.protocol.twins.twin(id);
    return t.state === keccak256(solidityPacked(["uint256", "uint256"], [id, round]));
  }

  /**
   * Step 6: wait for the submissions (all BSs that committed an action, or the deadline), score every other BS's
   * model, commit the ballot (one verdict per model) once submissions are closed, and reveal it once the chain opens
   * reveals (every member committed, or the commit window ended). A restarted agent recomputes the same ballot (the
   * scores are deterministic and the salt is a deterministic signature) and reveals what it committed.
   */
  private async verify(round: number, globalCid: string, report: AgentRoundReport): Promise<void> {
    const { protocol, address, settings, index, bsAddresses, signer } = this.ctx;
    const { rounds, ledger } = protocol;
    const me = address.toLowerCase();
    let r = await rounds.getRound(round);
    for (;;) {
      const submitted = new Set((await rounds.submitters(round)).map((a) => a.toLowerCase()));
      const committed = (await ledger.queryFilter(ledger.filters.ActionCommitted(round))).map((e) => e.args.bs.toLowerCase());
      r = await rounds.getRound(round); // the MBS may close submissions early
      if ((await protocol.clock.isPast(Number(r.deadline))) || committed.every((a) => submitted.has(a))) break;
      await sleep(settings.pollMs);
    }
    const mine = await rounds.ballot(round, address);
    if (mine.revealed) {
      report.resumed.push("reveal");
      return;
    }
    const isCommitted = mine.commitment !== ZERO_HASH;
    if (!isCommitted && (await protocol.clock.isPast(Number(r.commitUntil)))) return;

    // Score the models (fetch failures fail a model), wait for the deadline, and score again if a late model came in.
    let subs = [...(await rounds.submitters(round))];
    let scored = await this.score(round, globalCid, subs);
    while (!(await protocol.clock.isPast(Number((await rounds.getRound(round)).deadline)))) await sleep(settings.pollMs);
    const final = [...(await rounds.submitters(round))];
    if (final.length !== subs.length) {
      // only the models that came in meanwhile: the others' scores stand
      subs = final;
      scored = await this.score(round, globalCid, subs, scored);
    }
    // A model whose twin models could not be fetched is fetched again until half the commit window is gone: a BS
    // that crashed right after submitting (or whose node was briefly unreachable) is not failed for the seconds its
    // node was down, and a BS withholding its data still fails, with half the window left for the ballots.
    r = await rounds.getRound(round);
    const retryUntil = Number(r.deadline) + Math.floor((Number(r.commitUntil) - Number(r.deadline)) / 2);
    while ([...scored.values()].some((v) => v.unavailable) && !(await protocol.clock.isPast(retryUntil))) {
      await sleep(Math.max(2_000, settings.pollMs));
      scored = await this.score(round, globalCid, subs, scored);
    }
    const salt = await ballotSalt(signer, await rounds.getAddress(), round);
    // Attack "collude": pass the colluders' models and fail every other, whatever the scores say.
    const colluders = new Set((settings.attack === "collude" ? settings.colluders ?? [index] : []).map((i) => bsAddresses[i]?.toLowerCase()));
    const pass = (bs: string) => (colluders.size > 0 ? colluders.has(bs.toLowerCase()) : scored.get(bs)?.pass === true);
    const ballot: Ballot = {
      verdicts: subs.map((bs) => (bs.toLowerCase() === me ? VERDICT.abstain : pass(bs) ? VERDICT.pass : VERDICT.fail)),
      scores: subs.map((bs) => (bs.toLowerCase() === me ? 0 : Math.round((scored.get(bs)?.accuracy ?? 0) * 10_000))),
      salt,
    };
    const commitment = ballotCommitment(round, address, ballot);
    const indexOf = new Map(bsAddresses.map((a, i) => [a.toLowerCase(), i]));
    try {
      if (isCommitted) {
        report.resumed.push("commit verdicts");
        if (mine.commitment !== commitment) throw new Error("the recomputed ballot differs from the one committed before the restart; it cannot be revealed");
      } else {
        await this.retryWhile(/SubmissionsStillOpen/, () => rounds.commitVerdicts(round, commitment)); // the chain's clock may lag ours
      }
      // Reveal once the chain accepts reveals (every member committed, or the commit window is over).
      for (;;) {
        if (await rounds.acceptsReveals(round)) break;
        if (await protocol.clock.isPast(Number((await rounds.getRound(round)).revealUntil))) throw new Error("the reveal window closed before reveals opened");
        await sleep(settings.pollMs);
      }
      await (await rounds.revealVerdicts(round, ballot.verdicts, ballot.scores, ballot.salt)).wait();
      for (const bs of subs) {
        const v = scored.get(bs);
        if (!v) continue;
        report.verdicts.push({ bs: indexOf.get(bs.toLowerCase()) ?? -1, pass: pass(bs), accuracy: v.accuracy, reference: v.reference, ...(v.error ? { error: v.error } : {}), ...(v.fetchSeconds !== undefined ? { fetchSeconds: v.fetchSeconds } : {}) });
      }
    } catch (e) {
      this.ctx.log(`BS ${index}: verdicts of round ${round} refused: ${describeRevert(protocol, e)}`);
    }
  }

  /**
   * Fetch and score every model of `subs` but this BS's own on its held-out data: verdict, accuracy, reference.
   * A BS's model is not fetched but recomputed: its K_i twin models (the digital-twin model records of the round,
   * fetched from that BS's IPFS node) aggregated by Eq. 4 must give the CID it submitted, else it fails unscored.
   * Attack stopped: a BS submitting a model that is not the aggregate of the twin models it recorded (a model trained
   * on other data, or poisoned after aggregation), which the accuracy test alone may let through. These are also the
   * bytes Eq. 15 prices: K_i models per verifier on the BS's uplink. All BSs are fetched from at once.
   */
  private async score(round: number, globalCid: string, subs: readonly string[], known?: ReadonlyMap<string, Score>): Promise<Map<string, Score>> {
    const { protocol, address, settings, index, world, store } = this.ctx;
    const others = subs.filter((a) => a.toLowerCase() !== address.toLowerCase());
    const out = new Map<string, Score>();
    if (others.length === 0) return out;
    // `known`: an earlier scoring of this round; its models are kept unless their twin models were unavailable (the
    // reference, a median over the models, is recomputed over all of them and every model judged again)
    const kept = new Map([...(known ?? [])].filter(([bs, v]) => !v.unavailable && others.includes(bs)));
    const todo = others.filter((bs) => !kept.has(bs));
    const global = await fetchWeights(store, globalCid, this.ctx.arch, this.ctx.mbsPeers, settings.fetchTimeoutMs);
    const records = this.records();
    const [record] = await records.rounds(round);
    const fetched = await Promise.all(
      todo.map(async (bs): Promise<{ bs: string; weights?: WeightTensor[]; error?: string; unavailable?: true; fetchSeconds?: number }> => {
        try {
          const sub = record?.submissions.find((x) => x.bs.toLowerCase() === bs.toLowerCase());
          if (!record || !sub) throw new Error(`no submission of ${bs} in round ${round} among the chain's events`);
          const peer = (await protocol.registry.metadataOf(bs)).ipfsPeerAddress;
          // Fetch its twin models first (the transfer on its uplink, timed), then recompute Eq. 4 from the local copies.
          const twins = [...(await records.twinModels(round, bs, sub.at, record.openedAt)).values()];
          const t = performance.now();
          // One model at a time from each BS (the BSs in parallel): K_i transfers at once from every peer (80 at the
          // demo's scale, in every verifier) starved each other past the fetch timeout, and honest models failed. The
          // first model that cannot be fetched ends it: the model fails without it (it is fetched again later).
          const missing = new Set<string>();
          for (const tw of twins) {
            if (await fetchBlob(store, tw.cid, [peer], settings.fetchTimeoutMs).then(() => false, () => true)) {
              missing.add(tw.cid);
              break;
            }
          }
          const fetchSeconds = (performance.now() - t) / 1000;
          // Its twin models from its node; the submitted model itself is not fetched (on a mismatch it stays unread),
          // unless it is one of them: with K_i = 1, Eq. 4 of one twin model is that model, and so is its CID.
          const twinCids = new Set(twins.map((tw) => tw.cid));
          const source: ModelSource = { get: async (cid) => ((cid === sub.cid && !twinCids.has(cid)) || missing.has(cid) ? undefined : fetchBlob(store, cid, [peer], settings.fetchTimeoutMs).catch(() => undefined)) };
          const { check, weights } = await recomputeBsModel(records, source, sub, record.openedAt);
          if (check.status === "unavailable") return { bs, error: `its twin models could not be fetched: ${check.reason ?? ""}`, unavailable: true, fetchSeconds };
          if (check.status === "mismatch" || !weights) return { bs, error: `not Eq. 4 of its twin model records: ${check.maxAbsDiff !== undefined ? `max |diff| ${check.maxAbsDiff.toExponential(1)}` : check.reason ?? ""}`, fetchSeconds };
          if (!sameShapes(weights, global)) return { bs, error: `its twin models are not weights of ${this.ctx.arch}`, fetchSeconds };
          // The submitted model, by its CID, in this store: the global model's check (Eq. 5) reads it from here.
          if ((await putWeights(store, this.ctx.arch, weights)) !== sub.cid) return { bs, error: `its twin models are not weights of ${this.ctx.arch}`, fetchSeconds };
          return { bs, weights, fetchSeconds };
        } catch (e) {
          return { bs, error: (e as Error).message.split("\n")[0] };
        }
      }),
    );
    const scoredModels = fetched.filter((f) => f.weights);
    const held = world.heldOut[index];
    const results = await this.ctx.trainer.evaluate(
      [global, ...scoredModels.map((f) => f.weights as WeightTensor[])],
      [0, ...scoredModels.map((_, k) => k + 1)].map((model) => ({ model, split: "train" as const, indices: held })),
    );
    const accuracyOf = new Map(scoredModels.map((f, k) => [f.bs, results[k + 1].accuracy]));
    for (const [bs, v] of kept) if (!v.error) accuracyOf.set(bs, v.accuracy);
    const reference = referenceAccuracy(results[0].accuracy, [...accuracyOf.values()]);
    for (const [bs, v] of kept) out.set(bs, { ...v, pass: v.error ? false : judge(v.accuracy, reference, settings.maxDrop).accepted, reference });
    for (const f of fetched) {
      const accuracy = accuracyOf.get(f.bs) ?? 0;
      out.set(f.bs, { pass: f.error ? false : judge(accuracy, reference, settings.maxDrop).accepted, accuracy, reference, ...(f.error ? { error: f.error } : {}), ...(f.unavailable ? { unavailable: true as const } : {}), ...(f.fetchSeconds !== undefined ? { fetchSeconds: f.fetchSeconds } : {}) });
    }
    return out;
  }

  /** Send a transaction, retrying for a few seconds while it reverts with an error matching `pattern` (clock skew). */
  private async retryWhile(pattern: RegExp, send: () => Promise<{ wait(): Promise<unknown> }>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await (await send()).wait();
        return;
      } catch (e) {
        if (attempt >= 20 || !pattern.test(describeRevert(this.ctx.protocol, e))) throw e;
        await sleep(Math.max(250, this.ctx.settings.pollMs));
      }
    }
  }
}

/** A verifier's score of one BS's model; `unavailable` when its twin models could not be fetched (fetched again later). */
interface Score {
  pass: boolean;
  accuracy: number;
  reference: number;
  error?: string;
  unavailable?: true;
  fetchSeconds?: number;
}

/** Whether two models have the same tensor shapes, in order. */
function sameShapes(a: readonly WeightTensor[], b: readonly WeightTensor[]): boolean {
  return a.length === b.length && a.every((t, k) => t.shape.length === b[k].shape.length && t.shape.every((d, j) => d === b[k].shape[j]));
}
