/**
 * Submission windows from the model (the emulated testbed): the MBS opens round t with a deadline it derives from
 * the time the model predicts for the allocation the BSs will commit in slot t. Anyone can derive that allocation
 * before it is committed: s(t) is on chain, the policy is public and deterministic (the shipped MADDPG actors or a
 * baseline), and so is the joint-action rule. Pure.
 *
 * window = P + factor x max_i (k |w| / R^D_i(t) + T^cmp_i(t)) + fixed seconds, where
 * - P is the proposal window (for a policy whose BSs propose raw actions first),
 * - k |w| / R^D_i is the global model's download over BS i's shaped downlink (k the testbed's link slowdown),
 * - T^cmp_i is Eq. 12 (in testbed seconds: f^C expressed against the Hz of one core),
 * - factor and the fixed seconds are {@link DEADLINE_SLACK}: the factor covers what Eq. 12 does not price (a per-twin
 *   overhead, checking the previous global model), the fixed seconds the chain transactions before a submission
 *   (proposal, commit, data records of twins that move, the submission itself).
 */
import type { CostBreakdown } from "../twins/timeCost";

export const DEADLINE_SLACK = { factor: 1.5, seconds: 30 };

export interface WindowPrediction {
  /** The submission window, seconds. */
  seconds: number;
  /** max_i of the predicted time to a submission (download + Eq. 12), testbed seconds. */
  predictedSeconds: number;
  /** The BS with that maximum. */
  slowestBs: number;
}

export function submissionWindow(cost: CostBreakdown, o: { proposalSeconds: number; linkSlowdown: number; modelBits: number }, slack = DEADLINE_SLACK): WindowPrediction {
  if (!(o.linkSlowdown >= 1) || !(o.modelBits > 0) || !(o.proposalSeconds >= 0)) throw new Error(`submissionWindow: bad options ${JSON.stringify(o)}`);
  let predictedSeconds = 0;
  let slowestBs = 0;
  for (const c of cost.perBs) {
    if (c.twins === 0) continue;
    const t = (o.linkSlowdown * o.modelBits) / c.downlinkRateBps + c.localTrainingSeconds;
    if (t > predictedSeconds) {
      predictedSeconds = t;
      slowestBs = c.bs;
    }
  }
  return { seconds: Math.ceil(o.proposalSeconds + slack.factor * predictedSeconds + slack.seconds), predictedSeconds, slowestBs };
}
