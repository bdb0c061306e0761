/**
 * deployments/<network>.json: the addresses and ABIs of a deployment, readable by any ethers v6 program without
 * Hardhat. Written by the `dtwn-deploy` Hardhat task, read by scripts/list-bss.ts and the dtwn CLI.
 */
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { readJsonFile } from "../io/jsonFile";

export const CONTRACT_NAMES = [
  "BSRegistry",
  "UserRegistry",
  "TrainingCoin",
  "StakeVault",
  "RecordLog",
  "TwinRegistry",
  "TrainingRounds",
  "AssociationLedger",
  "StakeGenesis",
  "ProducerElection",
  "BlockLedger",
] as const;
export type ContractName = (typeof CONTRACT_NAMES)[number];

const ContractEntry = z.object({
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address"),
  abi: z.array(z.unknown()).min(1),
});

export const DeploymentSchema = z.object({
  network: z.string().min(1),
  chainId: z.number().int().positive(),
  /** JSON-RPC URL the deployment was made through (for localhost; omitted for remote networks with secrets). */
  rpcUrl: z.string().optional(),
  deployedAt: z.string(),
  deployer: z.string(),
  operator: z.string(),
  ignitionDeploymentId: z.string().optional(),
  params: z.record(z.union([z.string(), z.number()])),
  contracts: z.object(Object.fromEntries(CONTRACT_NAMES.map((n) => [n, ContractEntry])) as Record<ContractName, typeof ContractEntry>),
});
export type Deployment = z.infer<typeof DeploymentSchema>;

export function deploymentPath(network: string, dir = path.resolve(__dirname, "..", "..", "deployments")): string {
  return path.join(dir, `${network}.json`);
}

/** Read and validate a deployment file; errors say which file and what to run. */
export function readDeployment(file: string): Deployment {
  return readJsonFile(file, DeploymentSchema, {
    what: "Deployment file",
    missing: `No deployment file at ${file}. Deploy first, e.g. \`npx hardhat node\` in one shell, then \`npm run deploy:localhost\` in another.`,
    fix: "Redeploy to regenerate it.",
  });
}

export function writeDeployment(file: string, deployment: Deployment): void {
  DeploymentSchema.parse(deployment);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(deployment, null, 2) + "\n");
}
