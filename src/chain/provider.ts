/**
 * A plain ethers v6 JSON-RPC provider tuned for a local chain (no Hardhat involved). Defaults batch requests and
 * cache results, which on `npx hardhat node` gives ~11 tx/s and "Nonce too low" on fast back-to-back sends; these
 * options give ~100 tx/s (measured, see ../shared/ENVIRONMENT.md). A request that dies on a keep-alive socket the node
 * has just closed ("socket hang up", ECONNRESET) is sent again on a fresh one (./socketRetry.ts).
 */
import { JsonRpcProvider, Network, toQuantity, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { isAutomine } from "./blockTime";
import { DEFAULT_SOCKET_RETRY, requestThroughOutage, requestWithSocketRetry, type SocketRetryOptions } from "./socketRetry";

/** The JSON-RPC URL of `--network localhost` (`npx hardhat node`), for Hardhat and for dtwn's own processes. */
export const LOCAL_RPC_URL = process.env.DTWN_LOCAL_RPC_URL ?? "http://127.0.0.1:8545";

/** How long a request waits for a node that refuses connections before failing, seconds. */
export const DEFAULT_OUTAGE_SECONDS = 120;

/** A reply as the node sends it: a result or an error. */
type Reply = JsonRpcResult & { error?: unknown };

/** What a {@link LocalJsonRpcProvider} does beyond a plain JsonRpcProvider. */
export interface LocalProviderOptions {
  /**
   * Blocks a block must be under before anything is read from it (1: the latest block, the default). With c > 1 the
   * provider shows the chain as it was c - 1 blocks ago: views, events, the block number, the latest block and
   * receipts (a transaction's `wait()` resolves only once it is c blocks deep), so a reorg of up to c - 1 blocks
   * never undoes anything this process has read or acted on. Transactions are still sent to, and gas-estimated on,
   * the head of the chain.
   */
  confirmations?: number;
  socketRetry?: SocketRetryOptions;
  /**
   * Seconds a request waits for a node that refuses connections (restarting, e.g. anvil with --state) before it fails
   * with what to do (default 120). Transactions sent before the restart that the node lost are sent again.
   */
  outageSeconds?: number;
  /** Told when the node stops answering and when it answers again (for the logs). */
  onOutage?: (event: "down" | "up", seconds: number) => void;
  /**
   * Told when a transaction of ours the node no longer knows is sent again (for the logs): `error` is the node's
   * refusal when it would not take it back (the provider keeps asking on every later receipt poll).
   */
  onResend?: (hash: string, error?: string) => void;
}

/**
 * JsonRpcProvider whose transport retries closed-socket errors (the node never saw the request), reads at a depth of
 * `confirmations` blocks, and sends again a transaction of its own that the node no longer knows (a reorg dropped
 * the block it was in, or the node restarted without it): the same signed bytes, so the same nonce, and a
 * transaction the chain already has is never sent twice.
 */
export class LocalJsonRpcProvider extends JsonRpcProvider {
  readonly confirmations: number;
  private readonly socketRetry: SocketRetryOptions;
  private readonly outage: { url: string; outageMs: number; onOutage?: (event: "down" | "up", seconds: number) => void };
  /** Signed transactions this provider sent whose receipt it has not yet returned, by hash. */
  private readonly unconfirmed = new Map<string, string>();
  /** Transactions sent again, for the logs and tests. */
  readonly resent: string[] = [];
  private head?: { number: number; at: number };
  private readonly onResend?: (hash: string, error?: string) => void;

  constructor(url: string, chainId?: number, o: LocalProviderOptions = {}) {
    super(url, chainId === undefined ? undefined : Network.from(chainId), { batchMaxCount: 1, staticNetwork: chainId !== undefined, cacheTimeout: -1 });
    this.confirmations = o.confirmations ?? 1;
    if (!(Number.isInteger(this.confirmations) && this.confirmations >= 1)) throw new Error(`confirmations ${o.confirmations}: give a whole number of blocks, at least 1.`);
    this.socketRetry = o.socketRetry ?? DEFAULT_SOCKET_RETRY;
    // told once per outage, however many requests wait through it
    let down = false;
    const onOutage = o.onOutage;
    const once = (event: "down" | "up", seconds: number) => {
      if ((event === "down") === down) return;
      down = event === "down";
      onOutage?.(event, seconds);
    };
    this.outage = { url, outageMs: (o.outageSeconds ?? DEFAULT_OUTAGE_SECONDS) * 1000, onOutage: once };
    this.onResend = o.onResend;
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    if (Array.isArray(payload)) return Promise.all(payload.map(async (p) => (await this._send(p))[0]));
    const raw = (p: JsonRpcPayload) => requestThroughOutage(() => requestWithSocketRetry(() => super._send(p), { method: p.method }, this.socketRetry), this.outage) as Promise<Reply[]>;
    // Views at "pending" only on automine (see atPendingBlock): on interval mining the pending block holds
    // transactions not yet mined, whose events no reader can see yet.
    const p = payload.method === "eth_call" && (await (this.automine ??= isAutomine(this))) ? atPendingBlock(payload) : payload;
    if (p.method === "eth_sendRawTransaction") {
      const [r] = await raw(p);
      if (typeof r.result === "string") this.unconfirmed.set(r.result.toLowerCase(), String((p.params as unknown[])[0]));
      return [r];
    }
    if (p.method === "eth_getTransactionReceipt") {
      const hash = String((p.params as unknown[])[0]).toLowerCase();
      const [r] = await raw(p);
      const receipt = r.result as { blockNumber?: string } | null | undefined;
      if (receipt && receipt.blockNumber !== undefined) {
        if (this.confirmations > 1 && Number(receipt.blockNumber) > (await this.confirmedBlock(raw))) return [{ ...r, result: null }];
        this.unconfirmed.delete(hash);
        return [r];
      }
      if (r.error === undefined && this.unconfirmed.has(hash)) await this.resendOnce(hash, raw);
      return [r];
    }
    if (this.confirmations === 1) return raw(p);
    return this.atConfirmedBlock(p, raw);
  }

  /** Whether the node mines a block per transaction (src/chain/blockTime.ts), asked once. */
  private automine?: Promise<boolean>;

  /** The newest block at least `confirmations` deep (the head's number is read at most every 250 ms). */
  private async confirmedBlock(raw: (p: JsonRpcPayload) => Promise<Reply[]>): Promise<number> {
    if (!this.head || Date.now() - this.head.at > 250) {
      const [r] = await raw({ method: "eth_blockNumber", params: [], id: 0, jsonrpc: "2.0" });
      if (r.error !== undefined) throw new Error(`eth_blockNumber failed: ${JSON.stringify(r.error)}`);
      this.head = { number: Number(r.result), at: Date.now() };
    }
    return Math.max(0, this.head.number - (this.confirmations - 1));
  }

  /** A read of the latest state, block or logs, made at the confirmed block instead. */
  private async atConfirmedBlock(p: JsonRpcPayload, raw: (p: JsonRpcPayload) => Promise<Reply[]>): Promise<JsonRpcResult[]> {
    const params = (p.params ?? []) as unknown[];
    const isHead = (tag: unknown) => tag === undefined || tag === "latest" || tag === "pending";
    switch (p.method) {
      case "eth_blockNumber":
        return [{ id: p.id, result: toQuantity(await this.confirmedBlock(raw)) }];
      case "eth_call":
      case "eth_getBalance":
      case "eth_getCode":
      case "eth_getStorageAt": {
        const at = p.method === "eth_getStorageAt" ? 2 : 1;
        if (!isHead(params[at])) return raw(p);
        const rewritten = [...params];
        rewritten[at] = toQuantity(await this.confirmedBlock(raw));
        return raw({ ...p, params: rewritten });
      }
      case "eth_getBlockByNumber":
        if (!isHead(params[0])) return raw(p);
        return raw({ ...p, params: [toQuantity(await this.confirmedBlock(raw)), ...params.slice(1)] });
      case "eth_getLogs": {
        const filter = { ...(params[0] as Record<string, unknown>) };
        if (filter.blockHash !== undefined) return raw(p);
        const confirmed = await this.confirmedBlock(raw);
        if (isHead(filter.toBlock) || Number(filter.toBlock) > confirmed) filter.toBlock = toQuantity(confirmed);
        if (filter.fromBlock !== undefined && !isHead(filter.fromBlock) && filter.fromBlock !== "earliest" && Number(filter.fromBlock) > confirmed) return [{ id: p.id, result: [] }];
        if (isHead(filter.fromBlock) && filter.fromBlock !== undefined) filter.fromBlock = toQuantity(confirmed);
        return raw({ ...p, params: [filter] });
      }
      default:
        return raw(p);
    }
  }

  /** Resends in flight, by hash: ethers polls a receipt from two listeners at once, which must not both resend. */
  private readonly resending = new Map<string, Promise<void>>();

  private resendOnce(hash: string, raw: (p: JsonRpcPayload) => Promise<Reply[]>): Promise<void> {
    let inFlight = this.resending.get(hash);
    if (!inFlight) {
      inFlight = this.resendIfDropped(hash, raw).finally(() => this.resending.delete(hash));
      this.resending.set(hash, inFlight);
    }
    return inFlight;
  }

  /**
   * A transaction of ours with no receipt: if the node does not know it any more, send the same signed bytes again.
   * A refusal does not make the provider forget it: asked again at every later receipt poll, until the chain has its
   * receipt at the confirmed depth. (Under load, in the anvil rehearsal, a transaction a reorg dropped stayed lost and
   * its BS waited for its model record forever, with the transaction gone from this map; the node's answers to a
   * resend include "transaction already imported" and "nonce too low" while its state still shows the dropped block.)
   * If another transaction of ours really took the nonce, ethers' replacement check ends the `wait()` with
   * TRANSACTION_REPLACED.
   */
  private async resendIfDropped(hash: string, raw: (p: JsonRpcPayload) => Promise<Reply[]>): Promise<void> {
    const [known] = await raw({ method: "eth_getTransactionByHash", params: [hash], id: 0, jsonrpc: "2.0" });
    if (known.error !== undefined || known.result) return; // pending or mined: nothing to do
    const signed = this.unconfirmed.get(hash)!;
    const [again] = await raw({ method: "eth_sendRawTransaction", params: [signed], id: 0, jsonrpc: "2.0" });
    if (again.error !== undefined) {
      this.onResend?.(hash, errorText(again.error));
      return;
    }
    this.resent.push(hash);
    this.onResend?.(hash);
  }
}

/** A JSON-RPC error's message, for the logs. */
function errorText(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : JSON.stringify(error);
}

/**
 * A view call on "latest" runs at the latest block's timestamp: on a node that mines only when a transaction comes
 * (`npx hardhat node` with blocks on the wall clock), an idle chain's clock stands still for views, so time windows
 * (a DPoS slot, a reveal window) never open for an agent that only reads. "pending" runs at the next block's
 * timestamp, the wall clock; with automine it holds the same state as "latest".
 */
export function atPendingBlock(p: JsonRpcPayload): JsonRpcPayload {
  if (p.method !== "eth_call" || !Array.isArray(p.params) || p.params[1] !== "latest") return p;
  return { ...p, params: [p.params[0], "pending", ...p.params.slice(2)] };
}

export function localProvider(url: string, chainId?: number, o: LocalProviderOptions = {}): LocalJsonRpcProvider {
  return new LocalJsonRpcProvider(url, chainId, o);
}
