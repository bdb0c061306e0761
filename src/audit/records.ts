/**
 * The protocol's records as an auditor reads them from the chain's events ({@link ChainSource}), decoded with the
 * deployment's own ABIs:
 * - TrainingRounds: RoundOpened (the round's global model), ModelSubmitted (a BS model and its Eq. 5 weight),
 *   GlobalModelRecorded (the new global model and the BSs it aggregated);
 * - AssociationLedger: ActionCommitted / ActionWeighed (the twins of a BS's action in slot t = round t, K_i and D_i);
 * - TwinRegistry: TwinDataRecorded (a twin's data size), TwinModelsRecorded (the twin models a BS recorded for a
 *   round: one record of the log per batch, the twins and their CIDs' digests in the event).
 */
import { Interface, getBytes, toBeHex, zeroPadValue, type LogDescription } from "ethers";
import { bytesToCid, digestToCid } from "../chain/cid";
import type { ContractName, Deployment } from "../chain/deployment";
import { compareLogs, type ChainLogEntry, type ChainSource } from "./chainSource";

/** Where a record is on chain. */
export interface Position {
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
}

export interface SubmissionRecord {
  round: number;
  bs: string;
  cid: string;
  /** D_m: the chain's weight of the model in Eq. 5 (the committed action's data). */
  dataSize: number;
  numTwins: number;
  at: Position;
}

export interface RoundRecord {
  round: number;
  /** The global model the round trained from. */
  globalCid: string;
  openedAt: Position;
  submissions: SubmissionRecord[];
  /** Set once the MBS recorded the round's new global model. */
  newGlobalCid?: string;
  /** The BSs whose models the MBS aggregated, ascending by address (as recorded). */
  aggregated?: string[];
  finalizedAt?: Position;
}

export interface ActionRecord {
  round: number;
  bs: string;
  /** Twin ids of the committed action, ascending. */
  twinIds: number[];
  numTwins: number;
  dataSize: number;
  at: Position;
}

export interface TwinModelRecord {
  twinId: number;
  cid: string;
  /** The record of the log that commits to its batch (TwinModelsRecorded.recordIndex). */
  recordIndex: number;
  at: Position;
}

const position = (l: ChainLogEntry): Position => ({ blockNumber: l.blockNumber, logIndex: l.logIndex, transactionHash: l.transactionHash });
const uintTopic = (n: number | bigint) => toBeHex(n, 32);
const addressTopic = (a: string) => zeroPadValue(a.toLowerCase(), 32);

/** Whether `a` is before `b` in chain order. */
export function before(a: Position, b: Position): boolean {
  return compareLogs(a, b) < 0;
}

/** The twin ids of an AssociationLedger action encoding (6 bytes per twin: uint32 id | uint16 batch size). */
export function decodeActionTwins(hex: string): number[] {
  const bytes = getBytes(hex);
  if (bytes.length % 6 !== 0) throw new Error(`an action's twins take 6 bytes each; got ${bytes.length} bytes.`);
  const ids: number[] = [];
  for (let o = 0; o < bytes.length; o += 6) ids.push(((bytes[o] << 24) >>> 0) + (bytes[o + 1] << 16) + (bytes[o + 2] << 8) + bytes[o + 3]);
  return ids;
}

/** The contracts whose events are read: address and ABI (a deployment file's entries, or typechain interfaces). */
export type AuditedContracts = Partial<Record<ContractName, { address: string; abi: unknown }>>;

/** Reads and decodes the records of one deployment from a chain source. */
export class ChainRecords {
  private readonly interfaces = new Map<ContractName, Interface>();

  constructor(
    readonly chain: ChainSource,
    readonly deployment: { contracts: AuditedContracts } | Pick<Deployment, "contracts">,
  ) {}

  private contract(name: ContractName): { address: string; abi: unknown } {
    const c = (this.deployment.contracts as AuditedContracts)[name];
    if (!c) throw new Error(`ChainRecords: no ${name} contract given.`);
    return c;
  }

  private iface(name: ContractName): Interface {
    let i = this.interfaces.get(name);
    if (!i) {
      i = Interface.from(this.contract(name).abi as never);
      this.interfaces.set(name, i);
    }
    return i;
  }

