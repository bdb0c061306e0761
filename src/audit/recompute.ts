/**
 * Recomputing a round's models from the chain and IPFS alone, bit for bit (docs/audit.md):
 * - a BS model (Eq. 4): the twins of the BS's committed action of the round, each weighted by the data size the chain
 *   recorded for it when the action was committed, their models as the BS recorded them for the round (twin model
 *   records, TwinRegistry.recordTwinModels), aggregated in the canonical order ({@link CanonicalEq4}); the encoded
 *   result's CID must be the CID the BS submitted;
 * - a global model (Eq. 5): the models the MBS recorded as aggregated (GlobalModelRecorded), each weighted by its
 *   submission's on-chain data size, aggregated with the run's strategy and server optimiser from the round's own
 *   global model ({@link recomputeGlobal}, what the MBS runs); the encoded result's CID must be the recorded one.
 *   A server optimiser carries state, so it is replayed from round 1.
 * Pure of I/O but for the two sources it is given (chain records, IPFS blobs).
 */
import { CanonicalEq4, recomputeGlobal, strategyByName } from "../fl/aggregation";
import { ServerOptimizer } from "../fl/serverOptimizer";
import type { ModelWeights, WeightTensor } from "../fl/tensors";
import { decodeWeights, decodeWeightsHeader, encodeWeights, WeightsFormatError } from "../fl/weightsFormat";
import { cidOf } from "../ipfs/unixfs";
import type { ChainRecords, Position, RoundRecord, SubmissionRecord } from "./records";
import type { AggregationSettings } from "./settings";

/** The bytes behind a CID, or undefined when no store has them. */
export interface ModelSource {
  get(cid: string): Promise<Uint8Array | undefined>;
}

export type CheckStatus = "match" | "mismatch" | "unavailable";

export interface ModelCheck {
  round: number;
  kind: "bs" | "global";
  /** The BS whose model (kind "bs"). */
  bs?: string;
  /** The CID on chain: the BS's submission, or the recorded new global model. */
  cid: string;
  /** The CID of the recomputed model (when it could be recomputed). */
  recomputedCid?: string;
  /** Models aggregated: twin models (Eq. 4) or BS models (Eq. 5). */
  inputs: number;
  status: CheckStatus;
  /** Largest |recomputed - recorded| over all weights, when both could be read (a mismatch). */
  maxAbsDiff?: number;
  /** Why it is a mismatch or unavailable. */
  reason?: string;
}

export interface AuditResult {
  /** The rounds audited. */
  rounds: number[];
  checks: ModelCheck[];
  counts: Record<CheckStatus, number>;
  /** True only when every check matched (and there was at least one). */
  ok: boolean;
}

/** A CID that no store has. */
class Unavailable extends Error {}

/** Largest |a - b| over all weights (Infinity when the shapes differ or only one is NaN). */
export function maxAbsDiff(a: ModelWeights, b: ModelWeights): number {
  if (a.length !== b.length || a.some((t, k) => t.values.length !== b[k].values.length)) return Infinity;
  let d = 0;
  a.forEach((t, k) => {
    const v = b[k].values;
    for (let i = 0; i < t.values.length; i++) {
      const x = t.values[i];
      const y = v[i];
      if (Number.isNaN(x) || Number.isNaN(y)) {
        if (!(Number.isNaN(x) && Number.isNaN(y))) return (d = Infinity);
      } else if (Math.abs(x - y) > d) d = Math.abs(x - y);
    }
  });
  return d;
}

async function blob(models: ModelSource, cid: string, what: string): Promise<Uint8Array> {
  const b = await models.get(cid);
  if (!b) throw new Unavailable(`${what} ${cid} not found`);
  return b;
}

/** Compare the recomputed weights with the recorded CID: match by CID, else a mismatch with the largest difference. */
async function compare(check: Omit<ModelCheck, "status">, arch: string, recomputed: WeightTensor[], models: ModelSource): Promise<ModelCheck> {
  const recomputedCid = await cidOf(encodeWeights(arch, recomputed));
  if (recomputedCid === check.cid) return { ...check, recomputedCid, status: "match" };
  const recorded = await models.get(check.cid);
  if (!recorded) return { ...check, recomputedCid, status: "mismatch", reason: `the recomputed model's CID is ${recomputedCid}; the recorded model ${check.cid} is not in any store` };
  try {
    const { weights } = decodeWeights(recorded, { arch, shapes: recomputed.map((t) => t.shape) });
    return { ...check, recomputedCid, status: "mismatch", maxAbsDiff: maxAbsDiff(recomputed, weights) };
  } catch (e) {
    return { ...check, recomputedCid, status: "mismatch", reason: `the recorded model is not weights of the same model: ${(e as Error).message}` };
  }
}

