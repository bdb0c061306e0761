/** `dtwn run`: the whole system (chain, IPFS, FL, BS agents) on embedded defaults, writing a run folder with a report. */
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { finiteNumber, positiveInt } from "./args";
import { ATTACKS } from "../fl/attacks";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AGENT_HOSTS, DEFAULT_RUN, resolveRunOptions, TESTBEDS, type AgentHostName, type RunOptions } from "../system/options";
import type { RunPlacement } from "../system/run";
import { hostNetwork, mayDial } from "../testbed/hostNetwork";
import { DEFAULT_LINK_SLOWDOWN } from "../testbed/emulation";
import type { RoundMetrics, RunMetrics } from "../system/metrics";
import { POLICY_NAMES, type PolicyName } from "../agents/policies";

// The system's modules load tfjs, Helia and Hardhat: required in the actions only, so that other commands start fast.
/* eslint-disable @typescript-eslint/no-require-imports */
const system = () => ({
  ...(require("../system/run") as typeof import("../system/run")),
  ...(require("../system/report") as typeof import("../system/report")),
  ...(require("../agents/process") as typeof import("../agents/process")),
  ...(require("../system/compare") as typeof import("../system/compare")),
});
/* eslint-enable @typescript-eslint/no-require-imports */

function parseCrash(v: string): { bs: number; round: number; after: string } {
  const m = /^(\d+):(\d+):([a-z]+)$/.exec(v);
  if (!m) throw new Error(`--crash takes bs:round:phase, e.g. 0:2:upload; got ${JSON.stringify(v)}.`);
  return { bs: Number(m[1]), round: Number(m[2]), after: m[3] };
}

function parseFault(v: string, acc: { bs: number; kind: string }[]): { bs: number; kind: string }[] {
  const m = /^(\d+):([a-z-]+)$/.exec(v);
  if (!m) throw new Error(`--fault takes bs:kind, e.g. 1:unknown-cid; got ${JSON.stringify(v)}.`);
  return [...acc, { bs: Number(m[1]), kind: m[2] }];
}

function parseMbsAttack(v: string): { kind: string; round?: number } {
  const m = /^([a-z-]+)(?::(\d+))?$/.exec(v);
  if (!m) throw new Error(`--mbs-attack takes kind or kind:round, e.g. forge-global or forge-global:2; got ${JSON.stringify(v)}.`);
  return { kind: m[1], ...(m[2] ? { round: Number(m[2]) } : {}) };
}

function parseKill(v: string): { bs: number; round: number; afterSeconds?: number; after?: string } {
  const m = /^(\d+):(\d+):(\d+(?:\.\d+)?|[a-z]+)$/.exec(v);
  if (!m) throw new Error(`--kill takes bs:round:seconds or bs:round:phase, e.g. 1:2:10 or 0:2:train; got ${JSON.stringify(v)}.`);
  return { bs: Number(m[1]), round: Number(m[2]), ...(/^\d/.test(m[3]) ? { afterSeconds: Number(m[3]) } : { after: m[3] }) };
}

