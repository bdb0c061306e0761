/**
 * Protocol invariants under seeded random operation sequences.
 *
 * Each seed deploys the real protocol (Ignition module, through the fixtures' `deployModule`, with an unbonding delay
 * of UNBONDING_DELAY seconds instead of the default day, so that withdrawals happen in the run), bootstraps five BSs
 * with twins of admitted end users and the Eq. 6 stake (credited bonded into the StakeVault), then runs a long random
 * sequence of protocol operations: admit/remove a BS ("join"/"leave"), register metadata, admit end users with their
 * device keys, register twins and twin records with the users' consents (EIP-712 signatures of the fixtures' device
 * keys, made here synchronously and checked against src/chain/consent.ts at bootstrap), stand as a candidate, vote,
 * elect, open a round, commit an action, submit a model, commit and reveal verdict ballots, settle a round and record
 * its global model ("close a round"), attest or dispute the recorded global model, propose and approve/reject a block,
 * let a slot pass without a block ("miss a slot") and report it ("slash", with the fields of the record that was
 * waiting when the slot began, or with wrong fields, or for a slot with nothing to pack), bond, unbond and withdraw
 * stake, approve the
 * vault and move liquid coins. About a quarter of the operations are deliberately invalid or attacks (a reveal before
 * the reveal opens, a reveal that does not open its commitment or opens another verifier's, a copied commitment, a
 * verdict on the BS's own model, a withheld ballot, an unbond beyond the bond, a withdrawal before the delay, a user
 * admitted by a BS or admitted again with another key, a twin of a user nobody admitted, a consent signed by the wrong
 * key, of the wrong size, malleated, given to another BS or for another slot, a data record above the size its device
 * signed or replaying its last consent, a twin moved without its user's consent, an attestation of a round not
 * finalized or after the next round opened, a second one, a round opened before its predecessor's global model is
 * attested or after it was disputed, a missed slot reported although nothing was waiting when it began, or with fields
 * that are not the waiting record's leaf (a reporter jailing and slashing a producer that had nothing to pack), ...):
 * each refused one must revert with the exact custom error (and arguments)
 * predicted from a TypeScript model of the protocol, and leave every probed view unchanged; the accepted ones (a
 * withheld ballot, a verdict against the majority) must cost or forfeit exactly what the model predicts. The model
 * predicts the consent checks from the bytes sent (ecrecover as OpenZeppelin's ECDSA does it), and must agree that
 * every forged consent fails and every honest one passes.
 *
 * Attestations: the members attest the recorded global model of the current round (each with its bond at the round's
 * snapshot, from the model's bond history; an honest-looking BS disputes a correct model now and then, when that halts
 * nothing), and the MBS tries to open the next round meanwhile (GlobalModelNotAttested until BSs holding the quorum,
 * max(1, ceil(memberStake x quorumBps / 10000)) of the members' stake at the opening, attested). Late in a run
 * (FORGE_FROM), once, the MBS records a forged global model (not Eq. 5 of the models it lists: class 7) and the honest
 * BSs dispute it: once the dispute stake reaches the quorum no round opens again (GlobalModelDisputed, for the rest
 * of the run: the contract has no way back), which is why it comes late.
 *
 * After EVERY step the test checks:
 *   1. coin supply == sum of the balances of every account that can hold coins, the vault included (and == the
 *      model's supply); the vault's balance == totalBonded + every account's unbonding coins (+ coins sent to the
 *      vault by plain transfers, which nothing can move again), totalBonded == sum of the bonds;
 *   2. the producers of the current epoch are exactly the top-N eligible candidates by bonded stake at the checkpoint
 *      (approvals x `bondedAt(voter, epochStart - 1)` of current members, candidates that are members, not jailed,
 *      tally > 0, ties by seat), computed independently in TypeScript when the election ran, from the model's own
 *      bond history (and right after each election, `bondedAt` itself is checked against that history);
 *   3. no final (or rejected) block ever changes, final blocks tile the record log [0, packedUpTo), and no block
 *      with a wrong Merkle root is ever accepted (the chain compares it with the record log at proposal); every
 *      record's leaf is keccak256(abi.encode(index, kind, payloadHash, appendedAt)) of its event's fields, appendedAt
 *      the timestamp of its step; packedAtSlotStart of the current slot is what packedUpTo was when the slot began
 *      (from the model's history of finalizations, and from the last earlier block), and a missed slot is punished
 *      only with the true fields of the record then waiting (appended before the slot began);
 *   4. every twin is on exactly one BS (hostOf), sum of twinsOn == twinCount, and sum of dataOn over every BS ever
 *      admitted == totalData, per BS equal to the model; userCount == the users the model admitted, and a twin moves
 *      only with its user's consent (each commitAction's TwinAssociated events are the model's moves);
 *   5. for the current slot (= round) and every subchannel, tauUsed <= TAU_SCALE and equals the sum of the taus of
 *      the actions committed for it;
 *   6. no BS's Eq. 5 weight exceeds its twins' recorded data share: every model of the current round weighs exactly
 *      the data its committed action's twins had on record at commitment (never an argument of the BS), and no twin
 *      counts in two models of one round;
 *   7. slash exactness: for every BS, the change of bonded + unbonding coins over the step is exactly the Credited +
 *      Bonded - Withdrawn - Slashed amounts of the step's StakeVault events (bond and queue separately, too), every
 *      Slashed is (bonded + unbonding) x bps / 10000 of the model's stake and is burned (a Transfer to 0 of that
 *      amount), and each BS's bonded, unbonding and queue equal the model's;
 *   8. the supply changes only by protocol mints and burns: totalSupply after - before == sum of Credited - sum of
 *      Slashed amounts, and every mint and burn is the vault's;
 *   9. every settled outcome equals src/fl/acceptance.ts `decide(passStake, failStake, eligibleStake, quorumBps)`
 *      computed by the model (verdict weights = the model's bond of each verifier at the round's snapshot, eligible =
 *      the bonds of every other member at the snapshot), with the reward or slash the model predicts, and the
 *      chain's pass/fail stakes of the current round's models equal the model's;
 *  10. verifier rewards and slashes (VerifierSettled) equal the model's: a reward for a revealed ballot that agrees
 *      with every decided outcome and decided one (with a non-zero weight), nothing for a verdict against an outcome,
 *      a slash of withheldSlashBps for a ballot never revealed;
 *  11. no round r > 1 was opened from a round with passed models unless its attest stake reached the quorum and its
 *      dispute stake did not: in the model, and from the chain alone (attestationTally and getRound's passed of every
 *      round a later one opened from); every round's attestationTally and memberStake / attestStake / disputeStake
 *      equal the model's (and each GlobalModelAttested weighs the model's bond at the snapshot).
 * Every DEEP_CHECK_EVERY steps and at the end, the rest of the model is compared with the chain too (stakes, queues,
 * past bonds, members, seats, candidates, approvals, jail, every epoch's producers, every block, users' device keys,
 * twin records (device and data version too), every round's windows, submissions, ballots, attestations and taus,
 * the record log's leaves), and at the end a Merkle proof of a record of every final block is verified.
 *
 * Time is fully deterministic: every transaction's timestamp is set explicitly (a reverted transaction is mined too,
 * so each step is exactly one block), so a seed always replays the same sequence. Reproduce a failure with
 * DTWN_INVARIANT_SEED=0x... (and optionally DTWN_INVARIANT_OPS=n); DTWN_INVARIANT_TRACE=1 prints every step.
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  concat,
  getBytes,
  hexlify,
  Interface,
  keccak256,
  MaxUint256,
  recoverAddress,
  toBeHex,
  TypedDataEncoder,
  ZeroAddress,
  ZeroHash,
  type BaseContract,
  type EventFragment,
  type FunctionFragment,
  type ContractTransactionReceipt,
  type ContractTransactionResponse,
  type Result,
} from "ethers";
import { encodeAction, TAU_SCALE, TWIN_ENTRY_BYTES } from "../../src/chain/actionCodec";
import { ballotCommitment, VERDICT, type VerdictCode } from "../../src/chain/ballot";
import { CONSENT_BYTES, CONSENT_TYPES, consentDomain, signRegistration } from "../../src/chain/consent";
import { merkleProof, merkleRoot, recordLeaf } from "../../src/chain/merkle";
import { decide } from "../../src/fl/acceptance";
import DtwnModule from "../../ignition/modules/Dtwn";
import { deployModule, device, fakeCid, PARAMS, type Protocol } from "../fixtures";

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
/** DTWN_INVARIANT_TRACE=1 prints every step. */
const TRACE = process.env.DTWN_INVARIANT_TRACE === "1";

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
// Views: read with raw eth_calls, decoded on demand; a view of a contract whose storage did not change is not read
// again (its storage root, from eth_getProof, says so: every view the checks read depends only on its contract's own
// storage)

/** Function and event fragments by interface (ethers looks them up by name or topic, hashing every fragment, each time). */
const functionCache = new WeakMap<Interface, Map<string, FunctionFragment>>();
const eventCache = new WeakMap<Interface, Map<string, EventFragment>>();
function fragmentOf(iface: Interface, fn: string): FunctionFragment {
  let m = functionCache.get(iface);
  if (!m) functionCache.set(iface, (m = new Map()));
  let f = m.get(fn);
  if (!f) m.set(fn, (f = iface.getFunction(fn)!));
  return f;
}
/** A log of `c` decoded ({ name, args }), or undefined for a log of another contract or an unknown event. */
function parseLogOf(c: BaseContract, l: { address: string; topics: readonly string[]; data: string }): { name: string; args: Result } | undefined {
  if (l.address !== c.target) return undefined;
  let m = eventCache.get(c.interface);
  if (!m) {
    m = new Map();
    c.interface.forEachEvent((e) => m!.set(e.topicHash, e));
    eventCache.set(c.interface, m);
  }
  const e = m.get(l.topics[0]);
  return e ? { name: e.name, args: c.interface.decodeEventLog(e, l.data, l.topics) } : undefined;
}

interface ViewCall {
  key: string;
  target: string;
  iface: Interface;
  fn: string;
  fragment: FunctionFragment;
  data: string;
}

const REVERTED = "reverted";

