/**
 * Shared fixtures: the whole protocol deployed by the same Ignition module users deploy with, on the in-process
 * Hardhat network, with signer 0 as the deployer and operator (the MBS) and signers 1..N as BSs. The deployer keeps
 * no admin power there (the module renounces it); unit tests that need a test writer or minter use the
 * `...WithTestAdmin` fixtures, which deploy the core module alone (the deployer keeps DEFAULT_ADMIN_ROLE).
 */
import { ethers, ignition } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import DtwnModule, { DtwnCoreModule } from "../ignition/modules/Dtwn";
import { ballotCommitment, VERDICT, type Ballot, type VerdictCode } from "../src/chain/ballot";
import { consentDomain, packConsents, signMove, signRegistration, signTwinData } from "../src/chain/consent";
import { DEFAULT_PROTOCOL_PARAMS, type ProtocolParams } from "../src/chain/protocolParams";
import { PAPER_BS_CPU_HZ } from "../src/twins/scenario";
import {
  AssociationLedger__factory,
  BlockLedger__factory,
  BSRegistry__factory,
  ProducerElection__factory,
  RecordLog__factory,
  StakeGenesis__factory,
  StakeVault__factory,
  TrainingCoin__factory,
  TrainingRounds__factory,
  TwinRegistry__factory,
  UserRegistry__factory,
} from "../typechain-types";

export const COIN = 10n ** 18n;
export const PARAMS: ProtocolParams = DEFAULT_PROTOCOL_PARAMS;

/** A CIDv0 (34 bytes: 0x1220 + digest) derived from a label, for tests that need distinct CIDs. */
export function fakeCid(label: string): string {
  return ethers.concat(["0x1220", ethers.id(label)]);
}

/** keccak256 user id for end user `i`. */
export function userId(i: number): string {
  return ethers.id(`user-${i}`);
}

const devices = new Map<string, InstanceType<typeof ethers.Wallet>>();

/** The device key of end user `i` (a plain key, not a Hardhat account: devices send no transactions). */
export function device(i: number) {
  const w = new ethers.Wallet(ethers.id(`device-${i}`));
  devices.set(w.address.toLowerCase(), w);
  return w;
}

/** The device key whose address is `address` (one of {@link device}'s). */
export function deviceAt(address: string) {
  const w = devices.get(address.toLowerCase());
  if (!w) throw new Error(`no test device has address ${address}`);
  return w;
}

type Consenting = Pick<Protocol, "twins" | "users">;

/** The EIP-712 domain of `p`'s twin registry. */
export async function domainOf(p: Pick<Protocol, "twins">) {
  return consentDomain((await ethers.provider.getNetwork()).chainId, await p.twins.getAddress());
}

/** Admit end users `ids` (their devices {@link device}) unless admitted already; `p.users` as the operator. */
export async function admitUsers(p: Consenting, ids: readonly number[]) {
  const todo: number[] = [];
  for (const i of ids) if (!(await p.users.isUser(userId(i)))) todo.push(i);
  if (todo.length) await p.users.admitUsers(todo.map(userId), todo.map((i) => device(i).address));
}

/** The device of user `i` consents to its twin on `bs`. */
export async function registrationConsent(p: Consenting, i: number, bs: string) {
  return signRegistration(device(i), await domainOf(p), userId(i), bs);
}

/** Admit user `i` (if needed) and register its twin on `bs` with its device's consent; returns the twin id. */
export async function registerTwin(p: Consenting, bs: HardhatEthersSigner, i: number): Promise<bigint> {
  await admitUsers(p, [i]);
  await p.twins.connect(bs).registerTwin(userId(i), await registrationConsent(p, i, bs.address));
  return p.twins.twinOfUser(userId(i));
}

/** The consent of twin `twinId`'s device to its next data record by `bs`. */
export async function dataConsent(p: Consenting, bs: string, twinId: bigint | number, dataSize: bigint | number, dataCommitment: string, state: string) {
  const t = await p.twins.twin(twinId);
  return signTwinData(deviceAt(t.device), await domainOf(p), { twinId, bs, dataSize, dataCommitment, state, version: t.dataVersion + 1n });
}