/** The options `dtwn run` and `dtwn compare` share. */
function withRunOptions(cmd: Command): Command {
  return cmd
    .option("--users <n>", "end users N (the paper: 100)", positiveInt, DEFAULT_RUN.users)
    .option("--bss <m>", "BSs M (the paper: 5)", positiveInt, DEFAULT_RUN.bss)
    .option("--rounds <n>", "FL rounds", positiveInt, DEFAULT_RUN.rounds)
    .option("--policy <name>", "edge association: maddpg | average | random | heuristic", DEFAULT_RUN.policy)
    .option("--policy-dir <dir>", "trained MADDPG policy (default: the shipped one for this scenario under policies/)")
    .option("--local-steps <n>", "s_ref: mini-batches a twin of 600 samples trains per round (twin j trains round(s_ref D_j / 600), the work of Eq. 12)", positiveInt, DEFAULT_RUN.localSteps)
    .option("--calibration <file>", "Eq. 12's constants from `dtwn calibrate` (the model's predicted training seconds follow this machine)")
    .option("--learning-rate <x>", "local learning rate", finiteNumber, DEFAULT_RUN.learningRate)
    .option("--malicious <k>", "number of malicious BSs (the last ones)", (v) => Number(v), DEFAULT_RUN.malicious)
    .option("--malicious-bss <list>", "the malicious BSs by index, comma-separated (overrides --malicious), e.g. 0,3", parseIndexList)
    .option("--attack <kind>", `what a malicious BS does: ${ATTACKS.join(" | ")} (free-ride submits the global model; inflate-data claims 1000x its data; collude: the malicious BSs fail every other model and pass each other's)`, DEFAULT_RUN.attack)
    .option("--test-images <n>", "test images the global model is scored on each round", positiveInt, DEFAULT_RUN.testImages)
    .option("--workers <n>", "training processes", positiveInt, DEFAULT_RUN.workers)
    .option("--held-out-per-bs <n>", "training samples each BS keeps to verify the others' models", positiveInt, DEFAULT_RUN.heldOutPerBs)
    .option("--first-round-seconds <s>", "submission window of round 1 (later rounds adapt, and close early when every BS has submitted)", positiveInt, DEFAULT_RUN.firstRoundSeconds)
    .option("--reveal-window-seconds <s>", "seconds after the verification window during which the BSs reveal their verdicts", positiveInt, DEFAULT_RUN.revealWindowSeconds)
    .option("--min-round-seconds <s>", "shortest submission window of rounds 2+ (1.5 x the previous round's slowest submission, at least this)", positiveInt, DEFAULT_RUN.minRoundSeconds)
    .option("--verification-window-seconds <s>", "seconds after a round's deadline during which the BSs verify each other's models", positiveInt, DEFAULT_RUN.verificationWindowSeconds)
    .option("--proposal-window-seconds <s>", "seconds after a round opens during which the BSs propose their actions (the joint action is decoded from the proposals mined by then)", positiveInt, DEFAULT_RUN.proposalWindowSeconds)
    .option("--gas-price-gwei <x>", "gas price the report states each round's cost in ether at", finiteNumber, DEFAULT_RUN.gasPriceGwei)
    .option("--fund-bs-ether <e>", "on a testnet: before deploying, the operator tops every BS's account up to e ether (each BS pays the gas of its own transactions)", finiteNumber)
    .option("--confirmations <n>", "blocks a block must be under before the MBS and the agents act on it (1: the latest block; more survives a reorg of n - 1 blocks, on a chain that mines on its own)", positiveInt, DEFAULT_RUN.confirmations)
    .option("--slot-seconds <s>", "DPoS slot length: each slot one elected producer may propose a block (at least the chain's block time)", positiveInt, DEFAULT_RUN.slotSeconds)
    .option("--crash <bs:round:phase>", "fault injection: BS bs dies after phase (observe|act|sync|train|upload|verify|collect) of round round, and is restarted", parseCrash)
    .option("--fault <bs:kind>", "fault injection, repeatable: BS bs submits a faulty model record every round (unknown-cid | wrong-shape | late)", parseFault, [] as { bs: number; kind: string }[])
    .option("--seed <n>", "seed of the topology, data and environment", positiveInt, DEFAULT_RUN.seed)
    .option("-o, --out <dir>", "run folder", DEFAULT_RUN.out)
    .option("--testbed <kind>", `${TESTBEDS.join(" | ")}: emulated runs every BS in its own network namespace and CPU cgroup, its CPU quota f_i u_i(t) and its links shaped to Eqs. 7-8 every slot (needs root, cgroups, ip and tc; see \`dtwn doctor\`)`, "none")
    .option("--link-slowdown <x>", "with --testbed emulated: the model's link rates are divided by this", finiteNumber, DEFAULT_LINK_SLOWDOWN);
}

