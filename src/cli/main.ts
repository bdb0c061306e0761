/**
 * The dtwn command-line interface. Each capability adds its commands here; `dtwn --help` lists them.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { Command } from "commander";
import { deploymentPath } from "../chain/deployment";
import { renderStatusFromFile } from "../chain/status";
import { positiveInt } from "./args";
import { LOCAL_CLIENTS, startLocalNode, type LocalClient } from "../chain/localNode";
import { registerCostCommands } from "./cost";
import { registerTrainCommands } from "./train";
import { registerEvaluateCommands } from "./evaluate";
import { registerBenchCommands } from "./bench";
import { registerIpfsCommands } from "./ipfs";
import { registerRunCommand } from "./run";
import { registerDoctorCommand } from "./doctor";
import { registerAuditCommand } from "./audit";
import { registerCalibrateCommand } from "./calibrate";

const ROOT = path.resolve(__dirname, "..", "..");

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("dtwn")
    .description(
      "Blockchain-empowered federated learning in Digital Twin Wireless Networks (DTWN), with edge association " +
        "by multi-agent deep reinforcement learning.",
    )
    .showHelpAfterError("(run with --help for usage)");

  const chain = program.command("chain").description("the on-chain protocol: deploy it and inspect it");

  chain
    .command("deploy")
    .description("deploy the contracts with Ignition and write deployments/<network>.json (runs `hardhat dtwn-deploy`)")
    .option("-n, --network <name>", "hardhat network: hardhat (in-process), localhost, testnet", "localhost")
    .option("--params <file>", "JSON file of protocol parameters (src/chain/protocolParams.ts)")
    .option("--bootstrap", "admit BSs, register users' twins, allocate the Eq. 6 coins", false)
    .option("--users <n>", "end users N for --bootstrap", positiveInt, 100)
    .option("--bss <m>", "BSs M for --bootstrap", positiveInt, 5)
    .action((opts: { network: string; params?: string; bootstrap: boolean; users: number; bss: number }) => {
      const args = ["hardhat", "dtwn-deploy", "--network", opts.network, "--users", String(opts.users), "--bss", String(opts.bss)];
      if (opts.params) args.push("--params", path.resolve(opts.params));
      if (opts.bootstrap) args.push("--bootstrap");
      const r = spawnSync("npx", args, { cwd: ROOT, stdio: "inherit" });
      if (r.status !== 0) throw new Error(`deployment failed (exit ${r.status}); see the output above.`);
    });

  chain
    .command("node")
    .description("run a local EVM node on 127.0.0.1 in the foreground (`npm run node`): Hardhat's or anvil, chain id 31337, the dev accounts")
    .option("--client <name>", `node client: ${LOCAL_CLIENTS.join(" or ")}`, "hardhat")
    .option("-p, --port <n>", "TCP port on 127.0.0.1", positiveInt, 8545)
    .option("--block-time <s>", "mine a block every s seconds (interval mining, as on a public testnet); default: a block per transaction", positiveInt)
    .option("--state <file>", "anvil only: load the chain from this file if it exists and dump it there on exit (a restart keeps the chain)")
    .option("--random-accounts <file>", "anvil only: fund the accounts of a fresh random mnemonic instead of the dev accounts (a testnet rehearsal: no key known in advance), and write their keys to file")
    .action(async (opts: { client: string; port: number; blockTime?: number; state?: string; randomAccounts?: string }) => {
      if (!LOCAL_CLIENTS.includes(opts.client as LocalClient)) throw new Error(`--client ${opts.client}: use one of ${LOCAL_CLIENTS.join(", ")}.`);
      const node = await startLocalNode({ client: opts.client as LocalClient, port: opts.port, blockTimeSeconds: opts.blockTime, stateFile: opts.state && path.resolve(opts.state), randomAccountsFile: opts.randomAccounts && path.resolve(opts.randomAccounts) }, { inherit: !opts.randomAccounts });
      console.error(`dtwn: ${node.client} node on ${node.url} (chain id 31337, ${opts.blockTime ? `a block every ${opts.blockTime} s` : "a block per transaction"}${opts.randomAccounts ? `; accounts of a random mnemonic, their keys in ${opts.randomAccounts}` : ""}); Ctrl-C stops it.`);
      const stop = () => void node.stop();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      await new Promise<void>((resolve) => node.process.once("exit", () => resolve()));
    });

  chain
    .command("status")
    .description("list the registered BSs, their metadata and training coins, the round, epoch and producers")
    .option("-d, --deployment <file>", "deployment file", deploymentPath("localhost"))
    .option("--rpc <url>", "JSON-RPC URL (default: the one in the deployment file, else DTWN_RPC_URL)")
    .option("--json", "print JSON instead of a table", false)
    .action(async (opts: { deployment: string; rpc?: string; json: boolean }) => {
      console.log(await renderStatusFromFile(opts.deployment, opts.rpc, opts.json));
    });

  registerCostCommands(program);
  registerTrainCommands(program);
  registerEvaluateCommands(program);
  registerBenchCommands(program);
  registerIpfsCommands(program);
  registerRunCommand(program);
  registerDoctorCommand(program);
  registerAuditCommand(program);
  registerCalibrateCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
