/** `dtwn run --network localhost` end to end against a `hardhat node` process: see ./nodeRun.ts. */
import { describeNodeRun } from "./nodeRun";

describeNodeRun("hardhat");
