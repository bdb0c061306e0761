/**
 * A plain ethers v6 JSON-RPC provider tuned for a local chain (no Hardhat involved). Defaults batch requests and
 * cache results, which on `npx hardhat node` gives ~11 tx/s and "Nonce too low" on fast back-to-back sends; these
 * options give ~100 tx/s (measured, see ../shared/ENVIRONMENT.md).
 */
import { JsonRpcProvider, Network } from "ethers";

export function localProvider(url: string, chainId?: number): JsonRpcProvider {
  return new JsonRpcProvider(url, chainId === undefined ? undefined : Network.from(chainId), {
    batchMaxCount: 1,
    staticNetwork: chainId !== undefined,
    cacheTimeout: -1,
  });
}
