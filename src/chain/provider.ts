/**
 * A plain ethers v6 JSON-RPC provider tuned for a local chain (no Hardhat involved). Defaults batch requests and
 * cache results, which on `npx hardhat node` gives ~11 tx/s and "Nonce too low" on fast back-to-back sends; these
 * options give ~100 tx/s (measured, see ../shared/ENVIRONMENT.md). A request that dies on a keep-alive socket the node
 * has just closed ("socket hang up", ECONNRESET) is sent again on a fresh one (./socketRetry.ts).
 */
import { JsonRpcProvider, Network, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { DEFAULT_SOCKET_RETRY, requestWithSocketRetry, type SocketRetryOptions } from "./socketRetry";

/** The JSON-RPC URL of `--network localhost` (`npx hardhat node`), for Hardhat and for dtwn's own processes. */
export const LOCAL_RPC_URL = process.env.DTWN_LOCAL_RPC_URL ?? "http://127.0.0.1:8545";

/** JsonRpcProvider whose transport retries closed-socket errors (the node never saw the request). */
export class LocalJsonRpcProvider extends JsonRpcProvider {
  constructor(
    url: string,
    chainId?: number,
    private readonly socketRetry: SocketRetryOptions = DEFAULT_SOCKET_RETRY,
  ) {
    super(url, chainId === undefined ? undefined : Network.from(chainId), { batchMaxCount: 1, staticNetwork: chainId !== undefined, cacheTimeout: -1 });
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const method = Array.isArray(payload) ? payload.map((p) => p.method).join(",") : payload.method;
    const sent = Array.isArray(payload) ? payload.map(atPendingBlock) : atPendingBlock(payload);
    return requestWithSocketRetry(() => super._send(sent), { method }, this.socketRetry);
  }
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

export function localProvider(url: string, chainId?: number): JsonRpcProvider {
  return new LocalJsonRpcProvider(url, chainId);
}
