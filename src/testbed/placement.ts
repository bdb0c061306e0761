/**
 * Where the hub of an emulated run starts each BS agent (src/agents/hosts.ts `ProcessAgents` with this placement):
 * inside BS i's network namespace and CPU cgroup. Every slot t (= FL round) it sets BS i's CPU quota to f_i u_i(t)
 * (src/system/world.ts `environmentAt`, in cores of H Hz), its downlink to R^D_i(t) of Eq. 8 and, as soon as BS i's
 * action a_i(t) is on chain, its uplink to R^U_i(t) of Eq. 7 at the committed tau_i (until then the previous slot's
 * tau, or an even share in slot 1), both divided by the run's link slowdown. Each change is one line of
 * <run folder>/testbed-slots.jsonl.
 */
import fs from "node:fs";
import { getBytes } from "ethers";
import path from "node:path";
import { decodeAction } from "../chain/actionCodec";
import type { AgentHostContext } from "../agents/hosts";
import { connectProtocol, type Protocol } from "../system/protocol";
import { environmentAt } from "../system/world";
import { downlinkRatesBps, uplinkRatesBps } from "../twins/wireless";
import { CpuCgroup, TRAIN_CGROUP_ENV } from "./cgroup";
import { CPU_PERIOD_US, MIN_QUOTA_US } from "./emulation";
import { TESTBED_HOST_ENV } from "./hostNetwork";
import { EmulatedNetwork } from "./network";
import type { TestbedSpec } from "./spec";

/** How a process host starts agent i and follows the slots (the emulated testbed; absent: plain OS processes). */
export interface AgentPlacement {
  readonly description: string;
  /** Threads of an agent's training process. */
  readonly threads: number;
  start(ctx: AgentHostContext): Promise<void>;
  /** The command that runs `argv` (node and its arguments) where agent i lives. */
  launch(i: number, argv: readonly string[], env: NodeJS.ProcessEnv): { file: string; args: string[]; env: NodeJS.ProcessEnv };
  roundStarts(round: number): Promise<void>;
  roundEnds(round: number): void;
  close(): void;
}

/** One line of testbed-slots.jsonl: what BS `bs` got in slot `round`. */
export interface SlotLine {
  round: number;
  bs: number;
  /** When it was applied (ms since the epoch). */
  at: number;
  what: "cpu" | "downlink" | "uplink" | "traffic";
  /** f_i u_i(t), Hz (cpu); the model's rate, bit/s (links); 0 (traffic). */
  model: number;
  /** The quota in microseconds per period (cpu); the shaped rate, bit/s (links); 0 (traffic). */
  applied: number;
  /** Bytes the BS's uplink and downlink carried from the slot's start to the end of its round (traffic). */
  uplinkBytes?: number;
  downlinkBytes?: number;
  /** tau_i the uplink rate was computed from (uplink). */
  tau?: number[];
  /** Whether tau_i is the committed one of this slot (uplink). */
  committed?: boolean;
}

export class EmulatedPlacement implements AgentPlacement {
  readonly description: string;
  readonly threads = 1;
  private readonly net: EmulatedNetwork;
  /** Per BS: the training cgroup (quota f_i u_i(t) / H) and the agent's control cgroup. */
  private readonly cgroups: CpuCgroup[];
  private readonly agentCgroups: CpuCgroup[];
  private ctx?: AgentHostContext;
  private reader?: Protocol;
  private tau: number[][] = [];
  private poll?: NodeJS.Timeout;
  private linesFile = "";
  private counters: { uplinkBytes: number; downlinkBytes: number }[] = [];

  constructor(private readonly spec: TestbedSpec) {
    this.net = EmulatedNetwork.attach(spec.id, spec.bss);
    this.cgroups = spec.cgroups.map((d) => CpuCgroup.at(d, spec.cgroupVersion));
    this.agentCgroups = spec.agentCgroups.map((d) => CpuCgroup.at(d, spec.cgroupVersion));
    this.description = `emulated testbed (one core = ${(spec.coreHz / 1e9).toFixed(2)} GHz, links at 1/${spec.linkSlowdown})`;
  }

  async start(ctx: AgentHostContext): Promise<void> {
    this.ctx = ctx;
    this.reader = connectProtocol(ctx.deployment, ctx.chain.provider(ctx.deployment));
    const c = ctx.world.scenario.constants.subchannels;
    this.tau = ctx.world.scenario.bss.map(() => new Array<number>(c).fill(1 / ctx.world.scenario.bss.length));
    this.linesFile = path.join(ctx.out, "testbed-slots.jsonl");
    fs.writeFileSync(this.linesFile, "");
    await this.roundStarts(0); // shaped before the agents start (slot 0: the bootstrap's environment)
  }