/** Results of one read: raw return data by key (the state fingerprint), decoded on demand (once). */
class Snapshot {
  readonly raw = new Map<string, string>();
  readonly calls = new Map<string, ViewCall>();
  readonly decoded = new Map<string, unknown>();
  succeeded(key: string): boolean {
    return this.raw.get(key) !== REVERTED;
  }
  /** Take `key` (raw and decoded) from `prev`. */
  adopt(prev: Snapshot, key: string): void {
    this.raw.set(key, prev.raw.get(key)!);
    if (prev.decoded.has(key)) this.decoded.set(key, prev.decoded.get(key));
  }
  get(key: string): unknown {
    if (this.decoded.has(key)) return this.decoded.get(key);
    const call = this.calls.get(key);
    if (!call) throw new Error(`view ${key} was not read`);
    if (!this.succeeded(key)) throw new Error(`view ${key} (${call.fn}) reverted`);
    const res = call.iface.decodeFunctionResult(call.fragment, this.raw.get(key)!);
    const value = res.length === 1 ? res[0] : res;
    this.decoded.set(key, value);
    return value;
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
  /** Views read (eth_calls) and views taken from the previous step (storage unchanged) so far, for the report. */
  static made = 0;
  static reused = 0;
  private readonly calls: ViewCall[] = [];
  add(key: string, c: BaseContract, fn: string, args: readonly unknown[] = []): void {
    const fragment = fragmentOf(c.interface, fn);
    this.calls.push({ key, target: c.target as string, iface: c.interface, fn, fragment, data: c.interface.encodeFunctionData(fragment, args) });
  }
  /**
   * Read every view; with `reuse`, a view of a contract in `reuse.unchanged` (same storage root as when `reuse.prev`
   * was read) that `reuse.prev` read with the same call data is taken from it instead.
   */
  async run(reuse?: { prev: Snapshot; unchanged: ReadonlySet<string> }): Promise<Snapshot> {
    const snap = new Snapshot();
    const fetch: ViewCall[] = [];
    for (const c of this.calls) {
      if (snap.calls.has(c.key)) throw new Error(`duplicate view key ${c.key}`);
      snap.calls.set(c.key, c);
      if (reuse && reuse.unchanged.has(c.target) && reuse.prev.calls.get(c.key)?.data === c.data) snap.adopt(reuse.prev, c.key);
      else fetch.push(c);
    }
    Reader.made += fetch.length;
    Reader.reused += this.calls.length - fetch.length;
    const results = await Promise.all(
      fetch.map((c) => (network.provider.request({ method: "eth_call", params: [{ to: c.target, data: c.data }, "latest"] }) as Promise<string>).catch(() => REVERTED)),
    );
    fetch.forEach((c, i) => snap.raw.set(c.key, results[i]));
    return snap;
  }
}

/** The storage root of every contract in `targets` (eth_getProof's storageHash). */
async function storageRoots(targets: readonly string[]): Promise<Map<string, string>> {
  const proofs = (await Promise.all(targets.map((t) => network.provider.request({ method: "eth_getProof", params: [t, [], "latest"] })))) as { storageHash: string }[];
  return new Map(targets.map((t, i) => [t, proofs[i].storageHash]));
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
  "admitUsers",
  "registerTwin",
  "twinData",
  "twinModel",
  "registerCandidate",
  "withdrawCandidacy",
  "vote",
  "transfer",
  "approve",
  "bond",
  "unbond",
  "withdraw",
  "advanceEpoch",
  "elect",
  "openRound",
  "commitAction",
  "submitModel",
  "commitVerdicts",
  "revealVerdicts",
  "settleRound",
  "recordGlobalModel",
  "attestGlobalModel",
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

/** A record of the log: its leaf's fields, from its RecordAppended event. */
interface ModelRecord {
  kind: number;
  payloadHash: string;
  appendedAt: number;
}

/** The fields a report of a missed slot gives for the record it claims was waiting. */
interface Evidence extends ModelRecord {
  desc: string;
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
  /** Bonded stake (at the round's snapshot) of the revealed PASS and FAIL verdicts on it. */
  pass: bigint;
  fail: bigint;
  /** Whether the model is a good one (what honest verifiers find). */
  good: boolean;
  outcome: ModelOutcome;
}

/** A committed verdict ballot: what the verifier will reveal (when it reveals) and what the chain stored. */
interface ModelBallot {
  commitment: string;
  /** The ballot that opens the commitment; undefined when the verifier committed a hash it cannot open (a copy). */
  opens?: { verdicts: number[]; scores: number[]; salt: string };
  /** The verifier withholds its ballot (commits, never reveals) unless the campaign forces a reveal now and then. */
  withhold: boolean;
  /** What the attack in it is, for the step log. */
  defect?: string;
  revealed: boolean;
  passBits: number;
  failBits: number;
  weight: bigint;
}

interface ModelRound {
  id: number;
  status: RoundStatus;
  deadline: number;
  commitUntil: number;
  revealUntil: number;
  /** The instant whose bonds weigh the verdicts and the eligible stake (the second before the round opened). */
  snapshot: number;
  order: string[];
  subs: Map<string, ModelSubmission>;
  /** Verdict ballots, by verifier, and the verifiers in commit order. */
  ballots: Map<string, ModelBallot>;
  committers: string[];
  revealedCount: number;
  passedCount: number;
  /** BSs that committed an action in this slot. */
  committed: Set<string>;
  /** The chain's record of each committed action: K_i and the listed twins' data at commitment. */
  weights: Map<string, { k: number; data: bigint }>;
  /** The global model it opened from, and the one recorded at finalization. */
  globalCid?: string;
  newGlobalCid?: string;
  /** The recorded global model is not Eq. 5 of the models it lists (the MBS's class 7 attack): honest BSs dispute it. */
  forged: boolean;
  /** The bonds at the snapshot of the members at the opening, and the bonds of the BSs that attested or disputed the model. */
  memberStake: bigint;
  attestStake: bigint;
  disputeStake: bigint;
  /** BS -> true (attested) or false (disputed). */
  attestations: Map<string, boolean>;
  /** The members at the opening (whose snapshot bonds make memberStake). */
  electorate: Set<string>;
  tau: number[];
  /** twin id -> BSs that listed it in an action for this slot */
  claims: Map<number, Set<string>>;
}

interface ModelTwin {
  user: string;
  host: string;
  data: bigint;
  /** The user's device key (signs its consents) and the twin's data version (the next data consent names version + 1). */
  key: Device;
  version: number;
  /** The last data record and the consent it was made with (what a replay resends). */
  last?: { size: bigint; commitment: string; state: string; consent: Uint8Array };
}

/** An end user's device key (the fixtures' {@link device} wallets: plain keys, no transactions). */
type Device = ReturnType<typeof device>;

// ---------------------------------------------------------------------------------------------------------------
// Consents (EIP-712, as TwinRegistry checks them), signed synchronously with the device's signing key

/** secp256k1's order n and n / 2 (OpenZeppelin's ECDSA refuses s > n / 2: malleable signatures). */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
type ConsentType = keyof typeof CONSENT_TYPES;
/** The struct encoders of the consent types (src/chain/consent.ts's CONSENT_TYPES, field for field the contract's). */
const CONSENT_ENCODERS = Object.fromEntries(
  (Object.keys(CONSENT_TYPES) as ConsentType[]).map((k) => [k, TypedDataEncoder.from({ [k]: CONSENT_TYPES[k].map((f) => ({ ...f })) })]),
) as Record<ConsentType, TypedDataEncoder>;

/**
 * ECDSA.tryRecoverCalldata as TwinRegistry._checkConsent calls it: the address a consent recovers to over `digest`,
 * or zero when OpenZeppelin refuses it (not 65 bytes, s above n / 2) or ecrecover gives nothing (v not 27 or 28, r or
 * s out of range, r not on the curve).
 */
function consentSigner(digest: string, consent: Uint8Array): string {
  if (consent.length !== CONSENT_BYTES) return ZeroAddress;
  const r = BigInt(hexlify(consent.subarray(0, 32)));
  const s = BigInt(hexlify(consent.subarray(32, 64)));
  const v = consent[64];
  if (s > SECP256K1_HALF_N) return ZeroAddress;
  if ((v !== 27 && v !== 28) || r === 0n || r >= SECP256K1_N || s === 0n) return ZeroAddress;
  try {
    return recoverAddress(digest, hexlify(consent));
  } catch {
    return ZeroAddress;
  }
}

/** The malleated twin of a signature: (r, n - s, the other v), which ecrecover accepts and OpenZeppelin does not. */
function malleate(sig: Uint8Array): Uint8Array {
  const s = BigInt(hexlify(sig.subarray(32, 64)));
  return getBytes(concat([sig.subarray(0, 32), toBeHex(SECP256K1_N - s, 32), new Uint8Array([sig[64] === 27 ? 28 : 27])]));
}

/** Consent attempts refused by the chain, by what was forged (for the report and the coverage check). */
type Forgeries = Map<string, number>;

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

/** A pending unbonding entry of the vault. */
interface Entry {
  amount: bigint;
  releaseAt: number;
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
/** StakeVault.MAX_UNBONDING: pending unbonding entries per account. */
const MAX_UNBONDING = 8;
/**
 * The campaign's unbonding delay (s): four DPoS epochs, so unbonded coins are withdrawn within a run; a round must end
 * its reveal window within half of it (TrainingRounds `RoundTooLong`), i.e. a deadline at most 150 s after opening.
 */
const UNBONDING_DELAY = 480;

/** The protocol of the campaign: the Ignition module with the campaign's unbonding delay. */
async function deployCampaign(): Promise<Protocol> {
  return deployModule(DtwnModule, { DtwnCore: { unbondingDelaySeconds: UNBONDING_DELAY } } as never);
}
const MAX_SCORE = 10_000;
/** TrainingRounds.Attestation: what a BS said of a round's global model. */
enum Attestation {
  None = 0,
  Agrees = 1,
  Disputes = 2,
}
/**
 * How often an honest-looking BS disputes a correct global model (it recomputed it wrongly, or disputes anyway), when
 * that halts nothing (World.harmlessDissent): the attestations of the others still reach the quorum.
 */
const DISSENT = 0.07;
/**
 * The MBS records a forged global model (not Eq. 5 of the models it lists) only from this share of a run's operations
 * on: once BSs holding the quorum dispute it no round ever opens again (GlobalModelDisputed), so the campaign stages
 * that attack late, and at most once per seed, to keep reaching later rounds, blocks and settlements.
 */
const FORGE_FROM = 0.7;
/** The chance that a recorded global model with passed models is forged once FORGE_FROM of the run is over. */
const FORGE_CHANCE = 1;
/** Steps between two deep checks of the whole model against the chain. */
const DEEP_CHECK_EVERY = 25;
const TAU_BYTES = 2 * PARAMS.subchannels;
const STAKE_EVENTS = ["Credited", "Bonded", "UnbondingStarted", "Withdrawn", "Slashed"] as const;

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
  /** The attestations' own draws (who speaks, on which round, what it says): tuning them leaves every other draw as it was. */
  readonly attestRng: Rng;
  /** The missed-slot reports' own draws (an idle slot now and then, the fields given): the same for every other draw. */
  readonly evidenceRng: Rng;
  /** Reports with a record waiting that got past every earlier check (what {@link scheduledEvidence} takes turns on). */
  evidenceTurn = 0;
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

  // coins: liquid balances (the vault's own balance included), allowances to the vault, and the vault's stake
  readonly vault: string;
  /** Every address that can hold coins: the accounts and the vault. */
  readonly holders: string[];
  balances = new Map<string, bigint>();
  allowances = new Map<string, bigint>();
  supply = 0n;
  bonded = new Map<string, bigint>();
  queues = new Map<string, Entry[]>();
  /** Coins sent to the vault by a plain transfer: part of its balance, nobody's stake, never movable again. */
  donated = 0n;
  /** The bonds after each step (one block each), for bondedAt. */
  history: { ts: number; bonded: Map<string, bigint> }[] = [];
  /** Every withdrawal (for the observation of stake that left before a settlement could slash it). */
  withdrawals: { account: string; ts: number; amount: bigint }[] = [];
  /** StakeVault events the current step must emit, in order (the model's prediction). */
  expectedStakeEvents: string[] = [];

  // end users, twins and records
  /** Admitted end users and their device keys. */
  admitted = new Map<string, Device>();
  /** A key no admitted user holds (what a BS signs with when it makes up a consent). */
  readonly stranger = device(1_000_000);
  /** keccak256 of the consents' EIP-712 domain (this run's TwinRegistry), checked against domainSeparator(). */
  domainHash = ZeroHash;
  domain: ReturnType<typeof consentDomain> | undefined;
  twins: ModelTwin[] = [];
  userSeq = 0;
  leaves: string[] = [];
  /** The fields of each leaf (same indices as `leaves`). */
  records: ModelRecord[] = [];

  // rounds and actions
  rounds: ModelRound[] = [];
  /** The operation being planned and the run's operations (the forged global model comes late in a run). */
  opIndex = 0;
  totalOps = 0;

  // blocks
  blocks: ModelBlock[] = [];
  blockOfSlot = new Map<number, number>();
  reported = new Set<number>();
  packedUpTo = 0;
  /** packedUpTo after each finalization, with the timestamp of the step that made the block final. */
  packedHistory: { ts: number; packedUpTo: number }[] = [];
  finalCount = 0;
  frozenBlocks = new Map<number, string>();

  // bookkeeping
  stats = new Map<Kind, Stat>();
  timing = { tx: 0, check: 0 };
  stepsSinceDeep = 0;
  finalizedChecked = new Set<number>();
  /** The protocol contracts (address -> name) and their storage roots after the last step. */
  readonly contractNames = new Map<string, string>();
  roots = new Map<string, string>();
  leavesChecked = 0;
  recent: string[] = [];
  lastSnap: Snapshot | undefined;
  notes = {
    doubleClaims: 0,
    outcomes: { passed: 0, failed: 0, unverified: 0 },
    verifierRewards: 0,
    disagreed: 0,
    withheldSlashed: 0,
    zeroSlashes: 0,
    slashedCoins: 0n,
    creditedCoins: 0n,
    earlyReveals: 0,
    earlySettles: 0,
    fullQueues: 0,
    donations: 0,
    forged: new Map() as Forgeries,
    movesWithConsent: 0,
    unreadConsents: 0,
    escapes: 0,
    escapedCoins: 0n,
    escapeLatestSettle: 0,
    removedBeforeReveal: 0,
    commitsAfterRevealOpened: 0,
    attested: 0,
    disputed: 0,
    disputedForged: 0,
    attestedForged: 0,
    zeroWeightWords: 0,
    notAttesters: 0,
    forgedModels: 0,
    attestedOpens: 0,
    preElectionReportsRefused: 0,
    nonMemberProducerSlashed: 0,
    jailAmnesties: 0,
    /** Reports refused because nothing was waiting when the slot began (all packed, or appended during the slot). */
    idleSlotReportsRefused: 0,
    /** Reports with fields that are not the waiting record's (forged, another record's, backdated, ...). */
    forgedEvidenceRefused: 0,
    /** Reports refused because they claimed an appendedAt at or after the slot's start while a record was waiting. */
    lateEvidenceRefused: 0,
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
    this.attestRng = new Rng(seed ^ 0xa77e5700);
    this.evidenceRng = new Rng(seed ^ 0x5107e71d);
    const [mbs, ...rest] = signers;
    const pool = rest.slice(0, 8);
    const outsider = rest[10];
    this.mbs = mbs.address;
    this.outsider = outsider.address;
    this.poolAddrs = pool.map((s) => s.address);
    for (const s of [mbs, ...pool, outsider]) this.signerOf.set(s.address, s);
    this.accounts = [this.mbs, ...this.poolAddrs, this.outsider];
    this.vault = p.stake.target as string;
    for (const [name, c] of Object.entries({ registry: p.registry, users: p.users, coin: p.coin, stake: p.stake, recordLog: p.recordLog, twins: p.twins, rounds: p.rounds, ledger: p.ledger, genesis: p.genesis, election: p.election, blocks: p.blocks })) {
      this.contractNames.set(c.target as string, name);
    }
    this.holders = [...this.accounts, this.vault];
    for (const a of this.holders) this.balances.set(a, 0n);
    for (const k of [...KINDS, "bootstrap" as const]) this.stats.set(k, { ok: 0, rejected: 0, errors: new Map() });
  }

  // ----- helpers -----------------------------------------------------------------------------------------------

  label(a: string): string {
    if (a === this.mbs) return "MBS";
    if (a === this.outsider) return "OUT";
    if (a === ZeroAddress) return "0x0";
    if (a === this.vault) return "VAULT";
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
  /** TrainingRounds._attestationQuorum: quorumBps of the members' stake at the snapshot, rounded up, and at least 1. */
  attestationQuorum(r: ModelRound): bigint {
    const quorum = (r.memberStake * BigInt(PARAMS.verificationQuorumBps) + BPS - 1n) / BPS;
    return quorum === 0n ? 1n : quorum;
  }
  /**
   * openRound's attestation checks on the finalized round `p` (undefined: round p + 1 can open from it): a round with
   * passed models needs BSs holding the quorum to have attested its global model, and never opens once BSs holding
   * the quorum disputed it; with no passed model (the global model unchanged) it needs no attestation.
   */
  attestationRefusal(p: ModelRound): Outcome | undefined {
    if (p.passedCount === 0) return undefined;
    const quorum = this.attestationQuorum(p);
    if (p.disputeStake >= quorum) return this.fail(this.p.rounds, "GlobalModelDisputed", p.id, p.disputeStake, quorum);
    if (p.attestStake < quorum) return this.fail(this.p.rounds, "GlobalModelNotAttested", p.id, p.attestStake, quorum);
    return undefined;
  }
  /** The current round is finalized and waits for attestations that members who have not spoken yet can still give. */
  attestationPending(r: ModelRound | undefined): boolean {
    if (r?.status !== RoundStatus.Finalized) return false;
    const refusal = this.attestationRefusal(r);
    return refusal !== undefined && !refusal.ok && refusal.name === "GlobalModelNotAttested" && this.members.some((a) => !r.attestations.has(a));
  }
  /** StakeVault.bondedAt: the bond at the end of timestamp `ts` (the model's state after the last block at or before it). */
  bondedAt(a: string, ts: number): bigint {
    for (let i = this.history.length - 1; i >= 0; i--) if (this.history[i].ts <= ts) return this.history[i].bonded.get(a) ?? 0n;
    return 0n;
  }
  hostedBy(a: string): ModelTwin[] {
    return this.twins.filter((t) => t.host === a);
  }
  bondOf(a: string): bigint {
    return this.bonded.get(a) ?? 0n;
  }
  queue(a: string): Entry[] {
    let q = this.queues.get(a);
    if (!q) this.queues.set(a, (q = []));
    return q;
  }
  unbondingOf(a: string): bigint {
    return this.queue(a).reduce((sum, e) => sum + e.amount, 0n);
  }
  allowance(a: string): bigint {
    return this.allowances.get(a) ?? 0n;
  }
  totalBonded(): bigint {
    let sum = 0n;
    for (const v of this.bonded.values()) sum += v;
    return sum;
  }
  /** The matured prefix of `a`'s queue at `ts` (what withdraw pays). */
  matured(a: string, ts: number): Entry[] {
    const q = this.queue(a);
    let n = 0;
    while (n < q.length && q[n].releaseAt <= ts) n++;
    return q.slice(0, n);
  }
  /** StakeVault.credit: mint `amount` into the vault, bonded to `a` (a zero amount is a no-op). */
  credit(a: string, amount: bigint): void {
    if (amount === 0n) return;
    this.bonded.set(a, this.bondOf(a) + amount);
    this.balances.set(this.vault, this.bal(this.vault) + amount);
    this.supply += amount;
    this.notes.creditedCoins += amount;
    this.expectedStakeEvents.push(`Credited ${a} ${amount}`);
  }
  /**
   * StakeVault.slash: burn (bonded + unbonding) x bps / 10000, from the bond first, then the unbonding queue newest
   * entry first; nothing (no event) when that rounds to 0. Returns the coins burned.
   */
  slash(a: string, bps: number): bigint {
    const bonded = this.bondOf(a);
    const slashed = ((bonded + this.unbondingOf(a)) * BigInt(bps)) / BPS;
    if (slashed === 0n) {
      this.notes.zeroSlashes++;
      return 0n;
    }
    const fromBond = slashed < bonded ? slashed : bonded;
    this.bonded.set(a, bonded - fromBond);
    let rest = slashed - fromBond;
    const q = this.queue(a);
    while (rest !== 0n) {
      const e = q[q.length - 1];
      if (e.amount <= rest) {
        rest -= e.amount;
        q.pop();
      } else {
        e.amount -= rest;
        rest = 0n;
      }
    }
    this.balances.set(this.vault, this.bal(this.vault) - slashed);
    this.supply -= slashed;
    this.notes.slashedCoins += slashed;
    this.expectedStakeEvents.push(`Slashed ${a} ${bps} ${fromBond} ${slashed - fromBond}`);
    return slashed;
  }
  /** BlockLedger._penalize: jail for `jailEpochs` from the current epoch, then slash blockSlashBps of the stake. */
  penalize(producer: string, ts: number): bigint {
    this.jailedUntil.set(producer, this.epochAt(ts) + JAIL_EPOCHS);
    this.jailedAt.set(producer, ts);
    return this.slash(producer, PARAMS.blockSlashBps);
  }
  fail(c: BaseContract, name: string, ...args: unknown[]): Outcome {
    return { ok: false, c, name, args };
  }
  /**
   * Records appended by a transaction (RecordLog events), added to the model's leaves and records; returns how many.
   * Each record's appendedAt is the timestamp of the step (every step is one block at its planned time), and its
   * leaf is rebuilt from the event's fields (src/chain/merkle.ts recordLeaf, as RecordLog.leafHash).
   */
  takeRecords(rc: ContractTransactionReceipt): number {
    const log = this.p.recordLog;
    let n = 0;
    for (const l of rc.logs) {
      const ev = parseLogOf(log, l);
      if (ev?.name !== "RecordAppended") continue;
      const index = this.leaves.length;
      expect(Number(ev.args.index)).to.equal(index, "record index");
      const record: ModelRecord = { kind: Number(ev.args.kind), payloadHash: ev.args.payloadHash as string, appendedAt: Number(ev.args.appendedAt) };
      same(record.appendedAt, this.clock.next, `record ${index} appendedAt is the timestamp of its block`);
      same(recordLeaf(index, record.kind, record.payloadHash, record.appendedAt), ev.args.leaf, `record ${index} leaf = keccak256(abi.encode(index, kind, payloadHash, appendedAt))`);
      this.leaves.push(ev.args.leaf as string);
      this.records.push(record);
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
    const round = this.currentRound();
    // while ballots are committed, now and then the removal of a BS that committed (its ballot still counts towards
    // "every member has committed", which opens the reveals)
    const committedMembers = round && this.phase(round, this.clock.next) === "commit" ? this.members.filter((a) => round.ballots.has(a)) : [];
    if (this.members.length > 4 && committedMembers.length && r < 0.3) bs = this.rng.pick(committedMembers);
    else if (this.members.length > 4 && r < 0.7) bs = this.randomMember();
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

  /** A new end user: its id and its device key (the fixtures' device wallet of the same number). */
  newUser(): { id: string; key: Device } {
    const key = device(this.userSeq);
    return { id: this.newUserId(), key };
  }

  /** Admitted users without a twin (what an honest BS registers). */
  freeUsers(): string[] {
    const taken = new Set(this.twins.map((t) => t.user));
    return [...this.admitted.keys()].filter((u) => !taken.has(u));
  }

  // ----- consents ------------------------------------------------------------------------------------------------

  consentDigest(type: ConsentType, value: Record<string, unknown>): string {
    return keccak256(concat(["0x1901", this.domainHash, CONSENT_ENCODERS[type].hash(value)]));
  }
  registerDigest(userId: string, bs: string): string {
    return this.consentDigest("RegisterTwin", { userId, bs });
  }
  dataDigest(twinId: number, bs: string, dataSize: bigint, dataCommitment: string, state: string, version: number): string {
    return this.consentDigest("TwinData", { twinId, bs, dataSize, dataCommitment, state, version });
  }
  moveDigest(twinId: number, to: string, slot: number): string {
    return this.consentDigest("MoveTwin", { twinId, to, slot });
  }
  /** `key`'s signature of `digest` (r ‖ s ‖ v, 65 bytes; deterministic, as signTypedData gives). */
  sign(key: Device, digest: string): Uint8Array {
    return getBytes(key.signingKey.sign(digest).serialized);
  }
  /** `digest` signed by a key that is not `key`: another admitted user's device, or a key the BS made up. */
  signWrongKey(key: Device, digest: string): Uint8Array {
    const others = [...this.admitted.values()].filter((k) => k.address !== key.address);
    return this.sign(others.length && this.rng.chance(0.5) ? this.rng.pick(others) : this.stranger, digest);
  }
  /** A consent of the wrong length: cut short by a byte or more, one byte too many, or empty. */
  wrongSize(consent: Uint8Array): Uint8Array {
    const d = this.rng.float();
    if (d < 0.4) return consent.slice(0, CONSENT_BYTES - this.rng.int(1, 2));
    if (d < 0.8) return getBytes(concat([consent, new Uint8Array([this.rng.int(0, 255)])]));
    return new Uint8Array(0);
  }
  randomBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.rng.int(0, 255);
    return out;
  }
  noteForgery(what: string): void {
    this.notes.forged.set(what, (this.notes.forged.get(what) ?? 0) + 1);
  }
  /**
   * The outcome of a consent check (TwinRegistry._checkConsent): InvalidConsent(twinId, signer, device) unless the
   * consent recovers to the device over `digest`. `forgery` says what the campaign forged (undefined: an honest
   * consent); the model must agree that a forgery fails and an honest consent passes.
   */
  checkConsent(twinId: number, key: Device, digest: string, consent: Uint8Array, forgery: string | undefined, what: string): Outcome | undefined {
    const signer = consentSigner(digest, consent);
    const valid = signer === key.address;
    if (valid === (forgery !== undefined)) throw new Error(`model: ${forgery ? `the forged ${what} consent (${forgery}) would pass` : `the honest ${what} consent would fail`}`);
    if (valid) return undefined;
    this.noteForgery(`${what}: ${forgery!.replace(/ \(\d+\)$/, "")}`);
    return this.fail(this.p.twins, "InvalidConsent", twinId, signer, key.address);
  }

  /**
   * The operator admits a batch of end users with their device keys. Attacks: a non-operator admitting users (a BS
   * inventing users), the re-admission of an admitted user with another key (taking over its consents) or the same
   * user twice in a batch, and malformed batches (lengths, a zero user id or key).
   */
  opAdmitUsers(): Plan {
    const { users } = this.p;
    const caller = this.rng.chance(0.9) ? this.mbs : this.rng.pick([...this.poolAddrs, this.outsider]);
    const fresh = Array.from({ length: this.rng.int(1, 3) }, () => this.newUser());
    const ids = fresh.map((u) => u.id);
    const keys = fresh.map((u) => u.key.address);
    let defect: string | undefined;
    const d = this.rng.float();
    const at = this.rng.int(0, ids.length);
    if (d < 0.12 && this.admitted.size) {
      const [id, key] = this.rng.pick([...this.admitted.entries()]);
      ids.splice(at, 0, id);
      keys.splice(at, 0, this.rng.chance(0.7) ? this.stranger.address : key.address);
      defect = "re-admission of an admitted user";
    } else if (d < 0.16) {
      ids.splice(at, 0, ids[0]);
      keys.splice(at, 0, this.stranger.address);
      defect = "a user twice in the batch";
    } else if (d < 0.19) {
      if (this.rng.chance(0.3)) ids.length = 0;
      else keys.pop();
      defect = "batch lengths";
    } else if (d < 0.21) {
      ids[this.rng.int(0, ids.length - 1)] = ZeroHash;
      defect = "zero user id";
    } else if (d < 0.23) {
      keys[this.rng.int(0, keys.length - 1)] = ZeroAddress;
      defect = "zero device key";
    }
    const desc = `${this.label(caller)} admits ${ids.length} users (${ids.map((u) => u.slice(0, 10)).join(",")})${defect ? ` (${defect})` : ""}`;
    const send = () => users.connect(this.signer(caller)).admitUsers(ids, keys);
    let outcome: Outcome | undefined;
    if (caller !== this.mbs) outcome = this.fail(users, "NotOperator", caller);
    else if (ids.length === 0 || ids.length > 200 || keys.length !== ids.length) outcome = this.fail(users, "InvalidBatch", ids.length, keys.length);
    else {
      const batch = new Map<string, string>();
      for (let i = 0; i < ids.length && !outcome; i++) {
        const existing = this.admitted.get(ids[i])?.address ?? batch.get(ids[i]);
        if (ids[i] === ZeroHash) outcome = this.fail(users, "InvalidUserId");
        else if (keys[i] === ZeroAddress) outcome = this.fail(users, "ZeroAddress");
        else if (existing) outcome = this.fail(users, "UserAlreadyAdmitted", ids[i], existing);
        batch.set(ids[i], keys[i]);
      }
    }
    outcome ??= {
      ok: true,
      apply: (rc) => {
        fresh.forEach((u) => this.admitted.set(u.id, u.key));
        sameList(this.eventsOf(rc, users, ["UserAdmitted"]), fresh.map((u) => `UserAdmitted ${u.id} ${u.key.address}`), "UserAdmitted events");
      },
    };
    return { kind: "admitUsers", desc, send, outcome };
  }

  /**
   * A member registers the twin of an admitted user with its device's consent. Attacks: a user nobody admitted (a BS
   * inventing users), a user that has a twin, a zero id, and forged consents: signed by the wrong key, of the wrong
   * size, malleated, or the user's consent to another BS (a BS registering another BS's user first).
   */
  opRegisterTwin(): Plan {
    const { twins, users } = this.p;
    const caller = this.caller();
    const free = this.freeUsers();
    let user: string;
    const d = this.rng.float();
    if (this.twins.length && (d < 0.1 || this.twins.length >= MAX_TWINS)) user = this.rng.pick(this.twins).user;
    else if (d < 0.14) user = ZeroHash;
    else if (d < 0.2 || !free.length) user = this.newUserId();
    else user = this.rng.pick(free);
    const existing = this.twins.findIndex((t) => t.user === user) + 1;
    const key = this.admitted.get(user);
    const digest = this.registerDigest(user, caller);
    // a user nobody admitted: the BS signs for it with a key of its own
    let consent = this.sign(key ?? this.stranger, digest);
    let forgery: string | undefined;
    if (key && !existing && this.rng.chance(0.25)) {
      const f = this.rng.float();
      if (f < 0.3) {
        const other = this.rng.pick(this.poolAddrs.filter((a) => a !== caller));
        consent = this.sign(key, this.registerDigest(user, other));
        forgery = "the user's consent to another BS";
      } else if (f < 0.6) {
        consent = this.signWrongKey(key, digest);
        forgery = "wrong key";
      } else if (f < 0.85) {
        consent = this.wrongSize(consent);
        forgery = "wrong size";
      } else {
        consent = malleate(consent);
        forgery = "malleated signature";
      }
    }
    const status = existing ? "with a twin" : key ? "admitted" : user === ZeroHash ? "zero" : "never admitted";
    const desc = `${this.label(caller)} registers twin of user ${user.slice(0, 10)} (${status}), consent ${consent.length} bytes${forgery ? ` (forged: ${forgery})` : ""}`;
    const send = () => twins.connect(this.signer(caller)).registerTwin(user, consent);
    let outcome: Outcome | undefined;
    if (!this.isMember(caller)) outcome = this.fail(twins, "NotMember", caller);
    else if (user === ZeroHash) outcome = this.fail(twins, "InvalidUserId");
    else if (existing) outcome = this.fail(twins, "UserAlreadyHasTwin", user, existing);
    else if (!key) outcome = this.fail(users, "UnknownUser", user);
    else outcome = this.checkConsent(0, key, digest, consent, forgery, "registration");
    outcome ??= { ok: true, apply: () => void this.twins.push({ user, host: caller, data: 0n, key: key!, version: 0 }) };
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

  /**
   * The twin's host records its data with its device's consent to that record (version = data version + 1).
   * Attacks: an oversized record, another BS's or an unknown twin, and forged consents: a data size above the one
   * the device signed (a BS inflating its twins' data), the replay of the twin's last record with its consent, a
   * consent signed by the wrong key or of the wrong size.
   */
  opTwinData(): Plan {
    const { twins } = this.p;
    const { id, caller } = this.twinAndCaller();
    const dice = this.rng.float();
    let size = dice < 0.05 ? 0n : dice < 0.08 ? BigInt(PARAMS.maxTwinDataSize) + BigInt(this.rng.int(1, 2 ** 20)) : BigInt(this.rng.int(1, 1_000));
    let commitment = this.rng.bytes32();
    let state = this.rng.bytes32();
    const twin = this.twins[id - 1];
    let consent: Uint8Array | undefined;
    let forgery: string | undefined;
    if (twin && this.rng.chance(0.25)) {
      const f = this.rng.float();
      if (f < 0.3 && twin.last) {
        ({ size, commitment, state, consent } = twin.last);
        forgery = "replay of the last record's consent";
      } else if (f < 0.55) {
        const signed = BigInt(this.rng.int(1, 1_000));
        size = signed + BigInt(this.rng.int(1, 100_000));
        consent = this.sign(twin.key, this.dataDigest(id, caller, signed, commitment, state, twin.version + 1));
        forgery = `data size above the one the device signed (${signed})`;
      } else forgery = this.rng.chance(0.6) ? "wrong key" : "wrong size";
    }
    const digest = this.dataDigest(id, caller, size, commitment, state, (twin?.version ?? 0) + 1);
    if (forgery === "wrong key") consent = this.signWrongKey(twin!.key, digest);
    else if (forgery === "wrong size") consent = this.wrongSize(this.sign(twin!.key, digest));
    consent ??= this.sign(twin?.key ?? this.stranger, digest);
    const sent = consent;
    const desc = `${this.label(caller)} records data of twin ${id}: ${size} samples, consent ${sent.length} bytes${forgery ? ` (forged: ${forgery})` : ""}`;
    const send = () => twins.connect(this.signer(caller)).recordTwinData(id, size, commitment, state, sent);
    let outcome: Outcome | undefined;
    if (!this.isMember(caller)) outcome = this.fail(twins, "NotMember", caller);
    else if (size > BigInt(PARAMS.maxTwinDataSize)) outcome = this.fail(twins, "DataSizeOutOfRange", size, PARAMS.maxTwinDataSize);
    else if (!twin) outcome = this.fail(twins, "UnknownTwin", id);
    else if (twin.host !== caller) outcome = this.fail(twins, "NotTwinHost", id, caller, twin.host);
    else outcome = this.checkConsent(id, twin.key, digest, sent, forgery, "data record");
    outcome ??= {
      ok: true,
      apply: (rc) => {
        twin!.data = size;
        twin!.version++;
        twin!.last = { size, commitment, state, consent: sent };
        this.expectRecords(rc, 1);
      },
    };
    return { kind: "twinData", desc, send, outcome };
  }

  /**
   * A BS records the models its twins trained in an FL round: one batch, one record of the log. The batch is the
   * twin of {@link twinAndCaller} and often more twins of the caller, sorted. Defects: an empty or oversized batch,
   * fewer or more digests than twins, round 0, unsorted or repeated twins, a zero digest, a twin of another BS or an
   * unknown twin (or twin 0) in the batch.
   */
  opTwinModel(): Plan {
    const { twins } = this.p;
    const { id, caller } = this.twinAndCaller();
    const own = this.twins.flatMap((t, i) => (t.host === caller && i + 1 !== id ? [i + 1] : []));
    let ids = [id, ...this.rng.sample(own, this.rng.int(0, 4))].sort((x, y) => x - y);
    let round = this.rng.int(1, this.rounds.length + 2);
    const digest = () => ethers.dataSlice(fakeCid(`twin-model-${this.rng.int(0, 1e9)}`), 2); // the CIDv0's sha2-256 digest
    let digests = ids.map(digest);
    let defect: string | undefined;
    const d = this.rng.float();
    if (d < 0.02) {
      ids = [];
      digests = this.rng.chance(0.5) ? [] : [digest()];
      defect = "empty batch";
    } else if (d < 0.03) {
      ids = Array.from({ length: 257 }, (_, k) => k + 1);
      digests = ids.map(digest);
      defect = "257 twins";
    } else if (d < 0.06) {
      if (this.rng.chance(0.5)) digests.pop();
      else digests.push(digest());
      defect = "batch lengths";
    } else if (d < 0.08) {
      round = 0;
      defect = "round 0";
    } else if (d < 0.12 && ids.length >= 2) {
      const k = this.rng.int(1, ids.length - 1);
      if (this.rng.chance(0.5)) [ids[k - 1], ids[k]] = [ids[k], ids[k - 1]];
      else ids[k] = ids[k - 1];
      defect = "unsorted twins";
    } else if (d < 0.15) {
      digests[this.rng.int(0, digests.length - 1)] = ZeroHash;
      defect = "zero digest";
    } else if (d < 0.2 && this.twins.length) {
      // another twin (any host) or an unknown one slipped into the batch, kept sorted
      const other = this.rng.chance(0.8) ? this.rng.int(1, this.twins.length) : this.twins.length + this.rng.int(1, 300);
      if (!ids.includes(other)) {
        ids = [...ids, other].sort((x, y) => x - y);
        digests = ids.map(digest);
        defect = `twin ${other} added`;
      }
    }
    const n = ids.length;
    const desc = `${this.label(caller)} records models of round ${round} for twins ${n > 8 ? `${ids.slice(0, 8).join(",")},...` : ids.join(",")} (${digests.length} digests)${defect ? ` (${defect})` : ""}`;
    const [sentRound, sentIds, sentDigests] = [round, ids, digests];
    const send = () => twins.connect(this.signer(caller)).recordTwinModels(sentRound, sentIds, sentDigests);
    let outcome: Outcome | undefined;
    if (!this.isMember(caller)) outcome = this.fail(twins, "NotMember", caller);
    else if (n === 0 || n > 256) outcome = this.fail(twins, "InvalidBatchLength", n, 256);
    else if (digests.length !== n) outcome = this.fail(twins, "BatchLengthMismatch", n, digests.length);
    else if (round === 0) outcome = this.fail(twins, "InvalidRound");
    else {
      let previous = 0;
      for (let k = 0; k < n && !outcome; k++) {
        const t = ids[k];
        const twin = t >= 1 ? this.twins[t - 1] : undefined;
        if (t <= previous) outcome = this.fail(twins, "TwinsNotSorted", t);
        else if (digests[k] === ZeroHash) outcome = this.fail(twins, "ZeroModelDigest", t);
        else if (!twin) outcome = this.fail(twins, "UnknownTwin", t);
        else if (twin.host !== caller) outcome = this.fail(twins, "NotTwinHost", t, caller, twin.host);
        previous = t;
      }
    }
    outcome ??= {
      ok: true,
      apply: (rc) => {
        const index = this.leaves.length;
        this.expectRecords(rc, 1);
        // the record commits to the round, the BS, the twins and their digests; the event lists them
        const payload = keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "address", "uint256[]", "bytes32[]"], [sentRound, caller, sentIds, sentDigests]));
        const appended = rc.logs.map((l) => parseLogOf(this.p.recordLog, l)).find((e) => e?.name === "RecordAppended")!;
        same(appended.args.payloadHash, payload, "twin model batch payload hash");
        const events = rc.logs.map((l) => parseLogOf(twins, l)).filter((e) => e !== undefined);
        expect(events.map((e) => e!.name), "TwinRegistry events").to.deep.equal(["TwinModelsRecorded"]);
        const ev = events[0]!.args;
        expect([ev.round, ev.bs, ev.recordIndex, [...ev.twinIds], [...ev.modelDigests]]).to.deep.equal([BigInt(sentRound), caller, BigInt(index), sentIds.map(BigInt), sentDigests]);
      },
    };
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

  /** Accounts with liquid coins (withdrawn stake or coins transferred to them). */
  liquidHolders(): string[] {
    return [...this.poolAddrs, this.outsider].filter((a) => this.bal(a) > 0n);
  }

  opTransfer(): Plan {
    const { coin } = this.p;
    const holders = this.liquidHolders();
    const from = holders.length && this.rng.chance(0.9) ? this.rng.pick(holders) : this.rng.pick([...this.poolAddrs, this.outsider]);
    const t = this.rng.float();
    let to = t < 0.86 ? this.rng.pick(this.poolAddrs) : t < 0.96 ? this.outsider : this.vault; // the vault: a donation
    let amount = this.rng.chance(0.1) ? this.bal(from) : this.rng.bigint(this.bal(from) / 3n);
    const d = this.rng.float();
    if (d < 0.12) amount = this.bal(from) + 1n + this.rng.bigint(10n ** 18n);
    else if (d < 0.16) to = ZeroAddress;
    const desc = `${this.label(from)} transfers ${ethers.formatEther(amount)} liquid DTC to ${this.label(to)}`;
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
          if (to === this.vault) {
            this.donated += amount;
            this.notes.donations++;
          }
        },
      };
    return { kind: "transfer", desc, send, outcome };
  }

  /** An account sets its allowance to the vault (what `bond` pulls from): unlimited half of the time. */
  opApprove(): Plan {
    const { coin } = this.p;
    const holders = this.liquidHolders();
    const unapproved = holders.filter((a) => this.isMember(a) && this.allowance(a) < this.bal(a));
    const o = this.rng.float();
    const owner = unapproved.length && o < 0.6 ? this.rng.pick(unapproved) : holders.length && o < 0.85 ? this.rng.pick(holders) : this.rng.pick([...this.poolAddrs, this.outsider]);
    let spender = this.vault;
    const a = this.rng.float();
    const amount = a < 0.5 ? MaxUint256 : a < 0.6 ? 0n : this.rng.bigint(2n * this.bal(owner) + 10n ** 18n);
    if (this.rng.chance(0.12)) spender = ZeroAddress;
    const desc = `${this.label(owner)} approves ${this.label(spender)} for ${amount === MaxUint256 ? "unlimited" : ethers.formatEther(amount)} DTC`;
    const send = () => coin.connect(this.signer(owner)).approve(spender, amount);
    const outcome: Outcome =
      spender === ZeroAddress ? this.fail(coin, "ERC20InvalidSpender", ZeroAddress) : { ok: true, apply: () => void this.allowances.set(owner, amount) };
    return { kind: "approve", desc, send, outcome };
  }

  /** A member bonds liquid coins (pulled with transferFrom): they weigh from this block's timestamp on. */
  opBond(): Plan {
    const { stake, coin } = this.p;
    const liquidMembers = this.members.filter((a) => this.bal(a) > 0n);
    const approved = liquidMembers.filter((a) => this.allowance(a) > 0n);
    const c = this.rng.float();
    const caller = approved.length && c < 0.65 ? this.rng.pick(approved) : liquidMembers.length && c < 0.88 ? this.rng.pick(liquidMembers) : this.caller(0.85);
    const bal = this.bal(caller);
    const allowance = this.allowance(caller);
    const room = allowance < bal ? allowance : bal; // mostly within the allowance, now and then beyond it
    let amount = this.rng.chance(0.85) && room > 0n ? (this.rng.chance(0.3) ? room : 1n + this.rng.bigint(room - 1n)) : 1n + this.rng.bigint(bal);
    const d = this.rng.float();
    if (d < 0.06) amount = 0n;
    else if (d < 0.14) amount = bal + 1n + this.rng.bigint(10n ** 18n);
    const desc = `${this.label(caller)} bonds ${ethers.formatEther(amount)} of its ${ethers.formatEther(bal)} liquid DTC`;
    const send = () => stake.connect(this.signer(caller)).bond(amount);
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(stake, "NotMember", caller);
    else if (amount === 0n) outcome = this.fail(stake, "ZeroAmount");
    else if (allowance !== MaxUint256 && allowance < amount) outcome = this.fail(coin, "ERC20InsufficientAllowance", this.vault, allowance, amount);
    else if (bal < amount) outcome = this.fail(coin, "ERC20InsufficientBalance", caller, bal, amount);
    else
      outcome = {
        ok: true,
        apply: () => {
          if (allowance !== MaxUint256) this.allowances.set(caller, allowance - amount);
          this.balances.set(caller, bal - amount);
          this.balances.set(this.vault, this.bal(this.vault) + amount);
          this.bonded.set(caller, this.bondOf(caller) + amount);
          this.expectedStakeEvents.push(`Bonded ${caller} ${amount}`);
        },
      };
    return { kind: "bond", desc, send, outcome };
  }

  /** An account (member or not) moves part of its bond to its unbonding queue: withdrawable after the delay. */
  opUnbond(): Plan {
    const { stake } = this.p;
    const now = this.clock.next;
    const bonders = [...this.poolAddrs, this.outsider].filter((a) => this.bondOf(a) > 0n);
    let caller: string;
    const c = this.rng.float();
    const round = this.currentRound();
    // attack: a BS with something to lose in the open round (a bad model, a ballot it withholds) leaves with its whole
    // bond right after the snapshot, to withdraw it before the settlement
    const exposed =
      round?.status === RoundStatus.Open
        ? bonders.filter((a) => (round.subs.has(a) && !round.subs.get(a)!.good) || round.ballots.get(a)?.defect)
        : [];
    let escape = false;
    if (exposed.length && c < 0.3) {
      caller = this.rng.pick(exposed);
      escape = true;
    } else if (bonders.length && c < 0.55) caller = bonders.reduce((x, y) => (this.queue(y).length > this.queue(x).length ? y : x)); // fill a queue
    else if (bonders.length && c < 0.88) caller = this.rng.pick(bonders);
    else caller = this.rng.pick(this.accounts);
    const bonded = this.bondOf(caller);
    let amount = escape || this.rng.chance(0.04) ? bonded : 1n + this.rng.bigint(bonded / 5n);
    const d = this.rng.float();
    if (d < 0.05) amount = 0n;
    else if (d < 0.12) amount = bonded + 1n + this.rng.bigint(10n ** 18n);
    const q = this.queue(caller);
    const desc = `${this.label(caller)} unbonds ${ethers.formatEther(amount)} of its ${ethers.formatEther(bonded)} bonded DTC (${q.length} pending)${escape ? " (leaving the open round)" : ""}`;
    const send = () => stake.connect(this.signer(caller)).unbond(amount);
    let outcome: Outcome;
    if (amount === 0n) outcome = this.fail(stake, "ZeroAmount");
    else if (amount > bonded) outcome = this.fail(stake, "InsufficientBond", bonded, amount);
    else if (q.length >= MAX_UNBONDING) {
      this.notes.fullQueues++;
      outcome = this.fail(stake, "UnbondingQueueFull");
    } else
      outcome = {
        ok: true,
        apply: () => {
          const releaseAt = now + UNBONDING_DELAY;
          q.push({ amount, releaseAt });
          this.bonded.set(caller, bonded - amount);
          this.expectedStakeEvents.push(`UnbondingStarted ${caller} ${amount} ${releaseAt}`);
        },
      };
    return { kind: "unbond", desc, send, outcome };
  }

  /** An account withdraws its matured unbonding entries as liquid coins (before the delay: nothing to withdraw). */
  opWithdraw(): Plan {
    const { stake } = this.p;
    const now = this.clock.next;
    const ready = this.accounts.filter((a) => this.matured(a, now).length > 0);
    const waiting = this.accounts.filter((a) => this.queue(a).length > 0 && !ready.includes(a));
    const c = this.rng.float();
    const caller = ready.length && c < 0.8 ? this.rng.pick(ready) : waiting.length && c < 0.93 ? this.rng.pick(waiting) : this.rng.pick(this.accounts);
    const matured = this.matured(caller, now);
    const amount = matured.reduce((sum, e) => sum + e.amount, 0n);
    const desc = `${this.label(caller)} withdraws (${matured.length} of ${this.queue(caller).length} entries matured: ${ethers.formatEther(amount)} DTC)`;
    const send = () => stake.connect(this.signer(caller)).withdraw();
    let outcome: Outcome;
    if (matured.length === 0) outcome = this.fail(stake, "NothingToWithdraw");
    else
      outcome = {
        ok: true,
        apply: () => {
          this.queue(caller).splice(0, matured.length);
          this.withdrawals.push({ account: caller, ts: now, amount });
          this.balances.set(caller, this.bal(caller) + amount);
          this.balances.set(this.vault, this.bal(this.vault) - amount);
          this.expectedStakeEvents.push(`Withdrawn ${caller} ${amount}`);
        },
      };
    return { kind: "withdraw", desc, send, outcome };
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
          const ev = rc.logs.map((l) => parseLogOf(election, l)).find((e) => e?.name === "ProducersElected");
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
   * The top-N eligible candidates of `epoch`, computed from the model only: approvals x the model's bond at the
   * checkpoint epochStart - 1 (liquid and unbonding coins carry no vote).
   */
  expectedProducers(epoch: number): { producers: string[]; tallies: bigint[]; snapshot: number } {
    const snapshot = this.epochStart(epoch) - 1;
    const eligible = this.candidates.filter((c) => this.isMember(c) && this.jail(c) <= epoch);
    const tally = new Map<string, bigint>(eligible.map((c) => [c, 0n]));
    for (const v of this.members) {
      const approved = this.approvals.get(v) ?? [];
      const w = this.bondedAt(v, snapshot);
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
    // now and then a round near or beyond the longest one allowed: its reveal window must end within half the
    // unbonding delay (a BS that unbonds when it opens cannot withdraw before the settlement can slash it)
    const longest = UNBONDING_DELAY / 2 - PARAMS.verificationWindowSeconds - PARAMS.revealWindowSeconds;
    let deadline = now + (this.rng.chance(0.1) ? longest + this.rng.int(-5, 60) : this.rng.int(30, 80));
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
    else if (prev && this.attestationRefusal(prev)) outcome = this.attestationRefusal(prev)!;
    else if (deadline - now > longest) {
      const revealUntil = deadline + PARAMS.verificationWindowSeconds + PARAMS.revealWindowSeconds;
      outcome = this.fail(rounds, "RoundTooLong", revealUntil, now + UNBONDING_DELAY / 2);
    } else
      outcome = {
        ok: true,
        apply: () => {
          if (prev?.passedCount) this.notes.attestedOpens++;
          this.rounds.push({
            id: this.rounds.length + 1,
            status: RoundStatus.Open,
            deadline,
            commitUntil: deadline + PARAMS.verificationWindowSeconds,
            revealUntil: deadline + PARAMS.verificationWindowSeconds + PARAMS.revealWindowSeconds,
            snapshot: now - 1,
            order: [],
            subs: new Map(),
            ballots: new Map(),
            committers: [],
            revealedCount: 0,
            passedCount: 0,
            committed: new Set(),
            weights: new Map(),
            globalCid: ethers.hexlify(cid),
            tau: Array<number>(PARAMS.subchannels).fill(0),
            claims: new Map(),
            forged: false,
            // the attestations' base: the bonds at the snapshot of the members at the opening (removing BSs later
            // lowers no quorum)
            memberStake: this.members.reduce((sum, m) => sum + this.bondedAt(m, now - 1), 0n),
            attestStake: 0n,
            disputeStake: 0n,
            attestations: new Map(),
            electorate: new Set(this.members),
          });
        },
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
    // mostly the twins the BS hosts and nobody listed in this slot yet (an association that keeps its users), else any
    const all = Array.from({ length: this.twins.length }, (_, i) => i + 1);
    const own = all.filter((id) => this.twins[id - 1].host === caller && !round?.claims.get(id)?.size);
    const ids = own.length && this.rng.chance(0.7) ? this.rng.sample(own, this.rng.int(1, 4)) : this.twins.length ? this.rng.sample(all, this.rng.int(1, 4)) : [1];
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
    const { consents, forgery, forgeryKind, moving } = this.moveConsents(caller, slot, twinsBytes);
    const desc =
      `${this.label(caller)} commits action for slot ${slot}: twins ${entries.map((e) => `${e.twinId}@${e.batchSize}`).join(",")}` +
      ` tau [${shares.join(",")}]${defect ? ` (${defect})` : ""}, ${moving} moving, consents ${consents.length} bytes${forgery ? ` (forged consents: ${forgery})` : ""}`;
    const send = () => ledger.connect(this.signer(caller)).commitAction(slot, twinsBytes, tauBytes, consents);
    const outcome = this.predictCommit(caller, slot, twinsBytes, tauBytes, consents, now, ledger, twins);
    if (outcome.ok && forgery) throw new Error(`model: an action with forged consents (${forgery}) would be accepted`);
    if (!outcome.ok && ["InvalidConsent", "MalformedConsents"].includes(outcome.name)) {
      if (!forgery) throw new Error(`model: an action with honest consents would fail with ${outcome.name}`);
      this.noteForgery(`move: ${forgeryKind}`);
    }
    return { kind: "commitAction", desc, send, outcome };
  }

  /**
   * commitAction's `consents` for the entries of `twinsBytes` as an honest BS makes them (the device's MoveTwin
   * consent for each listed twin that moves to `caller`; "0x" when none moves, else 65 bytes per entry, zeros or any
   * bytes for a twin that stays), or now and then forged: no consent at all (the first BS to commit claiming twins the
   * joint action gives to others), a consent of another slot (replayed) or to another BS, signed by the wrong key, zeros
   * for a moving twin, or a `consents` of the wrong length.
   */
  moveConsents(caller: string, slot: number, twinsBytes: Uint8Array): { consents: Uint8Array; forgery?: string; forgeryKind?: string; moving: number } {
    const count = Math.floor(twinsBytes.length / TWIN_ENTRY_BYTES);
    const view = new DataView(twinsBytes.buffer, twinsBytes.byteOffset, twinsBytes.byteLength);
    const parts: (Uint8Array | undefined)[] = [];
    const moving: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = view.getUint32(i * TWIN_ENTRY_BYTES);
      const t = this.twins[id - 1];
      // an entry listed twice moves once: the second is refused (TwinsNotSorted) before its consent is read
      if (t && t.host !== caller && !moving.some((j) => view.getUint32(j * TWIN_ENTRY_BYTES) === id)) {
        parts.push(this.sign(t.key, this.moveDigest(id, caller, slot)));
        moving.push(i);
      } else parts.push(undefined);
    }
    let forgery: string | undefined;
    let forgeryKind: string | undefined;
    if (moving.length && this.rng.chance(0.3)) {
      const i = this.rng.pick(moving);
      const id = view.getUint32(i * TWIN_ENTRY_BYTES);
      const key = this.twins[id - 1].key;
      const g = this.rng.float();
      if (g < 0.3) {
        parts.fill(undefined);
        forgery = "no consent for the moving twins";
        forgeryKind = "no consent";
      } else if (g < 0.5) {
        const other = slot > 1 && this.rng.chance(0.6) ? slot - 1 : slot + 1;
        parts[i] = this.sign(key, this.moveDigest(id, caller, other));
        forgery = `consent of slot ${other} (replayed) for twin ${id}`;
        forgeryKind = "consent of another slot (replayed)";
      } else if (g < 0.7) {
        const other = this.rng.pick([...this.poolAddrs, this.outsider].filter((a) => a !== caller));
        parts[i] = this.sign(key, this.moveDigest(id, other, slot));
        forgery = `the user's consent to move to ${this.label(other)} for twin ${id}`;
        forgeryKind = "the user's consent to another BS";
      } else if (g < 0.85) {
        parts[i] = this.signWrongKey(key, this.moveDigest(id, caller, slot));
        forgery = `wrong key for twin ${id}`;
        forgeryKind = "wrong key";
      } else {
        parts[i] = new Uint8Array(CONSENT_BYTES);
        forgery = `zeros for moving twin ${id}`;
        forgeryKind = "zeros";
      }
    }
    // an honest BS may send a full `consents` with zeros, or anything, for the twins that stay (not read)
    const full = !parts.every((c) => c === undefined) || (count > 0 && this.rng.chance(0.06));
    const garbage = full && this.rng.chance(0.25);
    if (full && parts.some((c) => c === undefined)) this.notes.unreadConsents++;
    let consents = full ? getBytes(concat(parts.map((c) => c ?? (garbage ? this.randomBytes(CONSENT_BYTES) : new Uint8Array(CONSENT_BYTES))))) : new Uint8Array(0);
    if (this.rng.chance(0.04)) {
      const d = this.rng.float();
      const base = consents.length ? consents : new Uint8Array(count * CONSENT_BYTES);
      if (d < 0.3 && base.length) consents = base.slice(0, base.length - 1);
      else if (d < 0.55) consents = getBytes(concat([base, new Uint8Array(1)]));
      else if (d < 0.8 || count <= 1) consents = getBytes(concat([base, new Uint8Array(CONSENT_BYTES)]));
      else consents = base.slice(0, base.length - CONSENT_BYTES);
      forgery = `consents of ${consents.length} bytes for ${count} entries`;
      forgeryKind = "consents of the wrong length";
    }
    return { consents, forgery, forgeryKind, moving: moving.length };
  }

  /** AssociationLedger.commitAction, check by check in the contract's order. */
  predictCommit(
    caller: string,
    slot: number,
    twinsBytes: Uint8Array,
    tauBytes: Uint8Array,
    consents: Uint8Array,
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
    if (consents.length !== 0 && consents.length !== count * CONSENT_BYTES) return this.fail(ledger, "MalformedConsents", consents.length, count * CONSENT_BYTES);
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
      // TwinRegistry.associate: a twin that moves needs its device's consent to the move in this slot
      const t = this.twins[id - 1];
      if (t.host !== caller) {
        const consent = consents.length ? consents.subarray(i * CONSENT_BYTES, (i + 1) * CONSENT_BYTES) : consents;
        const signer = consentSigner(this.moveDigest(id, caller, slot), consent);
        if (signer !== t.key.address) return this.fail(twins, "InvalidConsent", id, signer, t.key.address);
      }
      listed.push(id);
    }
    return {
      ok: true,
      apply: (rc) => {
        const r = round!;
        shares.forEach((s, c) => (r.tau[c] += s));
        r.committed.add(caller);
        r.weights.set(caller, { k: listed.length, data: listed.reduce((sum, id) => sum + this.twins[id - 1].data, 0n) });
        const moves = listed.filter((id) => this.twins[id - 1].host !== caller).map((id) => `TwinAssociated ${id} ${this.twins[id - 1].host} ${caller} ${this.twins[id - 1].data}`);
        sameList(this.eventsOf(rc, twins, ["TwinAssociated"]), moves, "TwinAssociated events (the moved twins, with their users' consent)");
        this.notes.movesWithConsent += moves.length;
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
    const fresh = this.freshSubmitters(round);
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
          r.subs.set(caller, { pass: 0n, fail: 0n, good: this.rng.chance(0.75), outcome: ModelOutcome.Pending });
          r.order.push(caller);
          this.expectRecords(rc, 1);
        },
      };
    return { kind: "submitModel", desc, send, outcome };
  }

  /** Where round `r` is at `ts`: taking models, taking ballots, taking reveals, waiting to be settled, then recorded. */
  phase(r: ModelRound | undefined, ts: number): "none" | "submit" | "commit" | "reveal" | "settle" | "record" | "done" {
    if (!r) return "none";
    if (r.status === RoundStatus.Settled) return "record";
    if (r.status === RoundStatus.Finalized) return "done";
    if (ts <= r.deadline) return "submit";
    if (!this.revealOpen(r, ts)) return "commit";
    return ts <= r.revealUntil && !this.allRevealed(r, ts) ? "reveal" : "settle";
  }

  /** Members that committed an action with data in round `r` and have not submitted a model. */
  freshSubmitters(r: ModelRound | undefined): string[] {
    return r ? this.members.filter((a) => !r.subs.has(a) && (r.weights.get(a)?.data ?? 0n) > 0n) : [];
  }

  /**
   * Members whose ballot in `r` is committed and not revealed; with `willing`, only the ballots that open validly
   * (not withheld, not committed to fail at reveal), the others being revealed now and then only.
   */
  unrevealed(r: ModelRound, willing: boolean): string[] {
    return r.committers.filter((v) => {
      const b = r.ballots.get(v)!;
      return !b.revealed && this.isMember(v) && (!willing || !b.defect);
    });
  }

  /** TrainingRounds._revealOpen: after the commit window, or after the deadline once every member has committed. */
  revealOpen(r: ModelRound, ts: number): boolean {
    return ts > r.commitUntil || r.revealedCount > 0 || (ts > r.deadline && r.committers.length >= this.members.length);
  }

  /** TrainingRounds._allRevealed: every member committed (after the deadline) and every ballot is revealed. */
  allRevealed(r: ModelRound, ts: number): boolean {
    return ts > r.deadline && r.committers.length >= this.members.length && r.revealedCount === r.committers.length;
  }

  /**
   * The verdicts `verifier` finds on the round's models, in submission order: an honest verifier mostly passes the
   * good models and fails the bad ones; a contrarian the opposite; a careless one at random; its own model ABSTAIN.
   */
  honestBallot(r: ModelRound, verifier: string): { verdicts: number[]; scores: number[]; salt: string } {
    const m = this.rng.float();
    const mode = m < 0.78 ? "honest" : m < 0.9 ? "contrarian" : "random";
    const verdicts = r.order.map((bs) => {
      if (bs === verifier) return VERDICT.abstain;
      const x = this.rng.float();
      if (mode === "random") return x < 0.4 ? VERDICT.pass : x < 0.8 ? VERDICT.fail : VERDICT.abstain;
      if (x < 0.07) return VERDICT.abstain;
      const finds = x < 0.93 ? r.subs.get(bs)!.good : !r.subs.get(bs)!.good;
      return finds === (mode === "honest") ? VERDICT.pass : VERDICT.fail;
    });
    const scores = verdicts.map((v) => (v === VERDICT.pass ? this.rng.int(7_000, 9_900) : v === VERDICT.fail ? this.rng.int(0, 4_000) : this.rng.chance(0.7) ? 0 : this.rng.int(0, MAX_SCORE)));
    return { verdicts, scores, salt: this.rng.bytes32() };
  }

  commitmentOf(round: number, verifier: string, b: { verdicts: number[]; scores: number[]; salt: string }): string {
    return ballotCommitment(round, verifier, { verdicts: b.verdicts as VerdictCode[], scores: b.scores, salt: b.salt });
  }

  /**
   * A member commits the hash of its ballot on every model of the round. Attacks: a commitment before the deadline
   * or after the commit window, an empty one, a second one, a copy of another verifier's commitment (it can never be
   * opened by the copier), and ballots that will fail at reveal (a verdict on the BS's own model, an invalid verdict
   * code or score, a wrong length) or will be withheld.
   */
  opCommitVerdicts(): Plan {
    const { rounds } = this.p;
    const round = this.currentRound();
    if (this.phase(round, this.clock.next) === "submit" && round!.order.length) {
      // jump past the deadline mostly once every model that can come is in
      const waiting = this.freshSubmitters(round).length + this.members.filter((a) => !round!.committed.has(a)).length;
      if (this.rng.chance(waiting ? 0.12 : 0.75)) this.clock.next = round!.deadline + this.rng.int(1, 4);
    }
    const now = this.clock.next;
    let roundId = this.rounds.length;
    const fresh = this.members.filter((a) => !round?.ballots.has(a));
    const caller = fresh.length && this.rng.chance(0.88) ? this.rng.pick(fresh) : this.caller(0.85);
    if (this.rng.chance(0.04)) roundId = Math.max(0, roundId - 1);
    const r = this.rounds[roundId - 1];
    let opens = r ? this.honestBallot(r, caller) : { verdicts: [], scores: [], salt: ZeroHash };
    const withhold = this.rng.chance(0.04);
    let defect: string | undefined = withhold ? "withheld" : undefined;
    let commitment = this.commitmentOf(roundId, caller, opens);
    let copied = false;
    const d = this.rng.float();
    const n = opens.verdicts.length;
    const others = r ? r.committers.filter((v) => v !== caller) : [];
    if (d < 0.025) {
      commitment = ZeroHash;
      defect = "empty";
    } else if (d < 0.05 && others.length) {
      commitment = r!.ballots.get(this.rng.pick(others))!.commitment;
      copied = true;
      defect = "copied";
    } else if (d < 0.08 && r?.order.includes(caller)) {
      opens.verdicts[r.order.indexOf(caller)] = VERDICT.pass;
      defect = "verdict on its own model";
    } else if (d < 0.095 && n) {
      opens.verdicts[this.rng.int(0, n - 1)] = this.rng.int(3, 255);
      defect = "invalid verdict";
    } else if (d < 0.11 && n) {
      opens.scores[this.rng.int(0, n - 1)] = this.rng.int(MAX_SCORE + 1, 0xffff);
      defect = "score out of range";
    } else if (d < 0.125) {
      opens = { ...opens, verdicts: [...opens.verdicts, VERDICT.pass], scores: [...opens.scores, 9_000] };
      defect = "one verdict too many";
    }
    if (defect && !["empty", "copied", "withheld"].includes(defect)) commitment = this.commitmentOf(roundId, caller, opens);
    const desc = `${this.label(caller)} commits verdicts on round ${roundId} [${opens.verdicts.join("")}]${defect ? ` (${defect})` : ""} (now ${r ? now - r.deadline : "?"} s after the deadline)`;
    const send = () => rounds.connect(this.signer(caller)).commitVerdicts(roundId, commitment);
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(rounds, "NotMember", caller);
    else if (r?.status !== RoundStatus.Open) outcome = this.fail(rounds, "InvalidRoundStatus", roundId, r?.status ?? RoundStatus.None);
    else if (now <= r.deadline) outcome = this.fail(rounds, "SubmissionsStillOpen", roundId, r.deadline);
    else if (now > r.commitUntil || r.revealedCount > 0) outcome = this.fail(rounds, "CommitClosed", roundId, r.commitUntil);
    else if (commitment === ZeroHash) outcome = this.fail(rounds, "EmptyCommitment");
    else if (r.ballots.has(caller)) outcome = this.fail(rounds, "AlreadyCommitted", roundId, caller);
    else
      outcome = {
        ok: true,
        apply: () => {
          // observation: a commitment made while the reveals are open (every "member" committed, counting removed ones)
          if (this.revealOpen(r, now)) this.notes.commitsAfterRevealOpened++;
          r.ballots.set(caller, { commitment, opens: copied ? undefined : opens, withhold, defect, revealed: false, passBits: 0, failBits: 0, weight: 0n });
          r.committers.push(caller);
        },
      };
    return { kind: "commitVerdicts", desc, send, outcome };
  }

  /**
   * A committed member reveals its ballot. Attacks: a reveal before the reveal opens or after it closes, without a
   * commitment, twice, with a wrong salt or a changed verdict, another verifier's ballot, a copied commitment, and the
   * ballots committed to fail (own model, invalid verdict or score, wrong length).
   */
  opRevealVerdicts(): Plan {
    const { rounds } = this.p;
    const round = this.currentRound();
    if (this.phase(round, this.clock.next) === "commit" && this.rng.chance(0.15)) this.clock.next = round!.commitUntil + this.rng.int(1, 3);
    const now = this.clock.next;
    let roundId = this.rounds.length;
    const pending = round ? this.unrevealed(round, false) : [];
    const willing = round ? this.unrevealed(round, true) : [];
    const c = this.rng.float();
    let caller: string;
    if (willing.length && c < 0.82) caller = this.rng.pick(willing);
    else if (pending.length && c < 0.87) caller = this.rng.pick(pending); // a withheld or defective ballot
    else if (round?.committers.length && c < 0.91) caller = this.rng.pick(round.committers);
    else caller = this.caller(0.85);
    if (this.rng.chance(0.03)) roundId = Math.max(0, roundId - 1);
    const r = this.rounds[roundId - 1];
    const mine = r?.ballots.get(caller);
    let b = mine?.opens ?? (r ? this.honestBallot(r, caller) : { verdicts: [], scores: [], salt: ZeroHash });
    let defect = mine?.opens ? mine.defect : mine ? "opens a copied commitment" : undefined;
    const d = this.rng.float();
    const theirs = r ? r.committers.filter((v) => v !== caller && r.ballots.get(v)!.opens) : [];
    if (d < 0.04) {
      b = { ...b, salt: this.rng.bytes32() };
      defect = "wrong salt";
    } else if (d < 0.08 && b.verdicts.length) {
      const i = this.rng.int(0, b.verdicts.length - 1);
      const verdicts = b.verdicts.slice();
      verdicts[i] = verdicts[i] === VERDICT.pass ? VERDICT.fail : VERDICT.pass;
      b = { ...b, verdicts };
      defect = "changed verdict";
    } else if (d < 0.1 && theirs.length) {
      b = r!.ballots.get(this.rng.pick(theirs))!.opens!;
      defect = "another verifier's ballot";
    } else if (d < 0.12 && b.scores.length) {
      b = { ...b, scores: b.scores.slice(1) };
      defect = "scores one short";
    }
    const sent = b;
    const desc =
      `${this.label(caller)} reveals verdicts on round ${roundId} [${sent.verdicts.join("")}]${defect ? ` (${defect})` : ""}` +
      (r ? ` weighing ${ethers.formatEther(this.bondedAt(caller, r.snapshot))}` : "");
    const send = () => rounds.connect(this.signer(caller)).revealVerdicts(roundId, sent.verdicts, sent.scores, sent.salt);
    let outcome: Outcome | undefined;
    const n = r?.order.length ?? 0;
    if (!this.isMember(caller)) outcome = this.fail(rounds, "NotMember", caller);
    else if (r?.status !== RoundStatus.Open) outcome = this.fail(rounds, "InvalidRoundStatus", roundId, r?.status ?? RoundStatus.None);
    else if (!this.revealOpen(r, now)) outcome = this.fail(rounds, "RevealNotOpen", roundId, r.commitUntil);
    else if (now > r.revealUntil) outcome = this.fail(rounds, "RevealClosed", roundId, r.revealUntil);
    else if (!mine) outcome = this.fail(rounds, "NotCommitted", roundId, caller);
    else if (mine.revealed) outcome = this.fail(rounds, "AlreadyRevealed", roundId, caller);
    else if (sent.verdicts.length !== n || sent.scores.length !== n) outcome = this.fail(rounds, "VerdictCountMismatch", n, sent.verdicts.length, sent.scores.length);
    else if (this.commitmentOf(roundId, caller, sent) !== mine.commitment) outcome = this.fail(rounds, "CommitmentMismatch", roundId, caller);
    else {
      // TrainingRounds._tally, verdict by verdict
      for (let i = 0; i < n && !outcome; i++) {
        const v = sent.verdicts[i];
        if (v > VERDICT.fail) outcome = this.fail(rounds, "InvalidVerdict", i, v);
        else if (sent.scores[i] > MAX_SCORE) outcome = this.fail(rounds, "ScoreOutOfRange", sent.scores[i]);
        else if (v !== VERDICT.abstain && r.order[i] === caller) outcome = this.fail(rounds, "SelfVerification", caller);
      }
    }
    outcome ??= {
      ok: true,
      apply: (rc) => {
        const weight = this.bondedAt(caller, r!.snapshot);
        let passBits = 0;
        let failBits = 0;
        sent.verdicts.forEach((v, i) => {
          const sub = r!.subs.get(r!.order[i])!;
          if (v === VERDICT.pass) {
            sub.pass += weight;
            passBits |= 1 << i;
          } else if (v === VERDICT.fail) {
            sub.fail += weight;
            failBits |= 1 << i;
          }
        });
        Object.assign(mine!, { revealed: true, passBits, failBits, weight });
        r!.revealedCount++;
        if (now <= r!.commitUntil) this.notes.earlyReveals++;
        const ev = this.eventsOf(rc, rounds, ["VerdictsRevealed"]);
        sameList(ev, [`VerdictsRevealed ${roundId} ${caller} ${sent.verdicts.join(",")} ${sent.scores.join(",")} ${weight}`], "VerdictsRevealed (weight = bond at the snapshot)");
      },
    };
    return { kind: "revealVerdicts", desc, send, outcome };
  }

  opSettleRound(): Plan {
    const { rounds } = this.p;
    const round = this.currentRound();
    const phase = this.phase(round, this.clock.next);
    const willing = round ? this.unrevealed(round, true) : [];
    const jump = { submit: 0.03, commit: 0.06, reveal: willing.length ? 0.05 : 0.85 } as Record<string, number>;
    if (this.rng.chance(jump[phase] ?? 0)) this.clock.next = round!.revealUntil + this.rng.int(1, 8);
    const now = this.clock.next;
    const r0 = this.rng.float();
    const caller = r0 < 0.3 ? this.mbs : r0 < 0.94 && this.members.length ? this.randomMember() : this.rng.pick(this.nonMembers());
    let roundId = this.rounds.length;
    if (this.rng.chance(0.05)) roundId = Math.max(0, roundId + (this.rng.chance(0.5) ? 1 : -1));
    const r_ = this.rounds[roundId - 1];
    const desc =
      `${this.label(caller)} settles round ${roundId}` +
      (r_ ? ` (pass/fail stake per model: ${r_.order.map((bs) => `${this.label(bs)} ${ethers.formatEther(r_.subs.get(bs)!.pass)}/${ethers.formatEther(r_.subs.get(bs)!.fail)}`).join(", ")})` : "");
    const send = () => rounds.connect(this.signer(caller)).settleRound(roundId);
    const r = this.rounds[roundId - 1];
    let outcome: Outcome;
    if (caller !== this.mbs && !this.isMember(caller)) outcome = this.fail(rounds, "NotMember", caller);
    else if (r?.status !== RoundStatus.Open) outcome = this.fail(rounds, "InvalidRoundStatus", roundId, r?.status ?? RoundStatus.None);
    else if (now <= r.revealUntil && !this.allRevealed(r, now)) outcome = this.fail(rounds, "VerificationStillOpen", roundId, r.revealUntil);
    else
      outcome = {
        ok: true,
        apply: (rc) => {
          if (now <= r.revealUntil) this.notes.earlySettles++;
          r.status = RoundStatus.Settled;
          const expected: string[] = [];
          // eligible stake: every member's bond at the snapshot, but the model's own BS's
          const memberStake = this.members.reduce((sum, m) => sum + this.bondedAt(m, r.snapshot), 0n);
          let passedBits = 0;
          let failedBits = 0;
          let failed = 0;
          // The settlement pays its rewards with one StakeVault.creditMany: one Credited per BS (its model and
          // verifier rewards summed; BSs in the order of their first reward: passed models in submission order, then
          // verifiers in commit order), after every failed model is slashed and before any withheld ballot is. Each
          // BS's coins end exactly where crediting and slashing in outcome order leaves them (a failed model earns no
          // model reward, so its slash came before any verifier reward of that BS; a withheld ballot earns no verifier
          // reward, so its slash comes after any model reward).
          const credits = new Map<string, bigint>();
          const addCredit = (a: string, amount: bigint) => {
            if (amount !== 0n) credits.set(a, (credits.get(a) ?? 0n) + amount);
          };
          r.order.forEach((bs, i) => {
            const s = r.subs.get(bs)!;
            const eligible = memberStake - (this.isMember(bs) ? this.bondedAt(bs, r.snapshot) : 0n);
            // the acceptance rule (src/fl/acceptance.ts), on the model's own verdict stakes
            const decision = decide(s.pass, s.fail, eligible, PARAMS.verificationQuorumBps);
            let reward = 0n;
            let slashed = 0n;
            if (decision === "passed") {
              s.outcome = ModelOutcome.Passed;
              passedBits |= 1 << i;
              r.passedCount++;
              reward = PARAMS.rewardPerModel;
              addCredit(bs, reward);
            } else if (decision === "failed") {
              s.outcome = ModelOutcome.Failed;
              failedBits |= 1 << i;
              failed++;
              this.noteEscape(bs, r);
              slashed = this.slash(bs, PARAMS.roundSlashBps);
            } else s.outcome = ModelOutcome.Unverified;
            this.notes.outcomes[decision]++;
            expected.push(`ModelSettled ${r.id} ${bs} ${s.outcome} ${reward} ${slashed}`);
          });
          // a ballot never revealed costs withheldSlashBps; a verdict against an outcome forfeits the reward only
          const agreedOf = (v: string) => {
            const b = r.ballots.get(v)!;
            return b.revealed && (b.passBits & failedBits) === 0 && (b.failBits & passedBits) === 0;
          };
          const rewardOf = (v: string) => {
            const b = r.ballots.get(v)!;
            return agreedOf(v) && ((b.passBits | b.failBits) & (passedBits | failedBits)) !== 0 && b.weight !== 0n ? PARAMS.verifierReward : 0n;
          };
          for (const v of r.committers) addCredit(v, rewardOf(v));
          for (const [a, amount] of credits) this.credit(a, amount);
          for (const v of r.committers) {
            const b = r.ballots.get(v)!;
            const agreed = agreedOf(v);
            const reward = rewardOf(v);
            let slashed = 0n;
            if (!b.revealed) {
              this.noteEscape(v, r);
              if (!this.isMember(v)) this.notes.removedBeforeReveal++;
              slashed = this.slash(v, PARAMS.withheldSlashBps);
              this.notes.withheldSlashed++;
            } else if (!agreed) {
              this.notes.disagreed++;
            } else if (reward !== 0n) {
              this.notes.verifierRewards++;
            }
            expected.push(`VerifierSettled ${r.id} ${v} ${b.revealed} ${agreed} ${reward} ${slashed}`);
          }
          expected.push(`RoundSettled ${r.id} ${r.passedCount} ${failed}`);
          sameList(this.eventsOf(rc, rounds, ["ModelSettled", "VerifierSettled", "RoundSettled"]), expected, `settlement of round ${r.id} (outcomes by the acceptance rule, rewards, slashes)`);
        },
      };
    return { kind: "settleRound", desc, send, outcome };
  }

  /**
   * Observation: `a` is slashed at the settlement of `r` with less stake than the bond its verdicts or its model were
   * weighed with at the snapshot (it unbonded and withdrew before the settlement: possible only when the settlement
   * comes more than half the unbonding delay after the reveal window, since RoundTooLong bounds the round itself).
   */
  noteEscape(a: string, r: ModelRound): void {
    const atSnapshot = this.bondedAt(a, r.snapshot);
    const now = this.bondOf(a) + this.unbondingOf(a);
    const withdrawn = this.withdrawals.filter((w) => w.account === a && w.ts > r.snapshot).reduce((sum, w) => sum + w.amount, 0n);
    if (now < atSnapshot && withdrawn > 0n) {
      this.notes.escapes++;
      this.notes.escapedCoins += withdrawn < atSnapshot - now ? withdrawn : atSnapshot - now;
      const late = this.clock.next - r.revealUntil;
      if (late > this.notes.escapeLatestSettle) this.notes.escapeLatestSettle = late;
    }
  }

  /** The events `names` of `c` in a receipt, as "Name arg arg ..." strings (arrays joined by commas). */
  eventsOf(rc: ContractTransactionReceipt, c: BaseContract, names: readonly string[]): string[] {
    const out: string[] = [];
    for (const l of rc.logs) {
      const ev = parseLogOf(c, l);
      if (!ev || !names.includes(ev.name)) continue;
      const args = Array.from(ev.args).map((x) => (Array.isArray(x) || x instanceof Array ? Array.from(x as Result).join(",") : String(x)));
      out.push([ev.name, ...args].join(" "));
    }
    return out;
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
    // late in a run, once, the MBS may record a global model that is not Eq. 5 of the models it lists (class 7): the
    // chain cannot tell, the BSs that recompute it can (and dispute it)
    const forged = passed.length > 0 && this.forgeAllowed() && this.rng.chance(FORGE_CHANCE);
    let cid = passed.length === 0 && r?.globalCid && this.rng.chance(0.85) ? r.globalCid : fakeCid(`global-${roundId}-${forged ? "forged" : "new"}-${this.rng.int(0, 1e9)}`);
    const d = this.rng.float();
    const notPassed = [...this.poolAddrs, this.outsider].filter((a) => !passed.includes(a));
    if (d < 0.08) aggregated = [...aggregated, this.rng.pick(notPassed)].sort(byAddress);
    else if (d < 0.14 && aggregated.length > 1) aggregated = aggregated.slice().reverse();
    else if (d < 0.18 && aggregated.length) aggregated = [...aggregated, aggregated[aggregated.length - 1]];
    else if (d < 0.21) cid = ethers.concat([cid, cid, cid]);
    const len = ethers.dataLength(cid);
    const desc = `${this.label(caller)} records ${forged ? "a FORGED" : "the"} global model of round ${roundId} from [${aggregated.map((a) => this.label(a)).join(",")}]`;
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
        r!.forged = forged;
        if (forged) this.notes.forgedModels++;
      },
    };
    return { kind: "recordGlobalModel", desc, send, outcome };
  }

