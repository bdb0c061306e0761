/**
 * Many transactions without a block's wait between each: on a chain that mines every 12 s, sending 200 bootstrap
 * transactions one after another's receipt takes 40 minutes; sent back to back they fit in a few blocks.
 */
import type { Signer, TransactionReceipt, TransactionResponse } from "ethers";

/** A transaction to send with the nonce it is given (so one signer's transactions need no receipt in between). */
export type NoncedCall = (overrides: { nonce: number }) => Promise<TransactionResponse>;

/**
 * Send each signer's calls back to back with consecutive nonces from its pending nonce (the signers in parallel),
 * then wait until every one is mined with `confirmations` blocks. Calls of one batch must not depend on each other's
 * effects (each is gas-estimated before the previous is mined): put dependent calls in a later batch.
 * @throws the first failure, naming the call ("<label>: <reason>")
 */
export async function sendBatch(batch: { signer: Signer; calls: { label: string; send: NoncedCall }[] }[], confirmations = 1): Promise<TransactionReceipt[]> {
  const sent = await Promise.all(
    batch.map(async ({ signer, calls }) => {
      let nonce = await signer.getNonce("pending");
      const out: { label: string; tx: TransactionResponse }[] = [];
      for (const c of calls) {
        try {
          out.push({ label: c.label, tx: await c.send({ nonce: nonce++ }) });
        } catch (e) {
          throw new Error(`${c.label}: ${(e as Error).message.split("\n")[0]}`);
        }
      }
      return out;
    }),
  );
  const receipts: TransactionReceipt[] = [];
  for (const { label, tx } of sent.flat()) {
    try {
      const r = await tx.wait(confirmations);
      if (r) receipts.push(r);
    } catch (e) {
      throw new Error(`${label}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return receipts;
}
