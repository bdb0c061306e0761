// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBSRegistry} from "../membership/IBSRegistry.sol";
import {MemberGated} from "../membership/MemberGated.sol";
import {RecordLog} from "../records/RecordLog.sol";
import {IStakeVault} from "../token/IStakeVault.sol";
import {CidCheck} from "../utils/CidCheck.sol";
import {IActionRecords} from "../twins/IActionRecords.sol";
import {AcceptanceRule} from "./AcceptanceRule.sol";

/// @title TrainingRounds
/// @notice Federated-learning rounds and training model records (paper Sections II-B and II-C, Fig. 2).
/// The MBS opens round r with the global model's CID; each BS submits its aggregated model G_m (Eq. 4) as a
/// training model record; the other BSs verify the models and give their verdicts in two steps: each commits one hash
/// of its verdicts on every model of the round, then reveals them. After the reveal window the round is settled:
/// models that passed earn `rewardPerModel` bonded coins, models that failed lose `slashBps` of their holder's bonded
/// and unbonding coins ({IStakeVault}); verifiers whose verdicts all agree with the outcomes earn `verifierReward`,
/// verifiers with a verdict against an outcome earn nothing, and verifiers who committed and never revealed lose
/// `withheldSlashBps`. The MBS then records the new global model (Eq. 5) with the list of models it aggregated.
/// @dev Rules the chain enforces, each with the attack it stops:
/// - a model record's weights (K_i and its data size, the Eq. 5 weight) are the chain's record of the BS's committed
///   action in that slot ({IActionRecords}), never arguments of the submitter: a BS cannot claim 2^64-1 samples;
/// - round r > 1 opens only from round r-1's recorded global model (`GlobalModelMismatch`): the MBS cannot start a
///   round from a model nobody aggregated;
/// - the recorded aggregation lists exactly the models that passed (`AggregatedIncomplete`, `ModelNotPassed`): the MBS
///   cannot leave out an accepted model or add a rejected one; a round in which no model passed keeps its global
///   model (`GlobalModelMismatch`): an MBS cannot force an empty round (e.g. with a deadline nobody can meet) and
///   then record a model of its choosing;
/// - submissions close early only when every member BS has submitted (`SubmissionsPending`): the MBS cannot shut
///   everyone out but a favoured BS;
/// - verdicts are committed before any is revealed (`RevealNotOpen` until the commit window ends or every member has
///   committed; `CommitmentMismatch`): a colluder cannot wait for the honest verdicts and cancel them;
/// - a verdict weighs its verifier's bond at the instant before the round opened (`snapshot`): coins bonded, moved
///   or credited during the round change no weight, and liquid coins weigh nothing;
/// - the outcome is {AcceptanceRule.decide} over the verdict stakes out of the stake of every other member BS: a model
///   is decided only with a quorum of `quorumBps` of that stake, passes with more pass than fail stake, fails with
///   more fail than pass stake, and is unverified (neither paid nor slashed) otherwise, a tie included;
/// - a revealed verdict that contradicts the outcome forfeits the verifier reward: failing honest models (or passing
///   bad ones) against the majority of the stake is not free; it does not cost bond, because an honest verifier may
///   disagree in good faith (its held-out data differ) and must never lose stake for it;
/// - a round's reveal window ends within half the vault's unbonding delay of its opening (`RoundTooLong`), leaving the
///   other half to settle: a BS that unbonds when the round opens cannot withdraw before its model or ballot is
///   slashed;
/// - commitments close at the first reveal (`CommitClosed`), and reveals stay open from then on: nobody (a member the
///   MBS re-admits during the round included) commits after seeing a verdict;
/// - a commitment never revealed costs `withheldSlashBps` of the verifier's stake: committing, watching the reveals and
///   withholding a losing ballot is no way out (an honest agent that restarts recomputes and reveals its ballot);
/// - round r+1 opens only from a global model that BSs holding `quorumBps` of round r's member stake attested, and
///   never from one that much stake disputed ({attestGlobalModel}; `GlobalModelNotAttested`, `GlobalModelDisputed`):
///   an MBS cannot make the BSs train from a global model that is not Eq. 5 of the models it lists. The base is the
///   stake of the members at the opening, so removing BSs later lowers no quorum.
/// Settling loops over the round's submissions and committed ballots, each bounded by `MAX_SUBMISSIONS`. A round may
/// be settled before the reveal window ends once every member has committed and revealed.
/// The action records are wired once after deployment ({wireActionRecords}, by the deploying account only, which
/// keeps no other power): the {AssociationLedger} that records actions needs this contract's address first.
contract TrainingRounds is MemberGated {
    /// @notice Maximum number of model submissions per round (one bit per submission in a ballot).
    uint256 public constant MAX_SUBMISSIONS = 32;
    /// @notice Verification scores are in basis points (0..10000 = 0..100 %).
    uint16 public constant MAX_SCORE = 10_000;
    /// @notice Denominator of `slashBps`, `quorumBps` and `withheldSlashBps`.
    uint256 public constant BPS = 10_000;
    /// @notice A verdict in a ballot: no verdict (own model, or not scored).
    uint8 public constant ABSTAIN = 0;
    /// @notice A verdict in a ballot: the model passed the verifier's checks.
    uint8 public constant PASS = 1;
    /// @notice A verdict in a ballot: the model failed the verifier's checks.
    uint8 public constant FAIL = 2;

    enum RoundStatus {
        None,
        Open,
        Settled,
        Finalized
    }

    enum Outcome {
        Pending,
        Passed,
        Failed,
        Unverified
    }

    /// @notice The economic parameters of the rounds, fixed at deployment.
    struct Config {
        uint256 rewardPerModel; // bonded coins credited per passing model
        uint256 slashBps; // share of a failing model's holder's stake burned
        uint64 verificationWindow; // seconds after the deadline during which verdicts are committed
        uint64 revealWindow; // seconds after the commit window during which they are revealed
        uint256 quorumBps; // share of the other members' stake whose verdicts decide a model
        uint256 verifierReward; // bonded coins credited per round to a verifier whose verdicts all agree
        uint256 withheldSlashBps; // share of the stake burned from a verifier that never revealed its ballot
    }

    struct Round {
        RoundStatus status;
        uint64 deadline; // last timestamp at which models may be submitted
        uint64 commitUntil; // last timestamp at which verdicts may be committed
        uint64 revealUntil; // last timestamp at which verdicts may be revealed
        uint64 snapshot; // the instant whose bonds weigh the verdicts (the second before the round opened)
        uint16 passed; // models that passed (set at settlement)
        uint16 committed; // ballots committed
        uint16 revealed; // ballots revealed
        uint128 memberStake; // bonded stake at the snapshot of the members at the opening (the attestations' base)
        uint128 attestStake; // stake of the BSs that attested the recorded global model
        uint128 disputeStake; // stake of the BSs that disputed it
        uint256 attesters; // registry seats of the members at the opening: the BSs whose word counts
        bytes globalCid; // the global model this round trains from
        bytes newGlobalCid; // the global model it produced (set at finalization)
    }

    struct Submission {
        bool exists;
        Outcome outcome;
        uint32 numTwins; // K_i
        uint64 dataSize; // sum of D_DTj over its twins (samples)
        uint256 passStake; // bonded stake of the pass verdicts
        uint256 failStake; // bonded stake of the fail verdicts
        uint256 recordIndex;
        bytes cid;
    }

    /// @notice A verifier's verdicts on every model of a round.
    struct Ballot {
        bytes32 commitment; // keccak256(abi.encode(round, verifier, verdicts, scores, salt))
        bool revealed;
        uint32 passBits; // bit i: PASS on submitters(round)[i]
        uint32 failBits; // bit i: FAIL on submitters(round)[i]
        uint256 weight; // the verifier's bond at the round's snapshot
    }

    /// @notice The bonded stake that pays, slashes and weighs verdicts (this contract needs its PROTOCOL_ROLE).
    IStakeVault public immutable stake;
    /// @notice The record log the training model records are appended to.
    RecordLog public immutable recordLog;
    /// @notice Bonded coins credited for each model that passes verification.
    uint256 public immutable rewardPerModel;
    /// @notice Share of the holder's bonded and unbonding coins burned for a model that fails (basis points).
    uint256 public immutable slashBps;
    /// @notice Time after the submission deadline during which verdicts are committed (seconds).
    uint64 public immutable verificationWindow;
    /// @notice Time after the commit window during which verdicts are revealed (seconds).
    uint64 public immutable revealWindow;
    /// @notice Share of the other member BSs' stake whose verdicts decide a model (basis points, {AcceptanceRule}).
    uint256 public immutable quorumBps;
    /// @notice Bonded coins credited per round to a verifier whose revealed verdicts all agree with the outcomes.
    uint256 public immutable verifierReward;
    /// @notice Share of a verifier's stake burned for a committed ballot it never revealed (basis points).
    uint256 public immutable withheldSlashBps;
    /// @notice The chain's records of the BSs' committed actions (the {AssociationLedger}), wired once.
    IActionRecords public actionRecords;
    /// @dev Rounds opened so far (in the slot of `actionRecords`, which is written once before the first round).
    uint96 private _roundCount;
    /// @dev The deploying account: its one power is to wire `actionRecords` once.
    address private immutable _wirer;

    /// @dev A round as stored: {Round} without its verdict windows (they follow from the deadline), with CIDv0s as
    /// their digests, attestations as seat bitmaps and the submitters as a list of seats.
    struct RoundState {
        RoundStatus status;
        uint64 deadline;
        uint64 snapshot;
        uint16 passed;
        uint16 committed;
        uint16 revealed;
        uint8 submitted; // number of submissions (at most MAX_SUBMISSIONS)
        bool globalV0; // globalCid is the CIDv0 of globalDigest (else its bytes are in _longCids)
        bool newGlobalV0; // likewise newGlobalCid
        uint32 passedBits; // bit i: the i-th submission passed (set at settlement)
        uint128 memberStake;
        uint128 attestStake;
        uint128 disputeStake;
        uint32 failedBits; // bit i: the i-th submission failed (set at settlement)
        uint256 attesters; // registry seats of the members at the opening
        uint256 attested; // seats of the BSs that attested or disputed the recorded global model
        uint256 disputed; // seats of the BSs that disputed it
        bytes32 globalDigest;
        bytes32 newGlobalDigest;
        uint256 submitterSeats; // byte i (from the least significant end): the seat of the i-th submitter
    }

    /// @dev A submission as stored: {Submission} without the verdict stakes (they follow from the revealed ballots) and
    /// without its outcome (the round's `passedBits` and `failedBits` at its index).
    struct SubmissionState {
        bool exists;
        uint8 index; // position in the round's submitters
        bool cidV0; // cid is the CIDv0 of cidDigest (else its bytes are in _longCids)
        uint32 numTwins;
        uint64 dataSize;
        uint64 recordIndex;
        bytes32 cidDigest;
    }

    /// @dev The committed ballots of a round, as settlement reads them (in commit order), with the round's snapshot
    /// and the members' stake at it.
    struct Ballots {
        uint64 snapshot;
        uint256 memberStake;
        address[] verifiers;
        uint256[] lanes;
        uint256[] weights;
    }

    /// @dev The current members, their seats and their bonds at a snapshot (two calls for all of them), with the sum
    /// of the bonds and the bitmap of the seats.
    struct MemberStakes {
        address[] accounts;
        uint8[] seats;
        uint256[] weights;
        uint256 total;
        uint256 seatBits;
    }

    /// @dev The rewards of a settlement, one entry per BS (model and verifier rewards summed), paid with one call.
    struct Credits {
        address[] accounts;
        uint256[] amounts;
        uint256 count;
    }

    // Committer lanes: 3 lanes of 85 bits per word, one per committed ballot in commit order: bits 0-7 the verifier's
    // registry seat, bit 8 revealed, bits 9-40 its pass bits, bits 41-72 its fail bits.
    uint256 private constant LANE_BITS = 85;
    uint256 private constant LANES_PER_WORD = 3;
    uint256 private constant LANE_MASK = (uint256(1) << LANE_BITS) - 1;
    uint256 private constant LANE_REVEALED = uint256(1) << 8;
    uint256 private constant LANE_PASS_SHIFT = 9;
    uint256 private constant LANE_FAIL_SHIFT = 41;
    // Kinds of stored CIDs other than CIDv0 (keys of _longCids).
    uint256 private constant CID_GLOBAL = 0;
    uint256 private constant CID_NEW_GLOBAL = 1;
    uint256 private constant CID_MODEL = 2;

    mapping(uint256 round => RoundState) private _rounds;
    mapping(uint256 round => mapping(address bs => SubmissionState)) private _submissions;
    mapping(uint256 round => mapping(address verifier => bytes32)) private _commitments;
    mapping(uint256 round => mapping(uint256 word => uint256)) private _committerLanes;
    mapping(bytes32 key => bytes) private _longCids; // CIDs that are not CIDv0, by keccak256(round, kind, bs)

    /// @notice A BS's word on a round's recorded global model.
    enum Attestation {
        None,
        Agrees,
        Disputes
    }

    /// @notice The action records were wired (once).
    event ActionRecordsWired(IActionRecords actionRecords);
    /// @notice The MBS closed round `round` to submissions early: the deadline and the verdict windows moved.
    event SubmissionsClosed(uint256 indexed round, uint64 deadline, uint64 commitUntil, uint64 revealUntil);
    /// @notice Round `round` was opened with global model `globalCid`.
    event RoundOpened(
        uint256 indexed round, bytes globalCid, uint64 deadline, uint64 commitUntil, uint64 revealUntil, uint64 snapshot
    );
    /// @notice A training model record.
    event ModelSubmitted(
        uint256 indexed round, address indexed bs, bytes cid, uint64 dataSize, uint32 numTwins, uint256 recordIndex
    );
    /// @notice `verifier` committed to its verdicts on round `round`'s models.
    event VerdictsCommitted(uint256 indexed round, address indexed verifier, bytes32 commitment);
    /// @notice `verifier` revealed its verdicts (one per submission, in submission order) with the weight they carry.
    event VerdictsRevealed(
        uint256 indexed round, address indexed verifier, uint8[] verdicts, uint16[] scores, uint256 weight
    );
    /// @notice Outcome of `bs`'s model: coins credited (`reward`) or burned (`slashed`).
    event ModelSettled(uint256 indexed round, address indexed bs, Outcome outcome, uint256 reward, uint256 slashed);
    /// @notice What `verifier`'s ballot earned (`reward`) or cost (`slashed`, a ballot never revealed); `agreed` when
    /// it revealed no verdict against an outcome.
    event VerifierSettled(
        uint256 indexed round, address indexed verifier, bool revealed, bool agreed, uint256 reward, uint256 slashed
    );
    /// @notice Round `round` was settled.
    event RoundSettled(uint256 indexed round, uint256 passed, uint256 failed);
    /// @notice The MBS recorded the new global model of round `round` and the models it aggregated (Eq. 5).
    event GlobalModelRecorded(uint256 indexed round, bytes newGlobalCid, address[] aggregated);
    /// @notice `bs` recomputed round `round`'s global model and attested it (`agrees`) or disputed it, with the bond
    /// it held at the round's snapshot.
    event GlobalModelAttested(uint256 indexed round, address indexed bs, bool agrees, uint256 weight);

    /// @dev The previous round is not finalized yet.
    error PreviousRoundNotFinalized(uint256 round);
    /// @dev The deadline must be in the future.
    error DeadlineInPast(uint64 deadline);
    /// @dev No round with this number, or it is not in the required status.
    error InvalidRoundStatus(uint256 round, RoundStatus status);
    /// @dev The submission deadline has passed.
    error SubmissionTooLate(uint256 round, uint64 deadline);
    /// @dev The BS already submitted its model for this round.
    error AlreadySubmitted(uint256 round, address bs);
    /// @dev `MAX_SUBMISSIONS` models were submitted already.
    error RoundFull(uint256 round);
    /// @dev The twins of the BS's committed action hold no recorded data.
    error EmptyModel();
    /// @dev A BS cannot give a verdict on its own model.
    error SelfVerification(address bs);
    /// @dev The score must be at most `MAX_SCORE`.
    error ScoreOutOfRange(uint16 score);
    /// @dev Verdicts are committed only after the submission deadline.
    error SubmissionsStillOpen(uint256 round, uint64 deadline);
    /// @dev Verdicts are committed only until `commitUntil`.
    error CommitClosed(uint256 round, uint64 commitUntil);
    /// @dev The commitment must not be zero.
    error EmptyCommitment();
    /// @dev The verifier committed already in this round.
    error AlreadyCommitted(uint256 round, address verifier);
    /// @dev Reveals start when the commit window ends, or once every member has committed.
    error RevealNotOpen(uint256 round, uint64 commitUntil);
    /// @dev Verdicts are revealed only until `revealUntil`.
    error RevealClosed(uint256 round, uint64 revealUntil);
    /// @dev The verifier committed nothing in this round.
    error NotCommitted(uint256 round, address verifier);
    /// @dev The verifier revealed already.
    error AlreadyRevealed(uint256 round, address verifier);
    /// @dev A ballot has one verdict and one score per submission of the round.
    error VerdictCountMismatch(uint256 expected, uint256 verdicts, uint256 scores);
    /// @dev A verdict must be ABSTAIN, PASS or FAIL.
    error InvalidVerdict(uint256 index, uint8 verdict);
    /// @dev The revealed verdicts and salt do not hash to the commitment.
    error CommitmentMismatch(uint256 round, address verifier);
    /// @dev The round would end its reveal window later than half the unbonding delay after opening.
    error RoundTooLong(uint64 revealUntil, uint256 limit);
    /// @dev The round can be settled only after its reveal window (or once every member committed and revealed).
    error VerificationStillOpen(uint256 round, uint64 revealUntil);
    /// @dev Only models that passed may be aggregated.
    error ModelNotPassed(uint256 round, address bs);
    /// @dev The aggregated list must be strictly increasing by address (no duplicates).
    error AggregatedNotSorted();
    /// @dev A parameter is out of range.
    error InvalidParameter();
    /// @dev Only the deploying account wires the action records, and only once.
    error NotWirer(address caller);
    /// @dev The action records were wired already.
    error AlreadyWired();
    /// @dev The action records are not wired yet: no round can open.
    error NotWired();
    /// @dev The BS committed no action (no twins) in this slot: it has no model to submit.
    error NoCommittedAction(uint256 round, address bs);
    /// @dev A round must open from the previous round's recorded global model; a round without a passed model must
    /// record its own global model.
    error GlobalModelMismatch(uint256 round, bytes expected, bytes given);
    /// @dev The aggregation must list every model that passed.
    error AggregatedIncomplete(uint256 round, uint256 passed, uint256 listed);
    /// @dev Submissions close early only when every member BS has submitted.
    error SubmissionsPending(uint256 round, uint256 submitted, uint256 members);
    /// @dev The BS attested or disputed this round's global model already.
    error AlreadyAttested(uint256 round, address bs);
    /// @dev Only the BSs that were members when the round opened attest its global model (their stake is the
    /// quorum's base): an MBS cannot remove a colluder before the opening and re-admit it to attest on top of the base.
    error NotAttester(uint256 round, address bs);
    /// @dev A round's global model is attested only until the next round opens.
    error AttestationClosed(uint256 round);
    /// @dev BSs holding `quorum` of the stake disputed round `round`'s global model: no round opens from it.
    error GlobalModelDisputed(uint256 round, uint256 disputeStake, uint256 quorum);
    /// @dev Round `round`'s global model has not been attested by BSs holding `quorum` of the stake yet.
    error GlobalModelNotAttested(uint256 round, uint256 attestStake, uint256 quorum);

    /// @param registry_ The BS membership (its operator is the MBS).
    /// @param stake_ The bonded stake (this contract needs its PROTOCOL_ROLE).
    /// @param recordLog_ The record log (this contract needs WRITER_ROLE).
    /// @param config The economic parameters: `slashBps` and `withheldSlashBps` at most 10000, both windows > 0,
    /// `quorumBps` 1..10000.
    constructor(IBSRegistry registry_, IStakeVault stake_, RecordLog recordLog_, Config memory config)
        MemberGated(registry_)
    {
        if (address(stake_) == address(0) || address(recordLog_) == address(0)) revert ZeroAddress();
        if (config.slashBps > BPS || config.withheldSlashBps > BPS) revert InvalidParameter();
        if (config.verificationWindow == 0 || config.revealWindow == 0) revert InvalidParameter();
        if (config.quorumBps == 0 || config.quorumBps > BPS) revert InvalidParameter();
        stake = stake_;
        recordLog = recordLog_;
        rewardPerModel = config.rewardPerModel;
        slashBps = config.slashBps;
        verificationWindow = config.verificationWindow;
        revealWindow = config.revealWindow;
        quorumBps = config.quorumBps;
        verifierReward = config.verifierReward;
        withheldSlashBps = config.withheldSlashBps;
        _wirer = msg.sender;
    }

    /// @notice Wire the action records (the {AssociationLedger}, deployed after this contract). Only the deploying
    /// account, once; afterwards nobody can change them.
    /// @param actionRecords_ The committed actions whose K_i and data sizes weight the model records.
    function wireActionRecords(IActionRecords actionRecords_) external {
        if (msg.sender != _wirer) revert NotWirer(msg.sender);
        if (address(actionRecords) != address(0)) revert AlreadyWired();
        if (address(actionRecords_) == address(0)) revert ZeroAddress();
        actionRecords = actionRecords_;
        emit ActionRecordsWired(actionRecords_);
    }

    /// @notice Open the next round with global model `globalCid`. Only the operator (the MBS). Round 1 opens from any
    /// initial model; every later round from the global model its predecessor recorded.
    /// @param globalCid Binary CID of the global model weights the BSs train from.
    /// @param deadline Last timestamp at which models may be submitted (its reveal window must end within half the
    /// unbonding delay from now).
    /// @return round The new round's number (from 1).
    function openRound(bytes calldata globalCid, uint64 deadline) external onlyOperator returns (uint256 round) {
        CidCheck.check(globalCid);
        if (address(actionRecords) == address(0)) revert NotWired();
        if (deadline <= block.timestamp) revert DeadlineInPast(deadline);
        uint256 previous = _roundCount;
        round = previous + 1;
        if (previous != 0) {
            RoundState storage p = _rounds[previous];
            if (p.status != RoundStatus.Finalized) revert PreviousRoundNotFinalized(previous);
            bytes32 key = _cidKey(previous, CID_NEW_GLOBAL, address(0));
            if (!_sameCid(p.newGlobalV0, p.newGlobalDigest, key, globalCid)) {
                revert GlobalModelMismatch(round, _cidOf(p.newGlobalV0, p.newGlobalDigest, key), globalCid);
            }
            // A new global model must be attested first (with no passed model it is the previous one, checked above).
            if (p.passed != 0) {
                uint256 quorum = _attestationQuorum(p);
                if (p.disputeStake >= quorum) revert GlobalModelDisputed(previous, p.disputeStake, quorum);
                if (p.attestStake < quorum) revert GlobalModelNotAttested(previous, p.attestStake, quorum);
            }
        }
        _roundCount = uint96(round); // one more per openRound: never near 2^96
        RoundState storage r = _rounds[round];
        uint64 snapshot = uint64(block.timestamp) - 1;
        (bool v0, bytes32 digest) = _storeCid(globalCid, _cidKey(round, CID_GLOBAL, address(0)));
        r.status = RoundStatus.Open;
        r.deadline = deadline;
        r.snapshot = snapshot;
        r.globalV0 = v0;
        r.globalDigest = digest;
        // The attestations' base is fixed now: removing BSs later cannot lower the quorum (an MBS that removes the
        // honest BSs before the global model is attested would let a small coalition attest a forged model).
        MemberStakes memory m = _memberStakes(snapshot);
        r.memberStake = uint128(m.total); // below the coin supply
        r.attesters = m.seatBits;
        (uint64 commitUntil, uint64 revealUntil) = _windows(deadline);
        uint256 limit = block.timestamp + stake.unbondingDelay() / 2;
        if (revealUntil > limit) revert RoundTooLong(revealUntil, limit);
        emit RoundOpened(round, globalCid, deadline, commitUntil, revealUntil, snapshot);
    }

    /// @notice Submit the caller's model for round `round`: a training model record. Only a member BS that committed
    /// an action in slot `round`, once per round, until the deadline. Its K_i and data size are those the chain
    /// recorded for that action.
    /// @param round The round.
    /// @param cid Binary CID of the BS's aggregated model weights (Eq. 4) in IPFS.
    function submitModel(uint256 round, bytes calldata cid) external onlyMember {
        CidCheck.check(cid);
        RoundState storage r = _openRound(round);
        if (block.timestamp > r.deadline) revert SubmissionTooLate(round, r.deadline);
        (uint32 numTwins, uint64 dataSize) = actionRecords.committedAction(round, msg.sender);
        if (numTwins == 0) revert NoCommittedAction(round, msg.sender);
        if (dataSize == 0) revert EmptyModel();
        SubmissionState storage s = _submissions[round][msg.sender];
        if (s.exists) revert AlreadySubmitted(round, msg.sender);
        uint256 index = r.submitted;
        if (index >= MAX_SUBMISSIONS) revert RoundFull(round);

        (bool v0, bytes32 digest) = _storeCid(cid, _cidKey(round, CID_MODEL, msg.sender));
        r.submitted = uint8(index + 1);
        r.submitterSeats |= uint256(registry.seatOf(msg.sender)) << (8 * index);
        uint256 recordIndex = recordLog.append(
            RecordLog.RecordKind.TrainingModel, keccak256(abi.encode(round, msg.sender, cid, dataSize, numTwins))
        );
        // A record index fits 64 bits (the log grows by one per transaction at most a few times).
        _submissions[round][msg.sender] =
            SubmissionState(true, uint8(index), v0, numTwins, dataSize, uint64(recordIndex), digest);
        emit ModelSubmitted(round, msg.sender, cid, dataSize, numTwins, recordIndex);
    }

    /// @notice Commit to the caller's verdicts on every model of round `round`: `commitment` is
    /// `keccak256(abi.encode(round, verifier, verdicts, scores, salt))` of what {revealVerdicts} will reveal. Only a
    /// member BS, once per round, after the submission deadline and until `commitUntil`.
    /// @param round The round.
    /// @param commitment The hash of the ballot.
    function commitVerdicts(uint256 round, bytes32 commitment) external onlyMember {
        RoundState storage r = _openRound(round);
        uint64 deadline = r.deadline;
        if (block.timestamp <= deadline) revert SubmissionsStillOpen(round, deadline);
        (uint64 commitUntil,) = _windows(deadline);
        if (block.timestamp > commitUntil || r.revealed != 0) revert CommitClosed(round, commitUntil);
        if (commitment == bytes32(0)) revert EmptyCommitment();
        mapping(address => bytes32) storage commitments = _commitments[round];
        if (commitments[msg.sender] != bytes32(0)) revert AlreadyCommitted(round, msg.sender);
        commitments[msg.sender] = commitment;
        uint256 i = r.committed; // at most MAX_SEATS: a BS commits once per round
        _committerLanes[round][i / LANES_PER_WORD] |=
            uint256(registry.seatOf(msg.sender)) << ((i % LANES_PER_WORD) * LANE_BITS);
        r.committed = uint16(i + 1);
        emit VerdictsCommitted(round, msg.sender, commitment);
    }

    /// @notice Reveal the caller's committed verdicts: one verdict (ABSTAIN, PASS, FAIL) and one score per model, in
    /// the order of {submitters}; its own model's verdict must be ABSTAIN. Each verdict adds the caller's bond at the
    /// round's snapshot to the model's pass or fail stake. Only a member BS that committed, once, after the commit
    /// window (or once every member has committed) and until `revealUntil`.
    /// @param round The round.
    /// @param verdicts The verdicts, in submission order.
    /// @param scores The scores in basis points (e.g. held-out accuracy x 10000), in submission order.
    /// @param salt The secret that hid the verdicts in the commitment.
    function revealVerdicts(uint256 round, uint8[] calldata verdicts, uint16[] calldata scores, bytes32 salt)
        external
        onlyMember
    {
        RoundState storage r = _openRound(round);
        (uint256 word, uint256 shift, uint8 seat) = _revealLane(round, r);
        _checkBallot(round, r.submitted, verdicts, scores, salt);
        uint256 weight = stake.bondedAt(msg.sender, r.snapshot);
        (uint32 passBits, uint32 failBits) = _checkVerdicts(r.submitterSeats, seat, verdicts, scores);
        _committerLanes[round][word] |=
            (LANE_REVEALED | (uint256(passBits) << LANE_PASS_SHIFT) | (uint256(failBits) << LANE_FAIL_SHIFT)) << shift;
        ++r.revealed;
        emit VerdictsRevealed(round, msg.sender, verdicts, scores, weight);
    }

    /// @notice Close round `round` to submissions now (before its deadline), once every member BS has submitted: the
    /// deadline becomes this block's timestamp and the verdict windows follow it. Only the operator (the MBS).
    /// @param round The open round.
    function closeSubmissions(uint256 round) external onlyOperator {
        RoundState storage r = _openRound(round);
        if (block.timestamp >= r.deadline) revert SubmissionTooLate(round, r.deadline);
        uint256 submitted = r.submitted;
        uint256 members = registry.memberCount();
        if (submitted < members) revert SubmissionsPending(round, submitted, members);
        r.deadline = uint64(block.timestamp);
        (uint64 commitUntil, uint64 revealUntil) = _windows(r.deadline);
        emit SubmissionsClosed(round, r.deadline, commitUntil, revealUntil);
    }

    /// @notice Settle round `round` after its reveal window, or earlier once every member has committed and every
    /// ballot is revealed: decide every model by {AcceptanceRule.decide} over the verdict stakes, credit the models
    /// that passed and slash the ones that failed, then credit the verifiers whose verdicts agree with the outcomes and
    /// slash the ones with a verdict against an outcome or an unrevealed ballot. Any member BS or the operator.
    /// @dev The verdict stakes are tallied here from the revealed ballots (each weighs its verifier's bond at the
    /// snapshot, which no later bond changes), not at every reveal.
    /// @param round The round.
    function settleRound(uint256 round) external onlyMemberOrOperator {
        RoundState storage r = _openRound(round);
        (, uint64 revealUntil) = _windows(r.deadline);
        if (block.timestamp <= revealUntil && !_allRevealed(r)) revert VerificationStillOpen(round, revealUntil);
        r.status = RoundStatus.Settled;

        // The stake of every member at the snapshot: a model's eligible verifiers are all members but its submitter.
        // Each member's bond is read once; the rewards are paid with one call once every failed model is slashed and
        // before any withheld ballot is (each BS then ends with exactly the stake of crediting and slashing in the
        // order of the outcomes: a BS is slashed for a failed model before it could earn a verifier reward, and for a
        // withheld ballot after its model reward).
        uint64 snapshot = r.snapshot;
        MemberStakes memory m = _memberStakes(snapshot);
        Ballots memory ballots = _ballotsOf(round, r.committed, snapshot, m);
        ballots.memberStake = m.total;
        uint256 n = r.submitted;
        Credits memory credits =
            Credits(new address[](n + ballots.lanes.length), new uint256[](n + ballots.lanes.length), 0);
        (uint32 passedBits, uint32 failedBits, uint256 passed, uint256 failed) =
            _settleModels(round, r, ballots, m, credits);
        r.passed = uint16(passed); // at most MAX_SUBMISSIONS
        r.passedBits = passedBits;
        if (failedBits != 0) r.failedBits = failedBits;
        _settleVerifiers(round, passedBits, failedBits, ballots, credits);
        emit RoundSettled(round, passed, failed);
    }

    /// @notice Record the new global model of round `round` (Eq. 5) and the models it aggregated. Only the operator
    /// (the MBS), after settlement; the aggregated models are exactly the ones that passed, and with none the global
    /// model stays the round's own.
    /// @param round The round.
    /// @param newGlobalCid Binary CID of the new global model weights.
    /// @param aggregated The BSs whose models passed, strictly increasing by address.
    function recordGlobalModel(uint256 round, bytes calldata newGlobalCid, address[] calldata aggregated)
        external
        onlyOperator
    {
        CidCheck.check(newGlobalCid);
        RoundState storage r = _rounds[round];
        if (r.status != RoundStatus.Settled) revert InvalidRoundStatus(round, r.status);
        uint256 n = aggregated.length;
        if (n != r.passed) revert AggregatedIncomplete(round, r.passed, n);
        if (n == 0) {
            bytes32 key = _cidKey(round, CID_GLOBAL, address(0));
            if (!_sameCid(r.globalV0, r.globalDigest, key, newGlobalCid)) {
                revert GlobalModelMismatch(round, _cidOf(r.globalV0, r.globalDigest, key), newGlobalCid);
            }
        }
        address previous = address(0);
        uint256 passedBits = r.passedBits;
        for (uint256 i = 0; i < n; ++i) {
            address bs = aggregated[i];
            if (bs <= previous) revert AggregatedNotSorted();
            SubmissionState storage s = _submissions[round][bs];
            if (!s.exists || (passedBits >> s.index) & 1 == 0) revert ModelNotPassed(round, bs);
            previous = bs;
        }
        (bool v0, bytes32 digest) = _storeCid(newGlobalCid, _cidKey(round, CID_NEW_GLOBAL, address(0)));
        r.status = RoundStatus.Finalized;
        r.newGlobalV0 = v0;
        r.newGlobalDigest = digest;
        emit GlobalModelRecorded(round, newGlobalCid, aggregated);
    }

    /// @notice Attest (`agrees`) or dispute round `round`'s recorded global model, after recomputing it bit for bit
    /// from the chain and IPFS (Eq. 5 of the listed models with their on-chain weights, docs/audit.md). Only a member
    /// BS that was a member when the round opened, once per round, after the MBS recorded the model and before the
    /// next round opens; the word weighs the caller's bond at the round's snapshot. Round r+1 opens only once BSs
    /// holding `quorumBps` of the members' stake attested, and never once BSs holding that much disputed. Attack
    /// stopped: an MBS publishing a global model that is not Eq. 5 of the models it lists (class 7), which the BSs
    /// would otherwise train from.
    /// @param round The round whose global model is attested.
    /// @param agrees True to attest, false to dispute.
    function attestGlobalModel(uint256 round, bool agrees) external onlyMember {
        RoundState storage r = _rounds[round];
        if (r.status != RoundStatus.Finalized) revert InvalidRoundStatus(round, r.status);
        if (round != _roundCount) revert AttestationClosed(round);
        uint256 bit = uint256(1) << registry.seatOf(msg.sender);
        if (r.attested & bit != 0) revert AlreadyAttested(round, msg.sender);
        if (r.attesters & bit == 0) revert NotAttester(round, msg.sender);
        uint256 weight = stake.bondedAt(msg.sender, r.snapshot);
        r.attested |= bit;
        if (agrees) {
            r.attestStake += uint128(weight);
        } else {
            r.disputeStake += uint128(weight);
            r.disputed |= bit;
        }
        emit GlobalModelAttested(round, msg.sender, agrees, weight);
    }

    /// @notice What `bs` said of round `round`'s global model.
    /// @param round The round.
    /// @param bs The BS.
    function attestation(uint256 round, address bs) external view returns (Attestation) {
        RoundState storage r = _rounds[round];
        if (r.attested == 0) return Attestation.None;
        (bool seated, uint8 seat) = _seatOf(bs);
        uint256 bit = uint256(1) << seat;
        if (!seated || r.attested & bit == 0) return Attestation.None;
        return r.disputed & bit != 0 ? Attestation.Disputes : Attestation.Agrees;
    }

    /// @notice The stake that attested and disputed round `round`'s global model, and the quorum either needs.
    /// @param round The round.
    function attestationTally(uint256 round)
        external
        view
        returns (uint256 attestStake, uint256 disputeStake, uint256 quorum)
    {
        RoundState storage r = _rounds[round];
        return (r.attestStake, r.disputeStake, _attestationQuorum(r));
    }

    /// @notice Number of rounds opened so far (the current round's number).
    function currentRound() external view returns (uint256) {
        return _roundCount;
    }

    /// @notice Whether round `round` accepts submissions now (open and before its deadline).
    /// @param round The round.
    function acceptsSubmissions(uint256 round) external view returns (bool) {
        RoundState storage r = _rounds[round];
        return r.status == RoundStatus.Open && block.timestamp <= r.deadline;
    }

    /// @notice Round `round`.
    /// @param round The round.
    function getRound(uint256 round) external view returns (Round memory info) {
        RoundState storage r = _rounds[round];
        info.status = r.status;
        info.deadline = r.deadline;
        if (r.status != RoundStatus.None) (info.commitUntil, info.revealUntil) = _windows(r.deadline);
        info.snapshot = r.snapshot;
        info.passed = r.passed;
        info.committed = r.committed;
        info.revealed = r.revealed;
        info.memberStake = r.memberStake;
        info.attestStake = r.attestStake;
        info.disputeStake = r.disputeStake;
        info.attesters = r.attesters;
        if (r.status != RoundStatus.None) {
            info.globalCid = _cidOf(r.globalV0, r.globalDigest, _cidKey(round, CID_GLOBAL, address(0)));
        }
        if (r.status == RoundStatus.Finalized) {
            info.newGlobalCid = _cidOf(r.newGlobalV0, r.newGlobalDigest, _cidKey(round, CID_NEW_GLOBAL, address(0)));
        }
    }

    /// @notice The BSs that submitted a model in round `round`, in submission order.
    /// @param round The round.
    function submitters(uint256 round) public view returns (address[] memory bss) {
        RoundState storage r = _rounds[round];
        uint256 n = r.submitted;
        uint256 seats = r.submitterSeats;
        bss = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            bss[i] = registry.accountOfSeat(uint8(seats >> (8 * i)));
        }
    }

    /// @notice `bs`'s submission in round `round`.
    /// @param round The round.
    /// @param bs The BS.
    function submission(uint256 round, address bs) external view returns (Submission memory info) {
        SubmissionState storage s = _submissions[round][bs];
        if (!s.exists) return info;
        info.exists = true;
        RoundState storage r = _rounds[round];
        info.outcome = _outcomeOf(r, s.index);
        info.numTwins = s.numTwins;
        info.dataSize = s.dataSize;
        info.recordIndex = s.recordIndex;
        info.cid = _cidOf(s.cidV0, s.cidDigest, _cidKey(round, CID_MODEL, bs));
        MemberStakes memory none;
        Ballots memory ballots = _ballotsOf(round, r.committed, r.snapshot, none);
        (info.passStake, info.failStake) = _stakesOn(ballots, s.index);
    }

    /// @notice `verifier`'s ballot in round `round`. Its weight is the verifier's bond at the round's snapshot once the
    /// ballot is revealed, 0 before.
    /// @param round The round.
    /// @param verifier The verifying BS.
    function ballot(uint256 round, address verifier) external view returns (Ballot memory b) {
        b.commitment = _commitments[round][verifier];
        if (b.commitment == bytes32(0)) return b;
        RoundState storage r = _rounds[round];
        (,, uint256 lane) = _laneOf(round, r.committed, registry.seatOf(verifier));
        if (lane & LANE_REVEALED == 0) return b;
        b.revealed = true;
        b.passBits = uint32(lane >> LANE_PASS_SHIFT);
        b.failBits = uint32(lane >> LANE_FAIL_SHIFT);
        b.weight = stake.bondedAt(verifier, r.snapshot);
    }

    /// @notice The BSs that committed a ballot in round `round`, in commit order.
    /// @param round The round.
    function committers(uint256 round) external view returns (address[] memory vs) {
        uint256 n = _rounds[round].committed;
        vs = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 lane = _committerLanes[round][i / LANES_PER_WORD] >> ((i % LANES_PER_WORD) * LANE_BITS);
            vs[i] = registry.accountOfSeat(uint8(lane));
        }
    }

    /// @notice Whether round `round` accepts reveals now.
    /// @param round The round.
    function acceptsReveals(uint256 round) external view returns (bool) {
        RoundState storage r = _rounds[round];
        (uint64 commitUntil, uint64 revealUntil) = _windows(r.deadline);
        return r.status == RoundStatus.Open && _revealOpen(r, commitUntil) && block.timestamp <= revealUntil;
    }

    /// @dev Decide every model, slash the BSs of the failed ones and note the rewards of the passed ones in `credits`.
    /// Returns the bitmaps (by submission index) of the passed and failed models and their counts.
    function _settleModels(
        uint256 round,
        RoundState storage r,
        Ballots memory ballots,
        MemberStakes memory m,
        Credits memory credits
    ) private returns (uint32 passedBits, uint32 failedBits, uint256 passed, uint256 failed) {
        uint256 n = r.submitted;
        uint256 seats = r.submitterSeats;
        for (uint256 i = 0; i < n; ++i) {
            Outcome o = _settleModel(round, uint8(seats >> (8 * i)), m, ballots, i, credits);
            if (o == Outcome.Passed) {
                passedBits |= uint32(1 << i);
                ++passed;
            } else if (o == Outcome.Failed) {
                failedBits |= uint32(1 << i);
                ++failed;
            }
        }
    }

    /// @dev Decide the model of the BS on `seat` out of the stake of every member but that BS, then note its reward in
    /// `credits` or slash it.
    function _settleModel(
        uint256 round,
        uint8 seat,
        MemberStakes memory m,
        Ballots memory ballots,
        uint256 index,
        Credits memory credits
    ) private returns (Outcome o) {
        (bool member, uint256 k) = _findSeat(m, seat);
        address bs = member ? m.accounts[k] : registry.accountOfSeat(seat);
        o = _decide(ballots, index, ballots.memberStake - (member ? m.weights[k] : 0));
        uint256 reward = o == Outcome.Passed ? rewardPerModel : 0;
        uint256 slashed;
        if (reward != 0) _addCredit(credits, bs, reward);
        if (o == Outcome.Failed) slashed = stake.slash(bs, slashBps);
        emit ModelSettled(round, bs, o, reward, slashed);
    }

    /// @dev {AcceptanceRule.decide} on the verdict stakes of submission `index` out of `eligible`.
    function _decide(Ballots memory ballots, uint256 index, uint256 eligible) private view returns (Outcome) {
        (uint256 passStake, uint256 failStake) = _stakesOn(ballots, index);
        AcceptanceRule.Decision d = AcceptanceRule.decide(passStake, failStake, eligible, quorumBps);
        if (d == AcceptanceRule.Decision.Passed) return Outcome.Passed;
        if (d == AcceptanceRule.Decision.Failed) return Outcome.Failed;
        return Outcome.Unverified;
    }

    /// @dev Pay the verifiers whose revealed verdicts all agree with the decided outcomes (and decided at least one
    /// model with a non-zero weight) together with the model rewards in `credits` (one vault call), pay nothing to the
    /// ones with a verdict against an outcome, then slash the ones that never revealed their ballot.
    function _settleVerifiers(
        uint256 round,
        uint32 passedBits,
        uint32 failedBits,
        Ballots memory ballots,
        Credits memory credits
    ) private {
        uint256 n = ballots.verifiers.length;
        uint256 reward = verifierReward;
        if (reward != 0) {
            for (uint256 i = 0; i < n; ++i) {
                (, bool rewarded) = _verdictOf(ballots.lanes[i], passedBits, failedBits, ballots.weights[i]);
                if (rewarded) _addCredit(credits, ballots.verifiers[i], reward);
            }
        }
        uint256 count = credits.count;
        if (count != 0) {
            address[] memory accounts = new address[](count);
            uint256[] memory amounts = new uint256[](count);
            for (uint256 i = 0; i < count; ++i) {
                accounts[i] = credits.accounts[i];
                amounts[i] = credits.amounts[i];
            }
            stake.creditMany(accounts, amounts);
        }
        for (uint256 i = 0; i < n; ++i) {
            address v = ballots.verifiers[i];
            uint256 lane = ballots.lanes[i];
            (bool agreed, bool rewarded) = _verdictOf(lane, passedBits, failedBits, ballots.weights[i]);
            bool revealed = lane & LANE_REVEALED != 0;
            uint256 slashed;
            if (!revealed) slashed = stake.slash(v, withheldSlashBps);
            emit VerifierSettled(round, v, revealed, agreed, rewarded ? reward : 0, slashed);
        }
    }

    /// @dev Whether a ballot (`lane`, with weight `weight`) agrees with the outcomes, and whether it earns the verifier
    /// reward (revealed, agreeing, deciding at least one decided model, with a non-zero weight).
    function _verdictOf(uint256 lane, uint32 passedBits, uint32 failedBits, uint256 weight)
        private
        view
        returns (bool agreed, bool rewarded)
    {
        bool revealed = lane & LANE_REVEALED != 0;
        uint32 passBits = uint32(lane >> LANE_PASS_SHIFT);
        uint32 failBits = uint32(lane >> LANE_FAIL_SHIFT);
        agreed = revealed && (passBits & failedBits) == 0 && (failBits & passedBits) == 0;
        rewarded = agreed && ((passBits | failBits) & (passedBits | failedBits)) != 0 && weight != 0
            && verifierReward != 0;
    }

    /// @dev Add `amount` to `bs`'s entry of `credits` (a new entry at the end for a BS not listed yet).
    function _addCredit(Credits memory credits, address bs, uint256 amount) private pure {
        uint256 n = credits.count;
        for (uint256 i = 0; i < n; ++i) {
            if (credits.accounts[i] == bs) {
                credits.amounts[i] += amount;
                return;
            }
        }
        credits.accounts[n] = bs;
        credits.amounts[n] = amount;
        credits.count = n + 1;
    }

    /// @dev The outcome of the submission at `index` of round `r`: Pending until settlement, then its bitmaps'.
    function _outcomeOf(RoundState storage r, uint256 index) private view returns (Outcome) {
        if (r.status != RoundStatus.Settled && r.status != RoundStatus.Finalized) return Outcome.Pending;
        if ((r.passedBits >> index) & 1 != 0) return Outcome.Passed;
        if ((r.failedBits >> index) & 1 != 0) return Outcome.Failed;
        return Outcome.Unverified;
    }

    /// @dev The reveal window is open and the caller committed and has not revealed: its lane (word, bit offset)
    /// and seat.
    function _revealLane(uint256 round, RoundState storage r)
        private
        view
        returns (uint256 word, uint256 shift, uint8 seat)
    {
        (uint64 commitUntil, uint64 revealUntil) = _windows(r.deadline);
        if (!_revealOpen(r, commitUntil)) revert RevealNotOpen(round, commitUntil);
        if (block.timestamp > revealUntil) revert RevealClosed(round, revealUntil);
        if (_commitments[round][msg.sender] == bytes32(0)) revert NotCommitted(round, msg.sender);
        seat = registry.seatOf(msg.sender);
        uint256 lane;
        (word, shift, lane) = _laneOf(round, r.committed, seat);
        if (lane & LANE_REVEALED != 0) revert AlreadyRevealed(round, msg.sender);
    }

    /// @dev The ballot has one verdict and one score per submission and hashes to the caller's commitment.
    function _checkBallot(
        uint256 round,
        uint256 n,
        uint8[] calldata verdicts,
        uint16[] calldata scores,
        bytes32 salt
    ) private view {
        if (verdicts.length != n || scores.length != n) revert VerdictCountMismatch(n, verdicts.length, scores.length);
        if (keccak256(abi.encode(round, msg.sender, verdicts, scores, salt)) != _commitments[round][msg.sender]) {
            revert CommitmentMismatch(round, msg.sender);
        }
    }

    /// @dev Check every verdict and score (and that the verifier on `seat` judges no model of its own); the verdicts'
    /// bitmaps.
    function _checkVerdicts(uint256 submitterSeats, uint8 seat, uint8[] calldata verdicts, uint16[] calldata scores)
        private
        view
        returns (uint32 passBits, uint32 failBits)
    {
        for (uint256 i = 0; i < verdicts.length; ++i) {
            uint8 v = verdicts[i];
            if (v > FAIL) revert InvalidVerdict(i, v);
            if (scores[i] > MAX_SCORE) revert ScoreOutOfRange(scores[i]);
            if (v == ABSTAIN) continue;
            if (uint8(submitterSeats >> (8 * i)) == seat) revert SelfVerification(msg.sender);
            if (v == PASS) passBits |= uint32(1 << i);
            else failBits |= uint32(1 << i);
        }
    }

    /// @dev The committed ballots of round `round` in commit order: verifier, lane and weight (the verifier's bond at
    /// the snapshot for a revealed ballot, 0 for an unrevealed one). A verifier among the members `m` is read from it,
    /// any other from the registry and the vault.
    function _ballotsOf(uint256 round, uint256 n, uint64 snapshot, MemberStakes memory m)
        private
        view
        returns (Ballots memory b)
    {
        b.snapshot = snapshot;
        b.verifiers = new address[](n);
        b.lanes = new uint256[](n);
        b.weights = new uint256[](n);
        uint256 word;
        for (uint256 i = 0; i < n; ++i) {
            if (i % LANES_PER_WORD == 0) word = _committerLanes[round][i / LANES_PER_WORD];
            uint256 lane = (word >> ((i % LANES_PER_WORD) * LANE_BITS)) & LANE_MASK;
            (bool member, uint256 k) = _findSeat(m, uint8(lane));
            address v = member ? m.accounts[k] : registry.accountOfSeat(uint8(lane));
            b.verifiers[i] = v;
            b.lanes[i] = lane;
            if (lane & LANE_REVEALED != 0) b.weights[i] = member ? m.weights[k] : stake.bondedAt(v, snapshot);
        }
    }

    /// @dev The pass and fail stakes of the revealed ballots on submission `index`.
    function _stakesOn(Ballots memory b, uint256 index) private pure returns (uint256 passStake, uint256 failStake) {
        uint256 n = b.lanes.length;
        for (uint256 i = 0; i < n; ++i) {
            uint256 lane = b.lanes[i];
            if ((lane >> (LANE_PASS_SHIFT + index)) & 1 != 0) passStake += b.weights[i];
            else if ((lane >> (LANE_FAIL_SHIFT + index)) & 1 != 0) failStake += b.weights[i];
        }
    }

    /// @dev The lane of the committer on `seat` among the `n` committers of round `round`: its word, bit offset and
    /// value. Reverts {NotCommitted} if none.
    function _laneOf(uint256 round, uint256 n, uint8 seat)
        private
        view
        returns (uint256 word, uint256 shift, uint256 lane)
    {
        uint256 packed;
        for (uint256 i = 0; i < n; ++i) {
            if (i % LANES_PER_WORD == 0) packed = _committerLanes[round][i / LANES_PER_WORD];
            shift = (i % LANES_PER_WORD) * LANE_BITS;
            lane = (packed >> shift) & LANE_MASK;
            if (uint8(lane) == seat) return (i / LANES_PER_WORD, shift, lane);
        }
        revert NotCommitted(round, msg.sender);
    }

    /// @dev `quorumBps` of the round's `memberStake`, rounded up, and at least 1 (no stake, no quorum).
    function _attestationQuorum(RoundState storage r) private view returns (uint256 quorum) {
        quorum = (uint256(r.memberStake) * quorumBps + BPS - 1) / BPS;
        if (quorum == 0) quorum = 1;
    }

    /// @dev The current members with their seats and their bonds at `snapshot`, the sum of the bonds and the bitmap of
    /// the seats (at most `MAX_MEMBERS` each).
    function _memberStakes(uint64 snapshot) private view returns (MemberStakes memory m) {
        (m.accounts, m.seats) = registry.membersAndSeats();
        m.weights = stake.bondedAtMany(m.accounts, snapshot);
        for (uint256 i = 0; i < m.accounts.length; ++i) {
            m.total += m.weights[i];
            m.seatBits |= uint256(1) << m.seats[i];
        }
    }

    /// @dev The position of the member on `seat` in `m`, if it is one.
    function _findSeat(MemberStakes memory m, uint8 seat) private pure returns (bool found, uint256 k) {
        uint8[] memory seats = m.seats;
        for (k = 0; k < seats.length; ++k) {
            if (seats[k] == seat) return (true, k);
        }
        return (false, 0);
    }

    /// @dev The verdict windows that follow a deadline: the end of the commit window and of the reveal window.
    function _windows(uint64 deadline) private view returns (uint64 commitUntil, uint64 revealUntil) {
        commitUntil = deadline + verificationWindow;
        revealUntil = commitUntil + revealWindow;
    }

    /// @dev Reveals are open after the commit window, or after the deadline once every member has committed, and stay
    /// open after the first reveal.
    function _revealOpen(RoundState storage r, uint64 commitUntil) private view returns (bool) {
        if (block.timestamp > commitUntil || r.revealed != 0) return true;
        return block.timestamp > r.deadline && r.committed >= registry.memberCount();
    }

    /// @dev Every member committed (after the deadline) and every ballot is revealed.
    function _allRevealed(RoundState storage r) private view returns (bool) {
        return block.timestamp > r.deadline && r.committed >= registry.memberCount() && r.revealed == r.committed;
    }

    function _openRound(uint256 round) private view returns (RoundState storage r) {
        r = _rounds[round];
        if (r.status != RoundStatus.Open) revert InvalidRoundStatus(round, r.status);
    }

    /// @dev The registry seat of `account`, if it has one.
    function _seatOf(address account) private view returns (bool seated, uint8 seat) {
        try registry.seatOf(account) returns (uint8 s) {
            return (true, s);
        } catch {
            return (false, 0);
        }
    }

    /// @dev Where a CID that is not a CIDv0 is kept: `kind` of round `round` (and BS `bs` for a model).
    function _cidKey(uint256 round, uint256 kind, address bs) private pure returns (bytes32) {
        return keccak256(abi.encode(round, kind, bs));
    }

    /// @dev Store `cid`: a CIDv0 as its digest (returned), any other CID as bytes under `key`.
    function _storeCid(bytes calldata cid, bytes32 key) private returns (bool v0, bytes32 digest) {
        if (CidCheck.isV0(cid)) return (true, CidCheck.digestOf(cid));
        _longCids[key] = cid;
    }

    /// @dev The CID stored as (`v0`, `digest`) or under `key`.
    function _cidOf(bool v0, bytes32 digest, bytes32 key) private view returns (bytes memory) {
        return v0 ? CidCheck.fromDigest(digest) : _longCids[key];
    }

    /// @dev Whether `cid` is the CID stored as (`v0`, `digest`) or under `key`.
    function _sameCid(bool v0, bytes32 digest, bytes32 key, bytes calldata cid) private view returns (bool) {
        if (v0) return CidCheck.isV0(cid) && CidCheck.digestOf(cid) == digest;
        return !CidCheck.isV0(cid) && keccak256(_longCids[key]) == keccak256(cid);
    }
}
