/**
 * What a run of the system records: per round, the MBS's view (accuracy, loss, phases, gas) and every BS agent's
 * (phases measured next to the model's prediction, verdicts, coins), plus the chain's producers and blocks. Written
 * to the run folder as metrics.json and turned into the report, CSV files and figures (src/system/report.ts).
 */
import type { AgentRoundReport } from "../agents/bsAgent";
import type { DposStats } from "../agents/dpos";
import type { MbsRoundReport } from "./mbs";

export interface RoundMetrics {
  round: number;
  mbs: MbsRoundReport;
  /** One report per BS agent that took part (a crashed agent has none for the round). */
  agents: AgentRoundReport[];
  /** Producers of the DPoS epoch at the end of the round. */
  producers: string[];
  /** Training coins of every BS (by index) after settlement, in whole coins. */
  coins: number[];
  /** Blocks proposed so far and how many are final. */
  blocks: { total: number; final: number };
  /** Records in the log so far. */
  records: number;
  /** Wall-clock seconds of the whole round. */
  seconds: number;
}

export interface RunMetrics {
  /** On the emulated testbed: the Hz one core stood for and the factor link rates were divided by. */
  testbed?: {
    coreHz: number;
    linkSlowdown: number;
    /** Bytes of one encoded model (what a BS sends per recipient). */
    modelBytes?: number;
    /** What each BS's links carried per round (interface counters), with the model's uplink rate of the slot. */
    traffic?: { round: number; bs: number; uplinkBytes: number; downlinkBytes: number; uplinkModelBps: number }[];
  };
  /** The options the run was started with. */
  options: Record<string, unknown>;
  /** tfjs backend of the training workers. */
  backend: string;
  network: string;
  policy: string;
  startedAt: string;
  /** Wall-clock seconds of the run (set-up included). */
  seconds: number;
  bsAddresses: string[];
  /** Indices of the malicious BSs. */
  malicious: number[];
  rounds: RoundMetrics[];
  /** DPoS work of each BS over the run (by index). */
  dpos: DposStats[];
  /** Agents that died (injected faults) and were restarted: which, when, and how long the restart took. */
  restarts: { bs: number; round: number; after: string; restartSeconds: number }[];
  /** Why the federation stopped before the last round (the BSs disputed a global model), if it did. */
  stopped?: string;
}
