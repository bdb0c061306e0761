/** `dtwn run --network localhost` end to end against a anvil process: see ./nodeRun.ts. */
import { describeNodeRun } from "./nodeRun";

describeNodeRun("anvil");
