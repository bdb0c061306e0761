/**
 * Many transactions without a block's wait between each: on a chain that mines every 12 s, sending 200 bootstrap
 * transactions one after another's receipt takes 40 minutes; sent back to back they fit in a few blocks.
 */
import type { Signer, TransactionReceipt, TransactionResponse } from "ethers";

/** A transaction to send with the nonce it is given (so one signer's transactions need no receipt in between). */
export type NoncedCall = (overrides: { nonce: number }) => Promise<TransactionResponse>;

/** A call sent by {@link sendBatch}: its label and its transaction (to wait on deeper later, {@link confirmAll}). */
export interface SentCall {
  label: string;
  tx: TransactionResponse;
}

/**
 * Send each signer's calls back to back with consecutive nonces from its pending nonce (the signers in parallel),
 * then wait until every one is mined with `confirmations` blocks. Calls of one batch must not depend on each other's
 * effects (each is gas-estimated before the previous is mined): put dependent calls in a later batch.
 * @param sentCalls when given, every call sent is appended to it (in order)
 * @throws the first failure, naming the call ("<label>: <reason>")
 */
export async function sendBatch(batch: { signer: Signer; calls: { label: string; send: NoncedCall }[] }[], confirmations = 1, sentCalls?: SentCall[]): Promise<TransactionReceipt[]> {
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
  sentCalls?.push(...sent.flat());
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

/**
 * Wait until every call is mined `confirmations` deep (a transaction a reorg dropped is sent again by the provider
 * and waited for), and check that each succeeded there. Steps that build on each other need only be mined in turn
 * (1 block each); one wait at the end then covers all of them, instead of `confirmations` blocks per step.
 * @param timeoutMs how long to wait for each call
 * @throws naming the first call that is not on the chain that deep in time, or failed: "<label>: ... deploy again"
 */
export async function confirmAll(calls: readonly SentCall[], confirmations: number, timeoutMs = 600_000): Promise<void> {
  for (const { label, tx } of calls) {
    try {
      await tx.wait(confirmations, timeoutMs); // rejects on a failed transaction (status 0)
    } catch (e) {
      const reason = (e as Error).message.split("\n")[0];
      if ((e as { code?: string }).code === "CALL_EXCEPTION") throw new Error(`${label}: failed on the chain (${reason}); a reorg re-ran it on another state? deploy again.`);
      throw new Error(`${label}: not on the chain ${confirmations} blocks deep (${reason}); a reorg undid it? deploy again.`);
    }
  }
}
