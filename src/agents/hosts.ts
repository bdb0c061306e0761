/**
 * Where the BS agents of a run live, behind one small interface the run driver (src/system/run.ts) uses: all in the
 * driver's process (sharing one pool of training workers), or one `dtwn agent` OS process per BS, each with its own
 * key, IPFS node and training worker, against a JSON-RPC node. Both restart an agent that dies (an injected crash or
 * a SIGKILL): it resumes the round from its key, its IPFS repository and the chain.
 */
import { agentEnvFor } from "../chain/keys";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Deployment } from "../chain/deployment";
import { ProcessPoolTrainer, type TwinTrainer } from "../fl/trainers";
import type { HeliaWeightsStore as HeliaStore } from "../ipfs/helia";
import { threadsPerProcess, trainingProcessEnv } from "../ml/backend";
import type { ChainHost } from "../system/chains";
import { serveDevices, type UserDevices } from "../system/devices";
import type { MbsRoundReport } from "../system/mbs";
import type { RunMetrics } from "../system/metrics";
import type { RunOptions } from "../system/options";
import { connectProtocol } from "../system/protocol";
import type { World } from "../system/world";
import { AgentCrashed, BsAgent, type AgentRoundReport, type AgentSettings } from "./bsAgent";
import { DposDuty, type DposStats } from "./dpos";
import type { AssociationPolicy } from "./policies";
import { agentSettings } from "./setup";
import type { AgentPlacement } from "../testbed/placement";