/** Record twin `twinId`'s data as `bs` with its device's consent. */
export async function recordTwinData(p: Consenting, bs: HardhatEthersSigner, twinId: bigint | number, dataSize: bigint | number, dataCommitment: string, state: string) {
  return p.twins.connect(bs).recordTwinData(twinId, dataSize, dataCommitment, state, await dataConsent(p, bs.address, twinId, dataSize, dataCommitment, state));
}

/** The device of twin `twinId` consents to its move to `to` in slot `slot`. */
export async function moveConsent(p: Consenting, twinId: bigint | number, to: string, slot: bigint | number) {
  return signMove(deviceAt((await p.twins.twin(twinId)).device), await domainOf(p), { twinId, to, slot });
}

/** commitAction's `consents` for the packed `twins` entries as `to`: a consent for each twin that moves. */
export async function consentsFor(p: Consenting, twins: string, to: string, slot: bigint | number): Promise<string> {
  const bytes = ethers.getBytes(twins);
  const out: (string | undefined)[] = [];
  for (let o = 0; o + 6 <= bytes.length; o += 6) {
    const twinId = (bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3];
    const host = twinId > 0 && twinId <= Number(await p.twins.twinCount()) ? await p.twins.hostOf(twinId) : to;
    out.push(host.toLowerCase() === to.toLowerCase() ? undefined : await moveConsent(p, twinId, to, slot));
  }
  return packConsents(out);
}

/** Commit `bs`'s action with its moved twins' consents (as an honest BS does). */
export async function commitAction(p: Consenting & Pick<Protocol, "ledger">, bs: HardhatEthersSigner, slot: bigint | number, twins: string, tau: string) {
  return p.ledger.connect(bs).commitAction(slot, twins, tau, await consentsFor(p, twins, bs.address, slot));
}

/** Deploy the protocol with the module's defaults (the deployer renounced its admin roles). */
export async function deployProtocol() {
  return deployModule(DtwnModule);
}

/** The core module alone: as {@link deployProtocol}, but the deployer (signer 0) keeps DEFAULT_ADMIN_ROLE. */
export async function deployProtocolWithTestAdmin() {
  return deployModule(DtwnCoreModule);
}

/**
 * Deploy `module` with Ignition `parameters` and connect every contract as signer 0 (the deployer; the operator
 * too unless the `mbs` parameter names another account).
 */
export async function deployModule(module: typeof DtwnCoreModule | typeof DtwnModule, parameters: Record<string, Record<string, string>> = {}) {
  const signers = await ethers.getSigners();
  const [mbs, ...rest] = signers;
  const d = await ignition.deploy(module, { parameters });
  const at = async (c: { getAddress(): Promise<string> }) => c.getAddress();
  return {
    mbs,
    bss: rest.slice(0, 8) as HardhatEthersSigner[],
    outsider: rest[10],
    registry: BSRegistry__factory.connect(await at(d.registry), mbs),
    users: UserRegistry__factory.connect(await at(d.users), mbs),
    coin: TrainingCoin__factory.connect(await at(d.coin), mbs),
    stake: StakeVault__factory.connect(await at(d.stake), mbs),
    recordLog: RecordLog__factory.connect(await at(d.recordLog), mbs),
    twins: TwinRegistry__factory.connect(await at(d.twinRegistry), mbs),
    rounds: TrainingRounds__factory.connect(await at(d.rounds), mbs),
    ledger: AssociationLedger__factory.connect(await at(d.associationLedger), mbs),
    genesis: StakeGenesis__factory.connect(await at(d.stakeGenesis), mbs),
    election: ProducerElection__factory.connect(await at(d.election), mbs),
    blocks: BlockLedger__factory.connect(await at(d.blockLedger), mbs),
  };
}

export type Protocol = Awaited<ReturnType<typeof deployProtocol>>;

/** The paper's Section V BSs: CPU frequencies 2.6, 1.8, 3.6, 2.4, 2.4 GHz. */
export const PAPER_CPU_HZ = PAPER_BS_CPU_HZ.map((hz) => BigInt(hz));

/**
 * Protocol with 5 BSs admitted and registered, each hosting `twinsPerBs` twins with data records of
 * `samplesPerTwin * (bs index + 1)` samples, and the Eq. 6 coins allocated.
 */
export async function deployWithFiveBss() {
  return withFiveBss(await deployProtocol());
}

/** {@link deployWithFiveBss} on the core module: the deployer keeps DEFAULT_ADMIN_ROLE. */
export async function deployWithFiveBssWithTestAdmin() {
  return withFiveBss(await deployProtocolWithTestAdmin());
}

