/**
 * End to end against a standalone node (node.hardhat.e2e.test.ts, node.anvil.e2e.test.ts), on each client (`hardhat node` and anvil, src/chain/localNode.ts): the node as
 * its own process (on a free 127.0.0.1 port), then `dtwn run` with the MBS in its process and one `dtwn agent` OS
 * process per BS, 3 BSs, 12 users, 2 rounds.
 * - `hardhat node` mines a block per transaction, with the public development accounts (`--network localhost`).
 * - anvil is the testnet rehearsal (`--network testnet`): a block every 2 s, as a public chain mines, accounts of a
 *   random mnemonic (no key known in advance), the operator's key in DTWN_DEPLOYER_KEY, each BS's key in its own
 *   encrypted keystore (DTWN_BS<i>_KEYSTORE), the BSs funded by the operator (`--fund-bs-ether`); the run acts on
 *   blocks 2 deep (`--confirmations 3`); the test reorganises the chain 2 blocks deep (`anvil_reorg`) right after the
 *   first model record of round 1 is mined, and restarts the node (SIGTERM with its state dumped, 3 s down, started
 *   again with the state) once round 2 is open.
 * BS 0's agent process is SIGKILLed right after it trained in round 2 (before it uploaded). Checked from the run
 * folder, the node and BS 0's IPFS repo:
 * - on anvil, the reorg dropped a model record of round 1; its BS sent the same signed transaction again, every BS's
 *   model of round 1 is recorded once and passed, and no agent acted twice (no refusal of a repeated action);
 * - on anvil, every process waited through the node's restart and the run finished; no key or password is in the
 *   run folder or the run's output;
 * - round 2 closes at its deadline with the other two BSs' models;
 * - the restarted process resumes round 2 from the chain (its committed action is found there), submits nothing
 *   late and nothing twice;
 * - its round-1 model record and the weights pinned in its repo survive the kill.
 */
import fs from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { localProvider } from "../../src/chain/provider";
import { readDeployment } from "../../src/chain/deployment";
import { bytesToCid } from "../../src/chain/cid";
import type { RunMetrics } from "../../src/system/metrics";
import { decide } from "../../src/fl/acceptance";
import { connectProtocol } from "../../src/system/protocol";
import os from "node:os";
import { randomBytes } from "node:crypto";
import { Wallet, encryptKeystoreJsonSync } from "ethers";
import { filesHolding } from "../../src/io/secretScan";
import { freeLocalPort, readNodeAccounts, startLocalNode, type LocalClient, type LocalNode } from "../../src/chain/localNode";
import { devKey } from "../../src/system/chains";
import { dtwnRunAsync, failingVerdicts } from "./dtwnRun";

/**
 * How each client runs: `hardhat node` on automine with the dev accounts; anvil as a testnet rehearsal (random
 * accounts, keystores, funding), with 2 s blocks, 3 confirmations, a 2-block reorg and a node restart in round 2.
 */
const CASES: Record<LocalClient, { blockTimeSeconds?: number; confirmations: number; reorgDepth?: number; testnet?: boolean; restartNodeInRound?: number }> = {
  hardhat: { confirmations: 1 },
  anvil: { blockTimeSeconds: 2, confirmations: 3, reorgDepth: 2, testnet: true, restartNodeInRound: 2 },
};

/** The secrets of a testnet rehearsal: the operator's key, each BS's key and the keystores' password. */
interface Rehearsal {
  env: NodeJS.ProcessEnv;
  secrets: string[];
}

/**
 * Keys as a testnet has them: the operator is the node's first random account; each BS gets a fresh key in its own
 * keystore (a light scrypt, so the test is quick), under `dir`, outside the run folder.
 */
