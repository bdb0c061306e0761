/**
 * Where an auditor reads the chain: the event logs of the dtwn contracts, behind one small interface with two
 * implementations, so the same recomputation runs on
 * - a run folder's `chain-log.json` (every log of the dtwn contracts, exported by `dtwn run` at its end: the demo's
 *   in-process chain is gone after the run), and
 * - a live JSON-RPC node (ethers `getLogs`).
 * Nothing but logs is read: every record the audit needs is in an event (see docs/audit.md).
 */
import fs from "node:fs";
import type { Provider } from "ethers";
import { z } from "zod";
import { CONTRACT_NAMES, type Deployment } from "../chain/deployment";
import { readJsonFile } from "../io/jsonFile";

/** One log, as `eth_getLogs` returns it (the fields an auditor needs). */
export interface ChainLogEntry {
  address: string;
  blockNumber: number;
  /** Position of the log in its block. */
  logIndex: number;
  transactionHash: string;
  topics: string[];
  data: string;
}

/** Logs of `address` whose topic k is `topics[k]` (null: any; an array: any of them), as in `eth_getLogs`. */
export interface LogQuery {
  address: string;
  topics: (string | readonly string[] | null)[];
}

export interface ChainSource {
  /** What the source is, for messages ("chain-log.json of runs/x", "localhost (http://...)"). */
  readonly label: string;
  /** The matching logs in chain order (block, then position in the block). */
  logs(query: LogQuery): Promise<ChainLogEntry[]>;
}

/** Chain order of two logs. */
export function compareLogs(a: Pick<ChainLogEntry, "blockNumber" | "logIndex">, b: Pick<ChainLogEntry, "blockNumber" | "logIndex">): number {
  return a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;
}

function topicMatches(want: string | readonly string[] | null | undefined, have: string | undefined): boolean {
  if (want === null || want === undefined) return true;
  if (have === undefined) return false;
  const h = have.toLowerCase();
  return typeof want === "string" ? want.toLowerCase() === h : want.some((w) => w.toLowerCase() === h);
}

/** Whether `log` matches `query` (the rule of `eth_getLogs`). */
export function matches(log: ChainLogEntry, query: LogQuery): boolean {
  return log.address.toLowerCase() === query.address.toLowerCase() && query.topics.every((t, k) => topicMatches(t, log.topics[k]));
}

const LogEntrySchema = z.object({
  address: z.string(),
  blockNumber: z.number().int().min(0),
  logIndex: z.number().int().min(0),
  transactionHash: z.string(),
  topics: z.array(z.string()),
  data: z.string(),
});

export const CHAIN_LOG_FORMAT = "dtwn-chain-log/1";

export const ChainLogSchema = z.object({
  format: z.literal(CHAIN_LOG_FORMAT),
  network: z.string(),
  chainId: z.number().int(),
  /** The last block the export covers. */
  latestBlock: z.number().int(),
  exportedAt: z.string(),
  /** The contracts whose logs were exported (name -> address). */
  contracts: z.record(z.string()),
  logs: z.array(LogEntrySchema),
});
export type ChainLog = z.infer<typeof ChainLogSchema>;

/** The logs of an exported chain log (a run folder's chain-log.json). */
export class ExportedChainSource implements ChainSource {
  private readonly byAddress = new Map<string, ChainLogEntry[]>();

  constructor(
    readonly log: ChainLog,
    readonly label = `exported chain log (${log.network}, up to block ${log.latestBlock})`,
  ) {
    for (const e of [...log.logs].sort(compareLogs)) {
      const k = e.address.toLowerCase();
      this.byAddress.set(k, [...(this.byAddress.get(k) ?? []), e]);
    }
  }

  async logs(query: LogQuery): Promise<ChainLogEntry[]> {
    return (this.byAddress.get(query.address.toLowerCase()) ?? []).filter((e) => matches(e, query));
  }
}

/** Logs from a live node, from block 0 to the latest. */
export class LiveChainSource implements ChainSource {
  constructor(
    private readonly provider: Provider,
    readonly label = "live chain",
  ) {}

  async logs(query: LogQuery): Promise<ChainLogEntry[]> {
    const found = await this.provider.getLogs({ address: query.address, topics: query.topics.map((t) => (t === null || typeof t === "string" ? t : [...t])), fromBlock: 0, toBlock: "latest" });
    return found
      .map((l) => ({ address: l.address, blockNumber: l.blockNumber, logIndex: l.index, transactionHash: l.transactionHash, topics: [...l.topics], data: l.data }))
      .sort(compareLogs);
  }
}

/** Blocks per `eth_getLogs` request of an export (nodes limit the range or the size of one answer). */
const EXPORT_BLOCKS_PER_REQUEST = 5_000;

/** Every log of the deployment's contracts up to the latest block, for a run folder's chain-log.json. */
export async function exportChainLog(provider: Provider, deployment: Deployment): Promise<ChainLog> {
  const contracts = Object.fromEntries(CONTRACT_NAMES.map((n) => [n, deployment.contracts[n].address]));
  const latestBlock = await provider.getBlockNumber();
  const logs: ChainLogEntry[] = [];
  for (let from = 0; from <= latestBlock; from += EXPORT_BLOCKS_PER_REQUEST) {
    const found = await provider.getLogs({ address: Object.values(contracts), fromBlock: from, toBlock: Math.min(latestBlock, from + EXPORT_BLOCKS_PER_REQUEST - 1) });
    for (const l of found) logs.push({ address: l.address, blockNumber: l.blockNumber, logIndex: l.index, transactionHash: l.transactionHash, topics: [...l.topics], data: l.data });
  }
  logs.sort(compareLogs);
  return { format: CHAIN_LOG_FORMAT, network: deployment.network, chainId: deployment.chainId, latestBlock, exportedAt: new Date().toISOString(), contracts, logs };
}

export function writeChainLog(file: string, log: ChainLog): void {
  fs.writeFileSync(file, JSON.stringify(log) + "\n");
}

/** Read and validate a chain log; errors say which file. */
export function readChainLog(file: string): ChainLog {
  return readJsonFile(file, ChainLogSchema, {
    what: "Chain log",
    missing: `No chain log at ${file}: the run did not export its chain (a run before \`dtwn audit\` existed, or one that failed before its end). While its chain still runs, audit it with --network.`,
  });
}