  launch(i: number, argv: readonly string[], env: NodeJS.ProcessEnv): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
    // The shell moves itself into BS i's control cgroup, then becomes nsenter, which becomes node in BS i's namespace.
    // The agent moves the training process it forks into BS i's training cgroup (TRAIN_CGROUP_ENV): the quota of
    // f_i u_i(t) prices training (and the verification it runs there), not the agent's chain and IPFS work.
    return { ...this.agentCgroups[i].command([...this.net.exec(i), ...argv]), env: { ...env, [TESTBED_HOST_ENV]: this.net.hostEnv(i), [TRAIN_CGROUP_ENV]: this.cgroups[i].dir } };
  }

  private record(line: SlotLine): void {
    fs.appendFileSync(this.linesFile, JSON.stringify(line) + "\n");
  }

  /** Slot `round`: quotas and downlinks from the environment; uplinks from the last known tau, then from commits. */
  async roundStarts(round: number): Promise<void> {
    const ctx = this.ctx as AgentHostContext;
    const { scenario } = ctx.world;
    const env = environmentAt(ctx.world, round);
    const down = downlinkRatesBps(scenario, env.channel);
    scenario.bss.forEach((b, i) => {
      const hz = b.cpuHz * env.cpuAvailability[i];
      const quota = Math.max(MIN_QUOTA_US, Math.round((hz / this.spec.coreHz) * CPU_PERIOD_US));
      this.cgroups[i].setQuota(quota);
      this.record({ round, bs: i, at: Date.now(), what: "cpu", model: hz, applied: quota });
    });
    const up = uplinkRatesBps(scenario, env.channel, this.tau);
    scenario.bss.forEach((_, i) => {
      this.net.shape(i, { uplinkBps: up[i] / this.spec.linkSlowdown, downlinkBps: down[i] / this.spec.linkSlowdown });
      this.record({ round, bs: i, at: Date.now(), what: "downlink", model: down[i], applied: down[i] / this.spec.linkSlowdown });
      this.record({ round, bs: i, at: Date.now(), what: "uplink", model: up[i], applied: up[i] / this.spec.linkSlowdown, tau: this.tau[i], committed: false });
    });
    this.counters = scenario.bss.map((_, i) => this.net.bytes(i));
    if (round < 1) return;
    const pending = new Set(scenario.bss.map((_, i) => i));
    const index = new Map(ctx.bsAddresses.map((a, i) => [a.toLowerCase(), i]));
    const reader = this.reader as Protocol;
    const check = async () => {
      for (const e of await reader.ledger.queryFilter(reader.ledger.filters.ActionCommitted(round))) {
        const i = index.get(e.args.bs.toLowerCase());
        if (i === undefined || !pending.has(i)) continue;
        pending.delete(i);
        this.tau[i] = decodeAction(getBytes(e.args.twins), getBytes(e.args.tau)).tau;
        const rate = uplinkRatesBps(scenario, env.channel, this.tau)[i]; // Eq. 7: BS i's rate depends on its own tau only
        if (rate > 0) this.net.shape(i, { uplinkBps: rate / this.spec.linkSlowdown, downlinkBps: down[i] / this.spec.linkSlowdown });
        this.record({ round, bs: i, at: Date.now(), what: "uplink", model: rate, applied: rate / this.spec.linkSlowdown, tau: this.tau[i], committed: true });
      }
    };
    this.stopPolling();
    const tick = () => {
      this.poll = setTimeout(() => {
        check()
          .catch((e: Error) => ctx.log(`testbed: reading slot ${round}'s commits failed: ${e.message}`))
          .finally(() => pending.size > 0 && this.poll !== undefined && tick());
      }, 250);
    };
    tick();
  }

  private stopPolling(): void {
    if (this.poll) clearTimeout(this.poll);
    this.poll = undefined;
  }

  /** The round is over (aggregated): what each BS's links carried in it. */
  roundEnds(round: number): void {
    this.stopPolling();
    this.counters.forEach((c, i) => {
      const now = this.net.bytes(i);
      this.record({ round, bs: i, at: Date.now(), what: "traffic", model: 0, applied: 0, uplinkBytes: now.uplinkBytes - c.uplinkBytes, downlinkBytes: now.downlinkBytes - c.downlinkBytes });
    });
  }

  close(): void {
    this.stopPolling();
  }
}