export function registerRunCommand(program: Command): void {
  withRunOptions(program.command("run"))
    .description("run the system end to end: in-process chain, an IPFS node per BS, BS agents (MADDPG or a baseline), FL rounds on Fashion-MNIST; writes a report with figures")
    .option("-n, --network <name>", "hardhat: an in-process chain, everything in this process; localhost: the node of `npx hardhat node`, with every BS agent as its own process; testnet: the node at DTWN_RPC_URL, the operator's key in DTWN_DEPLOYER_KEY and BS i's in its keystore DTWN_BS<i>_KEYSTORE (password in DTWN_KEYSTORE_PASSWORD) or DTWN_BS<i>_KEY", "hardhat")
    .option("--agents <host>", `where the BS agents run: ${AGENT_HOSTS.join(" | ")} (default: in-process on the in-process chain, processes on a node)`)
    .option("--kill <bs:round:seconds|phase>", "with agent processes: SIGKILL BS bs's agent process in round round, that many seconds into it or right after that phase of its own; it is started again after the round", parseKill)
    .option("--mbs-attack <kind[:round]>", "fault injection: the MBS forges the global model; forge-global records Eq. 5 plus Gaussian noise (std 0.01) instead of Eq. 5, in every round or only in round round (`dtwn audit` reports it)", parseMbsAttack)
    .option("-q, --quiet", "only one line per round", false)
    .action(async (opts: Record<string, unknown>) => {
      const { network, agents, fault, testbed, linkSlowdown, ...rest } = opts as { network: string; agents?: string; fault: unknown; testbed: string; linkSlowdown: number };
      if (agents !== undefined && !(AGENT_HOSTS as readonly string[]).includes(agents)) throw new Error(`--agents takes ${AGENT_HOSTS.join(" or ")}, got ${JSON.stringify(agents)}.`);
      if (!(TESTBEDS as readonly string[]).includes(testbed)) throw new Error(`--testbed takes ${TESTBEDS.join(" or ")}, got ${JSON.stringify(testbed)}.`);
      const started = Date.now();
      const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
      if (testbed === "emulated") {
        if (network !== "hardhat" || agents !== undefined) throw new Error("--testbed emulated starts its own chain node and agent processes inside the testbed: leave out --network and --agents.");
        const { calibration: file, ...withoutCalibration } = rest as { calibration?: string } & Record<string, unknown>;
        const o = resolveRunOptions({ ...withoutCalibration, faults: fault });
        process.exitCode = await emulatedLauncher(file, o.optimizer, linkSlowdown, log)(o);
        return;
      }
      const o = resolveRunOptions({ ...withCalibration(rest), faults: fault });
      await runAndReport(o, { network, ...(agents ? { agents: agents as AgentHostName } : {}) }, log);
    });

  program
    .command("testbed-hub")
    .description("the hub of an emulated run: the MBS, the users' devices and the run driver inside the testbed (started by `dtwn run --testbed emulated`)")
    .requiredOption("--spec <file>", "the testbed description the launcher wrote (testbed.json in the run folder)")
    .action(async (opts: { spec: string }) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { readTestbedSpec } = require("../testbed/spec") as typeof import("../testbed/spec");
      const spec = readTestbedSpec(opts.spec);
      const o = resolveRunOptions(spec.run);
      const started = Date.now();
      const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
      await runAndReport(o, { network: "localhost", agents: "processes", testbed: spec }, log);
      process.exit(0);
    });

  program
    .command("agent")
    .description("one BS agent as its own process against a JSON-RPC node (started by `dtwn run --network localhost`; usable by hand with the same options)")
    .requiredOption("--deployment <file>", "deployment file of the run")
    .requiredOption("--bs <i>", "this BS's index (its registry seat)", (v) => Number(v))
    .requiredOption("--run <json>", "the run's options as JSON (as `dtwn run` resolved them)")
    .option("--mbs-peer <multiaddr>", "the MBS's IPFS address (to fetch global models from)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .requiredOption("--devices <url>", "where the users' devices answer consent requests (http://127.0.0.1:PORT, served by `dtwn run`)")
    .action(async (opts: { deployment: string; bs: number; run: string; mbsPeer: string[]; devices: string }) => {
      let raw: unknown;
      try {
        raw = JSON.parse(opts.run);
      } catch (e) {
        throw new Error(`--run is not JSON: ${(e as Error).message}`);
      }
      const run = resolveRunOptions(raw as Record<string, unknown>);
      const devicesHost = /^http:\/\/([\d.]+):\d+\/?$/.exec(opts.devices)?.[1];
      if (devicesHost === undefined || !mayDial(hostNetwork(), devicesHost)) throw new Error(`--devices must be http://127.0.0.1:PORT (the users' devices of the run), got ${opts.devices}.`);
      await system().runAgentProcess({ deployment: opts.deployment, bs: opts.bs, run, mbsPeers: opts.mbsPeer, devicesUrl: opts.devices }, (line) => console.error(line));
      process.exit(0);
    });

  withRunOptions(program.command("compare"))
    .description("the same rounds of the system under several associations (default maddpg, average, random) and the full-data FedAvg comparator; Figs. 5 and 6 measured on the running system")
    .option("--policies <list>", "comma-separated associations (maddpg, average, random, heuristic)", "maddpg,average,random,heuristic")
    .option("--seeds <n>", "seeds to run each association on (--seed, --seed + 1, ...); with more than one, Fig. 5 and the table show 95 % intervals", positiveInt, 1)
    .option("-q, --quiet", "only one line per round", false)
    .option("--replot", "only redraw the figures and comparison.md from the comparison already in --out (no runs)", false)
    .action(async (opts: Record<string, unknown>) => {
      const { policies, fault, replot, testbed, linkSlowdown, seeds, ...rest } = opts as { policies: string; fault: unknown; replot: boolean; testbed: string; linkSlowdown: number; seeds: number } & Record<string, unknown>;
      if (!(TESTBEDS as readonly string[]).includes(testbed)) throw new Error(`--testbed takes ${TESTBEDS.join(" or ")}, got ${JSON.stringify(testbed)}.`);
      if (replot) {
        const { readComparison, writeComparison } = system();
        const dir = rest.out === DEFAULT_RUN.out ? "runs/compare" : String(rest.out);
        for (const f of writeComparison(dir, readComparison(dir))) console.log(f);
        return;
      }
      const list = policies.split(",").map((p) => p.trim());
      for (const p of list) if (!(POLICY_NAMES as readonly string[]).includes(p)) throw new Error(`unknown association ${JSON.stringify(p)} in --policies; use ${POLICY_NAMES.join(", ")}.`);
      const out = rest.out === DEFAULT_RUN.out ? "runs/compare" : rest.out;
      const started = Date.now();
      const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
      const { compareAssociations, formatRoundLine, runInProcess } = system();
      const hooks = { log: rest.quiet ? undefined : log, onRound: (r: RoundMetrics) => console.log(formatRoundLine(r, r.agents.filter((a) => a.malicious).map((a) => a.bs))) };
      let o: RunOptions;
      let runOne: (o: RunOptions) => Promise<RunMetrics>;
      if (testbed === "emulated") {
        const { calibration: file, ...withoutCalibration } = rest as { calibration?: string } & Record<string, unknown>;
        o = resolveRunOptions({ ...withoutCalibration, faults: fault, out });
        const launch = emulatedLauncher(file, o.optimizer, linkSlowdown, log);
        runOne = async (r) => {
          const code = await launch(r);
          const metrics = path.join(r.out, "metrics.json");
          if (code !== 0 || !fs.existsSync(metrics)) throw new Error(`the emulated run of ${r.policy}, seed ${r.seed}, failed (exit code ${code}); its log is above, its files in ${r.out}. The runs before it are in ${o.out}/comparison.md.`);
          return JSON.parse(fs.readFileSync(metrics, "utf8")) as RunMetrics;
        };
      } else {
        o = resolveRunOptions({ ...withCalibration(rest), faults: fault, out });
        runOne = runInProcess(hooks);
      }
      const c = await compareAssociations(o, list as PolicyName[], hooks, { seeds, runOne, testbed: testbed === "emulated" ? "emulated" : "in-process" });
      console.log(`\ncompared ${c.runs.map((r) => r.policy).join(", ")} and full-data FedAvg in ${((Date.now() - started) / 1000).toFixed(0)} s; see ${o.out}/comparison.md`);
    });
}