/** Run `f`, turning a missing CID into "unavailable" and a malformed blob into "mismatch". */
async function guarded(check: Omit<ModelCheck, "status">, f: () => Promise<ModelCheck>): Promise<ModelCheck> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof Unavailable) return { ...check, status: "unavailable", reason: e.message };
    if (e instanceof WeightsFormatError) return { ...check, status: "mismatch", reason: e.message };
    throw e;
  }
}

/**
 * Check one submitted BS model against Eq. 4 of the twin models the BS recorded for the round (records mined after
 * `openedAt`, the round's opening, when given, and before the submission).
 */
export async function checkBsModel(records: ChainRecords, models: ModelSource, sub: SubmissionRecord, openedAt?: Position): Promise<ModelCheck> {
  return (await recomputeBsModel(records, models, sub, openedAt)).check;
}

/** {@link checkBsModel}, with the recomputed Eq. 4 weights when they could be computed (a verifier scores them). */
export async function recomputeBsModel(records: ChainRecords, models: ModelSource, sub: SubmissionRecord, openedAt?: Position): Promise<{ check: ModelCheck; weights?: WeightTensor[] }> {
  const base = { round: sub.round, kind: "bs" as const, bs: sub.bs, cid: sub.cid, inputs: 0 };
  const action = await records.action(sub.round, sub.bs);
  if (!action) return { check: { ...base, status: "mismatch", reason: "the BS committed no action in this slot, so no twins to aggregate" } };
  const check = { ...base, inputs: action.twinIds.length };
  const recorded = await records.twinModels(sub.round, sub.bs, sub.at, openedAt);
  const missing = action.twinIds.filter((id) => !recorded.has(id));
  if (missing.length > 0) {
    return { check: { ...check, status: "mismatch", reason: `no twin model record of round ${sub.round} between its opening and the submission for ${missing.length} of the action's ${action.twinIds.length} twins (${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""})` } };
  }
  const sizes = await records.dataSizes(action.twinIds, action.at);
  const total = [...sizes.values()].reduce((s, x) => s + x, 0);
  if (total !== sub.dataSize || total !== action.dataSize) {
    return { check: { ...check, status: "mismatch", reason: `the twins' recorded data sizes sum to ${total}; the chain weighs the model with D = ${sub.dataSize} (action ${action.dataSize})` } };
  }
  let weights: WeightTensor[] | undefined;
  const verdict = await guarded(check, async () => {
    const eq4 = new CanonicalEq4();
    let arch: string | undefined;
    let shapes: number[][] | undefined;
    for (const id of [...action.twinIds].sort((a, b) => a - b)) {
      const rec = recorded.get(id)!;
      const bytes = await blob(models, rec.cid, `twin ${id}'s model`);
      const { arch: a, weights } = decodeWeights(bytes, arch ? { arch, shapes } : {});
      arch ??= a;
      shapes ??= weights.map((t) => t.shape.slice());
      eq4.add({ twinId: id, samples: sizes.get(id) as number, weights });
    }
    weights = eq4.result().weights;
    return compare(check, arch as string, weights, models);
  });
  return { check: verdict, ...(weights ? { weights } : {}) };
}

/**
 * Checks the rounds' global models in order, replaying the server optimiser's state from round 1 (the MBS steps
 * one optimiser through every round with at least one passed model). With no server optimiser (plain Eq. 5) there
 * is no state and a round is checked on its own.
 */
export class GlobalChecker {
  private readonly server: ServerOptimizer;
  /** The next round whose step the optimiser's state has not seen yet. */
  private next = 1;
  private lost?: string;
  private allRounds?: Map<number, RoundRecord>;

  constructor(
    private readonly records: ChainRecords,
    private readonly models: ModelSource,
    private readonly settings: AggregationSettings,
  ) {
    this.server = new ServerOptimizer(settings.server ?? undefined);
  }

  private get stateful(): boolean {
    return !this.server.plain;
  }

  /** Check round `round`'s recorded new global model. */
  async check(round: RoundRecord): Promise<ModelCheck> {
    if (this.stateful) {
      if (round.round < this.next) throw new Error(`GlobalChecker: round ${round.round} comes after round ${this.next - 1}; check rounds in order.`);
      this.allRounds ??= new Map((await this.records.rounds()).map((r) => [r.round, r]));
      for (let r = this.next; r < round.round && !this.lost; r++) {
        const earlier = this.allRounds.get(r);
        const c = earlier ? await this.recompute(earlier) : undefined;
        if (!c || c.status === "unavailable") this.lost = `the server optimizer's state could not be replayed past round ${r}${c?.reason ? ` (${c.reason})` : ""}`;
      }
      const base = { round: round.round, kind: "global" as const, cid: round.newGlobalCid ?? "", inputs: round.aggregated?.length ?? 0 };
      if (this.lost) return { ...base, status: "unavailable", reason: this.lost };
      const c = await this.recompute(round);
      if (c.status === "unavailable") this.lost = `the server optimizer's state could not be replayed past round ${round.round}`;
      return c;
    }
    return this.recompute(round);
  }

