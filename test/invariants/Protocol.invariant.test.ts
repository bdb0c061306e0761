/**
 * Protocol invariants under seeded random operation sequences.
 *
 * Each seed deploys the real protocol (Ignition module, through `deployProtocol`), bootstraps five BSs with twins
 * and Eq. 6 coins, then runs a long random sequence of protocol operations: admit/remove a BS ("join"/"leave"),
 * register metadata, twins and twin records, stand as a candidate, vote, elect, open a round, commit an action,
 * submit/verify a model, settle a round and record its global model ("close a round"), propose and approve/reject a
 * block, let a slot pass without a block ("miss a slot") and report it ("slash"), and move coins between BSs
 * mid-epoch. About a quarter of the operations are deliberately invalid: each of those must revert with the exact
 * custom error (and arguments) predicted from a TypeScript model of the protocol, and leave every probed view
 * unchanged.
 *
 * After EVERY step the test checks:
 *   1. coin supply == sum of the balances of every account that can hold coins (and == the model's supply);
 *   2. the producers of the current epoch are exactly the top-N eligible candidates by checkpointed votes
 *      (approvals x `getPastVotes(voter, epochStart - 1)` of current members, candidates that are members, not jailed,
 *      tally > 0, ties by seat), computed independently in TypeScript when the election ran, from the model's own
 *      balance history (and right after each election, `getPastVotes` itself is checked against that history);
 *   3. no final (or rejected) block ever changes, final blocks tile the record log [0, packedUpTo), and no block
 *      with a wrong Merkle root is ever accepted (the chain compares it with the record log at proposal);
 *   4. every twin is on exactly one BS (hostOf), sum of twinsOn == twinCount, and sum of dataOn over every BS ever
 *      admitted == totalData, per BS equal to the model;
 *   5. for the current slot (= round) and every subchannel, tauUsed <= TAU_SCALE and equals the sum of the taus of
 *      the actions committed for it.
 * Every DEEP_CHECK_EVERY steps and at the end, the rest of the model is compared with the chain too (votes, members,
 * seats, candidates, approvals, jail, every epoch's producers, every block, twin records, every round's submissions
 * and taus, the record log's leaves), and at the end a Merkle proof of a record of every final block is verified.
 *
 * Time is fully deterministic: every transaction's timestamp is set explicitly (a reverted transaction is mined too,
 * so each step is exactly one block), so a seed always replays the same sequence. Reproduce a failure with
 * DTWN_INVARIANT_SEED=0x... (and optionally DTWN_INVARIANT_OPS=n).
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  ZeroAddress,
  ZeroHash,
  type BaseContract,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type Interface,
  type Result,
} from "ethers";
import { encodeAction, TAU_SCALE, TWIN_ENTRY_BYTES } from "../../src/chain/actionCodec";
import { merkleProof, merkleRoot } from "../../src/chain/merkle";
import { decide } from "../../src/fl/acceptance";
import { deployProtocol, fakeCid, PARAMS, type Protocol } from "../fixtures";

// ---------------------------------------------------------------------------------------------------------------
// Seeds

interface SeedRun {
  seed: number;
  ops: number;
}

const DEFAULT_RUNS: SeedRun[] = [
  { seed: 0x5eed0001, ops: 520 },
  { seed: 0x0b5e55ed, ops: 500 },
];

function runsFromEnv(): SeedRun[] {
  const seed = process.env.DTWN_INVARIANT_SEED;
  if (!seed) return DEFAULT_RUNS;
  return [{ seed: Number(seed) >>> 0, ops: Number(process.env.DTWN_INVARIANT_OPS ?? 600) }];
}

const MIN_OPS_PER_LONG_SEED = 500;

// ---------------------------------------------------------------------------------------------------------------
// Deterministic PRNG (mulberry32)

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  float(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("pick from an empty list");
    return xs[Math.floor(this.float() * xs.length)];
  }
  /** `k` distinct elements in random order. */
  sample<T>(xs: readonly T[], k: number): T[] {
    const copy = xs.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, Math.min(k, copy.length));
  }
  bytes32(): string {
    let hex = "0x";
    for (let i = 0; i < 8; i++) hex += Math.floor(this.float() * 2 ** 32).toString(16).padStart(8, "0");
    return hex;
  }
  /** Uniform-ish bigint in [0, max]. */
  bigint(max: bigint): bigint {
    if (max <= 0n) return 0n;
    return (max * BigInt(this.int(0, 1_000_000))) / 1_000_000n;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Views: read with raw eth_calls (the cheapest way on the in-process network), decoded on demand

interface ViewCall {
  key: string;
  target: string;
  iface: Interface;
  fn: string;
  data: string;
}

const REVERTED = "reverted";

/** Results of one read: raw return data by key (the state fingerprint), decoded on demand. */
class Snapshot {
  readonly raw = new Map<string, string>();
  readonly calls = new Map<string, ViewCall>();
  succeeded(key: string): boolean {
    return this.raw.get(key) !== REVERTED;
  }
  get(key: string): unknown {
    const call = this.calls.get(key);
    if (!call) throw new Error(`view ${key} was not read`);
    if (!this.succeeded(key)) throw new Error(`view ${key} (${call.fn}) reverted`);
    const res = call.iface.decodeFunctionResult(call.fn, this.raw.get(key)!);
    return res.length === 1 ? res[0] : res;
  }
  big(key: string): bigint {
    return this.get(key) as bigint;
  }
  num(key: string): number {
    return Number(this.get(key) as bigint);
  }
  str(key: string): string {
    return this.get(key) as string;
  }
  list(key: string): string[] {
    return Array.from(this.get(key) as Result) as string[];
  }
}

class Reader {
  private readonly calls: ViewCall[] = [];
  add(key: string, c: BaseContract, fn: string, args: readonly unknown[] = []): void {
    this.calls.push({ key, target: c.target as string, iface: c.interface, fn, data: c.interface.encodeFunctionData(fn, args) });
  }
  async run(): Promise<Snapshot> {
    const snap = new Snapshot();
    for (const c of this.calls) {
      if (snap.calls.has(c.key)) throw new Error(`duplicate view key ${c.key}`);
      snap.calls.set(c.key, c);
      try {
        snap.raw.set(c.key, (await network.provider.request({ method: "eth_call", params: [{ to: c.target, data: c.data }, "latest"] })) as string);
      } catch {
        snap.raw.set(c.key, REVERTED);
      }
    }
    return snap;
  }
}

/** Cheap equality check: chai (slow on large structures) only builds the message of a failure. */
function same<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) expect(actual, what).to.equal(expected);
}
function sameList(actual: readonly unknown[], expected: readonly unknown[], what: string): void {
  if (actual.length !== expected.length || actual.some((x, i) => x !== expected[i])) expect(actual, what).to.deep.equal(expected);
}

// ---------------------------------------------------------------------------------------------------------------
// Model (shadow state)

const KINDS = [
  "join",
  "leave",
  "metadata",
  "registerTwin",
  "twinData",
  "twinModel",
  "registerCandidate",
  "withdrawCandidacy",
  "vote",
  "transfer",
  "advanceEpoch",
  "elect",
  "openRound",
  "commitAction",
  "submitModel",
  "verifyModel",
  "settleRound",
  "recordGlobalModel",
  "proposeBlock",
  "validateBlock",
  "missSlot",
  "reportMissedSlot",
] as const;
type Kind = (typeof KINDS)[number] | "bootstrap";
/** Operations that only move time (never rejected). */
const TIME_KINDS: ReadonlySet<Kind> = new Set<Kind>(["advanceEpoch", "missSlot"]);

type Outcome =
  | { ok: true; apply: (rc: ContractTransactionReceipt) => void }
  | { ok: false; c: BaseContract; name: string; args: unknown[] };

interface TxPlan {
  kind: Kind;
  desc: string;
  send: () => Promise<ContractTransactionResponse>;
  outcome: Outcome;
}

interface TimePlan {
  kind: Kind;
  desc: string;
  to: number;
}

type Plan = TxPlan | TimePlan;

enum BlockStatus {
  None = 0,
  Pending = 1,
  Final = 2,
  Rejected = 3,
}

interface ModelBlock {
  id: number;
  status: BlockStatus;
  producer: string;
  slot: number;
  epoch: number;
  from: number;
  to: number;
  producerCount: number;
  approvals: number;
  rejections: number;
  root: string;
  correct: boolean;
  voted: Set<string>;
}

enum RoundStatus {
  None = 0,
  Open = 1,
  Settled = 2,
  Finalized = 3,
}

enum ModelOutcome {
  Pending = 0,
  Passed = 1,
  Failed = 2,
  Unverified = 3,
}

interface ModelSubmission {
  pass: number;
  fail: number;
  verifiers: Set<string>;
  outcome: ModelOutcome;
}

interface ModelRound {
  id: number;
  status: RoundStatus;
  deadline: number;
  verifyUntil: number;
  order: string[];
  subs: Map<string, ModelSubmission>;
  committed: Set<string>;
  /** The chain's record of each committed action: K_i and the listed twins' data at commitment. */
  weights: Map<string, { k: number; data: bigint }>;
  /** The global model it opened from, and the one recorded at finalization. */
  globalCid?: string;
  newGlobalCid?: string;
  tau: number[];
  /** twin id -> BSs that listed it in an action for this slot */
  claims: Map<number, Set<string>>;
}

interface ModelTwin {
  user: string;
  host: string;
  data: bigint;
}

interface BlockView {
  status: bigint;
  producer: string;
  slot: bigint;
  epoch: bigint;
  fromRecord: bigint;
  toRecord: bigint;
  producerCount: bigint;
  approvals: bigint;
  rejections: bigint;
  root: string;
}

interface Stat {
  ok: number;
  rejected: number;
  errors: Map<string, number>;
}

const SLOT = PARAMS.slotDurationSeconds;
const SLOTS_PER_EPOCH = PARAMS.slotsPerEpoch;
/** ProducerElection.MIN_PRODUCERS: fewer producers and no block of the epoch can be proposed. */
const MIN_PRODUCERS = 3;
const N_PRODUCERS = PARAMS.producersPerEpoch;
const JAIL_EPOCHS = PARAMS.jailEpochs;
const BPS = 10_000n;
const MAX_TWINS = 24;
/** Steps between two deep checks of the whole model against the chain. */
const DEEP_CHECK_EVERY = 25;
const TAU_BYTES = 2 * PARAMS.subchannels;

