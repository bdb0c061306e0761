/**
 * `dtwn doctor`: what this installation runs on. The tfjs backend in use and why (tfjs-node on native TensorFlow, or
 * the wasm fallback with the reason), libtensorflow's version and how npm got it, TensorFlow's threads, the training
 * speed-ups in place, and the chain and IPFS defaults the other commands use.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";

const ROOT = path.resolve(__dirname, "..", "..");

export interface DoctorReport {
  node: string;
  cores: number;
  backend: { name: string; description: string; why: string };
  tfjsNode: { available: boolean; version?: string; libtensorflow?: string; reason?: string };
  libtensorflowInstall?: { outcome: string; reason: string; wheel?: string; cache?: string; at?: string };
  tensorflow?: { intraOpThreads: number; interOpThreads: number; oneDnn: boolean; reluGrad: boolean; oneDnnMaxPoolGrad: boolean };
  chain: { inProcess: string; localhost: string; testnet: string; deployments: string[] };
  ipfs: { store: string; catTimeoutMs: number };
  /** What the emulated testbed (CPU cgroups, network namespaces, tc) finds here. */
  testbed: import("../testbed/prerequisites").TestbedPrerequisites;
}

export async function doctor(): Promise<DoctorReport> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const ml = require("../ml/backend") as typeof import("../ml/backend");
  const { tensorflowPatches } = require("../ml/tensorflowKernels") as typeof import("../ml/tensorflowKernels");
  const { LOCAL_RPC_URL } = require("../chain/provider") as typeof import("../chain/provider");
  const { chooseBackend } = require("../ipfs") as typeof import("../ipfs");
  const { DEFAULT_CAT_TIMEOUT_MS } = require("../ipfs/defaults") as typeof import("../ipfs/defaults");
  const { testbedPrerequisites } = require("../testbed/prerequisites") as typeof import("../testbed/prerequisites");
  /* eslint-enable @typescript-eslint/no-require-imports */
  let line = "";
  const name = await ml.initBackend("auto", (l) => (line = l));
  const node = ml.tfjsNodeStatus();
  const why = name === "tensorflow" ? (process.env.DTWN_TF_BACKEND ? `DTWN_TF_BACKEND=${process.env.DTWN_TF_BACKEND}` : "tfjs-node loads: native TensorFlow is the fastest backend") : (/\((.*)\)$/.exec(line)?.[1] ?? "");
  const staging = node.staging;
  const threads = ml.tensorflowThreads();
  const ipfs = chooseBackend();
  const deployments = fs.existsSync(path.join(ROOT, "deployments")) ? fs.readdirSync(path.join(ROOT, "deployments")).filter((f) => f.endsWith(".json")) : [];
  return {
    node: process.version,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    backend: { name, description: ml.describeActiveBackend(), why },
    tfjsNode: { available: node.available, version: node.version, libtensorflow: node.libtensorflow, reason: node.reason },
    libtensorflowInstall: staging && { outcome: staging.outcome, reason: staging.reason, wheel: staging.wheel, cache: staging.cache, at: staging.at },
    tensorflow: name === "tensorflow" ? { intraOpThreads: threads.intraOp, interOpThreads: threads.interOp, oneDnn: threads.oneDnn, reluGrad: tensorflowPatches.reluGrad, oneDnnMaxPoolGrad: tensorflowPatches.oneDnnMaxPoolGrad } : undefined,
    chain: {
      inProcess: "hardhat (in-process, chain id 31337): `dtwn run`, `npm test`",
      localhost: `${LOCAL_RPC_URL} (${process.env.DTWN_LOCAL_RPC_URL ? "DTWN_LOCAL_RPC_URL" : "default; DTWN_LOCAL_RPC_URL overrides"}): \`npm run node\`, then --network localhost`,
      testnet: process.env.DTWN_RPC_URL ? `DTWN_RPC_URL is set${process.env.DTWN_DEPLOYER_KEY ? ", DTWN_DEPLOYER_KEY is set" : "; DTWN_DEPLOYER_KEY is not"}` : "not configured (DTWN_RPC_URL and DTWN_DEPLOYER_KEY unset)",
      deployments,
    },
    ipfs: { store: ipfs.kind === "kubo" ? `Kubo RPC API at ${ipfs.url} (${ipfs.from})` : `embedded Helia, repo ${ipfs.repo} (--repo or DTWN_IPFS_REPO override; IPFS_API_URL selects Kubo)`, catTimeoutMs: DEFAULT_CAT_TIMEOUT_MS },
    testbed: testbedPrerequisites(),
  };
}

export function renderDoctor(r: DoctorReport): string {
  const rows: [string, string][] = [
    ["backend", r.backend.description],
    ["why", r.backend.why],
  ];
  if (r.tensorflow) {
    rows.push(["threads", `TensorFlow intra-op ${r.tensorflow.intraOpThreads}, inter-op ${r.tensorflow.interOpThreads} in this process (TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS; training workers get cores / workers each); oneDNN ${r.tensorflow.oneDnn ? "on" : "off (TF_ENABLE_ONEDNN_OPTS=0)"}`]);
    rows.push(["kernels", `ReLU gradient: ${r.tensorflow.reluGrad ? "TensorFlow ReluGrad" : "tfjs default"}; max-pool gradient: ${r.tensorflow.oneDnnMaxPoolGrad ? "oneDNN with workspace" : "TensorFlow MaxPoolGrad (oneDNN's did not run here)"}`]);
  } else if (r.tfjsNode.available) {
    rows.push(["tfjs-node", `installed (${r.tfjsNode.version}) and loads, not in use`]);
  } else if (!r.backend.why.includes(r.tfjsNode.reason ?? "")) {
    rows.push(["tfjs-node", r.tfjsNode.reason ?? "not available"]);
  }
  if (r.libtensorflowInstall) rows.push(["libtensorflow", `${r.libtensorflowInstall.outcome} at install: ${r.libtensorflowInstall.reason}${r.libtensorflowInstall.at ? ` (${r.libtensorflowInstall.at})` : ""}`]);
  rows.push(["node", `${r.node}, ${r.cores} cores`]);
  rows.push(["chain", r.chain.inProcess], ["", r.chain.localhost], ["", `testnet: ${r.chain.testnet}`], ["", `deployment files: ${r.chain.deployments.join(", ") || "none"}`]);
  rows.push(["ipfs", r.ipfs.store], ["", `cat gives up after ${r.ipfs.catTimeoutMs} ms without a block`]);
  rows.push(["testbed", r.testbed.ready ? `emulated BSs possible: root, CPU cgroup ${r.testbed.cgroup}, ip and tc` : `emulated BSs not possible here: missing ${r.testbed.missing.join("; ")}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

export function registerDoctorCommand(program: Command): void {
  program
    .command("doctor")
    .description("the tfjs backend in use and why, libtensorflow's version and install, TensorFlow threads, and the chain and IPFS defaults")
    .option("--json", "print JSON", false)
    .action(async (opts: { json: boolean }) => {
      const r = await doctor();
      console.log(opts.json ? JSON.stringify(r, null, 2) : renderDoctor(r));
    });
}
