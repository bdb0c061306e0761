/**
 * A BS's Delegated-Proof-of-Stake duties (Section II-C, Fig. 2), run on a timer next to its FL work:
 * - open the epoch's election when records wait to be packed and nobody has elected it yet (producers by
 *   coin-weighted approval votes);
 * - in its own slot, pack the next interval of records into a block (the Merkle root of their leaves), when there
 *   is one: a slot with no record waiting needs no block;
 * - validate the pending block of another producer of the epoch by recomputing that root from the records' events.
 * Every action first checks the chain, so a restarted agent neither proposes nor validates twice.
 */
import { BlockStatus } from "../chain/enums";
import type { JsonRpcProvider } from "ethers";
import { detectBlockTime } from "../chain/blockTime";
import { merkleRoot, recordLeaf } from "../chain/merkle";
import { describeRevert, type Protocol } from "../system/protocol";

/** Counters of what this BS did as a block producer. */
export interface DposStats {
  elections: number;
  proposed: number;
  validated: number;
  rejected: number;
  errors: string[];
}

/** The leaves of records [from, to) rebuilt from the RecordLog's events (never from its storage). */
export async function recordLeaves(p: Protocol, from: number, to: number): Promise<string[]> {
  if (to <= from) return [];
  const events = await p.recordLog.queryFilter(p.recordLog.filters.RecordAppended());
  const byIndex = new Map<number, string>();
  for (const e of events) {
    const index = Number(e.args.index);
    if (index >= from && index < to) byIndex.set(index, recordLeaf(e.args.index, e.args.kind, e.args.payloadHash, e.args.appendedAt));
  }
  return Array.from({ length: to - from }, (_, k) => {
    const leaf = byIndex.get(from + k);
    if (!leaf) throw new Error(`record ${from + k} has no RecordAppended event on this node.`);
    return leaf;
  });
}

/**
 * What `BlockLedger.reportMissedSlot` needs to punish the producer of past slot `slot`: the fields of the first record
 * that was not in a final block when the slot began, if it was appended before the slot began; undefined when nothing
 * was waiting (the slot needed no block).
 */
export async function missedSlotEvidence(p: Pick<Protocol, "recordLog" | "blocks" | "election">, slot: bigint | number): Promise<{ kind: bigint; payloadHash: string; appendedAt: bigint } | undefined> {
  const waiting = await p.blocks.packedAtSlotStart(slot);
  const [e] = await p.recordLog.queryFilter(p.recordLog.filters.RecordAppended(waiting));
  if (!e) return undefined;
  const slotStart = (await p.election.slotEnd(slot)) - (await p.election.slotDuration());
  return e.args.appendedAt < slotStart ? { kind: e.args.kind, payloadHash: e.args.payloadHash, appendedAt: e.args.appendedAt } : undefined;
}

const BENIGN = /AlreadyElected|SlotAlreadyUsed|AlreadyValidated|ValidationClosed|BlockNotPending|WrongSlot|NoProducers|NotSlotProducer/;

export class DposDuty {
  readonly stats: DposStats = { elections: 0, proposed: 0, validated: 0, rejected: 0, errors: [] };
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly p: Protocol,
    private readonly me: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Run {@link tick} every `ms` until {@link stop}. */
  start(ms: number): void {
    this.timer = setInterval(() => void this.tick(), ms);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over the duties; errors are kept in `stats.errors` (the next tick tries again). */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const { election, blocks, recordLog } = this.p;
      // Nothing waiting to be packed (every record is in a final block, so no block is pending either): no election,
      // no block, nothing to validate. An epoch is elected when it has records to pack, a slot with none needs no
      // block (BlockLedger.reportMissedSlot), and an empty block or an idle election only costs gas.
      const from = Number(await blocks.packedUpTo());
      const length = Number(await recordLog.length());
      if (length === from) return;
      const epoch = await election.currentEpoch();
      if (!(await election.isElected(epoch))) {
        await (await election.elect()).wait();
        this.stats.elections++;
        this.log(`elected the producers of epoch ${epoch}`);
      }
      const slot = await this.landingSlot();
      const producer = await election.producerOfSlot(slot);
      if (producer.toLowerCase() === this.me.toLowerCase() && !(await blocks.blockOfSlot(slot)).exists && !(await election.isJailed(this.me))) {
        const to = Math.min(length, from + Number(await blocks.MAX_RECORDS_PER_BLOCK()));
        const root = merkleRoot(await recordLeaves(this.p, from, to));
        await (await blocks.proposeBlock(slot, to, root)).wait();
        this.stats.proposed++;
        this.log(`proposed the block of slot ${slot}: records ${from}..${to - 1}`);
      }
      await this.validatePending(epoch);
    } catch (e) {
      // Races with the other producers (a block validated or an epoch elected meanwhile) are expected; the rest is kept.
      const message = describeRevert(this.p, e);
      if (!BENIGN.test(message)) this.stats.errors.push(message.slice(0, 300));
    } finally {
      this.busy = false;
    }
  }

  private timing?: { genesis: number; slotSeconds: number; blockSeconds: number; confirmations: number };

  /**
   * The DPoS slot of the block a transaction sent now lands in: what `proposeBlock` must name. On automine that is
   * the current slot. On interval mining this provider reads the chain `confirmations - 1` blocks behind its head and
   * the transaction waits for the next block, so the slot is the one of (confirmed block's timestamp + confirmations
   * block times). Naming the slot of the confirmed block instead, a producer at 12 s slots of one block and 2
   * confirmations never proposed in its own slot (the 12 s rehearsal's DPoS finalised no block in 25 minutes).
   */
  private async landingSlot(): Promise<bigint> {
    const { election, clock } = this.p;
    if (await clock.isAutomine()) return election.currentSlot();
    if (!this.timing) {
      const provider = election.runner?.provider as (JsonRpcProvider & { confirmations?: number }) | undefined;
      if (!provider) throw new Error("the election contract has no provider");
      this.timing = { genesis: Number(await election.genesisTime()), slotSeconds: Number(await election.slotDuration()), blockSeconds: (await detectBlockTime(provider)).seconds, confirmations: provider.confirmations ?? 1 };
    }
    const { genesis, slotSeconds, blockSeconds, confirmations } = this.timing;
    const landsAt = (await clock.latest()) + confirmations * blockSeconds;
    return BigInt(Math.max(0, Math.floor((landsAt - genesis) / slotSeconds)));
  }

  private async validatePending(epoch: bigint): Promise<void> {
    const { blocks, election } = this.p;
    const count = Number(await blocks.blockCount());
    if (count === 0) return;
    const id = count - 1;
    const b = await blocks.getBlock(id);
    if (Number(b.status) !== BlockStatus.Pending || b.producer.toLowerCase() === this.me.toLowerCase() || b.epoch !== epoch) return;
    if ((await election.producerPosition(epoch, this.me)) === 0n || (await blocks.isExpired(id))) return;
    const already = await blocks.queryFilter(blocks.filters.BlockValidated(id, this.me));
    if (already.length > 0) return;
    const root = merkleRoot(await recordLeaves(this.p, Number(b.fromRecord), Number(b.toRecord)));
    const approve = root === b.root;
    await (await blocks.validateBlock(id, approve)).wait();
    if (approve) this.stats.validated++;
    else this.stats.rejected++;
    this.log(`${approve ? "approved" : "rejected"} block ${id} of ${b.producer}`);
  }
}
