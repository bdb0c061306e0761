/**
 * A local EVM node as its own process, on 127.0.0.1 only: Hardhat's `hardhat node` or Foundry's anvil (the npm
 * package `@foundry-rs/anvil`, its binary from the platform package). Both use the same dev mnemonic and chain id
 * 31337, so deployments, agents and tests do not care which one runs. `npm run node` starts one in the foreground
 * (`dtwn chain node`); the end-to-end tests start one per test on a free port.
 *
 * Mining: with no block time, each transaction is mined at once, with wall-clock timestamps (Hardhat:
 * DTWN_WALL_CLOCK=1; anvil does so by default). With a block time of s seconds, blocks come every s seconds on the
 * wall clock, as on a public chain (Hardhat: interval mining through DTWN_BLOCK_TIME_MS; anvil: `--block-time s`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const LOCAL_CLIENTS = ["hardhat", "anvil"] as const;
export type LocalClient = (typeof LOCAL_CLIENTS)[number];

/** The chain id both clients are started with (Hardhat's default, `hardhat.config.ts`'s localhost network). */
export const LOCAL_CHAIN_ID = 31337;
/** Dev accounts the node funds: Hardhat's default count (anvil's default is 10). */
export const LOCAL_ACCOUNTS = 20;

const ROOT = path.resolve(__dirname, "..", "..");

export interface LocalNodeOptions {
  client: LocalClient;
  /** TCP port. */
  port: number;
  /** Address to listen on: 127.0.0.1 (default), or one inside a network namespace the run made (the testbed's hub). */
  host?: string;
  /** Seconds between blocks (interval mining); undefined: a block per transaction. */
  blockTimeSeconds?: number;
  /**
   * anvil only: load the chain from this file if it exists, and dump it there on exit (`anvil --state`), with the
   * states of past blocks (reads a few blocks deep, `--confirmations`, still work after a restart).
   */
  stateFile?: string;
  /**
   * anvil only: fund accounts of a fresh random mnemonic instead of the public development one (as on a testnet, no
   * key is known in advance); their keys are written to this file (`--config-out`), for the caller to read.
   */
  randomAccountsFile?: string;
}

/** What to spawn for a node: executable, arguments and the environment to add. Pure, so it can be tested. */
export function localNodeCommand(o: LocalNodeOptions, anvilBinary: () => string = anvilPath): { command: string; args: string[]; env: Record<string, string> } {
  if (!LOCAL_CLIENTS.includes(o.client)) throw new Error(`Unknown node client "${o.client}": use one of ${LOCAL_CLIENTS.join(", ")}.`);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65_535) throw new Error(`Node port ${o.port} is not a TCP port (1-65535).`);
  if (o.blockTimeSeconds !== undefined && !(Number.isInteger(o.blockTimeSeconds) && o.blockTimeSeconds >= 1)) {
    throw new Error(`Block time ${o.blockTimeSeconds} s: give a whole number of seconds, at least 1 (or none: a block per transaction).`);
  }
  if (o.client === "hardhat") {
    if (o.stateFile) throw new Error("`hardhat node` cannot keep its chain across restarts: use --client anvil for a state file.");
    if (o.randomAccountsFile) throw new Error("`hardhat node` funds the public development accounts only: use --client anvil for random accounts.");
    const env: Record<string, string> = { DTWN_WALL_CLOCK: "1" };
    if (o.blockTimeSeconds !== undefined) env.DTWN_BLOCK_TIME_MS = String(o.blockTimeSeconds * 1000);
    return { command: process.execPath, args: [path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js"), "node", "--hostname", o.host ?? "127.0.0.1", "--port", String(o.port)], env };
  }
  const args = ["--host", o.host ?? "127.0.0.1", "--port", String(o.port), "--chain-id", String(LOCAL_CHAIN_ID), "--accounts", String(LOCAL_ACCOUNTS)];
  if (o.blockTimeSeconds !== undefined) args.push("--block-time", String(o.blockTimeSeconds));
  if (o.stateFile) args.push("--state", o.stateFile, "--preserve-historical-states");
  if (o.randomAccountsFile) args.push("--mnemonic-random", "--config-out", o.randomAccountsFile);
  return { command: anvilBinary(), args, env: {} };
}

/** anvil's binary from the npm platform package (`@foundry-rs/anvil-<os>-<arch>`), or a clear error. */
export function anvilPath(): string {
  const arch = ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[process.arch] ?? process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const bin = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
    if (fs.existsSync(bin)) return bin;
  } catch {
    // not installed
  }
  throw new Error(`anvil is not installed (${pkg} has no binary): run \`npm ci\`, which installs the devDependency @foundry-rs/anvil for this platform.`);
}