  /** Recompute one round, stepping the optimiser (its state moves on only when it could step). */
  private async recompute(round: RoundRecord): Promise<ModelCheck> {
    this.next = round.round + 1;
    const base = { round: round.round, kind: "global" as const, cid: round.newGlobalCid ?? "", inputs: round.aggregated?.length ?? 0 };
    if (round.newGlobalCid === undefined || round.aggregated === undefined) return { ...base, status: "unavailable", reason: "the round has no recorded global model yet" };
    const aggregated = round.aggregated;
    return guarded(base, async () => {
      const current = await blob(this.models, round.globalCid, "the round's global model");
      const { arch } = decodeWeightsHeader(current);
      const currentWeights = decodeWeights(current, { arch }).weights;
      const shapes = currentWeights.map((t) => t.shape.slice());
      const passed = [];
      for (const bs of aggregated) {
        const sub = round.submissions.find((s) => s.bs.toLowerCase() === bs.toLowerCase());
        if (!sub) return { ...base, status: "mismatch" as const, reason: `the aggregation lists ${bs}, which submitted no model` };
        const { weights } = decodeWeights(await blob(this.models, sub.cid, `BS ${bs}'s model`), { arch, shapes });
        passed.push({ weights, samples: sub.dataSize, from: sub.bs });
      }
      const strategy = strategyByName(this.settings.strategy, this.settings.faulty);
      return compare(base, arch, recomputeGlobal(currentWeights, passed, strategy, this.server), this.models);
    });
  }
}

/** Audit round `opts.round` (or every round): each submitted BS model, then the round's global model. */
export async function auditChain(records: ChainRecords, models: ModelSource, settings: AggregationSettings, opts: { round?: number; onCheck?: (c: ModelCheck) => void } = {}): Promise<AuditResult> {
  const all = await records.rounds();
  const rounds = opts.round === undefined ? all : all.filter((r) => r.round === opts.round);
  if (opts.round !== undefined && rounds.length === 0) throw new Error(`round ${opts.round} was never opened on this chain (rounds: ${all.length === 0 ? "none" : `1..${all[all.length - 1].round}`}).`);
  const globals = new GlobalChecker(records, models, settings);
  const checks: ModelCheck[] = [];
  const add = (c: ModelCheck) => {
    checks.push(c);
    opts.onCheck?.(c);
  };
  for (const r of rounds) {
    for (const sub of [...r.submissions].sort((a, b) => a.at.blockNumber - b.at.blockNumber || a.at.logIndex - b.at.logIndex)) add(await checkBsModel(records, models, sub, r.openedAt));
    add(await globals.check(r));
  }
  const counts = { match: 0, mismatch: 0, unavailable: 0 };
  for (const c of checks) counts[c.status]++;
  return { rounds: rounds.map((r) => r.round), checks, counts, ok: checks.length > 0 && counts.match === checks.length };
}

/** One line per check, e.g. `round 2  BS 0x..  Eq. 4 over 21 twin models  match`. */
export function formatCheck(c: ModelCheck): string {
  const who = c.kind === "bs" ? `BS ${c.bs}` : "global model";
  const what = c.kind === "bs" ? `Eq. 4 over ${c.inputs} twin model${c.inputs === 1 ? "" : "s"}` : `Eq. 5 over ${c.inputs} BS model${c.inputs === 1 ? "" : "s"}`;
  let verdict: string = c.status;
  if (c.status === "mismatch") {
    const parts = [c.maxAbsDiff !== undefined ? `max |diff| ${c.maxAbsDiff.toExponential(1)}` : undefined, c.reason].filter(Boolean);
    verdict = `mismatch (${parts.join("; ")})`;
  } else if (c.status === "unavailable") verdict = `unavailable (${c.reason ?? "CID not found"})`;
  return `round ${c.round}  ${who.padEnd(45)}  ${what.padEnd(27)}  ${verdict}`;
}

/** The summary line. */
export function formatSummary(r: AuditResult): string {
  const n = r.checks.length;
  return `${n} model${n === 1 ? "" : "s"} in ${r.rounds.length} round${r.rounds.length === 1 ? "" : "s"}: ${r.counts.match} match, ${r.counts.mismatch} mismatch, ${r.counts.unavailable} unavailable${r.ok ? " - every model is what the chain's records say it is" : ""}`;
}
