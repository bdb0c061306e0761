/**
 * Bootstrap a fresh deployment into the paper's Section V setting: M BSs (CPU 2.6, 1.8, 3.6, 2.4, 2.4 GHz) around
 * the MBS, N end users placed at random in the BSs' coverage, each user's twin registered on its nearest BS with a
 * digital-twin data record, then the Eq. 6 coin allocation, every BS a producer candidate approving the BSs with
 * the most data. Uses only ethers v6 contracts, so it runs against any JSON-RPC node.
 */
import { Contract, id, type Signer } from "ethers";
import type { Deployment } from "./deployment";
import { generateScenario, PAPER_BS_CPU_HZ } from "../twins/scenario";
import { nearestBsAssociation } from "../twins/mdp";

export interface BootstrapOptions {
  /** Number of end users N. */
  users: number;
  /** Samples per user: each user's D_i is drawn uniformly from this range. */
  samplesPerUser: [number, number];
  /** Radius of the circle the BSs sit on around the MBS (metres). */
  bsRingRadiusMetres: number;
  /** Coverage radius of a BS (metres). */
  coverageRadiusMetres: number;
  seed: number;
  /** Called with a line of progress. */
  log?: (line: string) => void;
}

export const DEFAULT_BOOTSTRAP: BootstrapOptions = {
  users: 100,
  samplesPerUser: [500, 700],
  bsRingRadiusMetres: 400,
  coverageRadiusMetres: 250,
  seed: 1,
};

export interface BootstrapResult {
  bss: { address: string; cpuFrequencyHz: number; x: number; y: number; twins: number; samples: number }[];
  twins: number;
}

/** The on-chain user id (bytes32) of end user `u` of a bootstrapped deployment. */
export function userIdOf(u: number): string {
  return id(`dtwn-user-${u}`);
}

/**
 * The seeded topology a bootstrap registers (the same model as src/twins): M BSs on a ring with the paper's CPU
 * frequencies, users in their coverage, each twin on its nearest BS. The running system rebuilds it from the same
 * options, so the agents' scenario and the chain agree.
 */
export function bootstrapScenario(options: Omit<BootstrapOptions, "log">, m: number) {
  return generateScenario({
    bsCpuHz: Array.from({ length: m }, (_, i) => PAPER_BS_CPU_HZ[i % PAPER_BS_CPU_HZ.length]),
    users: options.users,
    samplesPerUser: options.samplesPerUser,
    bsRingRadiusMetres: options.bsRingRadiusMetres,
    coverageRadiusMetres: options.coverageRadiusMetres,
    seed: options.seed,
  });
}

export async function bootstrapDeployment(
  deployment: Deployment,
  operator: Signer,
  bsSigners: Signer[],
  options: BootstrapOptions = DEFAULT_BOOTSTRAP,
): Promise<BootstrapResult> {
  const log = options.log ?? (() => undefined);
  const at = (name: keyof Deployment["contracts"], signer: Signer) =>
    new Contract(deployment.contracts[name].address, deployment.contracts[name].abi as never, signer);
  const registry = at("BSRegistry", operator);
  const m = bsSigners.length;
  if (m === 0) throw new Error("Bootstrap needs at least one BS account.");
  const scenario = bootstrapScenario(options, m);

  const bss: BootstrapResult["bss"] = [];
  for (const [i, signer] of bsSigners.entries()) {
    const address = await signer.getAddress();
    const { cpuHz, position } = scenario.bss[i];
    const x = Math.round(position.xMetres);
    const y = Math.round(position.yMetres);
    if (!(await registry.isMember(address))) await (await registry.admit(address)).wait();
    const asBs = registry.connect(signer) as Contract;
    await (await asBs.registerMetadata(BigInt(cpuHz), x, y, `/ip4/127.0.0.1/tcp/${4101 + i}`)).wait();
    bss.push({ address, cpuFrequencyHz: cpuHz, x, y, twins: 0, samples: 0 });
    log(`admitted BS ${i + 1}/${m} ${address} (${(cpuHz / 1e9).toFixed(1)} GHz at ${x},${y} m)`);
  }

  const association = nearestBsAssociation(scenario);
  for (const [u, user] of scenario.users.entries()) {
    const best = association[u];
    const samples = user.dataSamples;
    const twins = at("TwinRegistry", bsSigners[best]);
    const userId = userIdOf(u);
    let twinId: bigint = await twins.twinOfUser(userId);
    if (twinId === 0n) {
      await (await twins.registerTwin(userId)).wait();
      twinId = await twins.twinOfUser(userId);
    }
    // The data commitment binds the user's id and data size until real data is synced (src/fl).
    await (await twins.recordTwinData(twinId, samples, id(`${userId}:${samples}`), id(`state:${userId}:0`))).wait();
    bss[best].twins++;
    bss[best].samples += samples;
    if ((u + 1) % 20 === 0 || u + 1 === options.users) log(`registered ${u + 1}/${options.users} twins`);
  }

  const genesis = at("StakeGenesis", operator);
  if (!(await genesis.allocated())) {
    await (await genesis.allocate()).wait();
    log("allocated the initial training coins (Eq. 6)");
  }

  const election = at("ProducerElection", operator);
  const ranked = [...bss].sort((a, b) => b.samples - a.samples);
  const producers = Number(await election.producersPerEpoch());
  const approved = ranked.slice(0, Math.min(producers, m)).map((b) => b.address);
  const candidates: string[] = await election.candidates();
  for (const signer of bsSigners) {
    const e = election.connect(signer) as Contract;
    if (!candidates.includes(await signer.getAddress())) await (await e.registerCandidate()).wait();
  }
  for (const signer of bsSigners) await (await (election.connect(signer) as Contract).vote(approved)).wait();
  log(`every BS is a producer candidate; votes approve ${approved.length} BSs with the most data`);
  return { bss, twins: options.users };
}
