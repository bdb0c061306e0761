/**
 * List the registered BSs and their training coins from a deployment file, with plain ethers v6 (no Hardhat):
 *   npx ts-node scripts/list-bss.ts [deployments/localhost.json] [--rpc http://127.0.0.1:8545] [--json]
 */
import { readDeployment, deploymentPath } from "../src/chain/deployment";
import { localProvider } from "../src/chain/provider";
import { readChainStatus, formatChainStatus } from "../src/chain/status";

async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  const json = args.includes("--json");
  const rpcAt = args.indexOf("--rpc");
  const rpcArg = rpcAt >= 0 ? args[rpcAt + 1] : undefined;
  const file = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--rpc") ?? deploymentPath("localhost");
  const deployment = readDeployment(file);
  const rpc = rpcArg ?? deployment.rpcUrl ?? process.env.DTWN_RPC_URL;
  if (!rpc) throw new Error(`No RPC URL: pass --rpc URL (the deployment file ${file} names none).`);
  const provider = localProvider(rpc, deployment.chainId);
  try {
    const status = await readChainStatus(deployment, provider);
    console.log(json ? JSON.stringify(status, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2) : formatChainStatus(status));
  } finally {
    provider.destroy();
  }
}

main(process.argv).catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