/** One run and its report (the run folder), for `dtwn run` and the hub of an emulated run. */
async function runAndReport(o: RunOptions, placement: RunPlacement, log: (line: string) => void): Promise<void> {
  const { runSystem, writeRunReport, formatRoundLine } = system();
  const hooks = { log: o.quiet ? undefined : log, onRound: (r: RoundMetrics) => console.log(formatRoundLine(r, r.agents.filter((a) => a.malicious).map((a) => a.bs))) };
  const metrics = await runSystem(o, hooks, placement);
  const { files } = writeRunReport(o.out, metrics);
  if (metrics.stopped) console.log(`\nThe federation stopped after round ${metrics.rounds.length}: ${metrics.stopped}`);
  console.log(`\n${metrics.rounds.length} of ${o.rounds} rounds in ${metrics.seconds.toFixed(0)} s; report: ${files.find((f) => f.endsWith("report.md"))}`);
}

/** With --testbed emulated: the calibration (--calibration, else the shipped one) checked against the run, and a launcher of one emulated run that returns its exit code. */
function emulatedLauncher(file: string | undefined, optimizer: string, linkSlowdown: number, log: (line: string) => void): (o: RunOptions) => Promise<number> {
  const { calibration, file: calibrationFile } = readCalibrationOrShipped(file, log);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require("../bench/calibrate") as typeof import("../bench/calibrate")).checkCalibrationFits(calibration, calibrationFile, optimizer);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { launchEmulatedRun } = require("../testbed/launch") as typeof import("../testbed/launch");
  return (o) => launchEmulatedRun({ o, calibration, linkSlowdown, cores: os.availableParallelism?.() ?? os.cpus().length, log });
}

