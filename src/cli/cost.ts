/** `dtwn cost` and `dtwn scenario`: the whole Eq. 7-18 breakdown of an allocation, as JSON. */
import { bootstrapScenario, DEFAULT_BOOTSTRAP } from "../chain/bootstrap";
import fs from "node:fs";
import type { Command } from "commander";
import { generateScenario, parseScenario, type Scenario } from "../twins/scenario";
import { parseActionFile } from "../twins/io";
import { timeCost } from "../twins/timeCost";
import { initialState } from "../twins/mdp";
import { mulberry32 } from "../twins/random";
import type { Allocation, SlotState } from "../twins/state";
import { averageAllocation, heuristicAllocation, objectiveLowerBound, randomAllocation } from "../agents/association/baselines";

export function readJson(file: string, what: string): unknown {
  if (!fs.existsSync(file)) throw new Error(`${what} file ${file} does not exist.`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${what} file ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

export function loadScenario(file: string | undefined, seed: number): Scenario {
  return file ? parseScenario(readJson(file, "Scenario")) : generateScenario({ seed });
}

export function registerCostCommands(program: Command): void {
  program
    .command("scenario")
    .description("print a seeded DTWN scenario (the paper's Section V defaults) as JSON, to edit and pass to `dtwn cost`")
    .option("--seed <n>", "topology seed", (v) => Number(v), 1)
    .option("--users <n>", "end users N", (v) => Number(v), 100)
    .option("--system", "the topology the running system registers on chain (`dtwn run`, `dtwn-deploy --bootstrap`: users' data 500-700 samples), to train a policy for it", false)
    .option("--bss <m>", "BSs M (with --system)", (v) => Number(v), 5)
    .action((opts: { seed: number; users: number; system: boolean; bss: number }) => {
      const scenario = opts.system ? bootstrapScenario({ ...DEFAULT_BOOTSTRAP, users: opts.users, seed: opts.seed }, opts.bss) : generateScenario({ seed: opts.seed, users: opts.users });
      console.log(JSON.stringify(scenario, null, 2));
    });

  program
    .command("cost")
    .description("print the time-cost breakdown (Eqs. 7-18: each term per BS, T, theta_G, the objective) of an allocation as JSON")
    .option("--scenario <file>", "scenario JSON (schema: docs/model.md); default: the seeded paper scenario")
    .option("--action <file>", 'action JSON: {"allocation": {association, batchSize, tau}, "state"?, "stateSeed"?}')
    .option("--method <name>", "instead of --action, use a baseline: average | random | heuristic")
    .option("--seed <n>", "seed of the generated scenario and of the slot state", (v) => Number(v), 1)
    .action((opts: { scenario?: string; action?: string; method?: string; seed: number }) => {
      const scenario = loadScenario(opts.scenario, opts.seed);
      let allocation: Allocation;
      let state: SlotState;
      if (opts.action) {
        ({ allocation, state } = parseActionFile(scenario, readJson(opts.action, "Action")));
      } else if (opts.method) {
        state = initialState(scenario, mulberry32(opts.seed));
        const methods: Record<string, () => Allocation> = {
          average: () => averageAllocation(scenario, state),
          random: () => randomAllocation(scenario, state, mulberry32(opts.seed + 1)),
          heuristic: () => heuristicAllocation(scenario, state),
        };
        const make = methods[opts.method];
        if (!make) throw new Error(`unknown method ${JSON.stringify(opts.method)}; use average, random or heuristic.`);
        allocation = make();
      } else {
        throw new Error("give --action FILE or --method NAME (see `dtwn cost --help`).");
      }
      const cost = timeCost(scenario, state, allocation);
      console.log(JSON.stringify({ allocation, state, cost, lowerBoundSeconds: objectiveLowerBound(scenario, state) }, null, 2));
    });
}
