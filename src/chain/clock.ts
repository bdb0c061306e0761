/**
 * The chain's clock. Every deadline, slot and window of the protocol is a block timestamp that the contracts compare
 * with `block.timestamp`, so the MBS and the agents read time from the chain, never from their own clock: a node's
 * clock may differ from ours, and on a chain that mines a block every 12 s a transaction sent now is checked at the
 * timestamp of a block mined up to 12 s later.
 *
 * Two kinds of chain:
 * - automine (Hardhat's network, `hardhat node` and anvil by default): a block per transaction, stamped with the
 *   node's wall clock (the same machine's as ours), never before the latest block. The present is then
 *   max(floor(wall clock), latest block).
 * - interval mining (anvil or `hardhat node` with `--block-time`, every public chain): the present is the latest
 *   block's timestamp. Timestamps never decrease, so once a block is past `t`, no later block is at or before it.
 */
import type { Provider } from "ethers";
import { isAutomine } from "./blockTime";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ChainClock {
  private automine?: Promise<boolean>;

  /**
   * @param provider the node
   * @param pollMs how often {@link waitPast} reads the latest block
   * @param wallSeconds our wall clock, seconds (a parameter for the unit tests)
   */
  constructor(
    private readonly provider: Provider,
    private readonly pollMs = 500,
    private readonly wallSeconds: () => number = () => Date.now() / 1000,
  ) {}

  /** Whether the node mines a block per transaction (`hardhat_getAutomine`, which anvil answers too; false elsewhere). */
  isAutomine(): Promise<boolean> {
    this.automine ??= isAutomine(this.provider);
    return this.automine;
  }

  /** The latest block's timestamp, seconds. */
  async latest(): Promise<number> {
    const block = await this.provider.getBlock("latest");
    if (!block) throw new Error("the node returned no latest block");
    return block.timestamp;
  }

  /**
   * The chain's present, seconds: no block mined from now on is stamped earlier. A window ending at `t` is closed
   * once `now() > t` (see {@link isPast}).
   */
  async now(): Promise<number> {
    const latest = await this.latest();
    return (await this.isAutomine()) ? Math.max(Math.floor(this.wallSeconds()), latest) : latest;
  }

  /** Whether no transaction can be mined at or before `t` any more (a window ending at `t` has closed). */
  async isPast(t: number): Promise<boolean> {
    return (await this.now()) > t;
  }

  /**
   * The earliest timestamp of the block a transaction sent now lands in: what a deadline set now must be counted
   * from, and what a sender compares with a deadline it must still meet.
   */
  async nextBlockAt(): Promise<number> {
    const latest = await this.latest();
    return Math.max(Math.floor(this.wallSeconds()), latest + ((await this.isAutomine()) ? 0 : 1));
  }

  /** Resolves once {@link isPast}(t); rejects after `timeoutMs` of waiting with what it waited for. */
  async waitPast(t: number, o: { timeoutMs?: number; what?: string } = {}): Promise<void> {
    const started = Date.now();
    for (;;) {
      const now = await this.now();
      if (now > t) return;
      if (o.timeoutMs !== undefined && Date.now() - started > o.timeoutMs) {
        throw new Error(`the chain's clock stayed at ${now}, not past ${t}${o.what ? ` (${o.what})` : ""}, for ${o.timeoutMs / 1000} s: is the node still mining blocks?`);
      }
      await sleep(this.pollMs);
    }
  }
}