const ROOT = path.resolve(__dirname, "..", "..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a host starts its agents from (the run driver's set-up). */
export interface AgentHostContext {
  o: RunOptions;
  /** The run folder (absolute). */
  out: string;
  chain: ChainHost;
  deployment: Deployment;
  deploymentFile: string;
  world: World;
  bsAddresses: readonly string[];
  twinIds: readonly number[];
  /** The users' devices (the users' side of the run). */
  devices: UserDevices;
  /** The MBS's IPFS addresses. */
  mbsPeers: readonly string[];
  policy: AssociationPolicy;
  arch: string;
  /** Opens an IPFS node on the run folder's repository `name` (closed by the driver at the end). */
  openStore: (name: string) => Promise<HeliaStore>;
  /** Closes a store before the end (a restarted agent's), so the driver does not close it again. */
  closeStore: (store: HeliaStore) => Promise<void>;
  log: (line: string) => void;
}

export interface AgentHost {
  /** How the run report names the hosts ("" for agents in the driver's process). */
  readonly description: string;
  /** Agents that died and were restarted. */
  readonly restarts: RunMetrics["restarts"];
  /** Start every BS's agent; returns the trainer the MBS uses. */
  start(ctx: AgentHostContext): Promise<TwinTrainer>;
  /** Round r: every agent's part while the MBS runs `mbsRound`; the agents' reports (a dead agent has none). */
  runRound(r: number, mbsRound: () => Promise<MbsRoundReport>): Promise<{ mbs: MbsRoundReport; agents: AgentRoundReport[] }>;
  /** DPoS work of each BS so far (by index). */
  dposStats(): DposStats[];
  /** The federation stopped: no round opens again, stop agents waiting for one. */
  halt(): void;
  /** After the last round: wait until every agent is done (processes exit once the last global model is recorded). */
  finish(): Promise<void>;
  /** Stop every agent and release what the host holds (also after an error). */
  close(): Promise<void>;
}

/** Every BS agent in the driver's process, training in one shared pool of worker processes (o.workers). */
export class InProcessAgents implements AgentHost {
  readonly description = "";
  readonly restarts: RunMetrics["restarts"] = [];
  private ctx?: AgentHostContext;
  private trainer?: ProcessPoolTrainer;
  private readonly agents: BsAgent[] = [];
  private readonly stores: HeliaStore[] = [];
  private readonly duties: DposDuty[] = [];

  async start(ctx: AgentHostContext): Promise<TwinTrainer> {
    this.ctx = ctx;
    this.trainer = new ProcessPoolTrainer({ kind: "fashion-mnist" }, ctx.o.workers);
    const { crash } = ctx.o;
    for (let i = 0; i < ctx.o.bss; i++) await this.startAgent(i, crash?.bs === i ? { round: crash.round, after: crash.after } : undefined);
    return this.trainer;
  }

  /** Start BS i's agent: its IPFS node (on its repo in the run folder), its peer address on chain, its DPoS duty. */
  private async startAgent(i: number, crash?: AgentSettings["crash"]): Promise<void> {
    const ctx = this.ctx as AgentHostContext;
    const store = await ctx.openStore(`bs-${i}`);
    const signer = await ctx.chain.bsSigner(ctx.deployment, i);
    const address = await signer.getAddress();
    if (address.toLowerCase() !== ctx.bsAddresses[i].toLowerCase()) throw new Error(`BS ${i}'s key (${address}) is not member ${i} of the registry (${ctx.bsAddresses[i]}); give the BS keys in seat order.`);
    const protocol = connectProtocol(ctx.deployment, signer);
    const agent = new BsAgent({
      index: i,
      signer,
      address: ctx.bsAddresses[i],
      protocol,
      world: ctx.world,
      bsAddresses: ctx.bsAddresses,
      twinIds: ctx.twinIds,
      store,
      trainer: this.trainer as TwinTrainer,
      arch: ctx.arch,
      policy: ctx.policy,
      devices: ctx.devices,
      settings: { ...agentSettings(ctx.o, i), ...(crash ? { crash } : {}) },
      mbsPeers: ctx.mbsPeers,
      log: ctx.log,
    });
    await agent.announcePeer(store.multiaddrs()[0]);
    this.agents[i] = agent;
    this.stores[i] = store;
    this.duties[i]?.stop();
    const duty = new DposDuty(protocol, ctx.bsAddresses[i], (line) => (ctx.o.quiet ? undefined : ctx.log(`  [dpos BS ${i}] ${line}`)));
    duty.start(1000);
    this.duties[i] = duty;
  }

  /** Round r of BS i; an agent that dies is restarted from its key, its IPFS repo and the chain, and resumes the round. */
  private async agentRound(i: number, r: number): Promise<AgentRoundReport> {
    try {
      return await this.agents[i].runRound(r);
    } catch (e) {
      if (!(e instanceof AgentCrashed)) throw e;
      (this.ctx as AgentHostContext).log(`${e.message}; restarting it`);
      this.duties[i].stop();
      await (this.ctx as AgentHostContext).closeStore(this.stores[i]);
      const t = Date.now();
      await this.startAgent(i);
      this.restarts.push({ bs: i, round: r, after: e.after, restartSeconds: (Date.now() - t) / 1000 });
      return this.agents[i].runRound(r);
    }
  }

  async runRound(r: number, mbsRound: () => Promise<MbsRoundReport>): Promise<{ mbs: MbsRoundReport; agents: AgentRoundReport[] }> {
    const [mbs, ...agents] = await Promise.all([mbsRound(), ...this.agents.map((_, i) => this.agentRound(i, r))]);
    return { mbs, agents };
  }

  dposStats(): DposStats[] {
    return this.duties.map((d) => d.stats);
  }

  halt(): void {}

  async finish(): Promise<void> {}

  async close(): Promise<void> {
    this.duties.forEach((d) => d.stop());
    await this.trainer?.close();
  }
}

/**
 * One `dtwn agent` OS process per BS against the chain's JSON-RPC node (src/agents/process.ts), the MBS training in
 * one worker of the driver's process. Agents write one JSON line per round to <out>/agents/bs-<i>.jsonl, which the
 * host collects. Fault injection: `o.kill` SIGKILLs an agent process some seconds into a round, or the agent kills
 * itself after a phase; a dead agent is started again after the round and resumes from the chain.
 */
export class ProcessAgents implements AgentHost {
  readonly restarts: RunMetrics["restarts"] = [];
  readonly description: string;
  private ctx?: AgentHostContext;
  private trainer?: ProcessPoolTrainer;
  private devices?: { url: string; close: () => Promise<void> };
  private readonly children: ChildProcess[] = [];
  /** When each agent process last died (exit by a signal or a non-zero code). */
  private readonly died: (number | undefined)[] = [];

  /** `placement`: where each process starts and what changes every slot (the emulated testbed); default: here. */
  constructor(
    bss: number,
    private readonly placement?: AgentPlacement,
  ) {
    this.description = placement ? `${bss} BS agent processes in the ${placement.description}` : `${bss} BS agent processes`;
  }

  /**
   * If this process ends before close() (an error, SIGINT or SIGTERM), its agent processes end with it: SIGKILLed
   * (they resume from the chain when started again), not left running against the chain.
   */
  private readonly killChildren = () => this.children.forEach((c) => !exited(c) && c.kill("SIGKILL"));
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.killChildren();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };

  private get agentThreads(): number {
    return this.placement?.threads ?? threadsPerProcess((this.ctx as AgentHostContext).o.bss + 1);
  }

  async start(ctx: AgentHostContext): Promise<TwinTrainer> {
    if (!ctx.chain.rpcUrl) throw new Error("BS agent processes need a chain they can reach: run with --network localhost (a node started by `npx hardhat node`).");
    this.ctx = ctx;
    process.once("exit", this.killChildren);
    process.once("SIGINT", this.onSignal);
    process.once("SIGTERM", this.onSignal);
    fs.rmSync(path.join(ctx.out, "agents"), { recursive: true, force: true });
    this.devices = await serveDevices(ctx.devices);
    this.trainer = new ProcessPoolTrainer({ kind: "fashion-mnist" }, 1, threadsPerProcess(ctx.o.bss + 1));
    await this.placement?.start(ctx);
    for (let i = 0; i < ctx.o.bss; i++) this.startAgentProcess(i);
    ctx.log(`${ctx.o.bss} BS agent processes started (pids ${this.children.map((c) => c.pid).join(", ")})`);
    // Let the agents announce their IPFS addresses before round 1 opens (an agent that dies on start fails the run).
    const reader = connectProtocol(ctx.deployment, ctx.chain.provider(ctx.deployment));
    const t = Date.now();
    while (Date.now() - t < 120_000) {
      const dead = this.children.findIndex(exited);
      if (dead >= 0) throw new Error(`BS ${dead}'s agent process exited (code ${this.children[dead].exitCode}, signal ${this.children[dead].signalCode}) on start; see ${path.join(ctx.out, `agent-${dead}.log`)}.`);
      const metas = await Promise.all(ctx.bsAddresses.map((a) => reader.registry.metadataOf(a)));
      if (metas.every((m) => m.ipfsPeerAddress.includes("/p2p/"))) break;
      await sleep(500);
    }
    return this.trainer;
  }

  /**
   * Start BS i's agent process; again after it died (killed): it resumes from the chain, its IPFS repo and its
   * report file, and is not killed a second time.
   */
  private startAgentProcess(i: number, again = false): void {
    const ctx = this.ctx as AgentHostContext;
    const { kill: _kill, ...withoutKill } = ctx.o;
    const runJson = JSON.stringify({ ...(again ? withoutKill : ctx.o), out: ctx.out });
    const argv = [path.join(ROOT, "bin", "dtwn.js"), "agent", "--deployment", ctx.deploymentFile, "--bs", String(i), "--run", runJson, "--mbs-peer", ctx.mbsPeers[0], "--devices", (this.devices as { url: string }).url];
    // no agent holds the users' device keys, the operator's key or another BS's key
    const env = trainingProcessEnv(this.agentThreads, agentEnvFor(i, process.env));
    const where = this.placement?.launch(i, [process.execPath, ...argv], env) ?? { file: process.execPath, args: argv, env };
    const child = spawn(where.file, where.args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: where.env });
    const prefix = `[BS ${i} pid ${child.pid}] `;
    const logFile = fs.createWriteStream(path.join(ctx.out, `agent-${i}.log`), { flags: "a" });
    // How to start this agent again by hand (after killing it): it resumes from the chain, its IPFS repo and its report file.
    logFile.write(`# restart: cd ${ROOT} && ${[where.file, ...where.args].map((a) => (/^[\w/.:=-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ")}\n`);
    child.stdout?.pipe(logFile);
    child.stderr?.on("data", (d: Buffer) => {
      logFile.write(d);
      if (!ctx.o.quiet) for (const line of d.toString().split("\n").filter(Boolean)) ctx.log(prefix + line);
    });
    child.once("exit", (code, signal) => {
      if (code === 0 && !signal) return;
      this.died[i] = Date.now();
      ctx.log(`${prefix}exited (code ${code}, signal ${signal})`);
    });
    this.children[i] = child;
  }

  async runRound(r: number, mbsRound: () => Promise<MbsRoundReport>): Promise<{ mbs: MbsRoundReport; agents: AgentRoundReport[] }> {
    const ctx = this.ctx as AgentHostContext;
    // Fault injection: SIGKILL an agent process some seconds into the round (--kill bs:round:seconds); with
    // --kill bs:round:phase the agent kills itself after that phase.
    const kill = ctx.o.kill?.round === r ? ctx.o.kill : undefined;
    const timer =
      kill?.afterSeconds !== undefined
        ? setTimeout(() => {
            ctx.log(`killing BS ${kill.bs}'s agent process (pid ${this.children[kill.bs].pid}) ${kill.afterSeconds} s into round ${r}`);
            this.children[kill.bs].kill("SIGKILL");
          }, kill.afterSeconds * 1000)
        : undefined;
    await this.placement?.roundStarts(r);
    const mbs = await mbsRound().finally(() => this.placement?.roundEnds(r));
    if (timer) clearTimeout(timer);
    // The round closed without the agents that died in it; start them again now: each resumes the round from the chain.
    for (let i = 0; i < ctx.o.bss; i++) {
      const diedAt = this.died[i];
      if (!exited(this.children[i]) || diedAt === undefined) continue;
      this.startAgentProcess(i, true);
      ctx.log(`restarted BS ${i}'s agent process (pid ${this.children[i].pid})`);
      const how = kill?.bs === i ? (kill.after ? `SIGKILL after ${kill.after}` : `SIGKILL ${kill.afterSeconds} s into the round`) : "died (not planned)";
      this.restarts.push({ bs: i, round: r, after: how, restartSeconds: (Date.now() - diedAt) / 1000 });
      this.died[i] = undefined;
    }
    return { mbs, agents: await collectAgentReports(ctx.out, ctx.o.bss, r, 120_000) };
  }

  dposStats(): DposStats[] {
    const ctx = this.ctx as AgentHostContext;
    return ctx.bsAddresses.map((_, i) => {
      const lines = readAgentLines(ctx.out, i);
      return (lines[lines.length - 1] as (AgentRoundReport & { dpos?: DposStats }) | undefined)?.dpos ?? { elections: 0, proposed: 0, validated: 0, rejected: 0, errors: [] };
    });
  }

  halt(): void {
    this.children.forEach((c) => !exited(c) && c.kill()); // they would wait for a round that never opens
  }

  async finish(): Promise<void> {
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => (exited(c) ? resolve() : c.once("exit", () => resolve())))));
  }

  async close(): Promise<void> {
    process.removeListener("exit", this.killChildren);
    process.removeListener("SIGINT", this.onSignal);
    process.removeListener("SIGTERM", this.onSignal);
    this.placement?.close();
    this.children.forEach((c) => !exited(c) && c.kill());
    await this.trainer?.close();
    await this.devices?.close();
  }
}

/** Whether a child process has ended (by its own exit or by a signal). */
function exited(c: ChildProcess): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

function readAgentLines(out: string, bs: number): AgentRoundReport[] {
  const file = path.join(out, "agents", `bs-${bs}.jsonl`);
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as AgentRoundReport);
}

/** Every agent's report of round `round` (an agent that is down by the timeout has none). */
async function collectAgentReports(out: string, bss: number, round: number, timeoutMs: number): Promise<AgentRoundReport[]> {
  const t0 = Date.now();
  for (;;) {
    const found = Array.from({ length: bss }, (_, i) => readAgentLines(out, i).find((r) => r.round === round));
    if (found.every(Boolean) || Date.now() - t0 > timeoutMs) return found.filter((r): r is AgentRoundReport => r !== undefined);
    await sleep(500);
  }
}
