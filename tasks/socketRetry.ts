/**
 * Wraps the provider of every HTTP network (localhost, testnet) so that a request that dies on a keep-alive socket
 * closed by the node is sent again (see src/chain/socketRetry.ts). The in-process `hardhat` network has no socket.
 */
import { extendProvider } from "hardhat/config";
import { ProviderWrapper } from "hardhat/plugins";
import type { EIP1193Provider, RequestArguments } from "hardhat/types";
import { requestWithSocketRetry } from "../src/chain/socketRetry";

class SocketRetryProvider extends ProviderWrapper {
  constructor(inner: EIP1193Provider) {
    super(inner);
  }

  public request(args: RequestArguments): Promise<unknown> {
    return requestWithSocketRetry((a) => this._wrappedProvider.request(a as RequestArguments), args);
  }
}

extendProvider(async (provider, _config, network) => {
  if (network === "hardhat") return provider;
  return new SocketRetryProvider(provider);
});