function byAddress(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Big-endian action encoding without the codec's shape checks (for deliberately malformed actions). */
function rawAction(entries: { twinId: number; batchSize: number }[], shares: number[]): { twins: Uint8Array; tau: Uint8Array } {
  const twins = new Uint8Array(entries.length * TWIN_ENTRY_BYTES);
  const tv = new DataView(twins.buffer);
  entries.forEach((e, i) => {
    tv.setUint32(i * TWIN_ENTRY_BYTES, e.twinId);
    tv.setUint16(i * TWIN_ENTRY_BYTES + 4, e.batchSize);
  });
  const tau = new Uint8Array(shares.length * 2);
  const uv = new DataView(tau.buffer);
  shares.forEach((s, c) => uv.setUint16(c * 2, s));
  return { twins, tau };
}

class World {
  readonly rng: Rng;
  readonly accounts: string[];
  readonly signerOf = new Map<string, HardhatEthersSigner>();
  readonly poolAddrs: string[];
  readonly mbs: string;
  readonly outsider: string;
  genesis = 0;
  clock = { last: 0, next: 0 };

  // membership and elections
  members: string[] = [];
  seat = new Map<string, number>();
  seatsUsed = 0;
  candidates: string[] = [];
  approvals = new Map<string, string[]>();
  jailedUntil = new Map<string, number>();
  jailedAt = new Map<string, number>();
  elected = new Map<number, string[]>();
  electedAt = new Map<number, number>();
  pendingVoteCheck: { snapshot: number; voters: string[] } | undefined;

  // coins
  balances = new Map<string, bigint>();
  supply = 0n;
  history: { ts: number; bal: Map<string, bigint> }[] = [];

  // twins and records
  twins: ModelTwin[] = [];
  userSeq = 0;
  leaves: string[] = [];

  // rounds and actions
  rounds: ModelRound[] = [];

  // blocks
  blocks: ModelBlock[] = [];
  blockOfSlot = new Map<number, number>();
  reported = new Set<number>();
  packedUpTo = 0;
  finalCount = 0;
  frozenBlocks = new Map<number, string>();

  // bookkeeping
  stats = new Map<Kind, Stat>();
  timing = { tx: 0, check: 0 };
  stepsSinceDeep = 0;
  leavesChecked = 0;
  recent: string[] = [];
  lastSnap: Snapshot | undefined;
  notes = {
    doubleClaims: 0,
    preElectionReportsRefused: 0,
    nonMemberProducerSlashed: 0,
    jailAmnesties: 0,
    finalBlocks: 0,
    rejectedBlocks: 0,
    electionsWithProducers: 0,
    emptyElections: 0,
  };

  constructor(
    readonly p: Protocol,
    readonly seed: number,
    signers: HardhatEthersSigner[],
  ) {
    this.rng = new Rng(seed);
    const [mbs, ...rest] = signers;
    const pool = rest.slice(0, 8);
    const outsider = rest[10];
    this.mbs = mbs.address;
    this.outsider = outsider.address;
    this.poolAddrs = pool.map((s) => s.address);
    for (const s of [mbs, ...pool, outsider]) this.signerOf.set(s.address, s);
    this.accounts = [this.mbs, ...this.poolAddrs, this.outsider];
    for (const a of this.accounts) this.balances.set(a, 0n);
    for (const k of [...KINDS, "bootstrap" as const]) this.stats.set(k, { ok: 0, rejected: 0, errors: new Map() });
  }

  // ----- helpers -----------------------------------------------------------------------------------------------

  label(a: string): string {
    if (a === this.mbs) return "MBS";
    if (a === this.outsider) return "OUT";
    if (a === ZeroAddress) return "0x0";
    const i = this.poolAddrs.indexOf(a);
    return i >= 0 ? `BS${i + 1}` : a.slice(0, 10);
  }
  signer(a: string): HardhatEthersSigner {
    const s = this.signerOf.get(a);
    if (!s) throw new Error(`no signer for ${a}`);
    return s;
  }
  isMember(a: string): boolean {
    return this.members.includes(a);
  }
  nonMembers(): string[] {
    return [...this.poolAddrs.filter((a) => !this.isMember(a)), this.outsider];
  }
  randomMember(): string {
    return this.rng.pick(this.members);
  }
  /** A member most of the time, otherwise a non-member (for NotMember checks). */
  caller(pMember = 0.92): string {
    return this.members.length && this.rng.chance(pMember) ? this.randomMember() : this.rng.pick(this.nonMembers());
  }
  jail(a: string): number {
    return this.jailedUntil.get(a) ?? 0;
  }
  bal(a: string): bigint {
    return this.balances.get(a) ?? 0n;
  }
  slotAt(ts: number): number {
    return Math.floor((ts - this.genesis) / SLOT);
  }
  epochAt(ts: number): number {
    return Math.floor(this.slotAt(ts) / SLOTS_PER_EPOCH);
  }
  epochOfSlot(slot: number): number {
    return Math.floor(slot / SLOTS_PER_EPOCH);
  }
  epochStart(e: number): number {
    return this.genesis + e * SLOTS_PER_EPOCH * SLOT;
  }
  slotStart(s: number): number {
    return this.genesis + s * SLOT;
  }
  slotEnd(s: number): number {
    return this.genesis + (s + 1) * SLOT;
  }
  producers(epoch: number): string[] {
    return this.elected.get(epoch) ?? [];
  }
  /**
   * ProducerElection.producerOfSlot: the epoch's producer k owns slot s (s mod n = k) from the slot of the election
   * on; a slot that passed before a late election has no producer (nobody can be blamed for missing it).
   */
  producerOfSlot(slot: number): string | undefined {
    const epoch = this.epochOfSlot(slot);
    const prods = this.producers(epoch);
    if (!prods.length || slot < this.slotAt(this.electedAt.get(epoch)!)) return undefined;
    return prods[slot % prods.length];
  }
  currentRound(): ModelRound | undefined {
    return this.rounds[this.rounds.length - 1];
  }
  accepting(r: ModelRound | undefined, ts: number): boolean {
    return r !== undefined && r.status === RoundStatus.Open && ts <= r.deadline;
  }
  balanceAt(a: string, ts: number): bigint {
    for (let i = this.history.length - 1; i >= 0; i--) if (this.history[i].ts <= ts) return this.history[i].bal.get(a) ?? 0n;
    return 0n;
  }
  hostedBy(a: string): ModelTwin[] {
    return this.twins.filter((t) => t.host === a);
  }
  mint(a: string, amount: bigint): void {
    this.balances.set(a, this.bal(a) + amount);
    this.supply += amount;
  }
  burn(a: string, amount: bigint): void {
    this.balances.set(a, this.bal(a) - amount);
    this.supply -= amount;
  }
  /** BlockLedger._penalize: burn slashBps of the balance and jail for `jailEpochs` from the current epoch. */
  penalize(producer: string, ts: number): void {
    this.burn(producer, (this.bal(producer) * BigInt(PARAMS.blockSlashBps)) / BPS);
    this.jailedUntil.set(producer, this.epochAt(ts) + JAIL_EPOCHS);
    this.jailedAt.set(producer, ts);
  }
  fail(c: BaseContract, name: string, ...args: unknown[]): Outcome {
    return { ok: false, c, name, args };
  }
  /** Records appended by a transaction (RecordLog events), added to the model's leaves; returns how many. */
  takeRecords(rc: ContractTransactionReceipt): number {
    const log = this.p.recordLog;
    let n = 0;
    for (const l of rc.logs) {
      if (l.address !== log.target) continue;
      const ev = log.interface.parseLog(l);
      if (ev?.name !== "RecordAppended") continue;
      expect(Number(ev.args.index)).to.equal(this.leaves.length, "record index");
      this.leaves.push(ev.args.leaf as string);
      n++;
    }
    return n;
  }
  expectRecords(rc: ContractTransactionReceipt, n: number): void {
    expect(this.takeRecords(rc)).to.equal(n, "records appended");
  }

  // ----- operations ----------------------------------------------------------------------------------------------
  // Each returns a plan: the call to make and the predicted outcome (effects on the model, or the exact error).

  opJoin(): Plan {
    const { registry } = this.p;
    const outside = this.poolAddrs.filter((a) => !this.isMember(a));
    let caller = this.mbs;
    let bs: string;
    const r = this.rng.float();
    if (outside.length && r < 0.75) bs = this.rng.pick(outside);
    else if (r < 0.86 && this.members.length) bs = this.randomMember();
    else if (r < 0.94) {
      bs = this.rng.pick(outside.length ? outside : this.poolAddrs);
      caller = this.rng.pick(this.poolAddrs);
    } else bs = ZeroAddress;
    const desc = `${this.label(caller)} admits ${this.label(bs)}`;
    const send = () => registry.connect(this.signer(caller)).admit(bs);
    let outcome: Outcome;
    if (caller !== this.mbs) outcome = this.fail(registry, "OwnableUnauthorizedAccount", caller);
    else if (bs === ZeroAddress) outcome = this.fail(registry, "ZeroAddress");
    else if (this.isMember(bs)) outcome = this.fail(registry, "AlreadyMember", bs);
    else
      outcome = {
        ok: true,
        apply: () => {
          this.members.push(bs);
          if (!this.seat.has(bs)) this.seat.set(bs, this.seatsUsed++);
        },
      };
    return { kind: "join", desc, send, outcome };
  }

  opLeave(): Plan {
    const { registry } = this.p;
    let caller = this.mbs;
    let bs: string;
    const r = this.rng.float();
    if (this.members.length > 4 && r < 0.7) bs = this.randomMember();
    else if (r < 0.85) bs = this.rng.pick(this.nonMembers());
    else {
      bs = this.members.length ? this.randomMember() : this.rng.pick(this.poolAddrs);
      caller = this.rng.pick([...this.poolAddrs, this.outsider]);
    }
    const desc = `${this.label(caller)} removes ${this.label(bs)}`;
    const send = () => registry.connect(this.signer(caller)).remove(bs);
    let outcome: Outcome;
    if (caller !== this.mbs) outcome = this.fail(registry, "OwnableUnauthorizedAccount", caller);
    else if (!this.isMember(bs)) outcome = this.fail(registry, "NotMember", bs);
    else
      outcome = {
        ok: true,
        apply: () => {
          const i = this.members.indexOf(bs);
          const last = this.members.length - 1;
          if (i !== last) this.members[i] = this.members[last];
          this.members.pop();
        },
      };
    return { kind: "leave", desc, send, outcome };
  }

  opMetadata(): Plan {
    const { registry } = this.p;
    const caller = this.caller();
    let cpu = BigInt(this.rng.int(1_800, 3_600)) * 1_000_000n;
    let peer = `/ip4/10.0.0.${this.rng.int(1, 254)}/tcp/${this.rng.int(4001, 4100)}`;
    const d = this.rng.float();
    if (d < 0.08) cpu = 0n;
    else if (d < 0.14) peer = "";
    else if (d < 0.2) peer = "/dns4/" + "x".repeat(251);
    const [x, y] = [this.rng.int(-500, 500), this.rng.int(-500, 500)];
    const desc = `${this.label(caller)} registers metadata cpu=${cpu} peer.len=${peer.length}`;
    const send = () => registry.connect(this.signer(caller)).registerMetadata(cpu, x, y, peer);
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(registry, "NotMember", caller);
    else if (cpu === 0n) outcome = this.fail(registry, "InvalidCpuFrequency");
    else if (peer.length === 0 || peer.length > 256) outcome = this.fail(registry, "InvalidPeerAddress", peer.length);
    else outcome = { ok: true, apply: () => undefined };
    return { kind: "metadata", desc, send, outcome };
  }

  newUserId(): string {
    return ethers.id(`seed-${this.seed}-user-${this.userSeq++}`);
  }

  opRegisterTwin(): Plan {
    const { twins } = this.p;
    const caller = this.caller();
    let user: string;
    const d = this.rng.float();
    if (this.twins.length && (d < 0.12 || this.twins.length >= MAX_TWINS)) user = this.rng.pick(this.twins).user;
    else if (d < 0.17) user = ZeroHash;
    else user = this.newUserId();
    const existing = this.twins.findIndex((t) => t.user === user) + 1;
    const desc = `${this.label(caller)} registers twin of user ${user.slice(0, 10)}`;
    const send = () => twins.connect(this.signer(caller)).registerTwin(user);
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(twins, "NotMember", caller);
    else if (user === ZeroHash) outcome = this.fail(twins, "InvalidUserId");
    else if (existing) outcome = this.fail(twins, "UserAlreadyHasTwin", user, existing);
    else outcome = { ok: true, apply: () => void this.twins.push({ user, host: caller, data: 0n }) };
    return { kind: "registerTwin", desc, send, outcome };
  }

  /** A twin id and a caller: usually the twin's (member) host, sometimes another BS or an unknown twin. */
  twinAndCaller(): { id: number; caller: string } {
    const hosted = this.twins.map((t, i) => ({ t, id: i + 1 })).filter(({ t }) => this.isMember(t.host));
    const d = this.rng.float();
    if (hosted.length && d < 0.78) {
      const { t, id } = this.rng.pick(hosted);
      return { id, caller: t.host };
    }
    if (d < 0.86 || this.twins.length === 0) return { id: this.rng.chance(0.5) ? 0 : this.twins.length + 1, caller: this.caller() };
    return { id: this.rng.int(1, this.twins.length), caller: this.caller(0.85) };
  }

  opTwinData(): Plan {
    const { twins } = this.p;
    const { id, caller } = this.twinAndCaller();
    const dice = this.rng.float();
    const size = dice < 0.05 ? 0n : dice < 0.08 ? BigInt(PARAMS.maxTwinDataSize) + BigInt(this.rng.int(1, 2 ** 20)) : BigInt(this.rng.int(1, 1_000));
    const commitment = this.rng.bytes32();
    const state = this.rng.bytes32();
    const desc = `${this.label(caller)} records data of twin ${id}: ${size} samples`;
    const send = () => twins.connect(this.signer(caller)).recordTwinData(id, size, commitment, state);
    const twin = this.twins[id - 1];
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(twins, "NotMember", caller);
    else if (size > BigInt(PARAMS.maxTwinDataSize)) outcome = this.fail(twins, "DataSizeOutOfRange", size, PARAMS.maxTwinDataSize);
    else if (!twin) outcome = this.fail(twins, "UnknownTwin", id);
    else if (twin.host !== caller) outcome = this.fail(twins, "NotTwinHost", id, caller, twin.host);
    else
      outcome = {
        ok: true,
        apply: (rc) => {
          twin.data = size;
          this.expectRecords(rc, 1);
        },
      };
    return { kind: "twinData", desc, send, outcome };
  }

  opTwinModel(): Plan {
    const { twins } = this.p;
    const { id, caller } = this.twinAndCaller();
    let cid = fakeCid(`twin-model-${this.rng.int(0, 1e9)}`);
    const d = this.rng.float();
    if (d < 0.07) cid = ethers.dataSlice(cid, 0, 33);
    else if (d < 0.1) cid = ethers.concat([cid, cid]);
    const len = ethers.dataLength(cid);
    const desc = `${this.label(caller)} records model of twin ${id} (cid ${len} bytes)`;
    const send = () => twins.connect(this.signer(caller)).recordTwinModel(id, cid);
    const twin = this.twins[id - 1];
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(twins, "NotMember", caller);
    else if (len < 34 || len > 64) outcome = this.fail(twins, "InvalidCid", len);
    else if (!twin) outcome = this.fail(twins, "UnknownTwin", id);
    else if (twin.host !== caller) outcome = this.fail(twins, "NotTwinHost", id, caller, twin.host);
    else outcome = { ok: true, apply: (rc) => this.expectRecords(rc, 1) };
    return { kind: "twinModel", desc, send, outcome };
  }

  opRegisterCandidate(): Plan {
    const { election } = this.p;
    const fresh = this.members.filter((a) => !this.candidates.includes(a));
    const caller = fresh.length && this.rng.chance(0.8) ? this.rng.pick(fresh) : this.caller(0.6);
    const desc = `${this.label(caller)} stands as candidate`;
    const send = () => election.connect(this.signer(caller)).registerCandidate();
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(election, "NotMember", caller);
    else if (this.candidates.includes(caller)) outcome = this.fail(election, "AlreadyCandidate", caller);
    else outcome = { ok: true, apply: () => void this.candidates.push(caller) };
    return { kind: "registerCandidate", desc, send, outcome };
  }

  opWithdrawCandidacy(): Plan {
    const { election } = this.p;
    const memberCandidates = this.candidates.filter((a) => this.isMember(a));
    const others = [...this.poolAddrs, this.outsider].filter((a) => !memberCandidates.includes(a));
    // keep enough candidates for the elections: withdraw only while more than three remain
    const caller = memberCandidates.length > 3 && this.rng.chance(0.6) ? this.rng.pick(memberCandidates) : this.rng.pick(others);
    const desc = `${this.label(caller)} withdraws candidacy`;
    const send = () => election.connect(this.signer(caller)).withdrawCandidacy();
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(election, "NotMember", caller);
    else if (!this.candidates.includes(caller)) outcome = this.fail(election, "NotCandidate", caller);
    else
      outcome = {
        ok: true,
        apply: () => {
          const i = this.candidates.indexOf(caller);
          const last = this.candidates.length - 1;
          if (i !== last) this.candidates[i] = this.candidates[last];
          this.candidates.pop();
        },
      };
    return { kind: "withdrawCandidacy", desc, send, outcome };
  }

  opVote(): Plan {
    const { election } = this.p;
    const caller = this.caller();
    let list = this.rng.sample(this.candidates, this.rng.int(this.candidates.length ? 1 : 0, Math.min(4, this.candidates.length)));
    if (this.rng.chance(0.05)) list = [];
    const d = this.rng.float();
    const nonCandidates = [...this.poolAddrs, this.outsider].filter((a) => !this.candidates.includes(a));
    if (d < 0.08 && nonCandidates.length) list.splice(this.rng.int(0, list.length), 0, this.rng.pick(nonCandidates));
    else if (d < 0.14 && list.length) list.splice(this.rng.int(0, list.length), 0, this.rng.pick(list));
    else if (d < 0.16) list = Array.from({ length: 33 }, () => this.rng.pick(this.poolAddrs));
    const desc = `${this.label(caller)} votes [${list.map((a) => this.label(a)).join(",")}]`;
    const send = () => election.connect(this.signer(caller)).vote(list);
    let outcome: Outcome | undefined;
    if (!this.isMember(caller)) outcome = this.fail(election, "NotMember", caller);
    else if (list.length > 32) outcome = this.fail(election, "TooManyCandidates");
    else {
      const seen = new Set<string>();
      for (const c of list) {
        if (!this.candidates.includes(c)) {
          outcome = this.fail(election, "NotCandidate", c);
          break;
        }
        if (seen.has(c)) {
          outcome = this.fail(election, "DuplicateApproval", c);
          break;
        }
        seen.add(c);
      }
    }
    outcome ??= { ok: true, apply: () => void this.approvals.set(caller, list.slice()) };
    return { kind: "vote", desc, send, outcome };
  }

  opTransfer(): Plan {
    const { coin } = this.p;
    const holders = [...this.poolAddrs, this.outsider].filter((a) => this.bal(a) > 0n);
    const from = holders.length && this.rng.chance(0.9) ? this.rng.pick(holders) : this.rng.pick([...this.poolAddrs, this.outsider]);
    let to = this.rng.chance(0.9) ? this.rng.pick(this.poolAddrs) : this.outsider;
    let amount = this.rng.chance(0.1) ? this.bal(from) : this.rng.bigint(this.bal(from) / 3n);
    const d = this.rng.float();
    if (d < 0.12) amount = this.bal(from) + 1n + this.rng.bigint(10n ** 18n);
    else if (d < 0.16) to = ZeroAddress;
    const desc = `${this.label(from)} transfers ${ethers.formatEther(amount)} DTC to ${this.label(to)}`;
    const send = () => coin.connect(this.signer(from)).transfer(to, amount);
    let outcome: Outcome;
    if (to === ZeroAddress) outcome = this.fail(coin, "ERC20InvalidReceiver", ZeroAddress);
    else if (amount > this.bal(from)) outcome = this.fail(coin, "ERC20InsufficientBalance", from, this.bal(from), amount);
    else
      outcome = {
        ok: true,
        apply: () => {
          this.balances.set(from, this.bal(from) - amount);
          this.balances.set(to, this.bal(to) + amount);
        },
      };
    return { kind: "transfer", desc, send, outcome };
  }

  opAdvanceEpoch(): Plan {
    const e = this.epochAt(this.clock.next) + (this.rng.chance(0.1) ? 2 : 1);
    const to = this.epochStart(e) + this.rng.int(0, 2 * SLOT);
    return { kind: "advanceEpoch", desc: `time -> epoch ${e} (+${to - this.epochStart(e)} s)`, to };
  }

  opElect(): Plan {
    const { election } = this.p;
    const r = this.rng.float();
    const caller = r < 0.3 ? this.mbs : r < 0.93 && this.members.length ? this.randomMember() : this.rng.pick(this.nonMembers());
    const ts = this.clock.next;
    const epoch = this.epochAt(ts);
    const desc = `${this.label(caller)} elects producers of epoch ${epoch}`;
    const send = () => election.connect(this.signer(caller)).elect();
    let outcome: Outcome;
    if (caller !== this.mbs && !this.isMember(caller)) outcome = this.fail(election, "NotMember", caller);
    else if (this.elected.has(epoch)) outcome = this.fail(election, "AlreadyElected", epoch);
    else {
      const expected = this.expectedProducers(epoch);
      outcome = {
        ok: true,
        apply: (rc) => {
          const ev = rc.logs
            .filter((l) => l.address === election.target)
            .map((l) => election.interface.parseLog(l))
            .find((e) => e?.name === "ProducersElected");
          expect(ev, "ProducersElected event").to.not.equal(undefined);
          expect(Array.from(ev!.args.producers as Result), `producers of epoch ${epoch}`).to.deep.equal(expected.producers);
          expect(Array.from(ev!.args.tallies as Result), `tallies of epoch ${epoch}`).to.deep.equal(expected.tallies);
          expect(Number(ev!.args.snapshot)).to.equal(expected.snapshot);
          this.elected.set(epoch, expected.producers);
          this.electedAt.set(epoch, ts);
          this.pendingVoteCheck = { snapshot: expected.snapshot, voters: this.members.slice() };
          if (expected.producers.length) this.notes.electionsWithProducers++;
          else this.notes.emptyElections++;
        },
      };
    }
    return { kind: "elect", desc, send, outcome };
  }

  /**
   * The top-N eligible candidates of `epoch`, computed from the model only: approvals x the model's balance at the
   * checkpoint epochStart - 1 (every holder is self-delegated, and no one delegates elsewhere in this test).
   */
  expectedProducers(epoch: number): { producers: string[]; tallies: bigint[]; snapshot: number } {
    const snapshot = this.epochStart(epoch) - 1;
    const eligible = this.candidates.filter((c) => this.isMember(c) && this.jail(c) <= epoch);
    const tally = new Map<string, bigint>(eligible.map((c) => [c, 0n]));
    for (const v of this.members) {
      const approved = this.approvals.get(v) ?? [];
      const w = this.balanceAt(v, snapshot);
      if (w === 0n) continue;
      for (const c of eligible) if (approved.includes(c)) tally.set(c, tally.get(c)! + w);
    }
    const ranked = eligible
      .filter((c) => tally.get(c)! > 0n)
      .sort((a, b) => {
        const ta = tally.get(a)!;
        const tb = tally.get(b)!;
        if (ta !== tb) return ta > tb ? -1 : 1;
        return this.seat.get(a)! - this.seat.get(b)!;
      })
      .slice(0, N_PRODUCERS);
    return { producers: ranked, tallies: ranked.map((c) => tally.get(c)!), snapshot };
  }

  opOpenRound(): Plan {
    const { rounds } = this.p;
    const caller = this.rng.chance(0.92) ? this.mbs : this.rng.pick([...this.poolAddrs, this.outsider]);
    const now = this.clock.next;
    const recorded = this.currentRound()?.newGlobalCid;
    let cid = recorded && this.rng.chance(0.9) ? recorded : fakeCid(`global-${this.rounds.length}-${this.rng.int(0, 1e9)}`);
    let deadline = now + this.rng.int(40, 110);
    const d = this.rng.float();
    if (d < 0.06) deadline = now - this.rng.int(0, 5);
    else if (d < 0.1) cid = "0x1220";
    const len = ethers.dataLength(cid);
    const prev = this.currentRound();
    const desc = `${this.label(caller)} opens round ${this.rounds.length + 1} (deadline now+${deadline - now})`;
    const send = () => rounds.connect(this.signer(caller)).openRound(cid, deadline);
    let outcome: Outcome;
    if (caller !== this.mbs) outcome = this.fail(rounds, "NotOperator", caller);
    else if (len < 34 || len > 64) outcome = this.fail(rounds, "InvalidCid", len);
    else if (deadline <= now) outcome = this.fail(rounds, "DeadlineInPast", deadline);
    else if (prev && prev.status !== RoundStatus.Finalized) outcome = this.fail(rounds, "PreviousRoundNotFinalized", prev.id);
    else if (prev && prev.newGlobalCid !== cid) outcome = this.fail(rounds, "GlobalModelMismatch", prev.id + 1, prev.newGlobalCid, cid);
    else
      outcome = {
        ok: true,
        apply: () =>
          void this.rounds.push({
            id: this.rounds.length + 1,
            status: RoundStatus.Open,
            deadline,
            verifyUntil: deadline + PARAMS.verificationWindowSeconds,
            order: [],
            subs: new Map(),
            committed: new Set(),
            weights: new Map(),
            globalCid: ethers.hexlify(cid),
            tau: Array<number>(PARAMS.subchannels).fill(0),
            claims: new Map(),
          }),
      };
    return { kind: "openRound", desc, send, outcome };
  }

  opCommitAction(): Plan {
    const { ledger, twins } = this.p;
    const round = this.currentRound();
    const now = this.clock.next;
    const notYet = this.members.filter((a) => !round?.committed.has(a));
    const caller = notYet.length && this.rng.chance(0.85) ? this.rng.pick(notYet) : this.caller(0.85);
    let slot = this.rounds.length;
    // honest-looking action: a few twins with b in [b_min, b_max], tau within what is left on each subchannel
    const ids = this.twins.length ? this.rng.sample(Array.from({ length: this.twins.length }, (_, i) => i + 1), this.rng.int(1, 4)) : [1];
    let entries = ids
      .sort((a, b) => a - b)
      .map((twinId) => ({ twinId, batchSize: this.rng.int(PARAMS.minBatchSize, PARAMS.maxBatchSize) }));
    const used = round?.tau ?? Array<number>(PARAMS.subchannels).fill(0);
    const shares = used.map((u) => {
      const left = TAU_SCALE - u;
      if (this.rng.chance(0.4)) return 0;
      return this.rng.chance(0.2) ? this.rng.int(0, left) : this.rng.int(0, Math.floor(left / 3));
    });
    let encoded = encodeAction({ twins: entries, tau: shares.map((s) => s / TAU_SCALE) });
    const defects = [
      "overallocate",
      "overallocate",
      "fraction",
      "batchLow",
      "batchHigh",
      "unknownTwin",
      "unsorted",
      "duplicate",
      "malformedTwins",
      "emptyTwins",
      "malformedTau",
      "wrongSlot",
    ] as const;
    const defect = this.rng.chance(0.3) ? this.rng.pick(defects) : undefined;
    const ch = this.rng.int(0, PARAMS.subchannels - 1);
    switch (defect) {
      case "overallocate":
        shares[ch] = used[ch] < TAU_SCALE ? this.rng.int(TAU_SCALE - used[ch] + 1, TAU_SCALE) : this.rng.int(1, TAU_SCALE);
        break;
      case "fraction":
        shares[ch] = this.rng.int(TAU_SCALE + 1, 0xffff);
        break;
      case "batchLow":
        this.rng.pick(entries).batchSize = this.rng.int(0, PARAMS.minBatchSize - 1);
        break;
      case "batchHigh":
        this.rng.pick(entries).batchSize = this.rng.int(PARAMS.maxBatchSize + 1, 0xffff);
        break;
      case "unknownTwin":
        entries.push({ twinId: this.twins.length + this.rng.int(1, 3), batchSize: PARAMS.minBatchSize });
        break;
      case "unsorted":
        entries = entries.length > 1 ? entries.slice().reverse() : [...entries, { ...entries[0] }];
        break;
      case "duplicate":
        entries.splice(this.rng.int(0, entries.length - 1), 0, { ...this.rng.pick(entries) });
        break;
      case "wrongSlot":
        slot = Math.max(0, slot + (this.rng.chance(0.5) ? 1 : -1));
        break;
      default:
        break;
    }
    if (defect && !["wrongSlot"].includes(defect)) encoded = rawAction(entries, shares);
    let twinsBytes: Uint8Array = encoded.twins;
    let tauBytes: Uint8Array = encoded.tau;
    if (defect === "malformedTwins") twinsBytes = twinsBytes.slice(0, twinsBytes.length - 1);
    if (defect === "emptyTwins") twinsBytes = new Uint8Array(0);
    if (defect === "malformedTau") tauBytes = tauBytes.slice(0, tauBytes.length - 2);
    if (!defect) {
      // the codec and the raw big-endian encoding agree for a well-formed action
      const raw = rawAction(entries, shares);
      expect(ethers.hexlify(encoded.twins)).to.equal(ethers.hexlify(raw.twins));
      expect(ethers.hexlify(encoded.tau)).to.equal(ethers.hexlify(raw.tau));
    }
    const desc =
      `${this.label(caller)} commits action for slot ${slot}: twins ${entries.map((e) => `${e.twinId}@${e.batchSize}`).join(",")}` +
      ` tau [${shares.join(",")}]${defect ? ` (${defect})` : ""}`;
    const send = () => ledger.connect(this.signer(caller)).commitAction(slot, twinsBytes, tauBytes);
    return { kind: "commitAction", desc, send, outcome: this.predictCommit(caller, slot, twinsBytes, tauBytes, now, ledger, twins) };
  }

  /** AssociationLedger.commitAction, check by check in the contract's order. */
  predictCommit(
    caller: string,
    slot: number,
    twinsBytes: Uint8Array,
    tauBytes: Uint8Array,
    now: number,
    ledger: BaseContract,
    twins: BaseContract,
  ): Outcome {
    if (!this.isMember(caller)) return this.fail(ledger, "NotMember", caller);
    const round = this.currentRound();
    if (slot !== this.rounds.length || !this.accepting(round, now)) return this.fail(ledger, "SlotNotOpen", slot);
    if (round!.committed.has(caller)) return this.fail(ledger, "ActionAlreadyCommitted", slot, caller);
    const count = Math.floor(twinsBytes.length / TWIN_ENTRY_BYTES);
    if (twinsBytes.length % TWIN_ENTRY_BYTES !== 0 || count === 0 || count > 256) return this.fail(ledger, "MalformedTwins", twinsBytes.length);
    if (tauBytes.length !== TAU_BYTES) return this.fail(ledger, "MalformedTau", tauBytes.length, TAU_BYTES);
    const shares: number[] = [];
    for (let c = 0; c < PARAMS.subchannels; c++) {
      const share = (tauBytes[2 * c] << 8) | tauBytes[2 * c + 1];
      if (share > TAU_SCALE) return this.fail(ledger, "FractionOutOfRange", c, share);
      const total = round!.tau[c] + share;
      if (total > TAU_SCALE) return this.fail(ledger, "SubchannelOverallocated", c, total);
      shares.push(share);
    }
    const view = new DataView(twinsBytes.buffer, twinsBytes.byteOffset, twinsBytes.byteLength);
    const listed: number[] = [];
    let previous = 0;
    for (let i = 0; i < count; i++) {
      const id = view.getUint32(i * TWIN_ENTRY_BYTES);
      const batch = view.getUint16(i * TWIN_ENTRY_BYTES + 4);
      if (id <= previous) return this.fail(ledger, "TwinsNotSorted", id);
      if (batch < PARAMS.minBatchSize || batch > PARAMS.maxBatchSize) return this.fail(ledger, "BatchSizeOutOfRange", id, batch);
      previous = id;
      const claimed = round!.claims.get(id);
      if (claimed && claimed.size > 0) return this.fail(ledger, "TwinAlreadyClaimed", id, slot);
      if (id > this.twins.length) return this.fail(twins, "UnknownTwin", id);
      listed.push(id);
    }
    return {
      ok: true,
      apply: () => {
        const r = round!;
        shares.forEach((s, c) => (r.tau[c] += s));
        r.committed.add(caller);
        r.weights.set(caller, { k: listed.length, data: listed.reduce((sum, id) => sum + this.twins[id - 1].data, 0n) });
        for (const id of listed) {
          this.twins[id - 1].host = caller;
          const claimants = r.claims.get(id) ?? new Set<string>();
          if (claimants.size && !claimants.has(caller)) this.notes.doubleClaims++;
          claimants.add(caller);
          r.claims.set(id, claimants);
        }
      },
    };
  }

  opSubmitModel(): Plan {
    const { rounds } = this.p;
    const round = this.currentRound();
    const now = this.clock.next;
    // mostly a BS that committed an action and has not submitted yet
    const fresh = this.members.filter((a) => !round?.subs.has(a) && round?.weights.has(a));
    const caller = fresh.length && this.rng.chance(0.85) ? this.rng.pick(fresh) : this.caller(0.85);
    let roundId = this.rounds.length;
    let cid = fakeCid(`local-${roundId}-${this.label(caller)}-${this.rng.int(0, 1e9)}`);
    const d = this.rng.float();
    if (d < 0.05) cid = ethers.dataSlice(cid, 0, 20);
    else if (d < 0.1) roundId = Math.max(0, roundId + (this.rng.chance(0.5) ? 1 : -1));
    const len = ethers.dataLength(cid);
    const r = this.rounds[roundId - 1];
    const w = r?.weights.get(caller);
    const desc = `${this.label(caller)} submits model for round ${roundId} (committed: ${w ? `data ${w.data}, K=${w.k}` : "none"})`;
    const send = () => rounds.connect(this.signer(caller)).submitModel(roundId, cid);
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(rounds, "NotMember", caller);
    else if (len < 34 || len > 64) outcome = this.fail(rounds, "InvalidCid", len);
    else if (r?.status !== RoundStatus.Open) outcome = this.fail(rounds, "InvalidRoundStatus", roundId, r?.status ?? RoundStatus.None);
    else if (now > r.deadline) outcome = this.fail(rounds, "SubmissionTooLate", roundId, r.deadline);
    else if (!w) outcome = this.fail(rounds, "NoCommittedAction", roundId, caller);
    else if (w.data === 0n) outcome = this.fail(rounds, "EmptyModel");
    else if (r.subs.has(caller)) outcome = this.fail(rounds, "AlreadySubmitted", roundId, caller);
    else
      outcome = {
        ok: true,
        apply: (rc) => {
          r.subs.set(caller, { pass: 0, fail: 0, verifiers: new Set(), outcome: ModelOutcome.Pending });
          r.order.push(caller);
          this.expectRecords(rc, 1);
        },
      };
    return { kind: "submitModel", desc, send, outcome };
  }

  opVerifyModel(): Plan {
    const { rounds } = this.p;
    const now = this.clock.next;
    let roundId = this.rounds.length;
    const round = this.currentRound();
    const submitters = round?.order ?? [];
    const bs = submitters.length && this.rng.chance(0.9) ? this.rng.pick(submitters) : this.rng.pick(this.poolAddrs);
    const fresh = this.members.filter((a) => a !== bs && !round?.subs.get(bs)?.verifiers.has(a));
    let caller = fresh.length && this.rng.chance(0.85) ? this.rng.pick(fresh) : this.caller(0.85);
    const pass = this.rng.chance(0.7);
    let score = this.rng.int(0, 10_000);
    const d = this.rng.float();
    if (d < 0.04) score = this.rng.int(10_001, 0xffff);
    else if (d < 0.08) caller = bs;
    else if (d < 0.11) roundId = Math.max(0, roundId - 1);
    const desc = `${this.label(caller)} verifies ${this.label(bs)}'s model of round ${roundId}: ${pass ? "pass" : "fail"} (${score})`;
    const send = () => rounds.connect(this.signer(caller)).verifyModel(roundId, bs, pass, score);
    const r = this.rounds[roundId - 1];
    const sub = r?.subs.get(bs);
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(rounds, "NotMember", caller);
    else if (score > 10_000) outcome = this.fail(rounds, "ScoreOutOfRange", score);
    else if (bs === caller) outcome = this.fail(rounds, "SelfVerification", bs);
    else if (r?.status !== RoundStatus.Open) outcome = this.fail(rounds, "InvalidRoundStatus", roundId, r?.status ?? RoundStatus.None);
    else if (now > r.verifyUntil) outcome = this.fail(rounds, "VerificationClosed", roundId, r.verifyUntil);
    else if (!sub) outcome = this.fail(rounds, "NoSuchSubmission", roundId, bs);
    else if (sub.verifiers.has(caller)) outcome = this.fail(rounds, "AlreadyVerified", roundId, bs, caller);
    else
      outcome = {
        ok: true,
        apply: () => {
          sub.verifiers.add(caller);
          if (pass) sub.pass++;
          else sub.fail++;
        },
      };
    return { kind: "verifyModel", desc, send, outcome };
  }

  opSettleRound(): Plan {
    const { rounds } = this.p;
    const round = this.currentRound();
    if (round?.status === RoundStatus.Open && this.clock.next <= round.verifyUntil && this.rng.chance(this.clock.next > round.deadline ? 0.7 : 0.25)) {
      this.clock.next = round.verifyUntil + this.rng.int(1, 8);
    }
    const now = this.clock.next;
    const r0 = this.rng.float();
    const caller = r0 < 0.3 ? this.mbs : r0 < 0.94 && this.members.length ? this.randomMember() : this.rng.pick(this.nonMembers());
    let roundId = this.rounds.length;
    if (this.rng.chance(0.05)) roundId = Math.max(0, roundId + (this.rng.chance(0.5) ? 1 : -1));
    const desc = `${this.label(caller)} settles round ${roundId}`;
    const send = () => rounds.connect(this.signer(caller)).settleRound(roundId);
    const r = this.rounds[roundId - 1];
    let outcome: Outcome;
    if (caller !== this.mbs && !this.isMember(caller)) outcome = this.fail(rounds, "NotMember", caller);
    else if (r?.status !== RoundStatus.Open) outcome = this.fail(rounds, "InvalidRoundStatus", roundId, r?.status ?? RoundStatus.None);
    else if (now <= r.verifyUntil) outcome = this.fail(rounds, "VerificationStillOpen", roundId, r.verifyUntil);
    else
      outcome = {
        ok: true,
        apply: () => {
          r.status = RoundStatus.Settled;
          for (const bs of r.order) {
            const s = r.subs.get(bs)!;
            // the chain's acceptance rule (src/fl/acceptance.ts): every other member is an eligible verifier
            const eligible = this.members.length - (this.isMember(bs) ? 1 : 0);
            const decision = decide(s.pass, s.fail, eligible, PARAMS.verificationQuorumBps);
            if (decision === "passed") {
              s.outcome = ModelOutcome.Passed;
              this.mint(bs, PARAMS.rewardPerModel);
            } else if (decision === "failed") {
              s.outcome = ModelOutcome.Failed;
              this.burn(bs, (this.bal(bs) * BigInt(PARAMS.roundSlashBps)) / BPS);
            } else s.outcome = ModelOutcome.Unverified;
          }
        },
      };
    return { kind: "settleRound", desc, send, outcome };
  }

  opRecordGlobalModel(): Plan {
    const { rounds } = this.p;
    const caller = this.rng.chance(0.94) ? this.mbs : this.rng.pick([...this.poolAddrs, this.outsider]);
    let roundId = this.rounds.length;
    if (this.rng.chance(0.04)) roundId = Math.max(0, roundId - 1);
    const r = this.rounds[roundId - 1];
    const passed = (r?.order ?? []).filter((bs) => r!.subs.get(bs)!.outcome === ModelOutcome.Passed);
    let aggregated = (this.rng.chance(0.85) ? passed.slice() : this.rng.sample(passed, this.rng.int(0, passed.length))).sort(byAddress);
    // with no passed model the round must keep its global model (mostly sent so; otherwise GlobalModelMismatch)
    let cid = passed.length === 0 && r?.globalCid && this.rng.chance(0.85) ? r.globalCid : fakeCid(`global-${roundId}-new-${this.rng.int(0, 1e9)}`);
    const d = this.rng.float();
    const notPassed = [...this.poolAddrs, this.outsider].filter((a) => !passed.includes(a));
    if (d < 0.08) aggregated = [...aggregated, this.rng.pick(notPassed)].sort(byAddress);
    else if (d < 0.14 && aggregated.length > 1) aggregated = aggregated.slice().reverse();
    else if (d < 0.18 && aggregated.length) aggregated = [...aggregated, aggregated[aggregated.length - 1]];
    else if (d < 0.21) cid = ethers.concat([cid, cid, cid]);
    const len = ethers.dataLength(cid);
    const desc = `${this.label(caller)} records global model of round ${roundId} from [${aggregated.map((a) => this.label(a)).join(",")}]`;
    const send = () => rounds.connect(this.signer(caller)).recordGlobalModel(roundId, cid, aggregated);
    let outcome: Outcome | undefined;
    if (caller !== this.mbs) outcome = this.fail(rounds, "NotOperator", caller);
    else if (len < 34 || len > 64) outcome = this.fail(rounds, "InvalidCid", len);
    else if (r?.status !== RoundStatus.Settled) outcome = this.fail(rounds, "InvalidRoundStatus", roundId, r?.status ?? RoundStatus.None);
    else if (aggregated.length !== passed.length) outcome = this.fail(rounds, "AggregatedIncomplete", roundId, passed.length, aggregated.length);
    else if (passed.length === 0 && ethers.hexlify(cid) !== r.globalCid) outcome = this.fail(rounds, "GlobalModelMismatch", roundId, r.globalCid, cid);
    else {
      let previous = 0n;
      for (const bs of aggregated) {
        if (BigInt(bs) <= previous) {
          outcome = this.fail(rounds, "AggregatedNotSorted");
          break;
        }
        if (r.subs.get(bs)?.outcome !== ModelOutcome.Passed) {
          outcome = this.fail(rounds, "ModelNotPassed", roundId, bs);
          break;
        }
        previous = BigInt(bs);
      }
    }
    outcome ??= {
      ok: true,
      apply: () => {
        r!.status = RoundStatus.Finalized;
        r!.newGlobalCid = ethers.hexlify(cid);
      },
    };
    return { kind: "recordGlobalModel", desc, send, outcome };
  }

  /** Start time of the first slot from `now` on (same or next slots of the epoch) its producer can fill with time left. */
  proposableSlotStart(now: number): number | undefined {
    const first = this.slotAt(now);
    for (let s = first; s < first + SLOTS_PER_EPOCH; s++) {
      const e = this.epochOfSlot(s);
      const prods = this.producers(e);
      if (!prods.length) return undefined;
      const start = Math.max(now, this.slotStart(s));
      if (this.slotEnd(s) - start < 6 || this.blockOfSlot.has(s)) continue;
      const producer = prods[s % prods.length];
      if (this.isMember(producer) && this.jail(producer) <= e) return start;
    }
    return undefined;
  }

  opProposeBlock(): Plan {
    const { blocks, election } = this.p;
    if (this.rng.chance(0.85)) {
      const start = this.proposableSlotStart(this.clock.next);
      if (start !== undefined) this.clock.next = start;
    }
    const now = this.clock.next;
    const slot = this.slotAt(now);
    const epoch = this.epochAt(now);
    const prods = this.producers(epoch);
    const producer = this.producerOfSlot(slot);
    const caller = producer && this.rng.chance(0.9) ? producer : this.caller(0.9);
    let slotArg = slot;
    if (this.rng.chance(0.04)) slotArg = Math.max(0, slot + (this.rng.chance(0.5) ? 1 : -1));
    const from = this.packedUpTo;
    const len = this.leaves.length;
    const maxTo = Math.min(len, from + 256);
    let to = this.rng.chance(0.7) ? maxTo : this.rng.int(from, maxTo);
    const d = this.rng.float();
    if (d < 0.04) to = len + this.rng.int(1, 3);
    else if (d < 0.07 && from > 0) to = from - 1;
    const correctRoot = to >= from && to <= len ? merkleRoot(this.leaves.slice(from, to)) : ZeroHash;
    const root = this.rng.chance(0.2) ? this.rng.bytes32() : correctRoot;
    const desc =
      `${this.label(caller)} proposes block for slot ${slotArg} (now slot ${slot}, +${now - this.slotStart(slot)} s) ` +
      `records [${from},${to}) ${root === correctRoot ? "correct" : "WRONG"} root`;
    const send = () => blocks.connect(this.signer(caller)).proposeBlock(slotArg, to, root);
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(blocks, "NotMember", caller);
    else if (slotArg !== slot) outcome = this.fail(blocks, "WrongSlot", slotArg, slot);
    else if (!producer) outcome = this.fail(election, "NoProducers", epoch);
    else if (producer !== caller) outcome = this.fail(blocks, "NotSlotProducer", slot, caller, producer);
    else if (this.jail(caller) > epoch) outcome = this.fail(blocks, "ProducerIsJailed", caller);
    else if (this.blockOfSlot.has(slot)) outcome = this.fail(blocks, "SlotAlreadyUsed", slot);
    else if (to < from || to > len || to - from > 256) outcome = this.fail(blocks, "InvalidInterval", from, to, len);
    else if (prods.length < MIN_PRODUCERS) outcome = this.fail(blocks, "TooFewProducers", epoch, prods.length);
    else if (root !== correctRoot) outcome = this.fail(blocks, "RootMismatch", correctRoot, root);
    else
      outcome = {
        ok: true,
        apply: () => {
          const b: ModelBlock = {
            id: this.blocks.length,
            status: BlockStatus.Pending,
            producer: caller,
            slot,
            epoch,
            from,
            to,
            producerCount: prods.length,
            approvals: 1,
            rejections: 0,
            root,
            correct: root === correctRoot,
            voted: new Set([caller]),
          };
          this.blocks.push(b);
          this.blockOfSlot.set(slot, b.id);
          this.finalizeIfQuorum(b);
        },
      };
    return { kind: "proposeBlock", desc, send, outcome };
  }

  finalizeIfQuorum(b: ModelBlock): void {
    if (b.approvals * 3 >= b.producerCount * 2) {
      b.status = BlockStatus.Final;
      this.packedUpTo = b.to;
      this.finalCount++;
      this.notes.finalBlocks++;
      if (!b.correct) throw new Error(`model: block ${b.id} with a wrong root became final (the chain checks roots at proposal)`);
    }
  }

  /** The latest block, if it still accepts verdicts from a producer that has not given one. */
  openBlock(now: number): ModelBlock | undefined {
    const b = this.blocks[this.blocks.length - 1];
    if (!b || b.status !== BlockStatus.Pending || now >= this.slotEnd(b.slot)) return undefined;
    return this.producers(b.epoch).some((x) => !b.voted.has(x) && this.isMember(x)) ? b : undefined;
  }

  opValidateBlock(): Plan {
    const { blocks } = this.p;
    const now = this.clock.next;
    let id: number;
    const r = this.rng.float();
    if (!this.blocks.length || r < 0.04) id = this.blocks.length;
    else if (r < 0.88) id = this.blocks.length - 1;
    else id = this.rng.int(0, this.blocks.length - 1);
    const b = this.blocks[id];
    let caller: string;
    const prods = b ? this.producers(b.epoch) : [];
    const fresh = b ? prods.filter((x) => !b.voted.has(x)) : [];
    const c = this.rng.float();
    if (fresh.length && c < 0.85) caller = this.rng.pick(fresh);
    else if (prods.length && c < 0.92) caller = this.rng.pick(prods);
    else caller = this.caller(0.85);
    // the chain checked every proposed root; validators approve mostly, and some reject anyway (that only delays)
    const approve = this.rng.chance(0.7);
    const desc = `${this.label(caller)} ${approve ? "approves" : "rejects"} block ${id}`;
    const send = () => blocks.connect(this.signer(caller)).validateBlock(id, approve);
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(blocks, "NotMember", caller);
    else if (!b) outcome = this.fail(blocks, "UnknownBlock", id);
    else if (b.status !== BlockStatus.Pending) outcome = this.fail(blocks, "BlockNotPending", id, b.status);
    else if (now >= this.slotEnd(b.slot)) outcome = this.fail(blocks, "ValidationClosed", id);
    else if (!prods.includes(caller)) outcome = this.fail(blocks, "NotEpochProducer", b.epoch, caller);
    else if (this.jail(caller) > this.epochAt(now)) outcome = this.fail(blocks, "ProducerIsJailed", caller);
    else if (b.voted.has(caller)) outcome = this.fail(blocks, "AlreadyValidated", id, caller);
    else
      outcome = {
        ok: true,
        apply: () => {
          b.voted.add(caller);
          if (approve) {
            b.approvals++;
            this.finalizeIfQuorum(b);
          } else {
            b.rejections++;
            if (b.rejections * 3 > b.producerCount) {
              // rejected without a penalty: the root was correct
              b.status = BlockStatus.Rejected;
              this.notes.rejectedBlocks++;
            }
          }
        },
      };
    return { kind: "validateBlock", desc, send, outcome };
  }

  opMissSlot(): Plan {
    const now = this.clock.next;
    let slot = this.slotAt(now);
    if (this.blockOfSlot.has(slot)) slot++;
    const to = this.slotEnd(slot) + this.rng.int(0, 3);
    const producer = this.producerOfSlot(slot);
    const who = producer ? this.label(producer) : "nobody";
    return { kind: "missSlot", desc: `slot ${slot} (producer ${who}) passes without a block`, to };
  }

  opReportMissedSlot(): Plan {
    const { blocks, election } = this.p;
    const now = this.clock.next;
    const current = this.slotAt(now);
    const missed: number[] = [];
    const beforeElection: number[] = [];
    for (let s = Math.max(0, current - 4 * SLOTS_PER_EPOCH); s < current; s++) {
      if (this.blockOfSlot.has(s) || this.reported.has(s)) continue;
      if (this.producerOfSlot(s)) missed.push(s);
      else if (this.producers(this.epochOfSlot(s)).length) beforeElection.push(s);
    }
    let slot: number;
    const r = this.rng.float();
    if (missed.length && r < 0.62) slot = this.rng.pick(missed);
    else if (beforeElection.length && r < 0.78) slot = this.rng.pick(beforeElection);
    else if (r < 0.8) slot = current + this.rng.int(0, 2);
    else if (r < 0.87 && this.blockOfSlot.size) slot = this.rng.pick([...this.blockOfSlot.keys()]);
    else if (r < 0.93 && this.reported.size) slot = this.rng.pick([...this.reported]);
    else slot = this.rng.int(0, Math.max(0, current - 1));
    const c = this.rng.float();
    const caller = c < 0.3 ? this.mbs : c < 0.94 && this.members.length ? this.randomMember() : this.rng.pick(this.nonMembers());
    const epoch = this.epochOfSlot(slot);
    const producer = this.producerOfSlot(slot);
    const desc = `${this.label(caller)} reports slot ${slot} (epoch ${epoch}, producer ${producer ? this.label(producer) : "-"}) as missed`;
    const send = () => blocks.connect(this.signer(caller)).reportMissedSlot(slot);
    let outcome: Outcome;
    if (caller !== this.mbs && !this.isMember(caller)) outcome = this.fail(blocks, "NotMember", caller);
    else if (slot >= current) outcome = this.fail(blocks, "SlotNotOver", slot);
    else if (this.blockOfSlot.has(slot)) outcome = this.fail(blocks, "SlotNotMissed", slot);
    else if (this.reported.has(slot)) outcome = this.fail(blocks, "AlreadyReported", slot);
    else if (!producer) {
      if (this.producers(epoch).length) this.notes.preElectionReportsRefused++;
      outcome = this.fail(election, "NoProducers", epoch);
    } else if (this.jail(producer) > epoch) {
      // "not punished twice for the same absence" -- but also when the jail started only after this slot ended
      if ((this.jailedAt.get(producer) ?? 0) >= this.slotEnd(slot)) this.notes.jailAmnesties++;
      outcome = this.fail(blocks, "ProducerIsJailed", producer);
    } else if (!this.isMember(producer)) {
      this.notes.nonMemberProducerSlashed++;
      outcome = this.fail(blocks, "ProducerNotMember", producer);
    } else if (this.producers(epoch).length < MIN_PRODUCERS) {
      outcome = this.fail(blocks, "TooFewProducers", epoch, this.producers(epoch).length);
    } else
      outcome = {
        ok: true,
        apply: () => {
          this.reported.add(slot);
          this.penalize(producer, now);
        },
      };
    return { kind: "reportMissedSlot", desc, send, outcome };
  }

  // ----- bootstrap -----------------------------------------------------------------------------------------------

  bootstrapPlans(): (() => Plan)[] {
    const { registry, twins, genesis } = this.p;
    const five = this.poolAddrs.slice(0, 5);
    const plans: (() => Plan)[] = [];
    for (const [i, bs] of five.entries()) {
      plans.push(() => ({
        kind: "bootstrap",
        desc: `MBS admits ${this.label(bs)}`,
        send: () => registry.admit(bs),
        outcome: {
          ok: true,
          apply: () => {
            this.members.push(bs);
            this.seat.set(bs, this.seatsUsed++);
          },
        },
      }));
      plans.push(() => ({
        kind: "bootstrap",
        desc: `${this.label(bs)} registers metadata`,
        send: () => registry.connect(this.signer(bs)).registerMetadata(2_400_000_000n, 100 * i, -50 * i, `/ip4/127.0.0.1/tcp/${4001 + i}`),
        outcome: { ok: true, apply: () => undefined },
      }));
    }
    for (const bs of five) {
      for (let k = 0; k < 2; k++) {
        const user = this.newUserId();
        const size = BigInt(this.rng.int(50, 500));
        plans.push(() => ({
          kind: "bootstrap",
          desc: `${this.label(bs)} registers a twin`,
          send: () => twins.connect(this.signer(bs)).registerTwin(user),
          outcome: { ok: true, apply: () => void this.twins.push({ user, host: bs, data: 0n }) },
        }));
        plans.push(() => {
          const id = this.twins.length;
          return {
            kind: "bootstrap",
            desc: `${this.label(bs)} records data of twin ${id}`,
            send: () => twins.connect(this.signer(bs)).recordTwinData(id, size, ethers.id(`data-${id}`), ethers.id(`state-${id}`)),
            outcome: {
              ok: true,
              apply: (rc) => {
                this.twins[id - 1].data = size;
                this.expectRecords(rc, 1);
              },
            },
          };
        });
      }
    }
    plans.push(() => ({
      kind: "bootstrap",
      desc: "MBS allocates the Eq. 6 coins",
      send: () => genesis.allocate(),
      outcome: {
        ok: true,
        apply: () => {
          const dataOf = (a: string) => this.hostedBy(a).reduce((s, t) => s + t.data, 0n);
          const total = this.members.reduce((s, a) => s + dataOf(a), 0n);
          for (const a of this.members) this.mint(a, (PARAMS.initialSupply * dataOf(a)) / total);
        },
      },
    }));
    return plans;
  }

  // ----- execution -----------------------------------------------------------------------------------------------

  weights(): [Kind, number][] {
    const now = this.clock.next;
    const round = this.currentRound();
    const roundOpen = round?.status === RoundStatus.Open;
    const w: Record<(typeof KINDS)[number], number> = {
      join: this.poolAddrs.some((a) => !this.isMember(a)) ? 2.5 : 0.4,
      leave: this.members.length > 4 ? 1.2 : 0.4,
      metadata: 1,
      registerTwin: this.twins.length < MAX_TWINS ? 2.5 : 0.4,
      twinData: 2.5,
      twinModel: 1.2,
      registerCandidate: this.candidates.filter((c) => this.isMember(c)).length < 4 ? 4 : 0.8,
      withdrawCandidacy: 1,
      vote: 4,
      transfer: 3,
      advanceEpoch: 1.4,
      elect: this.elected.has(this.epochAt(now)) ? 0.5 : 8,
      openRound: !round || round.status === RoundStatus.Finalized ? 6 : 0.5,
      commitAction: this.accepting(round, now) ? 6 : 0.6,
      submitModel: this.accepting(round, now) ? 5 : 0.6,
      verifyModel: roundOpen && round.order.length && now <= round.verifyUntil ? 7 : 0.6,
      settleRound: roundOpen ? (now > round.deadline ? 4 : 0.8) : 0.5,
      recordGlobalModel: round?.status === RoundStatus.Settled ? 6 : 0.5,
      proposeBlock: this.producers(this.epochAt(now)).length ? 6 : 1,
      validateBlock: this.openBlock(now) ? 30 : 0.8,
      missSlot: 1.2,
      reportMissedSlot: 1.6,
    };
    return Object.entries(w) as [Kind, number][];
  }

  pickKind(): Kind {
    const ws = this.weights();
    const total = ws.reduce((s, [, x]) => s + x, 0);
    let r = this.rng.float() * total;
    for (const [k, x] of ws) {
      r -= x;
      if (r < 0) return k;
    }
    return ws[ws.length - 1][0];
  }

  plan(kind: Kind): Plan {
    switch (kind) {
      case "join":
        return this.opJoin();
      case "leave":
        return this.opLeave();
      case "metadata":
        return this.opMetadata();
      case "registerTwin":
        return this.opRegisterTwin();
      case "twinData":
        return this.opTwinData();
      case "twinModel":
        return this.opTwinModel();
      case "registerCandidate":
        return this.opRegisterCandidate();
      case "withdrawCandidacy":
        return this.opWithdrawCandidacy();
      case "vote":
        return this.opVote();
      case "transfer":
        return this.opTransfer();
      case "advanceEpoch":
        return this.opAdvanceEpoch();
      case "elect":
        return this.opElect();
      case "openRound":
        return this.opOpenRound();
      case "commitAction":
        return this.opCommitAction();
      case "submitModel":
        return this.opSubmitModel();
      case "verifyModel":
        return this.opVerifyModel();
      case "settleRound":
        return this.opSettleRound();
      case "recordGlobalModel":
        return this.opRecordGlobalModel();
      case "proposeBlock":
        return this.opProposeBlock();
      case "validateBlock":
        return this.opValidateBlock();
      case "missSlot":
        return this.opMissSlot();
      case "reportMissedSlot":
        return this.opReportMissedSlot();
      default:
        throw new Error(`no generator for ${kind}`);
    }
  }

  async syncClock(): Promise<void> {
    const latest = await time.latest();
    this.clock.last = latest;
    this.clock.next = Math.max(this.clock.next, latest + 1);
  }

  async step(index: number, plan: Plan): Promise<void> {
    const stat = this.stats.get(plan.kind)!;
    let rejected = false;
    const planned = "to" in plan ? plan.to : this.clock.next;
    const t0 = Date.now();
    if ("to" in plan) {
      await time.increaseTo(plan.to);
      stat.ok++;
    } else {
      await time.setNextBlockTimestamp(this.clock.next);
      const o = plan.outcome;
      if (o.ok) {
        const tx = await plan.send();
        const rc = await tx.wait();
        expect(rc?.status).to.equal(1);
        this.checkCoinRecipients(rc!);
        o.apply(rc!);
        stat.ok++;
      } else {
        const assertion = expect(plan.send(), plan.desc).to.be.revertedWithCustomError(o.c, o.name);
        await (o.args.length ? assertion.withArgs(...o.args) : assertion);
        stat.rejected++;
        stat.errors.set(o.name, (stat.errors.get(o.name) ?? 0) + 1);
        rejected = true;
      }
    }
    await this.syncClock();
    expect(this.clock.last, "every step mines exactly one block at its planned time").to.equal(planned);
    this.history.push({ ts: this.clock.last, bal: new Map(this.balances) });
    const line = `#${index} t=${this.clock.last} slot ${this.slotAt(this.clock.last)} [${plan.kind}] ${plan.desc}` +
      ("outcome" in plan ? (plan.outcome.ok ? " -> ok" : ` -> ${plan.outcome.name}`) : "");
    this.recent.push(line);
    if (this.recent.length > 25) this.recent.shift();
    const before = this.lastSnap;
    const t1 = Date.now();
    const snap = await this.checkInvariants();
    if (++this.stepsSinceDeep >= DEEP_CHECK_EVERY) await this.deepCheck();
    this.timing.tx += t1 - t0;
    this.timing.check += Date.now() - t1;
    if (rejected && before) {
      // a rejected operation changes nothing: every view read both before and after is byte-for-byte the same
      for (const [key, value] of before.raw) {
        if (snap.raw.has(key)) same(snap.raw.get(key), value, `view ${key} changed by a rejected operation`);
      }
    }
  }

  // ----- invariants ----------------------------------------------------------------------------------------------

  /** Every coin that moves goes to an account whose balance the checks read. */
  checkCoinRecipients(rc: ContractTransactionReceipt): void {
    const { coin } = this.p;
    for (const l of rc.logs) {
      if (l.address !== coin.target) continue;
      const ev = coin.interface.parseLog(l);
      if (ev?.name !== "Transfer" || ev.args.to === ZeroAddress) continue;
      expect(this.accounts, "coin recipient is a tracked holder").to.include(ev.args.to);
    }
  }

  /** The five invariants, after every step (and the model's view of the same state). */
  async checkInvariants(): Promise<Snapshot> {
    const { coin, election, blocks, recordLog, twins, rounds, ledger } = this.p;
    const rd = new Reader();
    rd.add("supply", coin, "totalSupply");
    for (const a of this.accounts) rd.add(`bal:${a}`, coin, "balanceOf", [a]);
    const epoch = this.epochAt(this.clock.last);
    rd.add(`elected:${epoch}`, election, "isElected", [epoch]);
    rd.add(`producers:${epoch}`, election, "producersOf", [epoch]);
    const voteCheck = this.pendingVoteCheck;
    this.pendingVoteCheck = undefined;
    if (voteCheck) for (const v of voteCheck.voters) rd.add(`pastVotes:${v}`, coin, "getPastVotes", [v, voteCheck.snapshot]);
    rd.add("blockCount", blocks, "blockCount");
    rd.add("finalCount", blocks, "finalBlockCount");
    rd.add("packedUpTo", blocks, "packedUpTo");
    const latest = this.blocks[this.blocks.length - 1];
    for (const b of this.blocks) {
      if (b.status === BlockStatus.Final || this.frozenBlocks.has(b.id) || b === latest) rd.add(`block:${b.id}`, blocks, "getBlock", [b.id]);
    }
    rd.add("logLength", recordLog, "length");
    rd.add("twinCount", twins, "twinCount");
    rd.add("totalData", twins, "totalData");
    for (let id = 1; id <= this.twins.length; id++) rd.add(`host:${id}`, twins, "hostOf", [id]);
    for (const a of this.poolAddrs) {
      rd.add(`twinsOn:${a}`, twins, "twinsOn", [a]);
      rd.add(`dataOn:${a}`, twins, "dataOn", [a]);
    }
    rd.add("currentRound", rounds, "currentRound");
    const cur = this.currentRound();
    if (cur) for (let c = 0; c < PARAMS.subchannels; c++) rd.add(`tau:${cur.id}:${c}`, ledger, "tauUsed", [cur.id, c]);
    const s = await rd.run();

    // (1) coin supply == sum of the balances of every account that can hold coins (see checkCoinRecipients)
    let sum = 0n;
    for (const a of this.accounts) {
      const bal = s.big(`bal:${a}`);
      sum += bal;
      same(bal, this.bal(a), `balance of ${this.label(a)}`);
    }
    same(s.big("supply"), sum, "totalSupply == sum of balances");
    same(s.big("supply"), this.supply, "totalSupply == model");

    // (2) the producers of the current epoch are the top-N computed in TypeScript when it was elected
    same(s.get(`elected:${epoch}`), this.elected.has(epoch), `isElected(${epoch})`);
    sameList(s.list(`producers:${epoch}`), this.producers(epoch), `producersOf(${epoch})`);
    if (voteCheck) {
      // ... and the checkpointed weights it used are the model's balances at epochStart - 1
      for (const v of voteCheck.voters) {
        same(s.big(`pastVotes:${v}`), this.balanceAt(v, voteCheck.snapshot), `getPastVotes(${this.label(v)}, ${voteCheck.snapshot})`);
      }
    }

    // (3) final (and rejected) blocks never change; final blocks tile the record log; with >= 2 producers (all
    // validators here are honest) no block with a wrong root becomes final
    same(s.num("blockCount"), this.blocks.length, "blockCount");
    same(s.num("finalCount"), this.finalCount, "finalBlockCount");
    same(s.num("packedUpTo"), this.packedUpTo, "packedUpTo");
    for (const b of this.blocks) if (s.raw.has(`block:${b.id}`)) this.checkBlock(s, b);
    let tiled = 0;
    for (const b of this.blocks) {
      if (b.status !== BlockStatus.Final) continue;
      same(b.from, tiled, `final block ${b.id} starts where the previous final block ended`);
      tiled = b.to;
    }
    same(tiled, this.packedUpTo, "final blocks cover [0, packedUpTo)");
    same(s.num("logLength"), this.leaves.length, "record log length");

    // (4) one BS per twin; per-BS counts and data sums agree with the hosts and with the totals
    same(s.num("twinCount"), this.twins.length, "twinCount");
    const count = new Map<string, number>();
    const data = new Map<string, bigint>();
    this.twins.forEach((t, i) => {
      const host = s.str(`host:${i + 1}`);
      same(host, t.host, `hostOf(${i + 1})`);
      expect(this.poolAddrs, `host of twin ${i + 1} is a BS`).to.include(host);
      count.set(host, (count.get(host) ?? 0) + 1);
      data.set(host, (data.get(host) ?? 0n) + t.data);
    });
    let twinSum = 0;
    let dataSum = 0n;
    for (const a of this.poolAddrs) {
      same(s.num(`twinsOn:${a}`), count.get(a) ?? 0, `twinsOn(${this.label(a)})`);
      same(s.big(`dataOn:${a}`), data.get(a) ?? 0n, `dataOn(${this.label(a)})`);
      twinSum += s.num(`twinsOn:${a}`);
      dataSum += s.big(`dataOn:${a}`);
    }
    same(twinSum, s.num("twinCount"), "sum of twinsOn == twinCount");
    same(dataSum, s.big("totalData"), "sum of dataOn over every BS ever admitted == totalData");
    same(s.big("totalData"), this.twins.reduce((acc, t) => acc + t.data, 0n), "totalData == model");

    // (5) sum of tau on each subchannel of the current slot (= round) <= 1, equal to the committed actions
    same(s.num("currentRound"), this.rounds.length, "currentRound");
    if (cur) this.checkTau(s, cur);

    this.lastSnap = s;
    return s;
  }

  checkBlock(s: Snapshot, b: ModelBlock): void {
    const key = `block:${b.id}`;
    const v = s.get(key) as BlockView;
    const actual = [v.status, v.producer, v.slot, v.epoch, v.fromRecord, v.toRecord, v.producerCount, v.approvals, v.rejections, v.root];
    const expected = [b.status, b.producer, b.slot, b.epoch, b.from, b.to, b.producerCount, b.approvals, b.rejections, b.root];
    sameList(actual.map(String), expected.map(String), `block ${b.id} (status, producer, slot, epoch, from, to, producers, approvals, rejections, root)`);
    const frozen = this.frozenBlocks.get(b.id);
    if (frozen !== undefined) same(s.raw.get(key), frozen, `block ${b.id} changed after it became final/rejected`);
    else if (b.status === BlockStatus.Final || b.status === BlockStatus.Rejected) this.frozenBlocks.set(b.id, s.raw.get(key)!);
    if (b.status === BlockStatus.Final && b.producerCount >= 2) {
      same(b.root, merkleRoot(this.leaves.slice(b.from, b.to)), `final block ${b.id} has the Merkle root of its records`);
    }
  }

  checkTau(s: Snapshot, r: ModelRound): void {
    for (let c = 0; c < PARAMS.subchannels; c++) {
      const used = s.num(`tau:${r.id}:${c}`);
      expect(used, `tauUsed(${r.id}, ${c}) <= TAU_SCALE`).to.be.at.most(TAU_SCALE);
      same(used, r.tau[c], `tauUsed(${r.id}, ${c}) == sum of committed taus`);
    }
  }

  /**
   * The rest of the model against the chain (every DEEP_CHECK_EVERY steps and at the end): stake as votes,
   * membership, seats, candidates, approvals, jail, every epoch's producers, every block, twin records, every round's
   * status, submissions and taus, and the record log's leaves.
   */
  async deepCheck(): Promise<void> {
    this.stepsSinceDeep = 0;
    const { coin, registry, election, blocks, recordLog, twins, rounds, ledger } = this.p;
    const rd = new Reader();
    for (const a of this.accounts) {
      rd.add(`votes:${a}`, coin, "getVotes", [a]);
      rd.add(`jail:${a}`, election, "jailedUntil", [a]);
      rd.add(`approvals:${a}`, election, "approvalsOf", [a]);
      rd.add(`seat:${a}`, registry, "seatOf", [a]);
    }
    rd.add("members", registry, "members");
    rd.add("candidates", election, "candidates");
    const lastEpoch = this.epochAt(this.clock.last);
    for (let e = 0; e <= lastEpoch; e++) {
      rd.add(`elected:${e}`, election, "isElected", [e]);
      rd.add(`producers:${e}`, election, "producersOf", [e]);
    }
    for (const b of this.blocks) rd.add(`block:${b.id}`, blocks, "getBlock", [b.id]);
    for (let id = 1; id <= this.twins.length; id++) rd.add(`twin:${id}`, twins, "twin", [id]);
    for (const r of this.rounds) {
      rd.add(`round:${r.id}`, rounds, "getRound", [r.id]);
      rd.add(`submitters:${r.id}`, rounds, "submitters", [r.id]);
      for (let c = 0; c < PARAMS.subchannels; c++) rd.add(`tau:${r.id}:${c}`, ledger, "tauUsed", [r.id, c]);
      for (const a of this.poolAddrs) {
        rd.add(`submission:${r.id}:${a}`, rounds, "submission", [r.id, a]);
        if (r === this.currentRound()) rd.add(`action:${r.id}:${a}`, ledger, "actionHash", [r.id, a]);
      }
    }
    for (let i = this.leavesChecked; i < this.leaves.length; i++) rd.add(`leaf:${i}`, recordLog, "leafAt", [i]);
    const s = await rd.run();

    for (const a of this.accounts) {
      same(s.big(`votes:${a}`), this.bal(a), `getVotes(${this.label(a)}) == balance (stake self-delegated on receipt)`);
      same(s.num(`jail:${a}`), this.jail(a), `jailedUntil(${this.label(a)})`);
      const approved = this.approvals.get(a) ?? [];
      sameList(s.list(`approvals:${a}`), this.candidates.filter((c) => approved.includes(c)), `approvalsOf(${this.label(a)})`);
      const seat = this.seat.get(a);
      if (seat === undefined) same(s.succeeded(`seat:${a}`), false, `${this.label(a)} has no seat`);
      else same(s.num(`seat:${a}`), seat, `seatOf(${this.label(a)})`);
    }
    sameList(s.list("members"), this.members, "members (in registry order)");
    sameList(s.list("candidates"), this.candidates, "candidates (in list order)");
    for (let e = 0; e <= lastEpoch; e++) {
      same(s.get(`elected:${e}`), this.elected.has(e), `isElected(${e})`);
      sameList(s.list(`producers:${e}`), this.producers(e), `producersOf(${e})`);
    }
    for (const b of this.blocks) this.checkBlock(s, b);
    this.twins.forEach((t, i) => {
      const tw = s.get(`twin:${i + 1}`) as { bs: string; dataSize: bigint; userId: string };
      sameList([tw.bs, tw.dataSize, tw.userId], [t.host, t.data, t.user], `twin(${i + 1}) (bs, dataSize, userId)`);
    });
    for (const r of this.rounds) {
      const view = s.get(`round:${r.id}`) as { status: bigint; deadline: bigint; verifyUntil: bigint };
      sameList([view.status, view.deadline, view.verifyUntil].map(Number), [r.status, r.deadline, r.verifyUntil], `round ${r.id} (status, deadline, verifyUntil)`);
      sameList(s.list(`submitters:${r.id}`), r.order, `submitters of round ${r.id}`);
      this.checkTau(s, r);
      for (const a of this.poolAddrs) {
        const sub = s.get(`submission:${r.id}:${a}`) as { exists: boolean; outcome: bigint; passVotes: bigint; failVotes: bigint; dataSize: bigint; numTwins: bigint };
        const m = r.subs.get(a);
        same(sub.exists, m !== undefined, `round ${r.id} has a submission of ${this.label(a)}`);
        if (m) sameList([sub.passVotes, sub.failVotes, sub.outcome].map(Number), [m.pass, m.fail, m.outcome], `round ${r.id} submission of ${this.label(a)}`);
        // economic input from the chain: a model's Eq. 5 weight is its committed action's recorded data, never more
        if (m) sameList([sub.dataSize, sub.numTwins], [r.weights.get(a)!.data, BigInt(r.weights.get(a)!.k)], `round ${r.id} weight of ${this.label(a)}'s model`);
        if (r === this.currentRound()) same(s.str(`action:${r.id}:${a}`) !== ZeroHash, r.committed.has(a), `slot ${r.id} action of ${this.label(a)}`);
      }
    }
    for (let i = this.leavesChecked; i < this.leaves.length; i++) same(s.str(`leaf:${i}`), this.leaves[i], `leafAt(${i})`);
    this.leavesChecked = this.leaves.length;
  }

  /** End of a run: the deep check, and a Merkle proof of one record of every final block. */
  async finalChecks(): Promise<void> {
    await this.deepCheck();
    const { blocks } = this.p;
    const rd = new Reader();
    for (const b of this.blocks) {
      if (b.status !== BlockStatus.Final || b.to === b.from) continue;
      const index = this.rng.int(b.from, b.to - 1);
      rd.add(`inBlock:${b.id}`, blocks, "isRecordInBlock", [b.id, index, merkleProof(this.leaves.slice(b.from, b.to), index - b.from)]);
    }
    const s = await rd.run();
    for (const key of s.raw.keys()) {
      const id = Number(key.split(":")[1]);
      same(s.get(key), this.blocks[id].correct, `record proof against final block ${id}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The test

async function runSeed(run: SeedRun): Promise<World> {
  const p = await loadFixture(deployProtocol);
  const w = new World(p, run.seed, await ethers.getSigners());
  w.genesis = Number(await p.election.genesisTime());
  await w.syncClock();
  w.history.push({ ts: w.clock.last, bal: new Map(w.balances) });
  const hex = `0x${run.seed.toString(16).padStart(8, "0")}`;

  const exec = async (index: number, plan: Plan) => {
    try {
      await w.step(index, plan);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(
        `seed ${hex}, step ${index} [${plan.kind}] ${plan.desc}: ${msg}\n` +
          `reproduce with DTWN_INVARIANT_SEED=${hex} DTWN_INVARIANT_OPS=${run.ops}\nrecent steps:\n  ${w.recent.join("\n  ")}`,
        { cause: err },
      );
    }
  };

  const boot = w.bootstrapPlans();
  for (const [i, make] of boot.entries()) await exec(-boot.length + i, make());
  for (let i = 0; i < run.ops; i++) {
    // plans are made only when their turn comes: they read the model as the previous steps left it
    await exec(i, w.plan(w.pickKind()));
  }
  await w.finalChecks();
  return w;
}

function report(w: World, run: SeedRun, ms: number): void {
  const hex = `0x${run.seed.toString(16).padStart(8, "0")}`;
  const rows = KINDS.map((k) => {
    const s = w.stats.get(k)!;
    const errs = [...s.errors.entries()].map(([e, n]) => `${e}x${n}`).join(" ");
    return `  ${k.padEnd(18)} ok ${String(s.ok).padStart(4)}  rejected ${String(s.rejected).padStart(4)}  ${errs}`;
  });
  const total = KINDS.reduce((acc, k) => acc + w.stats.get(k)!.ok + w.stats.get(k)!.rejected, 0);
  console.log(
    `    seed ${hex}: ${total} random operations (+${w.stats.get("bootstrap")!.ok} bootstrap) in ${(ms / 1000).toFixed(1)} s ` +
      `(transactions ${(w.timing.tx / 1000).toFixed(1)} s, invariant checks ${(w.timing.check / 1000).toFixed(1)} s), ` +
      `chain time ${w.clock.last - w.genesis} s = ${w.epochAt(w.clock.last) + 1} epochs\n${rows.join("\n")}\n` +
      `  blocks: ${w.blocks.length} proposed, ${w.notes.finalBlocks} final, ${w.notes.rejectedBlocks} rejected, ` +
      `${w.blocks.filter((b) => b.status === BlockStatus.Pending).length} expired; ` +
      `elections: ${w.notes.electionsWithProducers} with producers, ${w.notes.emptyElections} empty; rounds: ${w.rounds.length}; ` +
      `twins: ${w.twins.length}; records: ${w.leaves.length}\n` +
      `  observations: twin listed by two BSs in one slot x${w.notes.doubleClaims}; ` +
      `report refused for a slot before its epoch's election x${w.notes.preElectionReportsRefused}; ` +
      `missed slot unreportable because of a later jail x${w.notes.jailAmnesties}; ` +
      `report refused because the slot's producer was removed x${w.notes.nonMemberProducerSlashed}`,
  );
}

describe("Protocol invariants (seeded random operation sequences)", function () {
  this.timeout(600_000);
  /** Rejections per kind summed over the seeds: every kind must also be exercised on its failure paths. */
  const rejectedOverSeeds = new Map<string, number>();

  for (const run of runsFromEnv()) {
    const hex = `0x${run.seed.toString(16).padStart(8, "0")}`;
    it(`seed ${hex}: ${run.ops} random operations keep supply, producers, final blocks, twin hosts and tau sums consistent`, async () => {
      const started = Date.now();
      const w = await runSeed(run);
      report(w, run, Date.now() - started);
      const total = KINDS.reduce((acc, k) => acc + w.stats.get(k)!.ok + w.stats.get(k)!.rejected, 0);
      expect(total).to.equal(run.ops);
      for (const k of KINDS) {
        const s = w.stats.get(k)!;
        expect(s.ok, `${k} succeeded at least once`).to.be.greaterThan(0);
        rejectedOverSeeds.set(k, (rejectedOverSeeds.get(k) ?? 0) + s.rejected);
      }
      expect(w.notes.finalBlocks, "some blocks became final").to.be.greaterThan(0);
    });
  }

  it("every transaction kind was rejected at least once over the seeds", () => {
    for (const k of KINDS) {
      if (!TIME_KINDS.has(k)) expect(rejectedOverSeeds.get(k) ?? 0, `${k} was rejected at least once`).to.be.greaterThan(0);
    }
  });

  it("every seed runs 500 or more operations", () => {
    expect(Math.min(...DEFAULT_RUNS.map((r) => r.ops))).to.be.at.least(MIN_OPS_PER_LONG_SEED);
  });
});