  /** The logs of event `event` of contract `name` with the given indexed topics (after the event's own). */
  private async events(name: ContractName, event: string, topics: (string | readonly string[] | null)[] = []): Promise<{ log: ChainLogEntry; e: LogDescription }[]> {
    const iface = this.iface(name);
    const fragment = iface.getEvent(event);
    if (!fragment) throw new Error(`the deployment's ${name} has no event ${event}: it was deployed before \`dtwn audit\` existed (redeploy to audit it).`);
    const logs = await this.chain.logs({ address: this.contract(name).address, topics: [fragment.topicHash, ...topics] });
    return logs.map((log) => {
      const e = iface.parseLog({ topics: log.topics, data: log.data });
      if (!e) throw new Error(`a ${name} log at block ${log.blockNumber} does not decode as ${event}.`);
      return { log, e };
    });
  }

  /** Rounds `round` (or every round), in order, with their submissions and (when finalized) their new global model. */
  async rounds(round?: number): Promise<RoundRecord[]> {
    const t = round === undefined ? [] : [uintTopic(round)];
    const opened = await this.events("TrainingRounds", "RoundOpened", t);
    const submitted = await this.events("TrainingRounds", "ModelSubmitted", t);
    const recorded = await this.events("TrainingRounds", "GlobalModelRecorded", t);
    const out = new Map<number, RoundRecord>();
    for (const { log, e } of opened) {
      const r = Number(e.args.round);
      out.set(r, { round: r, globalCid: bytesToCid(e.args.globalCid), openedAt: position(log), submissions: [] });
    }
    for (const { log, e } of submitted) {
      const r = out.get(Number(e.args.round));
      r?.submissions.push({ round: r.round, bs: e.args.bs, cid: bytesToCid(e.args.cid), dataSize: Number(e.args.dataSize), numTwins: Number(e.args.numTwins), at: position(log) });
    }
    for (const { log, e } of recorded) {
      const r = out.get(Number(e.args.round));
      if (!r) continue;
      r.newGlobalCid = bytesToCid(e.args.newGlobalCid);
      r.aggregated = [...(e.args.aggregated as string[])];
      r.finalizedAt = position(log);
    }
    return [...out.values()].sort((a, b) => a.round - b.round);
  }

  /** BS `bs`'s committed action of slot `round` (the twins of its Eq. 4), if it committed one. */
  async action(round: number, bs: string): Promise<ActionRecord | undefined> {
    const topics = [uintTopic(round), addressTopic(bs)];
    const [committed] = await this.events("AssociationLedger", "ActionCommitted", topics);
    const [weighed] = await this.events("AssociationLedger", "ActionWeighed", topics);
    if (!committed || !weighed) return undefined;
    return { round, bs, twinIds: decodeActionTwins(committed.e.args.twins), numTwins: Number(weighed.e.args.numTwins), dataSize: Number(weighed.e.args.dataSize), at: position(committed.log) };
  }

  /** Each twin's recorded data size D_j as of position `at` (its latest data record before it; 0 without one). */
  async dataSizes(twinIds: readonly number[], at: Position): Promise<Map<number, number>> {
    const sizes = new Map(twinIds.map((id) => [id, 0]));
    if (twinIds.length === 0) return sizes;
    for (const { log, e } of await this.events("TwinRegistry", "TwinDataRecorded", [twinIds.map(uintTopic)])) {
      if (before(position(log), at)) sizes.set(Number(e.args.twinId), Number(e.args.dataSize));
    }
    return sizes;
  }

  /**
   * The twin models BS `bs` recorded for round `round` (batches of TwinModelsRecorded(round, bs)), by twin: the
   * latest record of each twin, only records before `until` when given (e.g. the BS's submission of the round) and
   * after `since` (e.g. the opening of the round: a twin model of round r is trained from round r's global model).
   */
  async twinModels(round: number, bs: string, until?: Position, since?: Position): Promise<Map<number, TwinModelRecord>> {
    const batches = (await this.events("TwinRegistry", "TwinModelsRecorded", [uintTopic(round), addressTopic(bs)])).filter(({ log }) => (!until || before(position(log), until)) && (!since || before(since, position(log))));
    const out = new Map<number, TwinModelRecord>();
    for (const { log, e } of batches) {
      const twinIds = (e.args.twinIds as bigint[]).map(Number);
      const digests = e.args.modelDigests as string[];
      twinIds.forEach((twinId, k) => {
        const rec = { twinId, cid: digestToCid(digests[k]), recordIndex: Number(e.args.recordIndex), at: position(log) };
        const seen = out.get(twinId);
        if (!seen || before(seen.at, rec.at)) out.set(twinId, rec);
      });
    }
    return out;
  }
}
