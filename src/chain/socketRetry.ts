/**
 * Retry of JSON-RPC requests that die on a closed keep-alive socket.
 *
 * `npx hardhat node` (Node's http server, keep-alive timeout 5 s) and Hardhat's HTTP provider (an undici pool that
 * drops idle sockets after 4 s) race when the client's event loop is busy for a second or more between two requests
 * (Ignition parsing build info, for example): the client then writes on a socket the server has just closed and gets
 * `SocketError: other side closed` (UND_ERR_SOCKET) or ECONNRESET. The request never reached the node, so sending it
 * again on a fresh socket is the fix. A transaction that did reach the node is not applied twice: every dtwn sender
 * (Ignition, ethers signers) fixes the nonce, so a duplicate is refused by the node with a nonce error.
 */

export interface RequestArguments {
  readonly method: string;
  readonly params?: readonly unknown[] | object;
}

/** The error codes and messages of a socket closed by the server between two requests. */
export function isClosedSocketError(e: unknown): boolean {
  for (let err = e as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 5; depth++) {
    if (err.code === "UND_ERR_SOCKET" || err.code === "ECONNRESET" || err.code === "EPIPE") return true;
    if (typeof err.message === "string" && /other side closed|socket hang up/.test(err.message)) return true;
    err = err.cause as typeof err;
  }
  return false;
}

export interface SocketRetryOptions {
  /** Retries after the first attempt. */
  readonly retries: number;
  /** Delay before retry k (1-based) is k × delayMs. */
  readonly delayMs: number;
}

export const DEFAULT_SOCKET_RETRY: SocketRetryOptions = { retries: 3, delayMs: 50 };

/** Calls `send(args)`, retrying only on a closed-socket error; every other error is rethrown unchanged. */
export async function requestWithSocketRetry<T>(
  send: (args: RequestArguments) => Promise<T>,
  args: RequestArguments,
  opts: SocketRetryOptions = DEFAULT_SOCKET_RETRY,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send(args);
    } catch (e) {
      if (attempt >= opts.retries || !isClosedSocketError(e)) throw e;
      await new Promise((r) => setTimeout(r, (attempt + 1) * opts.delayMs));
    }
  }
}

/** A connection the node refused: nothing listens on its port (it is down, or restarting); the request never reached it. */
export function isNodeDownError(e: unknown): boolean {
  for (let err = e as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; err && depth < 5; depth++) {
    if (err.code === "ECONNREFUSED") return true;
    if (typeof err.message === "string" && /ECONNREFUSED/.test(err.message)) return true;
    err = err.cause as typeof err;
  }
  return false;
}

/**
 * Calls `send(args)`; while the node refuses connections (a restart), tries again every `pollMs` for up to
 * `outageMs`, then fails saying so. Safe for every request, transactions too: a refused connection delivered nothing.
 * `onOutage` is told once per outage, when it starts and when it ends.
 */
export async function requestThroughOutage<T>(
  send: () => Promise<T>,
  what: { url: string; outageMs: number; pollMs?: number; onOutage?: (event: "down" | "up", seconds: number) => void },
): Promise<T> {
  let since: number | undefined;
  for (;;) {
    try {
      const r = await send();
      if (since !== undefined) what.onOutage?.("up", (Date.now() - since) / 1000);
      return r;
    } catch (e) {
      if (!isNodeDownError(e)) throw e;
      if (since === undefined) {
        since = Date.now();
        what.onOutage?.("down", 0);
      }
      if (Date.now() - since >= what.outageMs) {
        throw new Error(`the JSON-RPC node at ${what.url} has refused connections for ${Math.round(what.outageMs / 1000)} s: start it again (anvil --state FILE restarts with its chain) and start the run's processes again; every record on chain stays, and a restarted \`dtwn agent\` resumes from it.`);
      }
      await new Promise((r) => setTimeout(r, what.pollMs ?? 500));
    }
  }
}
