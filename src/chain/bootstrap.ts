/**
 * Bootstrap a fresh deployment into the paper's Section V setting: M BSs (CPU 2.6, 1.8, 3.6, 2.4, 2.4 GHz) around
 * the MBS, N end users placed at random in the BSs' coverage, admitted by the operator with their device keys, each
 * user's twin registered on its nearest BS with a digital-twin data record (both signed by the user's device), then
 * the Eq. 6 coin allocation, every BS a producer candidate approving the BSs with
 * the most data. Uses only ethers v6 contracts, so it runs against any JSON-RPC node.
 */
import { Contract, id, type Signer } from "ethers";
import { consentDomain, deviceKey, signRegistration, signTwinData } from "./consent";
import type { Deployment } from "./deployment";
import { confirmAll, sendBatch, type NoncedCall, type SentCall } from "./txBatch";
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
  /**
   * Secret the users' device keys derive from (src/chain/consent.ts deviceKey): the users' side of the system holds
   * it, no BS does. Default: the public development secret (local networks only).
   */
  deviceSecret?: string;
  /** Called with a line of progress. */
  log?: (line: string) => void;
  /**
   * Blocks every bootstrap transaction must be under when the bootstrap returns (1: mined; default 1). Each step
   * waits only until the previous one is mined; one wait at the end covers them all.
   */
  confirmations?: number;
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

/**
 * The public development device secret: like Hardhat's development mnemonic, anyone can derive these device keys, so
 * it is only for the local networks. `dtwn run` draws a fresh secret per run.
 */
export const DEV_DEVICE_SECRET = id("dtwn development devices (public, local networks only)");