/** The accounts (address and private key) anvil funded, from its `--config-out` file (see randomAccountsFile). */
export function readNodeAccounts(file: string): { address: string; privateKey: string }[] {
  const cfg = JSON.parse(fs.readFileSync(file, "utf8")) as { available_accounts?: string[]; private_keys?: string[] };
  const keys = cfg.private_keys ?? [];
  if (keys.length === 0) throw new Error(`${file} lists no accounts.`);
  return keys.map((privateKey, k) => ({ address: cfg.available_accounts?.[k] ?? "", privateKey }));
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export interface LocalNode {
  client: LocalClient;
  url: string;
  process: ChildProcess;
  /** What the node printed so far (for error messages; empty when it prints to this terminal). */
  output(): string;
  /** SIGTERM (anvil dumps its state file then), SIGKILL if it has not exited within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Start a node and resolve once it answers eth_chainId with 31337. Its output goes to `logFile` (default: a temporary
 * file removed by `stop`), never to a pipe: anvil writes to stdout synchronously, and a pipe nobody reads while the
 * caller blocks (a spawnSync) would stop the chain. `inherit`: print it here instead.
 */
export async function startLocalNode(o: LocalNodeOptions, opts: { timeoutMs?: number; inherit?: boolean; logFile?: string } = {}): Promise<LocalNode> {
  const { command, args, env } = localNodeCommand(o);
  const url = `http://127.0.0.1:${o.port}`;
  // Checked first: otherwise the node that holds the port would answer the readiness check for this one.
  if (!(await portFree(o.port))) throw new Error(`Port ${o.port} on 127.0.0.1 is taken (another node?): stop that process or choose another port (--port).`);
  const temporary = !opts.inherit && !opts.logFile ? fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-node-")) : undefined;
  const logFile = opts.logFile ?? (temporary ? path.join(temporary, "node.log") : undefined);
  const fd = logFile ? fs.openSync(logFile, "a") : undefined;
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: fd === undefined ? ["ignore", "inherit", "inherit"] : ["ignore", fd, fd] });
  if (fd !== undefined) fs.closeSync(fd);
  const output = () => (logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "");
  let exited: string | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = `exited with code ${code}${signal ? `, signal ${signal}` : ""}`;
      resolve();
    }),
  );
  child.once("error", (e) => (exited = `could not start: ${e.message}`));
  const node: LocalNode = {
    client: o.client,
    url,
    process: child,
    output,
    async stop(graceMs = 10_000) {
      if (!exited) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exit;
        clearTimeout(timer);
      }
      if (temporary) fs.rmSync(temporary, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      const text = output().slice(-3000);
      await node.stop();
      throw new Error(`${o.client} node on ${url} ${exited} before it answered:\n${text}`);
    }
    const id = await chainId(url);
    if (id !== undefined && !exited) {
      if (id !== LOCAL_CHAIN_ID) {
        await node.stop();
        throw new Error(`The node on ${url} answers with chain id ${id}, not ${LOCAL_CHAIN_ID}: is another node on that port?`);
      }
      return node;
    }
    if (Date.now() > deadline) {
      const text = output().slice(-3000);
      await node.stop();
      throw new Error(`${o.client} node on ${url} did not answer within ${opts.timeoutMs ?? 60_000} ms:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function chainId(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { result?: string };
    return body.result ? Number(BigInt(body.result)) : undefined;
  } catch {
    return undefined;
  }
}
