/**
 * A signer whose transactions are sent one at a time, each with the node's pending nonce. An agent sends from two
 * loops (its round and its DPoS duties); ethers' NonceManager would burn a nonce whenever gas estimation reverts
 * (a lost race is normal here), leaving a gap that stalls every later transaction. Serialising the sends avoids both
 * the races and the gaps.
 */
import { AbstractSigner, type Provider, type Signer, type TransactionRequest, type TransactionResponse, type TypedDataDomain, type TypedDataField } from "ethers";

export class SerialSigner extends AbstractSigner {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly inner: Signer,
    provider?: Provider | null,
  ) {
    super(provider ?? inner.provider);
  }

  getAddress(): Promise<string> {
    return this.inner.getAddress();
  }

  connect(provider: Provider | null): SerialSigner {
    return new SerialSigner(this.inner.connect(provider), provider);
  }

  signTransaction(tx: TransactionRequest): Promise<string> {
    return this.inner.signTransaction(tx);
  }

  signMessage(message: string | Uint8Array): Promise<string> {
    return this.inner.signMessage(message);
  }

  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string> {
    return this.inner.signTypedData(domain, types, value);
  }

  /** Sends after every earlier send of this signer has been accepted or refused by the node. */
  override sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const sent = this.queue.then(() => this.inner.sendTransaction(tx));
    this.queue = sent.catch(() => undefined);
    return sent;
  }
}
