/** IPFS defaults without any import, so the CLI can show them without loading Helia or libp2p. */

/** How long `cat` waits for the next block from peers before it gives up, ms (a stall, not the whole transfer). */
export const DEFAULT_CAT_TIMEOUT_MS = 5_000;
