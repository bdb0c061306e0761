/**
 * Hardhat 2 configuration for dtwn.
 *
 * - Compiles offline: solc comes from the `solc` npm package (soljson.js), never from the internet.
 *   The compiler version is read from that package so the two can never disagree.
 * - Networks: `hardhat` (in-process), `localhost` (`npx hardhat node` on 127.0.0.1:8545) and `testnet`,
 *   whose settings come only from the environment (DTWN_RPC_URL, DTWN_DEPLOYER_KEY); nothing secret is committed.
 */
import { HardhatUserConfig, subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";
import "./tasks/socketRetry";
import "./tasks/deploy";
import "./tasks/test";
import { LOCAL_RPC_URL } from "./src/chain/provider";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const SOLC_VERSION: string = require("solc/package.json").version;
const SOLJSON_PATH = require.resolve("solc/soljson.js");

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(async (args: { solcVersion: string }) => {
  if (args.solcVersion !== SOLC_VERSION) {
    throw new Error(
      `Offline build: only solc ${SOLC_VERSION} (npm package "solc") is installed, but solc ${args.solcVersion} ` +
        `was requested. Set the same version in hardhat.config.ts and package.json.`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const longVersion: string = require("solc").version().replace(/\.Emscripten\.clang$/, "");
  return { compilerPath: SOLJSON_PATH, isSolcJs: true, version: args.solcVersion, longVersion };
});

const testnetUrl = process.env.DTWN_RPC_URL;
const deployerKey = process.env.DTWN_DEPLOYER_KEY;

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "prague", viaIR: false },
  },
  networks: {
    // DTWN_WALL_CLOCK=1 (set by `npm run node`): blocks mined within one second keep the wall-clock timestamp instead
    // of adding a second each, so a node busy with many agents' transactions does not run its clock ahead of the
    // deadlines the MBS sets (off by default: the tests control time themselves).
    // DTWN_BLOCK_TIME_MS (set by `dtwn chain node --block-time s`): interval mining, a block every s seconds on the
    // wall clock as on a public chain, instead of a block per transaction.
    hardhat: {
      chainId: 31337,
      ...(process.env.DTWN_WALL_CLOCK === "1" ? { allowBlocksWithSameTimestamp: true } : {}),
      ...(process.env.DTWN_BLOCK_TIME_MS ? { mining: { auto: false, interval: Number(process.env.DTWN_BLOCK_TIME_MS) } } : {}),
    },
    localhost: { url: LOCAL_RPC_URL, chainId: 31337 },
    ...(testnetUrl
      ? {
          testnet: {
            url: testnetUrl,
            accounts: deployerKey ? [deployerKey] : [],
          },
        }
      : {}),
  },
  // DTWN_CONFIRMATIONS: blocks a deployment transaction must be under before the next one builds on it (Ignition's
  // default is 5 on every network that does not automine, 50 s per step on a 2 s chain).
  ignition: { requiredConfirmations: Number(process.env.DTWN_CONFIRMATIONS ?? 1) },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "true",
    offline: true,
    currency: "USD",
    noColors: true,
    outputFile: process.env.GAS_REPORT_FILE,
    reportFormat: "terminal",
  },
  // jobs: worker processes when tests run in parallel (tasks/test.ts)
  mocha: { timeout: 120_000, jobs: Number(process.env.DTWN_TEST_JOBS ?? 3) },
};

export default config;
