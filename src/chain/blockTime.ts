/**
 * The chain's block time, and the protocol's windows checked against it.
 *
 * On Hardhat's automine every transaction is mined at once; on a public testnet (or `--block-time 12`) a transaction
 * waits for the next block, up to a block time. A DPoS slot shorter than a block can pass with no block in it, and a
 * window of one or two blocks closes before a transaction sent in it, or a resend after a dropped one, is mined: the
 * protocol parameters that cannot work with the chain's block time are refused before anything is deployed.
 */
import type { JsonRpcProvider } from "ethers";

/**
 * Fewest blocks a window (commit, reveal, submission, proposal) must span: a transaction sent at its start waits up
 * to one block to be mined, and two more leave room for one resend of a dropped transaction.
 */
export const MIN_BLOCKS_PER_WINDOW = 3;

export interface BlockTime {
  /** Seconds between blocks; 0: a block per transaction (automine). */
  seconds: number;
  /** How it was found, for logs and errors. */
  how: string;
}

/** The windows of a run, seconds, by the option that sets each. */
export interface ProtocolWindows {
  /** DPoS slot (`--slot-seconds`, protocol parameter slotDurationSeconds). */
  slotSeconds: number;
  /** Commit window of the verdicts (`--verification-window-seconds`). */
  verificationWindowSeconds: number;
  /** Reveal window of the verdicts (`--reveal-window-seconds`). */
  revealWindowSeconds: number;
  /** Submission window of round 1 (`--first-round-seconds`). */
  firstRoundSeconds: number;
  /** Shortest submission window of rounds 2+ (`--min-round-seconds`). */
  minRoundSeconds: number;
  /** Window in which the BSs propose their actions (`--proposal-window-seconds`). */
  proposalWindowSeconds: number;
}

const FLAGS: Record<keyof ProtocolWindows, string> = {
  slotSeconds: "--slot-seconds",
  verificationWindowSeconds: "--verification-window-seconds",
  revealWindowSeconds: "--reveal-window-seconds",
  firstRoundSeconds: "--first-round-seconds",
  minRoundSeconds: "--min-round-seconds",
  proposalWindowSeconds: "--proposal-window-seconds",
};

/**
 * What cannot work at this block time, one line per window; empty when everything fits. `confirmations`: the depth
 * the agents read the chain at (`--confirmations`). A DPoS block must be proposed and approved within its slot
 * (BlockLedger.validateBlock refuses after the slot's end): proposed in the slot's first block, read by the other
 * producers c - 1 blocks later, approved in the block after, so a slot must hold c + 1 blocks. (At 12 s slots of one
 * block the rehearsal's producers proposed, but no block was ever approved in time.)
 */
export function blockTimeProblems(w: ProtocolWindows, blockTime: BlockTime, minBlocks = MIN_BLOCKS_PER_WINDOW, confirmations = 1): string[] {
  const b = blockTime.seconds;
  if (!(b > 0)) return [];
  const problems: string[] = [];
  const slotBlocks = confirmations + 1;
  if (w.slotSeconds < slotBlocks * b) problems.push(`a DPoS slot of ${w.slotSeconds} s holds fewer than ${slotBlocks} blocks of ${b} s: a block proposed in it must be read by the other producers (${confirmations} confirmation${confirmations === 1 ? "" : "s"}) and approved before the slot ends; use ${FLAGS.slotSeconds} ${Math.ceil(slotBlocks * b)} or more`);
  for (const key of ["verificationWindowSeconds", "revealWindowSeconds", "firstRoundSeconds", "minRoundSeconds", "proposalWindowSeconds"] as const) {
    if (w[key] < minBlocks * b) problems.push(`${key} = ${w[key]} s spans fewer than ${minBlocks} blocks of ${b} s: set ${FLAGS[key]} to ${Math.ceil(minBlocks * b)} or more`);
  }
  return problems;
}

/** @throws Error listing every window that cannot work at the chain's block time, and the value that would. */
export function checkWindowsFitBlockTime(w: ProtocolWindows, blockTime: BlockTime, minBlocks = MIN_BLOCKS_PER_WINDOW, confirmations = 1): void {
  const problems = blockTimeProblems(w, blockTime, minBlocks, confirmations);
  if (problems.length > 0) throw new Error(`The chain mines a block every ${blockTime.seconds} s (${blockTime.how}); these windows cannot work with it:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
}

/**
 * The block time of the chain behind `provider`: 0 on automine (`hardhat_getAutomine`, which anvil answers too),
 * anvil's interval (`anvil_getIntervalMining`), else the median gap between the timestamps of the last blocks
 * (a public chain, or `hardhat node` with interval mining), waiting for blocks if there are fewer than `samples`.
 */
export async function detectBlockTime(provider: JsonRpcProvider, o: { samples?: number; timeoutMs?: number } = {}): Promise<BlockTime> {
  if (await isAutomine(provider)) return { seconds: 0, how: "a block per transaction (automine)" };
  const interval = await optional<number>(provider, "anvil_getIntervalMining");
  if (typeof interval === "number" && interval > 0) return { seconds: interval, how: "anvil's interval mining" };
  const samples = o.samples ?? 8;
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  for (;;) {
    const latest = await provider.getBlockNumber();
    if (latest >= samples) {
      const stamps: number[] = [];
      for (let n = latest - samples; n <= latest; n++) stamps.push((await provider.getBlock(n))?.timestamp ?? 0);
      const gaps = stamps.slice(1).map((t, i) => t - stamps[i]).sort((a, b) => a - b);
      return { seconds: gaps[Math.floor(gaps.length / 2)], how: `the median gap of blocks ${latest - samples}-${latest}` };
    }
    if (Date.now() > deadline) throw new Error(`Cannot tell the chain's block time: it has ${latest} blocks, fewer than the ${samples} needed to measure it, and mined no more within ${(o.timeoutMs ?? 120_000) / 1000} s. Is it mining?`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/**
 * Whether the node mines a block per transaction: `hardhat_getAutomine` (Hardhat, which anvil answers too); false on
 * a node without the method (a public chain) or a provider that cannot send raw requests.
 */
export async function isAutomine(provider: object): Promise<boolean> {
  const send = (provider as { send?: unknown }).send;
  if (typeof send !== "function") return false;
  return (await optional<boolean>(provider as JsonRpcProvider, "hardhat_getAutomine")) === true;
}

async function optional<T>(provider: JsonRpcProvider, method: string): Promise<T | undefined> {
  try {
    return (await provider.send(method, [])) as T;
  } catch {
    return undefined; // not this client's method
  }
}
