/**
 * List the registered BSs and their training coins from a deployment file, with plain ethers v6 (no Hardhat):
 *   npx ts-node scripts/list-bss.ts [deployments/localhost.json] [--rpc http://127.0.0.1:8545] [--json]
 */
import { deploymentPath } from "../src/chain/deployment";
import { renderStatusFromFile } from "../src/chain/status";

async function main(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  const rpcAt = args.indexOf("--rpc");
  const rpc = rpcAt >= 0 ? args[rpcAt + 1] : undefined;
  const file = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--rpc") ?? deploymentPath("localhost");
  console.log(await renderStatusFromFile(file, rpc, args.includes("--json")));
}

main(process.argv).catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
