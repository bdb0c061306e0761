/**
 * Bootstrap a fresh deployment into the paper's Section V setting: M BSs (CPU 2.6, 1.8, 3.6, 2.4, 2.4 GHz) around
 * the MBS, N end users placed at random in the BSs' coverage, each user's twin registered on its nearest BS with a
 * digital-twin data record, then the Eq. 6 coin allocation, every BS a producer candidate approving the BSs with
 * the most data. Uses only ethers v6 contracts, so it runs against any JSON-RPC node.
 */
import { Contract, id, type Signer } from "ethers";
import type { Deployment } from "./deployment";
import { mulberry32, randInt } from "../twins/random";

export const PAPER_BS_CPU_HZ = [2.6e9, 1.8e9, 3.6e9, 2.4e9, 2.4e9];

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

export async function bootstrapDeployment(
  deployment: Deployment,
  operator: Signer,
  bsSigners: Signer[],
  options: BootstrapOptions = DEFAULT_BOOTSTRAP,
): Promise<BootstrapResult> {
  const log = options.log ?? (() => undefined);
  const rng = mulberry32(options.seed);
  const at = (name: keyof Deployment["contracts"], signer: Signer) =>
    new Contract(deployment.contracts[name].address, deployment.contracts[name].abi as never, signer);
  const registry = at("BSRegistry", operator);
  const m = bsSigners.length;
  if (m === 0) throw new Error("Bootstrap needs at least one BS account.");

  const bss: BootstrapResult["bss"] = [];
  for (const [i, signer] of bsSigners.entries()) {
    const address = await signer.getAddress();
    const angle = (2 * Math.PI * i) / m;
    const x = Math.round(options.bsRingRadiusMetres * Math.cos(angle));
    const y = Math.round(options.bsRingRadiusMetres * Math.sin(angle));
    const cpu = PAPER_BS_CPU_HZ[i % PAPER_BS_CPU_HZ.length];
    if (!(await registry.isMember(address))) await (await registry.admit(address)).wait();
    const asBs = registry.connect(signer) as Contract;
    await (await asBs.registerMetadata(BigInt(cpu), x, y, `/ip4/127.0.0.1/tcp/${4101 + i}`)).wait();
    bss.push({ address, cpuFrequencyHz: cpu, x, y, twins: 0, samples: 0 });
    log(`admitted BS ${i + 1}/${m} ${address} (${(cpu / 1e9).toFixed(1)} GHz at ${x},${y} m)`);
  }

  // Users uniformly in the coverage disc of a random BS; each user's twin goes on its nearest BS.
  for (let u = 0; u < options.users; u++) {
    const home = bss[randInt(rng, 0, m - 1)];
    const r = options.coverageRadiusMetres * Math.sqrt(rng());
    const theta = 2 * Math.PI * rng();
    const ux = home.x + r * Math.cos(theta);
    const uy = home.y + r * Math.sin(theta);
    let best = 0;
    for (let j = 1; j < m; j++) {
      if (Math.hypot(bss[j].x - ux, bss[j].y - uy) < Math.hypot(bss[best].x - ux, bss[best].y - uy)) best = j;
    }
    const samples = randInt(rng, options.samplesPerUser[0], options.samplesPerUser[1]);
    const twins = at("TwinRegistry", bsSigners[best]);
    const userId = id(`dtwn-user-${u}`);
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