/** The device secret a deployment to `network` uses: DTWN_DEVICE_SECRET, else the development secret on local networks. */
export function deviceSecretFor(network: string, env: NodeJS.ProcessEnv = process.env): string {
  const secret = env.DTWN_DEVICE_SECRET;
  if (secret) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(secret)) throw new Error("DTWN_DEVICE_SECRET must be 32 bytes as 0x-prefixed hex (e.g. `openssl rand -hex 32` with 0x in front).");
    return secret;
  }
  if (network === "hardhat" || network === "localhost") return DEV_DEVICE_SECRET;
  throw new Error(`--network ${network}: set DTWN_DEVICE_SECRET (32 bytes, 0x-prefixed hex) for the users' device keys; the development secret is public.`);
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

  const confirmations = options.confirmations ?? 1;
  // Each step is mined (1 block) before the next builds on it; every transaction is waited `confirmations` deep once,
  // at the end (at 12 s blocks and 3 confirmations a wait per step cost 24 s more per step).
  const sent: SentCall[] = [];
  const send = (batch: Parameters<typeof sendBatch>[0]) => sendBatch(batch.filter((b) => b.calls.length > 0), 1, sent);
  const operatorCalls = (calls: { label: string; send: NoncedCall }[]) => ({ signer: operator, calls });

  // 1. The operator admits the BSs and, in batches, the users with their device keys.
  const bss: BootstrapResult["bss"] = [];
  const bsAddresses = await Promise.all(bsSigners.map((s) => s.getAddress()));
  const secret = options.deviceSecret ?? DEV_DEVICE_SECRET;
  const devices = scenario.users.map((_, u) => deviceKey(secret, u));
  const users = at("UserRegistry", operator);
  const admitBss: { label: string; send: NoncedCall }[] = [];
  for (const [i, address] of bsAddresses.entries()) {
    if (!(await registry.isMember(address))) admitBss.push({ label: `admit BS ${i}`, send: (o) => registry.admit(address, o) });
  }
  const admit: number[] = [];
  for (let u = 0; u < scenario.users.length; u++) if (!(await users.isUser(userIdOf(u)))) admit.push(u);
  const admitUsers: { label: string; send: NoncedCall }[] = [];
  for (let k = 0; k < admit.length; k += 100) {
    const batch = admit.slice(k, k + 100);
    admitUsers.push({ label: `admit users ${batch[0]}..${batch[batch.length - 1]}`, send: (o) => users.admitUsers(batch.map(userIdOf), batch.map((u) => devices[u].address), o) });
  }
  await send([operatorCalls([...admitBss, ...admitUsers])]);
  if (admit.length) log(`admitted ${bsSigners.length} BSs and ${admit.length} users with their device keys`);

  // 2. Each BS publishes its metadata and registers the twins of the users nearest to it (each device consents).
  const association = nearestBsAssociation(scenario);
  const domain = consentDomain(deployment.chainId, deployment.contracts.TwinRegistry.address);
  const perBs: { label: string; send: NoncedCall }[][] = bsSigners.map(() => []);
  for (const [i, signer] of bsSigners.entries()) {
    const { cpuHz, position } = scenario.bss[i];
    const x = Math.round(position.xMetres);
    const y = Math.round(position.yMetres);
    const asBs = registry.connect(signer) as Contract;
    perBs[i].push({ label: `BS ${i} metadata`, send: (o) => asBs.registerMetadata(BigInt(cpuHz), x, y, `/ip4/127.0.0.1/tcp/${4101 + i}`, o) });
    bss.push({ address: bsAddresses[i], cpuFrequencyHz: cpuHz, x, y, twins: 0, samples: 0 });
  }
  await send(bsSigners.map((signer, i) => ({ signer, calls: perBs[i] })));
  // The twins one after another, in user order: twin ids then follow user order (user n's twin is id n + 1), which
  // the agents' and the audit's orderings of twins rely on. Each registration waits only until it is mined (a block,
  // not `confirmations` blocks: at 12 s blocks and 3 confirmations that was 36 s per twin), then everything sent so
  // far until it is `confirmations` deep; then the order is checked, since a reorg in between could have reordered them.
  const reader = at("TwinRegistry", operator);
  for (const [u] of scenario.users.entries()) {
    const best = association[u];
    const userId = userIdOf(u);
    if ((await reader.twinOfUser(userId)) !== 0n) continue;
    const signature = await signRegistration(devices[u], domain, userId, bsAddresses[best]);
    const twins = at("TwinRegistry", bsSigners[best]);
    await send([{ signer: bsSigners[best], calls: [{ label: `twin of user ${u}`, send: (o) => twins.registerTwin(userId, signature, o) }] }]);
  }
  // The order is checked on registrations `confirmations` deep (a reorg above that depth is beyond what runs guard).
  await confirmAll(sent, confirmations);
  const twinIds: bigint[] = [];
  for (const [u] of scenario.users.entries()) {
    const twinId: bigint = await reader.twinOfUser(userIdOf(u));
    twinIds.push(twinId);
    if (twinId !== BigInt(u + 1)) throw new Error(`user ${u}'s twin has id ${twinId}, not ${u + 1}: the twin registrations were reordered (a reorg during the bootstrap?); deploy again.`);
  }
  for (const [i, b] of bss.entries()) log(`admitted BS ${i + 1}/${m} ${b.address} (${(b.cpuFrequencyHz / 1e9).toFixed(1)} GHz at ${b.x},${b.y} m)`);

  // 3. Each BS records its twins' data (the data commitment binds the user's id and data size until real data is
  // synced, src/fl; the device signs it).
  const dataCalls: { label: string; send: NoncedCall }[][] = bsSigners.map(() => []);
  for (const [u, user] of scenario.users.entries()) {
    const best = association[u];
    const samples = user.dataSamples;
    const userId = userIdOf(u);
    const twinId = twinIds[u]; // read and checked above
    const record = { twinId, bs: bsAddresses[best], dataSize: samples, dataCommitment: id(`${userId}:${samples}`), state: id(`state:${userId}:0`), version: (await reader.twin(twinId)).dataVersion + 1n };
    const signature = await signTwinData(devices[u], domain, record);
    const twins = at("TwinRegistry", bsSigners[best]);
    dataCalls[best].push({ label: `data record of twin ${twinId}`, send: (o) => twins.recordTwinData(twinId, samples, record.dataCommitment, record.state, signature, o) });
    bss[best].twins++;
    bss[best].samples += samples;
  }
  await send(bsSigners.map((signer, i) => ({ signer, calls: dataCalls[i] })));
  log(`registered ${options.users} twins with their data records`);

  // 4. The Eq. 6 coins; 5. every BS a producer candidate; 6. the votes.
  const genesis = at("StakeGenesis", operator);
  if (!(await genesis.allocated())) {
    await send([operatorCalls([{ label: "coin allocation", send: (o) => genesis.allocate(o) }])]);
    log("allocated the initial training coins (Eq. 6)");
  }
  const election = at("ProducerElection", operator);
  const ranked = [...bss].sort((a, b) => b.samples - a.samples);
  const producers = Number(await election.producersPerEpoch());
  const approved = ranked.slice(0, Math.min(producers, m)).map((b) => b.address);
  const candidates: string[] = await election.candidates();
  await send(
    bsSigners.map((signer, i) => ({
      signer,
      calls: candidates.includes(bsAddresses[i]) ? [] : [{ label: `BS ${i} candidacy`, send: (o: { nonce: number }) => (election.connect(signer) as Contract).registerCandidate(o) }],
    })),
  );
  await send(bsSigners.map((signer, i) => ({ signer, calls: [{ label: `BS ${i} votes`, send: (o: { nonce: number }) => (election.connect(signer) as Contract).vote(approved, o) }] })));
  await confirmAll(sent, confirmations);
  log(`every BS is a producer candidate; votes approve ${approved.length} BSs with the most data`);
  return { bss, twins: options.users };
}
