/**
 * `dtwn run` with agent processes, stopped from outside (SIGTERM, as a CI timeout or `kill` sends; SIGINT goes the
 * same way): its BS agent processes end with it instead of running on against the chain, signing transactions for
 * a run nobody watches any more. Against anvil on automine, 2 BSs, 4 users.
 */
import fs from "node:fs";
import { expect } from "chai";
import { freeLocalPort, startLocalNode, type LocalNode } from "../../src/chain/localNode";
import { dtwnRunAsync } from "./dtwnRun";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Whether process `pid` still runs (a zombie, dead but not yet reaped, does not). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

describe("dtwn run stopped with SIGTERM (agent processes)", function () {
  this.timeout(240_000);
  let node: LocalNode | undefined;
  let out: string | undefined;

  after(async () => {
    await node?.stop();
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  it("kills its BS agent processes and exits with 143", async () => {
    node = await startLocalNode({ client: "anvil", port: await freeLocalPort() });
    const run = dtwnRunAsync(
      ["--network", "localhost", "--users", "4", "--bss", "2", "--rounds", "3", "--policy", "average", "--local-steps", "2", "--test-images", "100", "--held-out-per-bs", "30", "--workers", "1", "--verification-window-seconds", "60"],
      { prefix: "dtwn-stop-", env: { DTWN_LOCAL_RPC_URL: node.url }, timeoutMs: 200_000 },
    );
    out = run.out;
    const exit = run.done.then(
      () => undefined,
      (e: Error) => e.message,
    );
    let pids: number[] = [];
    const t0 = Date.now();
    while (pids.length === 0 && Date.now() - t0 < 180_000) {
      const m = /BS agent processes started \(pids ([\d, ]+)\)/.exec(run.output());
      if (m) pids = m[1].split(", ").map(Number);
      else await sleep(250);
    }
    expect(pids, "the agents started").to.have.length(2);
    expect(pids.every(alive)).to.equal(true);
    run.child.kill("SIGTERM");
    expect(await exit).to.match(/dtwn run exited with 143/);
    for (let k = 0; k < 20 && pids.some(alive); k++) await sleep(250);
    expect(pids.filter(alive), "agent processes left running").to.deep.equal([]);
  });
});
