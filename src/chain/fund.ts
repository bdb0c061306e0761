/**
 * Funding the BSs' accounts from the operator's, for a chain whose accounts start empty (a public testnet, or anvil
 * with a random mnemonic): each BS pays the gas of its own transactions (its seat, its twins, its rounds).
 */
import { formatEther, type Signer } from "ethers";
import { sendBatch } from "./txBatch";

/**
 * Send each of `addresses` what it lacks of `targetWei` from `from`, back to back, and wait until every transfer is
 * `confirmations` deep. Returns what each address was sent (0 when it already held the target).
 * @throws when `from` cannot pay them all, before anything is sent
 */
export async function topUp(from: Signer, addresses: readonly string[], targetWei: bigint, confirmations = 1, log: (line: string) => void = () => undefined): Promise<bigint[]> {
  if (targetWei < 0n) throw new Error(`a funding target of ${formatEther(targetWei)} ETH is negative.`);
  const provider = from.provider;
  if (!provider) throw new Error("the funding account has no provider.");
  const lacking = await Promise.all(addresses.map(async (a) => {
    const balance = await provider.getBalance(a);
    return balance < targetWei ? targetWei - balance : 0n;
  }));
  const total = lacking.reduce((s, x) => s + x, 0n);
  if (total === 0n) return lacking;
  const source = await from.getAddress();
  const have = await provider.getBalance(source);
  if (have < total) throw new Error(`the operator ${source} holds ${formatEther(have)} ETH but topping ${addresses.length} BSs up to ${formatEther(targetWei)} ETH each needs ${formatEther(total)} ETH (plus gas): fund it from a faucet, or lower --fund-bs-ether.`);
  const calls = addresses.flatMap((to, i) => (lacking[i] > 0n ? [{ label: `funding ${to}`, send: (o: { nonce: number }) => from.sendTransaction({ to, value: lacking[i], nonce: o.nonce }) }] : []));
  await sendBatch([{ signer: from, calls }], confirmations);
  for (const [i, a] of addresses.entries()) if (lacking[i] > 0n) log(`funded BS ${i} (${a}) with ${formatEther(lacking[i])} ETH from the operator`);
  return lacking;
}