/** The calibration an emulated run uses: --calibration, else the one shipped in results/testbed/ (said so). */
function readCalibrationOrShipped(file: string | undefined, log: (line: string) => void) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { readCalibration } = require("../bench/calibrate") as typeof import("../bench/calibrate");
  if (file !== undefined) return { calibration: readCalibration(file), file };
  const shipped = path.resolve(__dirname, "..", "..", "results", "testbed", "calibration.json");
  log(`no --calibration: using ${path.relative(process.cwd(), shipped)} (measure this machine with \`npx dtwn calibrate\`)`);
  return { calibration: readCalibration(shipped), file: path.relative(process.cwd(), shipped) };
}

/** "0,3" -> [0, 3]; anything but comma-separated non-negative integers is refused. */
function parseIndexList(v: string): number[] {
  if (!/^\d+(,\d+)*$/.test(v.trim())) throw new InvalidArgumentError(`expected comma-separated BS indices such as 0,3, got "${v}"`);
  return v.trim().split(",").map(Number);
}

/** The run's options with Eq. 12's constants from --calibration (read and validated here), without the file name. */
function withCalibration(opts: Record<string, unknown>): Record<string, unknown> {
  const { calibration, ...rest } = opts;
  if (calibration === undefined) return rest;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { calibratedTraining, checkCalibrationFits, readCalibration } = require("../bench/calibrate") as typeof import("../bench/calibrate");
  const c = readCalibration(String(calibration));
  checkCalibrationFits(c, String(calibration), String(rest.optimizer ?? DEFAULT_RUN.optimizer));
  return { ...rest, ...calibratedTraining(c, Number(rest.localSteps ?? DEFAULT_RUN.localSteps)), ...(c.xi ? { xi: c.xi.value } : {}) };
}
