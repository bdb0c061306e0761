/**
 * The joint action a(t) of slot t as anyone derives it from the chain (Section IV-A): s(t) as of the block that opened
 * round t (the twins' hosts and data, and the slot's environment), the raw actions proposed by the proposal cutoff,
 * and the policy's joint-action rule. BS agents commit their part of it; users' devices consent to a move only when
 * it is what this derivation gives (src/system/devices.ts). Reads the chain, writes nothing.
 */
import { getBytes } from "ethers";
import { decodeRawAction } from "../chain/actionCodec";
import type { Allocation, SlotState } from "../twins/state";
import type { JointActionRule } from "./policies";
import type { Protocol } from "../system/protocol";
import { environmentAt, type World } from "../system/world";

export interface JointActionContext {
  protocol: Pick<Protocol, "twins" | "ledger" | "rounds" | "clock">;
  world: World;
  /** BS index -> address (the registry's members in seat order). */
  bsAddresses: readonly string[];
  /** User n -> on-chain twin id. */
  twinIds: readonly number[];
  rule: JointActionRule;
  /** Seconds after a round opens during which raw actions are proposed (later proposals are ignored by all). */
  proposalWindowSeconds: number;
  pollMs: number;
}

/** When and in which block round `round` opened (now and "latest" if its event is not found). */
export interface RoundOpening {
  openedAt: number;
  openedBlock: number | "latest";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class JointActionReader {
  constructor(readonly ctx: JointActionContext) {}

  /** The block and time that opened round `round`. */
  async opening(round: number): Promise<RoundOpening> {
    const { rounds } = this.ctx.protocol;
    const opened = (await rounds.queryFilter(rounds.filters.RoundOpened(round)))[0];
    return opened ? { openedAt: (await opened.getBlock()).timestamp, openedBlock: opened.blockNumber } : { openedAt: await this.ctx.protocol.clock.now(), openedBlock: "latest" };
  }

  /**
   * s(t) as every agent rebuilds it: the twins' hosts and data on chain as of the block that opened the round (so
   * that peers that commit earlier do not change what a later agent sees), and the slot's environment.
   */
  async observe(slot: number, blockTag: number | "latest" = "latest"): Promise<SlotState> {
    const { protocol, twinIds, bsAddresses, world } = this.ctx;
    const index = new Map(bsAddresses.map((a, i) => [a.toLowerCase(), i]));
    const association: number[] = [];
    const dataSamples: number[] = [];
    for (const id of twinIds) {
      const t = await protocol.twins.twin(id, { blockTag });
      association.push(index.get(t.bs.toLowerCase()) ?? 0);
      dataSamples.push(Number(t.dataSize));
    }
    return { slot, association, dataSamples, ...environmentAt(world, slot) };
  }

  /** The slot's proposals (raw actions) by BS index, only those mined by the proposal cutoff. */
  async proposals(slot: number, cutoff: number): Promise<(number[] | undefined)[]> {
    const { ledger } = this.ctx.protocol;
    const out: (number[] | undefined)[] = this.ctx.bsAddresses.map(() => undefined);
    const index = new Map(this.ctx.bsAddresses.map((a, i) => [a.toLowerCase(), i]));
    for (const e of await ledger.queryFilter(ledger.filters.ActionProposed(slot))) {
      const block = await e.getBlock();
      const i = index.get(e.args.bs.toLowerCase());
      if (i !== undefined && block.timestamp <= cutoff) out[i] = decodeRawAction(getBytes(e.args.raw));
    }
    return out;
  }

  /**
   * The joint action of slot `round` from s(t) `state`: with a rule that proposes, wait until every BS proposed or
   * the cutoff passed, then decode from the proposals mined by the cutoff (the same set for every reader).
   */
  async decide(round: number, state: SlotState, openedAt: number): Promise<Allocation> {
    let proposals: (readonly number[] | undefined)[] = [];
    if (this.ctx.rule.proposes) {
      const cutoff = openedAt + this.ctx.proposalWindowSeconds;
      for (;;) {
        proposals = await this.proposals(round, cutoff);
        if (proposals.every((p) => p !== undefined)) break;
        // Once the chain's clock is past the cutoff no block at or before it can still be mined: the set is final,
        // the same for every reader.
        if (await this.ctx.protocol.clock.isPast(cutoff)) {
          proposals = await this.proposals(round, cutoff);
          break;
        }
        await sleep(this.ctx.pollMs);
      }
    }
    return this.ctx.rule.decide(state, proposals);
  }

  /** The joint action of slot `round`, read from the chain from scratch (a user's device checking a move). */
  async jointAction(round: number): Promise<Allocation> {
    const { openedAt, openedBlock } = await this.opening(round);
    return this.decide(round, await this.observe(round, openedBlock), openedAt);
  }
}