  /** Late in the run (FORGE_FROM): a halt of the rounds costs the campaign little. */
  late(): boolean {
    return this.opIndex >= FORGE_FROM * this.totalOps;
  }
  /** The MBS may forge a global model: late in the run, and if it has not forged one yet. */
  forgeAllowed(): boolean {
    return this.late() && !this.rounds.some((r) => r.forged);
  }
  /**
   * An honest-looking BS disputes a correct global model only when that halts nothing (the campaign keeps its rounds
   * going; only a forged model halts them): the dispute stake stays below the quorum, and the members that have not
   * spoken yet can still attest the model to the quorum. It may delay the opening (GlobalModelNotAttested) meanwhile.
   */
  harmlessDissent(r: ModelRound, bs: string, weight: bigint): boolean {
    if (r.status !== RoundStatus.Finalized || r.attestations.has(bs) || !this.isMember(bs)) return true;
    const quorum = this.attestationQuorum(r);
    const reachable = this.members.filter((a) => a !== bs && !r.attestations.has(a)).reduce((sum, a) => sum + this.bondedAt(a, r.snapshot), r.attestStake);
    return r.disputeStake + weight < quorum && reachable >= quorum;
  }

  /**
   * A member attests or disputes the current round's recorded global model, weighing its bond at the round's
   * snapshot. Honest BSs recompute Eq. 5 and attest a correct model (now and then an honest-looking one disputes it,
   * DISSENT) and dispute a forged one (a careless one attests it). Invalid: a round not finalized (the current round
   * before its model is recorded, the next round, round 0), a round after which a later round was opened, a second
   * word of the same BS, a non-member.
   */
  opAttestGlobalModel(): Plan {
    const { rounds } = this.p;
    const round = this.currentRound();
    const fresh = round?.status === RoundStatus.Finalized ? this.members.filter((a) => !round.attestations.has(a) && round.electorate.has(a)) : [];
    const spoken = round ? this.members.filter((a) => round.attestations.has(a)) : [];
    const rng = this.attestRng;
    const c = rng.float();
    const anyone = () => (this.members.length && rng.chance(0.85) ? rng.pick(this.members) : rng.pick(this.nonMembers()));
    const caller = fresh.length && c < 0.75 ? rng.pick(fresh) : spoken.length && c < 0.9 ? rng.pick(spoken) : anyone();
    let roundId = this.rounds.length;
    const d = rng.float();
    if (d < 0.1) roundId = Math.max(0, roundId - rng.int(1, 2));
    else if (d < 0.13) roundId++;
    const r = this.rounds[roundId - 1];
    const weight = r ? this.bondedAt(caller, r.snapshot) : 0n;
    const agrees = r?.forged ? rng.chance(0.08) : !(rng.chance(DISSENT) && (r === undefined || this.harmlessDissent(r, caller, weight)));
    const desc =
      `${this.label(caller)} ${agrees ? "attests" : "disputes"} the global model of round ${roundId}${r?.forged ? " (forged)" : ""} ` +
      `weighing ${ethers.formatEther(weight)}` +
      (r?.status === RoundStatus.Finalized ? ` (attested ${ethers.formatEther(r.attestStake)}, disputed ${ethers.formatEther(r.disputeStake)}, quorum ${ethers.formatEther(this.attestationQuorum(r))})` : "");
    const send = () => rounds.connect(this.signer(caller)).attestGlobalModel(roundId, agrees);
    let outcome: Outcome;
    if (!this.isMember(caller)) outcome = this.fail(rounds, "NotMember", caller);
    else if (r?.status !== RoundStatus.Finalized) outcome = this.fail(rounds, "InvalidRoundStatus", roundId, r?.status ?? RoundStatus.None);
    else if (roundId !== this.rounds.length) outcome = this.fail(rounds, "AttestationClosed", roundId);
    else if (r.attestations.has(caller)) outcome = this.fail(rounds, "AlreadyAttested", roundId, caller);
    else if (!r.electorate.has(caller)) {
      this.notes.notAttesters++;
      outcome = this.fail(rounds, "NotAttester", roundId, caller);
    }
    else
      outcome = {
        ok: true,
        apply: (rc) => {
          r.attestations.set(caller, agrees);
          if (agrees) r.attestStake += weight;
          else r.disputeStake += weight;
          if (agrees) this.notes.attested++;
          else this.notes.disputed++;
          if (r.forged && agrees) this.notes.attestedForged++;
          if (r.forged && !agrees) this.notes.disputedForged++;
          if (weight === 0n) this.notes.zeroWeightWords++;
          sameList(this.eventsOf(rc, rounds, ["GlobalModelAttested"]), [`GlobalModelAttested ${roundId} ${caller} ${agrees} ${weight}`], "GlobalModelAttested (weight = bond at the snapshot)");
        },
      };
    return { kind: "attestGlobalModel", desc, send, outcome };
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
      // while ballots are committed or revealed, wait at most a slot (a longer jump would skip the verdict windows)
      const busy = ["commit", "reveal"].includes(this.phase(this.currentRound(), this.clock.next));
      if (start !== undefined && (!busy || start - this.clock.next <= SLOT)) this.clock.next = start;
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
      this.packedHistory.push({ ts: this.clock.next, packedUpTo: b.to });
      this.finalCount++;
      this.notes.finalBlocks++;
      if (!b.correct) throw new Error(`model: block ${b.id} with a wrong root became final (the chain checks roots at proposal)`);
    }
  }

  /**
   * BlockLedger.packedAtSlotStart as the contract derives it: the last block of an earlier slot, its end if final,
   * its start otherwise (0 without one).
   */
  packedAtSlotStart(slot: number): number {
    for (let i = this.blocks.length - 1; i >= 0; i--) {
      const b = this.blocks[i];
      if (b.slot < slot) return b.status === BlockStatus.Final ? b.to : b.from;
    }
    return 0;
  }

  /** What packedUpTo was when `slot` began, from the history of finalizations (what packedAtSlotStart stands for). */
  packedUpToBefore(ts: number): number {
    let x = 0;
    for (const h of this.packedHistory) if (h.ts < ts) x = h.packedUpTo;
    return x;
  }

  /** The record waiting when `slot` began (the first not in a final block, appended before the slot), if any. */
  waitingRecord(slot: number): { index: number; record: ModelRecord } | undefined {
    const index = this.packedAtSlotStart(slot);
    const record = this.records[index];
    return record && record.appendedAt < this.slotStart(slot) ? { index, record } : undefined;
  }

  /**
   * The fields a reporter gives for a report that gets past every earlier check: of a slot with a record waiting, in
   * turn the true ones, fields that are not its leaf, the true ones again, and a claim that it was appended at the
   * slot's start or later (so that every refusal occurs in a short run); of a slot with nothing waiting, any
   * ({@link evidenceFor}).
   */
  scheduledEvidence(slot: number): Evidence {
    const w = this.waitingRecord(slot);
    if (!w) return this.evidenceFor(slot);
    const turn = this.evidenceTurn++ % 4;
    const rng = this.evidenceRng;
    if (turn === 0 || turn === 2) return { ...w.record, desc: `record ${w.index}'s fields` };
    if (turn === 3) return { ...w.record, appendedAt: this.slotStart(slot) + rng.int(0, 5), desc: `record ${w.index} claimed appended at or after the slot's start` };
    for (;;) {
      const e = this.evidenceFor(slot);
      if (recordLeaf(w.index, e.kind, e.payloadHash, e.appendedAt) !== this.leaves[w.index] && e.appendedAt < this.slotStart(slot)) return e;
    }
  }

  /**
   * The fields a reporter gives: mostly the true ones of the record at the waiting position; else a wrong payload
   * hash, appendedAt or kind, another record's fields, a claim that the record was appended at the slot's start or
   * later, or fields of a record nobody appended.
   */
  evidenceFor(slot: number): Evidence {
    const start = this.slotStart(slot);
    const w = this.waitingRecord(slot);
    const index = this.packedAtSlotStart(slot);
    // the record at the waiting position, even if it was appended during the slot (its true fields)
    const rec = this.records[index];
    const rng = this.evidenceRng;
    const e = rng.float();
    if (rec && e < 0.72) return { ...rec, desc: w ? `record ${index}'s fields` : `record ${index}'s fields (appended ${rec.appendedAt - start} s after the slot began)` };
    if (rec && e < 0.77) return { ...rec, payloadHash: rng.bytes32(), desc: `record ${index} with a wrong payload hash` };
    if (rec && e < 0.82) {
      const delta = rng.chance(0.5) ? -rng.int(1, 30) : rng.int(1, 3);
      return { ...rec, appendedAt: Math.max(0, rec.appendedAt + delta), desc: `record ${index} with appendedAt ${delta > 0 ? "+" : ""}${delta} s` };
    }
    if (rec && e < 0.86) return { ...rec, kind: (rec.kind + rng.int(1, 2)) % 3, desc: `record ${index} with a wrong kind` };
    if (this.records.length && e < 0.91) {
      const other = rng.int(0, this.records.length - 1);
      return { ...this.records[other], desc: `record ${other}'s fields` };
    }
    if (rec && e < 0.95) return { ...rec, appendedAt: start + rng.int(0, 5), desc: `record ${index} claimed appended at or after the slot's start` };
    return { kind: rng.int(0, 2), payloadHash: rng.bytes32(), appendedAt: start - rng.int(1, 200), desc: "fields of a record nobody appended" };
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
    /** Missed slots that had nothing to pack when they began: reporting them is the attack NothingWaiting stops. */
    const idle: number[] = [];
    const beforeElection: number[] = [];
    for (let s = Math.max(0, current - 4 * SLOTS_PER_EPOCH); s < current; s++) {
      if (this.blockOfSlot.has(s) || this.reported.has(s)) continue;
      if (this.producerOfSlot(s)) {
        missed.push(s);
        if (!this.waitingRecord(s)) idle.push(s);
      }
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
    // now and then a missed slot that had nothing to pack: the attack NothingWaiting stops
    if (idle.length && this.evidenceRng.chance(0.2)) slot = this.evidenceRng.pick(idle);
    const c = this.rng.float();
    const caller = c < 0.3 ? this.mbs : c < 0.94 && this.members.length ? this.randomMember() : this.rng.pick(this.nonMembers());
    const epoch = this.epochOfSlot(slot);
    const producer = this.producerOfSlot(slot);
    const reachesEvidence =
      (caller === this.mbs || this.isMember(caller)) && slot < current && !this.blockOfSlot.has(slot) && !this.reported.has(slot) &&
      producer !== undefined && this.jail(producer) <= epoch && this.isMember(producer) && this.producers(epoch).length >= MIN_PRODUCERS;
    const ev = reachesEvidence ? this.scheduledEvidence(slot) : this.evidenceFor(slot);
    const waiting = this.packedAtSlotStart(slot);
    const start = this.slotStart(slot);
    const desc = `${this.label(caller)} reports slot ${slot} (epoch ${epoch}, producer ${producer ? this.label(producer) : "-"}) as missed, with ${ev.desc}`;
    const send = () => blocks.connect(this.signer(caller)).reportMissedSlot(slot, ev.kind, ev.payloadHash, ev.appendedAt);
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
    } else if (waiting >= this.records.length || ev.appendedAt >= start) {
      // nothing on the log was waiting, or the claimed record was appended at or after the slot's start
      if (!this.waitingRecord(slot)) this.notes.idleSlotReportsRefused++;
      else this.notes.lateEvidenceRefused++;
      outcome = this.fail(blocks, "NothingWaiting", slot, waiting, start);
    } else if (recordLeaf(waiting, ev.kind, ev.payloadHash, ev.appendedAt) !== this.leaves[waiting]) {
      this.notes.forgedEvidenceRefused++;
      outcome = this.fail(blocks, "RecordProofMismatch", waiting);
    } else
      outcome = {
        ok: true,
        apply: (rc) => {
          // the fields that passed are the true ones of the record waiting when the slot began
          const w = this.waitingRecord(slot);
          if (!w || w.index !== waiting || w.record.kind !== ev.kind || w.record.payloadHash !== ev.payloadHash || w.record.appendedAt !== ev.appendedAt) {
            throw new Error(`model: slot ${slot} punished without the waiting record's true fields (${ev.desc})`);
          }
          this.reported.add(slot);
          const amount = this.penalize(producer, now);
          sameList(this.eventsOf(rc, blocks, ["ProducerSlashed"]), [`ProducerSlashed ${producer} ${amount}`], "ProducerSlashed (blockSlashBps of bonded + unbonding)");
        },
      };
    return { kind: "reportMissedSlot", desc, send, outcome };
  }

  // ----- bootstrap -----------------------------------------------------------------------------------------------

  bootstrapPlans(): (() => Plan)[] {
    const { registry, users, twins, genesis } = this.p;
    const five = this.poolAddrs.slice(0, 5);
    const plans: (() => Plan)[] = [];
    const bootUsers = Array.from({ length: 2 * five.length }, () => this.newUser());
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
    plans.push(() => ({
      kind: "bootstrap",
      desc: `MBS admits ${bootUsers.length} end users with their device keys`,
      send: async () => {
        // the campaign's synchronous EIP-712 signatures are src/chain/consent.ts's, over the contract's domain
        same(await twins.domainSeparator(), this.domainHash, "domainSeparator() == the domain of src/chain/consent.ts");
        const [u] = bootUsers;
        same(await signRegistration(u.key, this.domain!, u.id, five[0]), hexlify(this.sign(u.key, this.registerDigest(u.id, five[0]))), "signRegistration == the campaign's signature");
        return users.admitUsers(
          bootUsers.map((x) => x.id),
          bootUsers.map((x) => x.key.address),
        );
      },
      outcome: { ok: true, apply: () => bootUsers.forEach((x) => this.admitted.set(x.id, x.key)) },
    }));
    for (const [i, bs] of five.entries()) {
      for (let k = 0; k < 2; k++) {
        const { id: user, key } = bootUsers[2 * i + k];
        const size = BigInt(this.rng.int(50, 500));
        plans.push(() => ({
          kind: "bootstrap",
          desc: `${this.label(bs)} registers a twin with its user's consent`,
          send: () => twins.connect(this.signer(bs)).registerTwin(user, this.sign(key, this.registerDigest(user, bs))),
          outcome: { ok: true, apply: () => void this.twins.push({ user, host: bs, data: 0n, key, version: 0 }) },
        }));
        plans.push(() => {
          const id = this.twins.length;
          const [commitment, state] = [ethers.id(`data-${id}`), ethers.id(`state-${id}`)];
          const consent = this.sign(key, this.dataDigest(id, bs, size, commitment, state, 1));
          return {
            kind: "bootstrap",
            desc: `${this.label(bs)} records data of twin ${id} with its user's consent`,
            send: () => twins.connect(this.signer(bs)).recordTwinData(id, size, commitment, state, consent),
            outcome: {
              ok: true,
              apply: (rc) => {
                Object.assign(this.twins[id - 1], { data: size, version: 1, last: { size, commitment, state, consent } });
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
          for (const a of this.members) this.credit(a, (PARAMS.initialSupply * dataOf(a)) / total);
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
    const phase = this.phase(round, now);
    const w: Record<(typeof KINDS)[number], number> = {
      join: this.poolAddrs.some((a) => !this.isMember(a)) ? 2.5 : 0.4,
      leave: this.members.length > 4 ? 1.2 : 0.4,
      metadata: 1,
      // users come before their twins: the operator admits some whenever few admitted users are without a twin
      admitUsers: this.twins.length < MAX_TWINS && this.freeUsers().length < 2 ? 3 : 0.5,
      registerTwin: this.twins.length < MAX_TWINS ? 2.5 : 0.4,
      twinData: 2.5,
      twinModel: 1.2,
      registerCandidate: this.candidates.filter((c) => this.isMember(c)).length < 4 ? 4 : 0.8,
      withdrawCandidacy: 1,
      vote: 4,
      transfer: this.liquidHolders().length ? 2.5 : 0.4,
      approve: this.liquidHolders().length ? 1.5 : 0.5,
      bond: this.members.some((a) => this.bal(a) > 0n) ? 3 : 0.5,
      unbond: 1.2 + (this.accounts.some((a) => this.queue(a).length >= 3 && this.bondOf(a) > 0n) ? 1.5 : 0),
      withdraw: this.accounts.some((a) => this.matured(a, now).length) ? 4 : 0.6,
      // a jump to the next epoch would skip a round's verdict windows: mostly between rounds
      advanceEpoch: ["submit", "commit", "reveal"].includes(phase) ? 0.05 : 1.4,
      elect: this.elected.has(this.epochAt(now)) ? 0.5 : 8,
      // the MBS tries to open the next round as soon as a round is finalized, refused until its global model is
      // attested (the attestations, much likelier, mostly come first); after a disputed one it keeps trying, in vain
      openRound: !round || round.status === RoundStatus.Finalized ? (!round || !this.attestationRefusal(round) || this.attestationPending(round) ? 6 : 1.5) : 0.5,
      commitAction: phase === "submit" && this.members.some((a) => !round!.committed.has(a)) ? 10 : 0.6,
      submitModel: phase === "submit" && this.freshSubmitters(round).length ? 12 : 0.6,
      commitVerdicts:
        phase === "commit" && this.members.some((a) => !round!.ballots.has(a))
          ? round!.order.length
            ? 14
            : 2
          : (phase === "submit" && round!.order.length) || (phase === "reveal" && round!.revealedCount > 0) // the latter: a commitment after a reveal (refused)
            ? 2
            : 0.6,
      revealVerdicts: phase === "reveal" ? (this.unrevealed(round!, true).length ? 30 : this.unrevealed(round!, false).length ? 2 : 0.6) : phase === "commit" ? 1.5 : 0.6,
      settleRound: phase === "settle" ? 8 : phase === "reveal" ? 2 : roundOpen ? 0.8 : 0.5,
      recordGlobalModel: round?.status === RoundStatus.Settled ? 6 : 0.5,
      attestGlobalModel: this.attestationPending(round) ? 30 : round?.status === RoundStatus.Finalized ? 1.5 : 0.4,
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
      case "admitUsers":
        return this.opAdmitUsers();
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
      case "approve":
        return this.opApprove();
      case "bond":
        return this.opBond();
      case "unbond":
        return this.opUnbond();
      case "withdraw":
        return this.opWithdraw();
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
      case "commitVerdicts":
        return this.opCommitVerdicts();
      case "revealVerdicts":
        return this.opRevealVerdicts();
      case "settleRound":
        return this.opSettleRound();
      case "recordGlobalModel":
        return this.opRecordGlobalModel();
      case "attestGlobalModel":
        return this.opAttestGlobalModel();
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
    let receipt: ContractTransactionReceipt | undefined;
    this.expectedStakeEvents = [];
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
        receipt = rc!;
        this.checkCoinRecipients(rc!);
        o.apply(rc!);
        // the vault did exactly what the model predicts: every credit, bond, unbonding, withdrawal and slash, in order
        sameList(this.eventsOf(rc!, this.p.stake, STAKE_EVENTS), this.expectedStakeEvents, "StakeVault events (the model's credits, bonds, unbondings, withdrawals and slashes)");
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
    this.history.push({ ts: this.clock.last, bonded: new Map(this.bonded) });
    const line = `#${index} t=${this.clock.last} slot ${this.slotAt(this.clock.last)} [${plan.kind}] ${plan.desc}` +
      ("outcome" in plan ? (plan.outcome.ok ? " -> ok" : ` -> ${plan.outcome.name}`) : "");
    this.recent.push(line);
    if (TRACE) console.log(`      ${line}`);
    if (this.recent.length > 25) this.recent.shift();
    const before = this.lastSnap;
    const t1 = Date.now();
    // the contracts whose storage this step left as it was: their views need not be read again
    const roots = await storageRoots([...this.contractNames.keys()]);
    const unchanged = new Set([...roots].filter(([a, root]) => this.roots.get(a) === root).map(([a]) => a));
    if ((rejected || "to" in plan) && this.roots.size) {
      // a rejected operation (or time passing) changes nothing: every protocol contract's storage root is the same
      for (const [a, root] of roots) same(root, this.roots.get(a), `storage of ${this.contractNames.get(a)} changed by a ${rejected ? "rejected operation" : "time step"}`);
    }
    this.roots = roots;
    const deep = ++this.stepsSinceDeep >= DEEP_CHECK_EVERY;
    // before a deep check every view is read again, and the ones of unchanged contracts must be what was reused
    const snap = await this.checkInvariants(receipt, deep ? new Set() : unchanged);
    if (deep && before) {
      for (const [key, value] of snap.raw) {
        const call = snap.calls.get(key)!;
        if (unchanged.has(call.target) && before.calls.get(key)?.data === call.data) same(value, before.raw.get(key), `view ${key} of an unchanged contract changed`);
      }
    }
    if (deep) await this.deepCheck();
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

  /** Every coin that moves goes to an address whose balance the checks read; only the vault mints and burns. */
  checkCoinRecipients(rc: ContractTransactionReceipt): void {
    const { coin } = this.p;
    for (const l of rc.logs) {
      const ev = parseLogOf(coin, l);
      if (ev?.name !== "Transfer") continue;
      if (ev.args.from === ZeroAddress) same(ev.args.to, this.vault, "coins are minted only into the vault");
      if (ev.args.to === ZeroAddress) same(ev.args.from, this.vault, "coins are burned only from the vault");
      else if (!this.holders.includes(ev.args.to)) expect(this.holders, "coin recipient is a tracked holder").to.include(ev.args.to);
    }
  }

  /** The invariants, after every step (and the model's view of the same state); `rc` is the step's receipt, if any. */
  async checkInvariants(rc: ContractTransactionReceipt | undefined, unchanged: ReadonlySet<string>): Promise<Snapshot> {
    const { coin, stake, election, blocks, recordLog, users, twins, rounds, ledger } = this.p;
    const rd = new Reader();
    rd.add("supply", coin, "totalSupply");
    rd.add("userCount", users, "userCount");
    for (const a of this.holders) rd.add(`bal:${a}`, coin, "balanceOf", [a]);
    rd.add("totalBonded", stake, "totalBonded");
    for (const a of this.poolAddrs) rd.add(`stake:${a}`, stake, "stakeOf", [a]);
    const epoch = this.epochAt(this.clock.last);
    rd.add(`elected:${epoch}`, election, "isElected", [epoch]);
    rd.add(`producers:${epoch}`, election, "producersOf", [epoch]);
    const voteCheck = this.pendingVoteCheck;
    this.pendingVoteCheck = undefined;
    if (voteCheck) for (const v of voteCheck.voters) rd.add(`pastBond:${v}`, stake, "bondedAt", [v, voteCheck.snapshot]);
    rd.add("blockCount", blocks, "blockCount");
    rd.add("finalCount", blocks, "finalBlockCount");
    rd.add("packedUpTo", blocks, "packedUpTo");
    const slotNow = this.slotAt(this.clock.last);
    rd.add(`packedAtSlotStart:${slotNow}`, blocks, "packedAtSlotStart", [slotNow]);
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
    if (cur) {
      for (let c = 0; c < PARAMS.subchannels; c++) rd.add(`tau:${cur.id}:${c}`, ledger, "tauUsed", [cur.id, c]);
      rd.add(`round:${cur.id}`, rounds, "getRound", [cur.id]);
      for (const bs of cur.order) rd.add(`submission:${cur.id}:${bs}`, rounds, "submission", [cur.id, bs]);
      if (cur.status === RoundStatus.Open) for (const v of cur.committers) rd.add(`ballot:${cur.id}:${v}`, rounds, "ballot", [cur.id, v]);
    }
    // every round's attestation tally, and what the chain says each round a later one opened from passed
    for (const r of this.rounds) {
      rd.add(`tally:${r.id}`, rounds, "attestationTally", [r.id]);
      if (r !== cur) rd.add(`pastRound:${r.id}`, rounds, "getRound", [r.id]);
    }
    const s = await rd.run(this.lastSnap && { prev: this.lastSnap, unchanged });
    const before = this.lastSnap;

    // (1) coin supply == sum of the balances of every address that can hold coins (see checkCoinRecipients); the
    // vault holds exactly the bonds and the unbonding queues (and what was sent to it by plain transfers)
    let sum = 0n;
    for (const a of this.holders) {
      const bal = s.big(`bal:${a}`);
      sum += bal;
      same(bal, this.bal(a), `balance of ${this.label(a)}`);
    }
    same(s.big("supply"), sum, "totalSupply == sum of balances (the vault's included)");
    same(s.big("supply"), this.supply, "totalSupply == model");
    let bondSum = 0n;
    let unbondingSum = 0n;
    for (const a of this.poolAddrs) {
      const [bonded, unbonding] = s.get(`stake:${a}`) as [bigint, bigint];
      bondSum += bonded;
      unbondingSum += unbonding;
      same(bonded, this.bondOf(a), `bond of ${this.label(a)}`);
      same(unbonding, this.unbondingOf(a), `unbonding coins of ${this.label(a)}`);
    }
    same(s.big("totalBonded"), bondSum, "totalBonded == sum of the bonds");
    same(s.big("totalBonded"), this.totalBonded(), "totalBonded == model");
    same(s.big(`bal:${this.vault}`), bondSum + unbondingSum + this.donated, "the vault's coins == totalBonded + unbonding (+ coins transferred to it)");

    // (2) the producers of the current epoch are the top-N computed in TypeScript when it was elected
    same(s.get(`elected:${epoch}`), this.elected.has(epoch), `isElected(${epoch})`);
    sameList(s.list(`producers:${epoch}`), this.producers(epoch), `producersOf(${epoch})`);
    if (voteCheck) {
      // ... and the checkpointed weights it used are the model's bonds at epochStart - 1
      for (const v of voteCheck.voters) {
        same(s.big(`pastBond:${v}`), this.bondedAt(v, voteCheck.snapshot), `bondedAt(${this.label(v)}, ${voteCheck.snapshot})`);
      }
    }

    // (7) slash exactness and (8) supply only by the protocol's mints and burns, from the chain alone: the step's
    // StakeVault events account for every change of every bond, queue and of the supply
    if (before) this.checkStakeDeltas(before, s, rc);

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
    // the records in final blocks when the current slot began: from the last earlier block, as the contract derives
    // it, and from the history of finalizations (what it stands for: every earlier block was decided by then)
    same(this.packedAtSlotStart(slotNow), this.packedUpToBefore(this.slotStart(slotNow)), `model: packedAtSlotStart(${slotNow}) = packedUpTo when the slot began`);
    same(s.num(`packedAtSlotStart:${slotNow}`), this.packedAtSlotStart(slotNow), `packedAtSlotStart(${slotNow})`);
    same(s.num("logLength"), this.leaves.length, "record log length");

    // (4) one BS per twin; per-BS counts and data sums agree with the hosts and with the totals; the admitted users
    same(s.num("userCount"), this.admitted.size, "userCount");
    same(s.num("twinCount"), this.twins.length, "twinCount");
    const count = new Map<string, number>();
    const data = new Map<string, bigint>();
    this.twins.forEach((t, i) => {
      const host = s.str(`host:${i + 1}`);
      same(host, t.host, `hostOf(${i + 1})`);
      if (!this.poolAddrs.includes(host)) expect(this.poolAddrs, `host of twin ${i + 1} is a BS`).to.include(host);
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
    if (cur) {
      this.checkTau(s, cur);
      // (6) Eq. 5 weights, (9) verdict stakes and outcomes, (10) ballots of the current round
      this.checkRound(s, cur, cur.status === RoundStatus.Open);
    }

    // (11) no round r > 1 opened from a round with passed models unless BSs holding the quorum of its members' stake
    // attested its global model and BSs holding the quorum did not dispute it: by the model, and by the chain alone
    // (its tallies, and the passed count of each round a later round opened from); every tally is the model's
    for (const r of this.rounds) {
      const [attest, dispute, quorum] = s.get(`tally:${r.id}`) as [bigint, bigint, bigint];
      const q = this.attestationQuorum(r);
      sameList([attest, dispute, quorum], [r.attestStake, r.disputeStake, q], `attestationTally(${r.id}) (attestStake, disputeStake, quorum)`);
      if (r === cur) continue;
      if (r.passedCount !== 0 && !(r.attestStake >= q && r.disputeStake < q)) {
        expect.fail(`model: round ${r.id + 1} opened from round ${r.id} (${r.passedCount} passed) with ${r.attestStake} attested, ${r.disputeStake} disputed, quorum ${q}`);
      }
      const passed = (s.get(`pastRound:${r.id}`) as { passed: bigint }).passed;
      if (passed !== 0n) {
        if (quorum === 0n) expect(quorum, `attestationTally(${r.id}).quorum is at least 1`).to.be.greaterThan(0n);
        if (attest < quorum) expect(attest, `round ${r.id + 1} opened from round ${r.id} (${passed} passed): its attest stake reached the quorum`).to.be.at.least(quorum);
        if (dispute >= quorum) expect(dispute, `round ${r.id + 1} opened from round ${r.id} (${passed} passed): its dispute stake stayed below the quorum`).to.be.below(quorum);
      }
    }

    this.lastSnap = s;
    return s;
  }

  /**
   * (7) and (8) from the chain alone: over one step, each BS's bond changes by Credited + Bonded - UnbondingStarted -
   * Slashed.fromBond and its unbonding coins by UnbondingStarted - Withdrawn - Slashed.fromUnbonding (so a slash takes
   * exactly its amount from bonded + unbonding), every Credited is minted and every Slashed burned (a Transfer from or
   * to 0 of the same amount, nothing else minted or burned), and the supply changes by the credits minus the slashes.
   */
  checkStakeDeltas(before: Snapshot, after: Snapshot, rc: ContractTransactionReceipt | undefined): void {
    const { stake, coin } = this.p;
    const dBond = new Map<string, bigint>();
    const dUnbonding = new Map<string, bigint>();
    const add = (m: Map<string, bigint>, a: string, x: bigint) => m.set(a, (m.get(a) ?? 0n) + x);
    let credited = 0n;
    let slashed = 0n;
    const mintsAndBurns: string[] = [];
    const expectedMintsAndBurns: string[] = [];
    for (const l of rc?.logs ?? []) {
      if (l.address === coin.target) {
        const ev = parseLogOf(coin, l);
        if (ev?.name === "Transfer" && ev.args.from === ZeroAddress) mintsAndBurns.push(`mint ${ev.args.value}`);
        if (ev?.name === "Transfer" && ev.args.to === ZeroAddress) mintsAndBurns.push(`burn ${ev.args.value}`);
        continue;
      }
      const ev = parseLogOf(stake, l);
      if (!ev) continue;
      const a = ev.args[0] as string;
      switch (ev.name) {
        case "Credited":
          add(dBond, a, ev.args.amount as bigint);
          credited += ev.args.amount as bigint;
          expectedMintsAndBurns.push(`mint ${ev.args.amount}`);
          break;
        case "Bonded":
          add(dBond, a, ev.args.amount as bigint);
          break;
        case "UnbondingStarted":
          add(dBond, a, -(ev.args.amount as bigint));
          add(dUnbonding, a, ev.args.amount as bigint);
          break;
        case "Withdrawn":
          add(dUnbonding, a, -(ev.args.amount as bigint));
          break;
        case "Slashed": {
          const amount = (ev.args.fromBond as bigint) + (ev.args.fromUnbonding as bigint);
          if (amount <= 0n) expect(amount, "a Slashed event burns something").to.be.greaterThan(0n);
          add(dBond, a, -(ev.args.fromBond as bigint));
          add(dUnbonding, a, -(ev.args.fromUnbonding as bigint));
          slashed += amount;
          expectedMintsAndBurns.push(`burn ${amount}`);
          break;
        }
        default:
          break;
      }
    }
    for (const a of this.poolAddrs) {
      const [b0, u0] = before.get(`stake:${a}`) as [bigint, bigint];
      const [b1, u1] = after.get(`stake:${a}`) as [bigint, bigint];
      same(b1 - b0, dBond.get(a) ?? 0n, `change of ${this.label(a)}'s bond == its Credited + Bonded - UnbondingStarted - Slashed.fromBond`);
      same(u1 - u0, dUnbonding.get(a) ?? 0n, `change of ${this.label(a)}'s unbonding coins == its UnbondingStarted - Withdrawn - Slashed.fromUnbonding`);
    }
    // StakeVault.creditMany (a settlement's rewards) mints the sum of its Credited events once: a run of consecutive
    // credits is compared with the run of consecutive mints, by their sums.
    const mergeMints = (list: string[]) =>
      list.reduce<string[]>((out, e) => {
        const last = out[out.length - 1];
        if (e.startsWith("mint ") && last?.startsWith("mint ")) out[out.length - 1] = `mint ${BigInt(last.slice(5)) + BigInt(e.slice(5))}`;
        else out.push(e);
        return out;
      }, []);
    sameList(mergeMints(mintsAndBurns), mergeMints(expectedMintsAndBurns), "mints and burns are exactly the vault's credits and slashes");
    same(after.big("supply") - before.big("supply"), credited - slashed, "change of totalSupply == credited - slashed");
  }

  /**
   * The chain's view of round `r` against the model: windows and counters; (6) every model weighs its committed
   * action's recorded data, and no twin counts in two models of the round; (9) pass/fail stakes and outcomes;
   * (10) with `ballots`, every committed ballot (commitment, revealed, bitmaps, weight).
   */
  checkRound(s: Snapshot, r: ModelRound, ballots: boolean): void {
    const v = s.get(`round:${r.id}`) as {
      status: bigint;
      deadline: bigint;
      commitUntil: bigint;
      revealUntil: bigint;
      snapshot: bigint;
      passed: bigint;
      committed: bigint;
      revealed: bigint;
      memberStake: bigint;
      attestStake: bigint;
      disputeStake: bigint;
    };
    sameList(
      [v.memberStake, v.attestStake, v.disputeStake],
      [r.memberStake, r.attestStake, r.disputeStake],
      `round ${r.id} (memberStake: the bonds at the snapshot of the members at the opening; attestStake; disputeStake)`,
    );
    sameList(
      [v.status, v.deadline, v.commitUntil, v.revealUntil, v.snapshot, v.passed, v.committed, v.revealed].map(Number),
      [r.status, r.deadline, r.commitUntil, r.revealUntil, r.snapshot, r.passedCount, r.committers.length, r.revealedCount],
      `round ${r.id} (status, deadline, commitUntil, revealUntil, snapshot, passed, committed, revealed)`,
    );
    const claimedBy = new Map<number, string>();
    for (const [id, claimants] of r.claims) {
      same(claimants.size, 1, `twin ${id} is listed by one BS in slot ${r.id}`);
      claimedBy.set(id, [...claimants][0]);
    }
    for (const bs of r.order) {
      const sub = s.get(`submission:${r.id}:${bs}`) as { exists: boolean; outcome: bigint; passStake: bigint; failStake: bigint; dataSize: bigint; numTwins: bigint };
      const m = r.subs.get(bs)!;
      const w = r.weights.get(bs)!;
      same(sub.exists, true, `round ${r.id} has a submission of ${this.label(bs)}`);
      sameList([sub.passStake, sub.failStake, BigInt(sub.outcome)], [m.pass, m.fail, BigInt(m.outcome)], `round ${r.id} submission of ${this.label(bs)} (passStake, failStake, outcome)`);
      // the Eq. 5 weight is the data its action's twins had on record at commitment, and those twins are its alone
      sameList([sub.dataSize, sub.numTwins], [w.data, BigInt(w.k)], `round ${r.id} weight of ${this.label(bs)}'s model == its committed action's`);
      same([...claimedBy.values()].filter((x) => x === bs).length, w.k, `the ${w.k} twins of ${this.label(bs)}'s action are claimed by it alone`);
      const cap = BigInt(w.k) * BigInt(PARAMS.maxTwinDataSize);
      if (sub.dataSize > cap) expect(sub.dataSize, `round ${r.id} weight of ${this.label(bs)}'s model is at most K x maxTwinDataSize`).to.be.at.most(cap);
    }
    if (!ballots) return;
    for (const verifier of r.committers) {
      const b = s.get(`ballot:${r.id}:${verifier}`) as { commitment: string; revealed: boolean; passBits: bigint; failBits: bigint; weight: bigint };
      const m = r.ballots.get(verifier)!;
      sameList(
        [b.commitment, b.revealed, Number(b.passBits), Number(b.failBits), b.weight],
        [m.commitment, m.revealed, m.passBits, m.failBits, m.weight],
        `round ${r.id} ballot of ${this.label(verifier)} (commitment, revealed, passBits, failBits, weight)`,
      );
    }
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
      if (used > TAU_SCALE) expect(used, `tauUsed(${r.id}, ${c}) <= TAU_SCALE`).to.be.at.most(TAU_SCALE);
      same(used, r.tau[c], `tauUsed(${r.id}, ${c}) == sum of committed taus`);
    }
  }

  /**
   * The rest of the model against the chain (every DEEP_CHECK_EVERY steps and at the end): stake as votes,
   * membership, seats, candidates, approvals, jail, every epoch's producers, every block, twin records, every round's
   * status, submissions and taus, and the record log's leaves.
   */
  async deepCheck(full = false): Promise<void> {
    this.stepsSinceDeep = 0;
    // a finalized round changes no more once a later round opened (its global model is attested until then): it is
    // compared once after that (and again at the end)
    const rounds_ = this.rounds.filter((r) => full || !this.finalizedChecked.has(r.id));
    const { coin, stake, registry, election, blocks, recordLog, users, twins, rounds, ledger } = this.p;
    const rd = new Reader();
    for (const u of this.admitted.keys()) rd.add(`device:${u}`, users, "deviceOf", [u]);
    const never = ethers.id(`seed-${this.seed}-never-admitted`);
    rd.add("isUser:never", users, "isUser", [never]);
    rd.add("device:never", users, "deviceOf", [never]);
    // past bonds at a few instants of the run (the checkpoints behind every election and verdict weight)
    const past = this.history.filter((h) => h.ts < this.clock.last);
    const instants = [...new Set([0, 1, 2].map(() => this.rng.pick(past).ts - this.rng.int(0, 1)))];
    for (const a of this.accounts) {
      rd.add(`stakeOf:${a}`, stake, "stakeOf", [a]);
      rd.add(`entries:${a}`, stake, "unbondingEntries", [a]);
      rd.add(`allowance:${a}`, coin, "allowance", [a, this.vault]);
      for (const t of instants) rd.add(`bondedAt:${a}:${t}`, stake, "bondedAt", [a, t]);
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
    for (const r of rounds_) {
      rd.add(`round:${r.id}`, rounds, "getRound", [r.id]);
      rd.add(`submitters:${r.id}`, rounds, "submitters", [r.id]);
      rd.add(`committers:${r.id}`, rounds, "committers", [r.id]);
      for (let c = 0; c < PARAMS.subchannels; c++) rd.add(`tau:${r.id}:${c}`, ledger, "tauUsed", [r.id, c]);
      for (const a of this.poolAddrs) {
        rd.add(`submission:${r.id}:${a}`, rounds, "submission", [r.id, a]);
        rd.add(`ballot:${r.id}:${a}`, rounds, "ballot", [r.id, a]);
        rd.add(`attestation:${r.id}:${a}`, rounds, "attestation", [r.id, a]);
        if (r === this.currentRound()) rd.add(`action:${r.id}:${a}`, ledger, "actionHash", [r.id, a]);
      }
    }
    for (let i = this.leavesChecked; i < this.leaves.length; i++) rd.add(`leaf:${i}`, recordLog, "leafAt", [i]);
    const s = await rd.run();

    for (const a of this.accounts) {
      const [bonded, unbonding] = s.get(`stakeOf:${a}`) as [bigint, bigint];
      sameList([bonded, unbonding], [this.bondOf(a), this.unbondingOf(a)], `stakeOf(${this.label(a)})`);
      const entries = Array.from(s.get(`entries:${a}`) as Result).map((e) => `${(e as Result)[0]}@${(e as Result)[1]}`);
      sameList(entries, this.queue(a).map((e) => `${e.amount}@${e.releaseAt}`), `unbondingEntries(${this.label(a)}) (newest last)`);
      same(s.big(`allowance:${a}`), this.allowance(a), `allowance of ${this.label(a)} to the vault`);
      for (const t of instants) same(s.big(`bondedAt:${a}:${t}`), this.bondedAt(a, t), `bondedAt(${this.label(a)}, ${t})`);
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
    for (const [u, key] of this.admitted) same(s.str(`device:${u}`), key.address, `deviceOf(${u.slice(0, 10)})`);
    same(s.get("isUser:never"), false, "isUser of a user never admitted");
    same(s.succeeded("device:never"), false, "deviceOf a user never admitted reverts (UnknownUser)");
    this.twins.forEach((t, i) => {
      const tw = s.get(`twin:${i + 1}`) as { bs: string; dataSize: bigint; userId: string; device: string; dataVersion: bigint };
      sameList(
        [tw.bs, tw.dataSize, tw.userId, tw.device, Number(tw.dataVersion)],
        [t.host, t.data, t.user, t.key.address, t.version],
        `twin(${i + 1}) (bs, dataSize, userId, device, dataVersion)`,
      );
    });
    for (const r of rounds_) {
      if (r.status === RoundStatus.Finalized && r.id < this.rounds.length) this.finalizedChecked.add(r.id);
      sameList(s.list(`submitters:${r.id}`), r.order, `submitters of round ${r.id}`);
      sameList(s.list(`committers:${r.id}`), r.committers, `committers of round ${r.id} (commit order)`);
      this.checkTau(s, r);
      // windows, counters, Eq. 5 weights, verdict stakes, outcomes and every ballot
      this.checkRound(s, r, true);
      for (const a of this.poolAddrs) {
        const sub = s.get(`submission:${r.id}:${a}`) as { exists: boolean };
        same(sub.exists, r.subs.has(a), `round ${r.id} has a submission of ${this.label(a)}`);
        const b = s.get(`ballot:${r.id}:${a}`) as { commitment: string };
        if (!r.ballots.has(a)) same(b.commitment, ZeroHash, `round ${r.id}: ${this.label(a)} committed no ballot`);
        const word = r.attestations.get(a);
        same(s.num(`attestation:${r.id}:${a}`), word === undefined ? Attestation.None : word ? Attestation.Agrees : Attestation.Disputes, `attestation(${r.id}, ${this.label(a)})`);
        if (r === this.currentRound()) same(s.str(`action:${r.id}:${a}`) !== ZeroHash, r.committed.has(a), `slot ${r.id} action of ${this.label(a)}`);
      }
    }
    for (let i = this.leavesChecked; i < this.leaves.length; i++) same(s.str(`leaf:${i}`), this.leaves[i], `leafAt(${i})`);
    this.leavesChecked = this.leaves.length;
  }

  /** End of a run: the deep check, and a Merkle proof of one record of every final block. */
  async finalChecks(): Promise<void> {
    await this.deepCheck(true);
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
  const p = await loadFixture(deployCampaign);
  const w = new World(p, run.seed, await ethers.getSigners());
  w.genesis = Number(await p.election.genesisTime());
  w.domain = consentDomain((await ethers.provider.getNetwork()).chainId, p.twins.target as string);
  w.domainHash = TypedDataEncoder.hashDomain(w.domain);
  await w.syncClock();
  w.history.push({ ts: w.clock.last, bonded: new Map(w.bonded) });
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
  w.totalOps = run.ops;
  for (let i = 0; i < run.ops; i++) {
    // plans are made only when their turn comes: they read the model as the previous steps left it
    w.opIndex = i;
    await exec(i, w.plan(w.pickKind()));
  }
  await w.finalChecks();
  return w;
}

/** Whether the run ended with training halted: the last round's global model disputed, or not attested yet. */
function halted(w: World): string {
  const r = w.currentRound();
  const refusal = r?.status === RoundStatus.Finalized ? w.attestationRefusal(r) : undefined;
  if (!refusal || refusal.ok) return "no round waits for attestations at the end";
  return `at the end round ${r!.id + 1} cannot open (${refusal.name}${refusal.name === "GlobalModelNotAttested" && !w.attestationPending(r) ? ", every member has spoken" : ""})`;
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
      `(transactions ${(w.timing.tx / 1000).toFixed(1)} s, invariant checks ${(w.timing.check / 1000).toFixed(1)} s, ${Reader.made} views read and ${Reader.reused} unchanged so far), ` +
      `chain time ${w.clock.last - w.genesis} s = ${w.epochAt(w.clock.last) + 1} epochs\n${rows.join("\n")}\n` +
      `  blocks: ${w.blocks.length} proposed, ${w.notes.finalBlocks} final, ${w.notes.rejectedBlocks} rejected, ` +
      `${w.blocks.filter((b) => b.status === BlockStatus.Pending).length} expired; ` +
      `elections: ${w.notes.electionsWithProducers} with producers, ${w.notes.emptyElections} empty; rounds: ${w.rounds.length}; ` +
      `twins: ${w.twins.length}; records: ${w.leaves.length}\n` +
      `  observations: twin listed by two BSs in one slot x${w.notes.doubleClaims}; ` +
      `report refused for a slot before its epoch's election x${w.notes.preElectionReportsRefused}; ` +
      `missed slot unreportable because of a later jail x${w.notes.jailAmnesties}; ` +
      `report refused because the slot's producer was removed x${w.notes.nonMemberProducerSlashed}; ` +
      `report refused because nothing was waiting when the slot began x${w.notes.idleSlotReportsRefused}, ` +
      `because the claimed appendedAt was not before the slot began (a record was waiting) x${w.notes.lateEvidenceRefused}, ` +
      `because the fields were not the waiting record's leaf x${w.notes.forgedEvidenceRefused}\n` +
      `  stake: outcomes ${w.notes.outcomes.passed} passed, ${w.notes.outcomes.failed} failed, ${w.notes.outcomes.unverified} unverified; ` +
      `verifiers ${w.notes.verifierRewards} rewarded, ${w.notes.disagreed} unpaid for a verdict against an outcome, ${w.notes.withheldSlashed} slashed for a ballot never revealed; ` +
      `${ethers.formatEther(w.notes.creditedCoins)} DTC credited, ${ethers.formatEther(w.notes.slashedCoins)} slashed (${w.notes.zeroSlashes} slashes of nothing); ` +
      `reveals before the commit window ended (every member committed) x${w.notes.earlyReveals}, settlements before the reveal window ended x${w.notes.earlySettles}; ` +
      `full unbonding queue x${w.notes.fullQueues}; transfers to the vault x${w.notes.donations}\n` +
      `  consents: ${w.admitted.size} users admitted, ${w.notes.movesWithConsent} twins moved with their users' consent, ` +
      `${w.notes.unreadConsents} actions with unread consents of staying twins; forgeries refused: ` +
      `${[...w.notes.forged].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k} x${n}`).join("; ") || "none"}\n` +
      `  attestations: ${w.notes.attested} attested, ${w.notes.disputed} disputed (${w.notes.zeroWeightWords} weighing nothing, ` +
      `${w.notes.notAttesters} refused: not members at the opening); rounds opened from an attested global model ${w.notes.attestedOpens}; ` +
      `forged global models ${w.notes.forgedModels} (disputed x${w.notes.disputedForged}, attested by careless BSs x${w.notes.attestedForged}); ${halted(w)}\n` +
      `  observations: slashed at settlement with less stake than its snapshot bond (unbonded and withdrew before the settlement) x${w.notes.escapes} ` +
      `(${ethers.formatEther(w.notes.escapedCoins)} DTC of snapshot bond withdrawn; settled up to ${w.notes.escapeLatestSettle} s after the reveal window); slashed for a ballot it could not reveal (removed after committing) x${w.notes.removedBeforeReveal}; ` +
      `commitments made while reveals were open (before any reveal) x${w.notes.commitsAfterRevealOpened}; ` +
      `end: supply ${ethers.formatEther(w.supply)}, bonded ${ethers.formatEther(w.totalBonded())}, liquid ${ethers.formatEther(w.accounts.reduce((x, a) => x + w.bal(a), 0n))} DTC`,
  );
}

describe("Protocol invariants (seeded random operation sequences)", function () {
  this.timeout(600_000);
  /** Rejections per kind summed over the seeds: every kind must also be exercised on its failure paths. */
  const rejectedOverSeeds = new Map<string, number>();
  /** Rejections per kind and error summed over the seeds (for the consent checks). */
  const errorsOverSeeds = new Map<string, number>();
  /** The missed-slot evidence observations summed over the seeds. */
  const notesOverSeeds = new Map<string, number>();

  for (const run of runsFromEnv()) {
    const hex = `0x${run.seed.toString(16).padStart(8, "0")}`;
    it(`seed ${hex}: ${run.ops} random operations keep supply, stake, outcomes, producers, final blocks, twin hosts, tau sums and attestation quorums consistent`, async () => {
      const started = Date.now();
      const w = await runSeed(run);
      report(w, run, Date.now() - started);
      const total = KINDS.reduce((acc, k) => acc + w.stats.get(k)!.ok + w.stats.get(k)!.rejected, 0);
      expect(total).to.equal(run.ops);
      for (const k of KINDS) {
        const s = w.stats.get(k)!;
        expect(s.ok, `${k} succeeded at least once`).to.be.greaterThan(0);
        rejectedOverSeeds.set(k, (rejectedOverSeeds.get(k) ?? 0) + s.rejected);
        for (const [e, n] of s.errors) errorsOverSeeds.set(`${k} ${e}`, (errorsOverSeeds.get(`${k} ${e}`) ?? 0) + n);
      }
      expect(w.notes.finalBlocks, "some blocks became final").to.be.greaterThan(0);
      for (const n of ["idleSlotReportsRefused", "lateEvidenceRefused", "forgedEvidenceRefused"] as const) notesOverSeeds.set(n, (notesOverSeeds.get(n) ?? 0) + w.notes[n]);
    });
  }

  it("every transaction kind was rejected at least once over the seeds", () => {
    for (const k of KINDS) {
      if (!TIME_KINDS.has(k)) expect(rejectedOverSeeds.get(k) ?? 0, `${k} was rejected at least once`).to.be.greaterThan(0);
    }
  });

  it("every consent and attestation check refused over the seeds (users nobody admitted, re-admissions, forged and missing consents, closed, repeated, disputed and missing attestations)", () => {
    const expected = [
      "admitUsers NotOperator",
      "admitUsers UserAlreadyAdmitted",
      "registerTwin UnknownUser",
      "registerTwin InvalidConsent",
      "twinData InvalidConsent",
      "commitAction InvalidConsent",
      "commitAction MalformedConsents",
      "attestGlobalModel AttestationClosed",
      "attestGlobalModel AlreadyAttested",
      "openRound GlobalModelDisputed",
      "openRound GlobalModelNotAttested",
    ];
    for (const e of expected) expect(errorsOverSeeds.get(e) ?? 0, `${e} at least once`).to.be.greaterThan(0);
  });

  it("every missed-slot evidence check refused over the seeds (a slot with nothing waiting, a record appended during the slot, fields that are not the waiting record's leaf)", () => {
    for (const e of ["reportMissedSlot NothingWaiting", "reportMissedSlot RecordProofMismatch"]) expect(errorsOverSeeds.get(e) ?? 0, `${e} at least once`).to.be.greaterThan(0);
    for (const n of ["idleSlotReportsRefused", "lateEvidenceRefused", "forgedEvidenceRefused"] as const) {
      expect(notesOverSeeds.get(n) ?? 0, `${n} at least once`).to.be.greaterThan(0);
    }
  });

  it("every seed runs 500 or more operations", () => {
    expect(Math.min(...DEFAULT_RUNS.map((r) => r.ops))).to.be.at.least(MIN_OPS_PER_LONG_SEED);
  });
});