function rehearsalKeys(accountsFile: string, dir: string, url: string, bss: number): Rehearsal {
  const operator = readNodeAccounts(accountsFile)[0].privateKey;
  const password = randomBytes(12).toString("hex");
  const env: NodeJS.ProcessEnv = { DTWN_RPC_URL: url, DTWN_DEPLOYER_KEY: operator, DTWN_KEYSTORE_PASSWORD: password };
  const secrets = [operator, password];
  for (let i = 0; i < bss; i++) {
    const w = Wallet.createRandom();
    const file = path.join(dir, `bs-${i}.json`);
    fs.writeFileSync(file, encryptKeystoreJsonSync({ address: w.address, privateKey: w.privateKey }, password, { scrypt: { N: 1 << 10 } }));
    env[`DTWN_BS${i}_KEYSTORE`] = file;
    secrets.push(w.privateKey);
  }
  return { env, secrets };
}

/**
 * Once round `round` is open: stop the node (SIGTERM: anvil dumps its state), wait `downMs`, start it again on the
 * same port with that state. Returns the restarted node, or undefined when the run ended first.
 */
async function restartNodeInRound(node: LocalNode, start: () => Promise<LocalNode>, url: string, deploymentFile: string, round: number, downMs: number, stop: () => boolean): Promise<LocalNode | undefined> {
  const provider = localProvider(url, 31337);
  try {
    while (!stop()) {
      const deployment = deploymentIfWritten(deploymentFile);
      if (deployment && Number(await connectProtocol(deployment, provider).rounds.currentRound().catch(() => 0n)) >= round) {
        await node.stop();
        await sleep(downMs);
        return await start();
      }
      await sleep(500);
    }
    return undefined;
  } finally {
    provider.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The run's deployment file once the run has written it whole, else undefined. */
function deploymentIfWritten(file: string): ReturnType<typeof readDeployment> | undefined {
  try {
    return readDeployment(file);
  } catch {
    return undefined; // not written yet (or half written)
  }
}

/** What the reorg removed: the model records of round 1 in the dropped blocks (their transactions' hashes). */
interface Reorg {
  depth: number;
  atBlock: number;
  droppedSubmissions: { bs: string; tx: string }[];
}

/**
 * Watch the node until the first model record of round 1 is mined, then reorganise the chain `depth` blocks deep at
 * once (the new blocks hold none of the dropped transactions; their senders must send them again).
 */
async function reorgAtFirstSubmission(url: string, deploymentFile: string, depth: number, stop: () => boolean): Promise<Reorg | undefined> {
  const provider = localProvider(url, 31337);
  try {
    while (!stop()) {
      const deployment = deploymentIfWritten(deploymentFile);
      if (deployment) {
        const p = connectProtocol(deployment, provider);
        const events = await p.rounds.queryFilter(p.rounds.filters.ModelSubmitted(1)).catch(() => []);
        if (events.length > 0) {
          const head = await provider.getBlockNumber();
          const dropped = events.filter((e) => e.blockNumber > head - depth);
          if (dropped.length > 0) {
            await provider.send("anvil_reorg", [depth, []]);
            return { depth, atBlock: head, droppedSubmissions: dropped.map((e) => ({ bs: e.args.bs, tx: e.transactionHash })) };
          }
        }
      }
      await sleep(200);
    }
    return undefined;
  } finally {
    provider.destroy();
  }
}

/** The end-to-end run against a `client` node (one file per client, so that `npm test` runs them in parallel). */
export function describeNodeRun(client: LocalClient): void {
  const c = CASES[client];
  describe(`dtwn run --network ${c.testnet ? "testnet" : "localhost"} on the ${client} node (${c.testnet ? "random accounts, keystores, BSs funded by the operator; " : ""}${c.blockTimeSeconds ? `a block every ${c.blockTimeSeconds} s, ${c.confirmations} confirmations, a ${c.reorgDepth}-block reorg` : "a block per transaction"}${c.restartNodeInRound ? `, a node restart in round ${c.restartNodeInRound}` : ""}; agent processes, one SIGKILLed mid-round)`, function () {
    this.timeout(900_000);
    let node: LocalNode | undefined;
    let url: string;
    let out: string;
    let stdout: string;
    let m: RunMetrics;
    let reorg: Reorg | undefined;
    let keysDir: string | undefined;
    let rehearsal: Rehearsal | undefined;
    let nodeRestarted = false;
    let restarting: Promise<LocalNode | undefined> | undefined;

    before(async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-rehearsal-keys-"));
      keysDir = dir;
      const port = await freeLocalPort();
      const start = (k: number) => startLocalNode({ client, port, ...(c.blockTimeSeconds ? { blockTimeSeconds: c.blockTimeSeconds } : {}), ...(c.testnet ? { randomAccountsFile: path.join(dir, `node-accounts-${k}.json`) } : {}), ...(c.restartNodeInRound ? { stateFile: path.join(dir, "state.json") } : {}) });
      node = await start(0);
      url = node.url;
      rehearsal = c.testnet ? rehearsalKeys(path.join(dir, "node-accounts-0.json"), dir, url, 3) : undefined;
      let finished = false;
      const run = dtwnRunAsync(
        [
          "--network", c.testnet ? "testnet" : "localhost", "--users", "12", "--bss", "3", "--rounds", "2", "--policy", "average", "--local-steps", "3",
          "--test-images", "300", "--held-out-per-bs", "60", "--first-round-seconds", "120", "--min-round-seconds", "60", "--verification-window-seconds", "45", "--reveal-window-seconds", "15",
          "--workers", "1", "--kill", "0:2:train", "--confirmations", String(c.confirmations), ...(c.testnet ? ["--fund-bs-ether", "10"] : []),
          ...(c.blockTimeSeconds ? ["--slot-seconds", String((c.confirmations + 1) * c.blockTimeSeconds)] : []), // c + 1 blocks (src/chain/blockTime.ts)
        ],
        { prefix: `dtwn-node-${client}-`, env: rehearsal?.env ?? { DTWN_LOCAL_RPC_URL: url }, timeoutMs: 840_000 },
      );
      out = run.out;
      const done = run.done.finally(() => (finished = true));
      const deploymentFile = path.join(out, "deployment.json");
      const reorged = c.reorgDepth ? reorgAtFirstSubmission(url, deploymentFile, c.reorgDepth, () => finished) : Promise.resolve(undefined);
      const first = node;
      const restarted = c.restartNodeInRound ? restartNodeInRound(first, () => start(1), url, deploymentFile, c.restartNodeInRound, 3_000, () => finished) : Promise.resolve(undefined);
      restarting = restarted;
      ({ stdout, metrics: m } = await done);
      reorg = await reorged;
      const second = await restarted;
      if (second) {
        node = second;
        nodeRestarted = true;
      }
    });

    after(async () => {
      await node?.stop();
      // the restarted node, also when the run failed before this hook saw it
      const second = await restarting?.catch(() => undefined);
      if (second && second !== node) await second.stop();
      if (out) fs.rmSync(out, { recursive: true, force: true });
      if (keysDir) fs.rmSync(keysDir, { recursive: true, force: true });
    });

    if (c.testnet) {
      it("rehearses a testnet: random accounts, the operator's key and each BS's keystore from the environment, the BSs funded by the operator, no dev account", async () => {
        expect(m.network).to.include("testnet (the node at DTWN_RPC_URL), 3 BS agent processes");
        expect(stdout).to.match(/funded BS 0 \(0x[0-9a-fA-F]{40}\) with 10\.0 ETH from the operator/);
        const devAccounts = new Set(Array.from({ length: 20 }, (_, i) => new Wallet(devKey(i)).address.toLowerCase()));
        expect(m.bsAddresses.filter((a) => devAccounts.has(a.toLowerCase()))).to.deep.equal([]);
        const deployment = readDeployment(path.join(out, "deployment.json"));
        expect(devAccounts.has(deployment.deployer.toLowerCase())).to.equal(false);
        expect(deployment.rpcUrl, "a testnet's URL (it may hold an API key) is not written").to.equal(undefined);
      });

      it("writes no key or password into the run folder or the run's output", () => {
        expect(filesHolding(out, rehearsal!.secrets)).to.deep.equal([]);
        for (const secret of rehearsal!.secrets) expect(stdout.includes(secret.replace(/^0x/, ""))).to.equal(false);
      });
    }

    if (c.restartNodeInRound) {
      it(`survives a node restart in round ${c.restartNodeInRound} (3 s down, restarted with its state): every process waits for it, and the run finishes with every record`, async () => {
        expect(nodeRestarted, "the node was restarted").to.equal(true);
        expect(m.rounds.map((r) => r.round)).to.deep.equal([1, 2]);
        expect(stdout).to.match(/the chain node refuses connections; waiting for it/);
        expect(stdout).to.match(/the chain node answers again/);
        const p = connectProtocol(readDeployment(path.join(out, "deployment.json")), localProvider(url, 31337));
        try {
          expect((await p.rounds.queryFilter(p.rounds.filters.ModelSubmitted(1))).length).to.equal(3); // round 1's records, from before the restart
          expect(Number((await p.rounds.getRound(2)).status)).to.be.greaterThan(0);
        } finally {
          p.rounds.runner?.provider?.destroy();
        }
      });
    }

    if (c.reorgDepth) {
      it(`survives a ${c.reorgDepth}-block reorg in round 1: the dropped model record is sent again, every model is recorded once and passes, no agent acts twice`, async () => {
        expect(reorg, "the reorg happened").to.not.equal(undefined);
        expect(reorg!.droppedSubmissions.length).to.be.at.least(1);
        const p = connectProtocol(readDeployment(path.join(out, "deployment.json")), localProvider(url, 31337));
        try {
          const records = await p.rounds.queryFilter(p.rounds.filters.ModelSubmitted(1));
          expect(records.map((e) => e.args.bs).sort()).to.deep.equal([...m.bsAddresses].sort()); // each BS once
          for (const d of reorg!.droppedSubmissions) {
            // the same signed transaction (same hash, so the same nonce) is on the canonical chain now
            const receipt = await p.rounds.runner!.provider!.getTransactionReceipt(d.tx);
            expect(receipt?.status, `the dropped record of ${d.bs} was sent again`).to.equal(1);
            expect(receipt!.blockNumber).to.be.greaterThan(reorg!.atBlock - reorg!.depth);
          }
          const actions = await p.ledger.queryFilter(p.ledger.filters.ActionCommitted(1));
          expect(actions.map((e) => e.args.bs).sort()).to.deep.equal([...m.bsAddresses].sort());
        } finally {
          p.rounds.runner?.provider?.destroy();
        }
        expect(m.rounds[0].mbs.passed, failingVerdicts(m)).to.have.members(m.bsAddresses);
        // an agent acting twice on a block the reorg undid would be refused by the chain
        expect(stdout).to.not.match(/AlreadySubmitted|ActionAlreadyCommitted|ActionAlreadyProposed|AlreadyCommitted|AlreadyRevealed|AlreadyAttested/);
      });
    }

    it("runs the MBS and every BS agent as separate OS processes", () => {
      expect(m.network).to.include(c.testnet ? "testnet (the node at DTWN_RPC_URL), 3 BS agent processes" : `localhost (${url}), 3 BS agent processes`);
      const pids = new Set([...stdout.matchAll(/\[BS (\d) pid (\d+)\]/g)].map((x) => `${x[1]}:${x[2]}`));
      expect([...pids].filter((p) => !p.startsWith("0:"))).to.have.length(2);
      expect([...pids].filter((p) => p.startsWith("0:"))).to.have.length(2); // BS 0: the killed process and its successor
      expect(m.rounds.map((r) => r.round)).to.deep.equal([1, 2]);
      expect(m.rounds[0].mbs.passed, failingVerdicts(m)).to.have.members(m.bsAddresses);
    });

    it("kills BS 0's process after it trained in round 2 (SIGKILL, no cleanup)", () => {
      expect(stdout).to.match(/\[BS 0 pid \d+\] BS 0 crashed in round 2 after train \(injected fault\): SIGKILL to this process/);
      expect(stdout).to.match(/\[BS 0 pid \d+\] exited \(code null, signal SIGKILL\)/);
      expect(m.restarts).to.have.length(1);
      expect(m.restarts[0]).to.include({ bs: 0, round: 2, after: "SIGKILL after train" });
    });

    it("closes round 2 at its deadline; the other BSs' models are decided by the stake rule without BS 0's ballot", async () => {
      const r2 = m.rounds[1].mbs;
      expect(r2.submitted).to.equal(2);
      // BS 0 gave no ballot: each of the other two models is decided only if the one remaining verifier holds the
      // quorum of the stake of every member but the submitter (src/fl/acceptance.ts, the chain's rule).
      const p = connectProtocol(readDeployment(path.join(out, "deployment.json")), localProvider(url, 31337));
      const round = await p.rounds.getRound(2);
      const stakes = new Map<string, bigint>();
      for (const bs of m.bsAddresses) stakes.set(bs, await p.stake.bondedAt(bs, round.snapshot));
      const total = [...stakes.values()].reduce((a, b) => a + b, 0n);
      expect((await p.rounds.ballot(2, m.bsAddresses[0])).commitment).to.equal("0x" + "0".repeat(64));
      for (const bs of [m.bsAddresses[1], m.bsAddresses[2]]) {
        const s = await p.rounds.submission(2, bs);
        expect(s.failStake).to.equal(0n); // honest verdicts
        const expected = decide(s.passStake, s.failStake, total - (stakes.get(bs) ?? 0n), await p.rounds.quorumBps());
        expect(["pending", "passed", "failed", "unverified"][Number(s.outcome)]).to.equal(expected);
        expect(r2.passed.includes(bs)).to.equal(expected === "passed");
      }
      // it waited out the deadline (no early close: BS 0 had committed an action but never submitted): the MBS never
      // closed round 2's submissions, and the deadline it opened the round with stands
      expect(await p.rounds.queryFilter(p.rounds.filters.SubmissionsClosed(2))).to.have.length(0);
      const [opened] = await p.rounds.queryFilter(p.rounds.filters.RoundOpened(2));
      expect((await p.rounds.getRound(2)).deadline).to.equal(opened.args.deadline);
      p.rounds.runner?.provider?.destroy();
      // the wall-clock wait, within the few seconds the chain's timestamps may run ahead of this machine's clock
      expect(r2.phases.submit).to.be.at.least(r2.deadlineSeconds - 3);
      expect(r2.newGlobalCid).to.match(/^Qm/);
      if (r2.passed.length > 0) expect(r2.newGlobalCid).to.not.equal(r2.globalCid);
      else expect(r2.newGlobalCid).to.equal(r2.globalCid); // nothing passed: the global model stays
    });

    it("the restarted process resumes round 2 from the chain and submits nothing late or twice", async () => {
      const a0 = m.rounds[1].agents.find((a) => a.bs === 0);
      expect(a0?.resumed).to.include("commit");
      expect(a0?.submitted).to.equal(false);
      expect(a0?.skipped).to.match(/round 2 closed to submissions while this BS was down/);
      const p = connectProtocol(readDeployment(path.join(out, "deployment.json")), localProvider(url, 31337));
      const mine = await p.rounds.queryFilter(p.rounds.filters.ModelSubmitted(undefined, m.bsAddresses[0]));
      expect(mine.map((e) => Number(e.args.round))).to.deep.equal([1]); // its round-1 record, and nothing since
      expect((await p.rounds.submitters(2)).length).to.equal(2);
      expect(await p.ledger.actionHash(2, m.bsAddresses[0])).to.not.equal("0x" + "0".repeat(64)); // its commitment stays
      p.rounds.runner?.provider?.destroy();
    });

    it("keeps BS 0's round-1 record and pinned weights through the kill", async () => {
      const p = connectProtocol(readDeployment(path.join(out, "deployment.json")), localProvider(url, 31337));
      const cid = bytesToCid((await p.rounds.submission(1, m.bsAddresses[0])).cid);
      p.rounds.runner?.provider?.destroy();
      expect(cid).to.equal(m.rounds[0].agents.find((a) => a.bs === 0)?.cid);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { HeliaWeightsStore } = require("../../src/ipfs/helia") as typeof import("../../src/ipfs/helia");
      const store = await HeliaWeightsStore.open({ repo: path.join(out, "ipfs", "bs-0") });
      try {
        expect(await store.isPinned(cid)).to.equal(true);
        const bytes = await store.cat(cid);
        expect(bytes.length).to.be.greaterThan(1_000_000);
      } finally {
        await store.close();
      }
    });
  });
}
