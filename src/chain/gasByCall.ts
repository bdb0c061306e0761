/**
 * Where the gas goes: the gas of every transaction mined in a range of blocks, by protocol call
 * (`Contract.function`, contract creations as `Contract (deployment)`), read from the blocks and their receipts on
 * any node. `scripts/gas-round.ts` prints it for the scripted round, and the MBS keeps it for every round of a run
 * (metrics.json `rounds[].mbs.gasByCall`, the report's gas table).
 */
import { Interface, type Provider } from "ethers";
import { CONTRACT_NAMES, type Deployment } from "./deployment";

/** Gas of one call label: how many transactions and their gas in total (gas units). */
export interface CallGas {
  call: string;
  calls: number;
  gas: bigint;
}

/** A contract whose calls are labelled by name: its address and its ABI. */
export interface NamedContract {
  name: string;
  address: string;
  iface: Interface;
}

/** The contracts of a deployment file, by name. */
export function deploymentContracts(deployment: Pick<Deployment, "contracts">): NamedContract[] {
  return CONTRACT_NAMES.map((name) => ({ name, address: deployment.contracts[name].address, iface: new Interface(deployment.contracts[name].abi as never) }));
}

/**
 * Gas of every transaction in blocks (`fromBlock`, `toBlock`], by call, in order of first appearance. A transaction
 * to an address that is not one of `contracts` (a funding transfer, say) is labelled `transfer or
 * call to <address>`.
 */
export async function gasByCall(provider: Provider, contracts: NamedContract[], fromBlock: number, toBlock: number): Promise<CallGas[]> {
  const byAddress = new Map(contracts.map((c) => [c.address.toLowerCase(), c]));
  const table = new Map<string, CallGas>();
  for (let n = fromBlock + 1; n <= toBlock; n++) {
    const block = await provider.getBlock(n, true);
    if (!block) throw new Error(`block ${n} is not on this node (its head is below ${toBlock}?)`);
    for (const tx of block.prefetchedTransactions) {
      const receipt = await provider.getTransactionReceipt(tx.hash);
      if (!receipt) throw new Error(`transaction ${tx.hash} of block ${n} has no receipt on this node`);
      let call: string;
      if (tx.to === null) {
        call = `${byAddress.get((receipt.contractAddress ?? "").toLowerCase())?.name ?? "other contract"} (deployment)`;
      } else {
        const c = byAddress.get(tx.to.toLowerCase());
        const parsed = c?.iface.parseTransaction({ data: tx.data });
        call = c && parsed ? `${c.name}.${parsed.name}` : `transfer or call to ${tx.to}`;
      }
      const g = table.get(call) ?? { call, calls: 0, gas: 0n };
      g.calls++;
      g.gas += receipt.gasUsed;
      table.set(call, g);
    }
  }
  return [...table.values()];
}

/** The total gas of a table. */
export function totalGas(table: CallGas[]): bigint {
  return table.reduce((s, g) => s + g.gas, 0n);
}

/** A Markdown table of `table` (call, calls, mean gas per call, gas) with a bold total row. */
export function gasTableMarkdown(table: CallGas[], totalLabel: string, column: string): string {
  const lines = [`| call | calls | gas per call (mean) | ${column} |`, "|---|---:|---:|---:|"];
  for (const g of table) lines.push(`| ${g.call} | ${g.calls} | ${(g.gas / BigInt(g.calls)).toLocaleString("en-US")} | ${g.gas.toLocaleString("en-US")} |`);
  lines.push(`| **${totalLabel}** | ${table.reduce((s, g) => s + g.calls, 0)} | | **${totalGas(table).toLocaleString("en-US")}** |`);
  return lines.join("\n");
}