async function withFiveBss(p: Protocol) {
  const five = p.bss.slice(0, 5);
  for (const [i, bs] of five.entries()) {
    await p.registry.admit(bs.address);
    await p.registry.connect(bs).registerMetadata(PAPER_CPU_HZ[i], 100 * (i + 1), -50 * i, `/ip4/127.0.0.1/tcp/${4001 + i}`);
  }
  let user = 0;
  for (const [i, bs] of five.entries()) {
    for (let k = 0; k < 2; k++) {
      const twinId = await registerTwin(p, bs, user);
      await recordTwinData(p, bs, twinId, 100 * (i + 1), ethers.id(`data-${user}`), ethers.id(`state-${user}`));
      user++;
    }
  }
  await p.genesis.allocate();
  return { ...p, five };
}

/** Move time forward to the start of DPoS epoch `epoch`. */
export async function gotoEpoch(p: Protocol, epoch: bigint) {
  const start = await p.election.epochStart(epoch);
  const now = BigInt(await time.latest());
  if (start > now) await time.increaseTo(start);
}

/** Move time forward to the start of DPoS slot `slot`. */
export async function gotoSlot(p: Protocol, slot: bigint) {
  const genesis = await p.election.genesisTime();
  const start = genesis + slot * (await p.election.slotDuration());
  const now = BigInt(await time.latest());
  if (start > now) await time.increaseTo(start);
}

/** A BS's bonded plus unbonding coins (what slashes take from and rewards add to). */
export async function stakeOf(p: Pick<Protocol, "stake">, bs: string): Promise<bigint> {
  const [bonded, unbonding] = await p.stake.stakeOf(bs);
  return bonded + unbonding;
}

/** A verifier and its verdict on each submitter (address -> PASS, FAIL or ABSTAIN; its own model is ABSTAIN). */
export interface Voter {
  signer: HardhatEthersSigner;
  verdict: (bs: string) => VerdictCode;
  /** Commit but never reveal. */
  withhold?: boolean;
}

/** The ballot `v` gives in `round` given the round's submitters (scores 8900 for a pass, 1000 for a fail). */
export function ballotOf(v: Voter, submitters: readonly string[], round: bigint | number): Ballot {
  const verdicts = submitters.map((bs) => (bs === v.signer.address ? VERDICT.abstain : v.verdict(bs)));
  return { verdicts, scores: verdicts.map((x) => (x === VERDICT.pass ? 8_900 : x === VERDICT.fail ? 1_000 : 0)), salt: ethers.id(`salt-${v.signer.address}-${round}`) };
}

/**
 * Commit then reveal the voters' ballots on `round`: moves time past the submission deadline, commits every ballot,
 * moves past the commit window unless every member committed, and reveals every ballot not withheld.
 */
export async function castBallots(p: Pick<Protocol, "rounds" | "registry">, round: bigint | number, voters: readonly Voter[]) {
  const r = await p.rounds.getRound(round);
  if (BigInt(await time.latest()) <= r.deadline) await time.increaseTo(r.deadline + 1n);
  const submitters = [...(await p.rounds.submitters(round))];
  for (const v of voters) await p.rounds.connect(v.signer).commitVerdicts(round, ballotCommitment(round, v.signer.address, ballotOf(v, submitters, round)));
  if (!(await p.rounds.acceptsReveals(round))) await time.increaseTo((await p.rounds.getRound(round)).commitUntil + 1n);
  for (const v of voters) {
    if (v.withhold) continue;
    const b = ballotOf(v, submitters, round);
    await p.rounds.connect(v.signer).revealVerdicts(round, b.verdicts, b.scores, b.salt);
  }
}

/** Every one of `signers` passes every other model. */
export function allPass(signers: readonly HardhatEthersSigner[]): Voter[] {
  return signers.map((signer) => ({ signer, verdict: () => VERDICT.pass }));
}

/**
 * Every one of `signers` attests round `round`'s recorded global model (as honest BSs do once they recomputed it);
 * round `round` + 1 can then open when they hold the quorum of stake.
 */
export async function attestGlobal(p: Pick<Protocol, "rounds">, round: bigint | number, signers: readonly HardhatEthersSigner[]) {
  for (const s of signers) await p.rounds.connect(s).attestGlobalModel(round, true);
}
