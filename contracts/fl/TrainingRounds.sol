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
    /// @dev The deploying account: its one power is to wire `actionRecords` once.
    address private immutable _wirer;

    uint256 private _roundCount;
    mapping(uint256 round => Round) private _rounds;
    mapping(uint256 round => address[]) private _submitters;
    mapping(uint256 round => mapping(address bs => Submission)) private _submissions;
    mapping(uint256 round => address[]) private _committers;
    mapping(uint256 round => mapping(address verifier => Ballot)) private _ballots;
    mapping(uint256 round => mapping(address bs => Attestation)) private _attestations;

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
            Round storage p = _rounds[previous];
            if (p.status != RoundStatus.Finalized) revert PreviousRoundNotFinalized(previous);
            if (keccak256(p.newGlobalCid) != keccak256(globalCid)) {
                revert GlobalModelMismatch(round, p.newGlobalCid, globalCid);
            }
            // A new global model must be attested first (with no passed model it is the previous one, checked above).
            if (p.passed != 0) {
                uint256 quorum = _attestationQuorum(p);
                if (p.disputeStake >= quorum) revert GlobalModelDisputed(previous, p.disputeStake, quorum);
                if (p.attestStake < quorum) revert GlobalModelNotAttested(previous, p.attestStake, quorum);
            }
        }
        _roundCount = round;
        Round storage r = _rounds[round];
        r.status = RoundStatus.Open;
        r.snapshot = uint64(block.timestamp) - 1;
        r.globalCid = globalCid;
        // The attestations' base is fixed now: removing BSs later cannot lower the quorum (an MBS that removes the
        // honest BSs before the global model is attested would let a small coalition attest a forged model).
        (uint256 base, uint256 seats) = _stakeOfMembers(r.snapshot);
        r.memberStake = uint128(base); // below the coin supply
        r.attesters = seats;
        _setDeadline(r, deadline);
        uint256 limit = block.timestamp + stake.unbondingDelay() / 2;
        if (r.revealUntil > limit) revert RoundTooLong(r.revealUntil, limit);
        emit RoundOpened(round, globalCid, deadline, r.commitUntil, r.revealUntil, r.snapshot);
    }

    /// @notice Submit the caller's model for round `round`: a training model record. Only a member BS that committed
    /// an action in slot `round`, once per round, until the deadline. Its K_i and data size are those the chain
    /// recorded for that action.
    /// @param round The round.
    /// @param cid Binary CID of the BS's aggregated model weights (Eq. 4) in IPFS.
    function submitModel(uint256 round, bytes calldata cid) external onlyMember {
        CidCheck.check(cid);
        Round storage r = _openRound(round);
        if (block.timestamp > r.deadline) revert SubmissionTooLate(round, r.deadline);
        (uint32 numTwins, uint64 dataSize) = actionRecords.committedAction(round, msg.sender);
        if (numTwins == 0) revert NoCommittedAction(round, msg.sender);
        if (dataSize == 0) revert EmptyModel();
        Submission storage s = _submissions[round][msg.sender];
        if (s.exists) revert AlreadySubmitted(round, msg.sender);
        if (_submitters[round].length >= MAX_SUBMISSIONS) revert RoundFull(round);

        s.exists = true;
        s.numTwins = numTwins;
        s.dataSize = dataSize;
        s.cid = cid;
        _submitters[round].push(msg.sender);
        uint256 recordIndex = recordLog.append(
            RecordLog.RecordKind.TrainingModel, keccak256(abi.encode(round, msg.sender, cid, dataSize, numTwins))
        );
        s.recordIndex = recordIndex;
        emit ModelSubmitted(round, msg.sender, cid, dataSize, numTwins, recordIndex);
    }

    /// @notice Commit to the caller's verdicts on every model of round `round`: `commitment` is
    /// `keccak256(abi.encode(round, verifier, verdicts, scores, salt))` of what {revealVerdicts} will reveal. Only a
    /// member BS, once per round, after the submission deadline and until `commitUntil`.
    /// @param round The round.
    /// @param commitment The hash of the ballot.
    function commitVerdicts(uint256 round, bytes32 commitment) external onlyMember {
        Round storage r = _openRound(round);
        if (block.timestamp <= r.deadline) revert SubmissionsStillOpen(round, r.deadline);
        if (block.timestamp > r.commitUntil || r.revealed != 0) revert CommitClosed(round, r.commitUntil);
        if (commitment == bytes32(0)) revert EmptyCommitment();
        Ballot storage b = _ballots[round][msg.sender];
        if (b.commitment != bytes32(0)) revert AlreadyCommitted(round, msg.sender);
        b.commitment = commitment;
        _committers[round].push(msg.sender);
        ++r.committed; // at most MAX_MEMBERS
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
        Round storage r = _openRound(round);
        if (!_revealOpen(r)) revert RevealNotOpen(round, r.commitUntil);
        if (block.timestamp > r.revealUntil) revert RevealClosed(round, r.revealUntil);
        Ballot storage b = _ballots[round][msg.sender];
        if (b.commitment == bytes32(0)) revert NotCommitted(round, msg.sender);
        if (b.revealed) revert AlreadyRevealed(round, msg.sender);
        uint256 n = _submitters[round].length;
        if (verdicts.length != n || scores.length != n) revert VerdictCountMismatch(n, verdicts.length, scores.length);
        if (keccak256(abi.encode(round, msg.sender, verdicts, scores, salt)) != b.commitment) {
            revert CommitmentMismatch(round, msg.sender);
        }
        uint256 weight = stake.bondedAt(msg.sender, r.snapshot);
        (uint32 passBits, uint32 failBits) = _tally(round, verdicts, scores, weight);
        b.revealed = true;
        b.passBits = passBits;
        b.failBits = failBits;
        b.weight = weight;
        ++r.revealed;
        emit VerdictsRevealed(round, msg.sender, verdicts, scores, weight);
    }

    /// @notice Close round `round` to submissions now (before its deadline), once every member BS has submitted: the
    /// deadline becomes this block's timestamp and the verdict windows follow it. Only the operator (the MBS).
    /// @param round The open round.
    function closeSubmissions(uint256 round) external onlyOperator {
        Round storage r = _openRound(round);
        if (block.timestamp >= r.deadline) revert SubmissionTooLate(round, r.deadline);
        uint256 submitted = _submitters[round].length;
        uint256 members = registry.memberCount();
        if (submitted < members) revert SubmissionsPending(round, submitted, members);
        _setDeadline(r, uint64(block.timestamp));
        emit SubmissionsClosed(round, r.deadline, r.commitUntil, r.revealUntil);
    }

    /// @notice Settle round `round` after its reveal window, or earlier once every member has committed and every
    /// ballot is revealed: decide every model by {AcceptanceRule.decide} over the verdict stakes, credit the models
    /// that passed and slash the ones that failed, then credit the verifiers whose verdicts agree with the outcomes and
    /// slash the ones with a verdict against an outcome or an unrevealed ballot. Any member BS or the operator.
    /// @param round The round.
    function settleRound(uint256 round) external onlyMemberOrOperator {
        Round storage r = _openRound(round);
        if (block.timestamp <= r.revealUntil && !_allRevealed(r)) revert VerificationStillOpen(round, r.revealUntil);
        r.status = RoundStatus.Settled;

        // The stake of every member at the snapshot: a model's eligible verifiers are all members but its submitter.
        (uint256 memberStake,) = _stakeOfMembers(r.snapshot);
        (uint32 passedBits, uint32 failedBits, uint256 passed, uint256 failed) =
            _settleModels(round, r.snapshot, memberStake);
        r.passed = uint16(passed); // at most MAX_SUBMISSIONS
        _settleVerifiers(round, passedBits, failedBits);
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
        Round storage r = _rounds[round];
        if (r.status != RoundStatus.Settled) revert InvalidRoundStatus(round, r.status);
        uint256 n = aggregated.length;
        if (n != r.passed) revert AggregatedIncomplete(round, r.passed, n);
        if (n == 0 && keccak256(newGlobalCid) != keccak256(r.globalCid)) {
            revert GlobalModelMismatch(round, r.globalCid, newGlobalCid);
        }
        address previous = address(0);
        for (uint256 i = 0; i < n; ++i) {
            address bs = aggregated[i];
            if (bs <= previous) revert AggregatedNotSorted();
            if (_submissions[round][bs].outcome != Outcome.Passed) revert ModelNotPassed(round, bs);
            previous = bs;
        }
        r.status = RoundStatus.Finalized;
        r.newGlobalCid = newGlobalCid;
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
        Round storage r = _rounds[round];
        if (r.status != RoundStatus.Finalized) revert InvalidRoundStatus(round, r.status);
        if (round != _roundCount) revert AttestationClosed(round);
        if (_attestations[round][msg.sender] != Attestation.None) revert AlreadyAttested(round, msg.sender);
        if (r.attesters & (uint256(1) << registry.seatOf(msg.sender)) == 0) revert NotAttester(round, msg.sender);
        uint256 weight = stake.bondedAt(msg.sender, r.snapshot);
        _attestations[round][msg.sender] = agrees ? Attestation.Agrees : Attestation.Disputes;
        if (agrees) r.attestStake += uint128(weight);
        else r.disputeStake += uint128(weight);
        emit GlobalModelAttested(round, msg.sender, agrees, weight);
    }

    /// @notice What `bs` said of round `round`'s global model.
    /// @param round The round.
    /// @param bs The BS.
    function attestation(uint256 round, address bs) external view returns (Attestation) {
        return _attestations[round][bs];
    }

    /// @notice The stake that attested and disputed round `round`'s global model, and the quorum either needs.
    /// @param round The round.
    function attestationTally(uint256 round)
        external
        view
        returns (uint256 attestStake, uint256 disputeStake, uint256 quorum)
    {
        Round storage r = _rounds[round];
        return (r.attestStake, r.disputeStake, _attestationQuorum(r));
    }

    /// @notice Number of rounds opened so far (the current round's number).
    function currentRound() external view returns (uint256) {
        return _roundCount;
    }

    /// @notice Whether round `round` accepts submissions now (open and before its deadline).
    /// @param round The round.
    function acceptsSubmissions(uint256 round) external view returns (bool) {
        Round storage r = _rounds[round];
        return r.status == RoundStatus.Open && block.timestamp <= r.deadline;
    }

    /// @notice Round `round`.
    /// @param round The round.
    function getRound(uint256 round) external view returns (Round memory) {
        return _rounds[round];
    }

    /// @notice The BSs that submitted a model in round `round`, in submission order.
    /// @param round The round.
    function submitters(uint256 round) external view returns (address[] memory) {
        return _submitters[round];
    }

    /// @notice `bs`'s submission in round `round`.
    /// @param round The round.
    /// @param bs The BS.
    function submission(uint256 round, address bs) external view returns (Submission memory) {
        return _submissions[round][bs];
    }

    /// @notice `verifier`'s ballot in round `round`.
    /// @param round The round.
    /// @param verifier The verifying BS.
    function ballot(uint256 round, address verifier) external view returns (Ballot memory) {
        return _ballots[round][verifier];
    }

    /// @notice The BSs that committed a ballot in round `round`, in commit order.
    /// @param round The round.
    function committers(uint256 round) external view returns (address[] memory) {
        return _committers[round];
    }

    /// @notice Whether round `round` accepts reveals now.
    /// @param round The round.
    function acceptsReveals(uint256 round) external view returns (bool) {
        Round storage r = _rounds[round];
        return r.status == RoundStatus.Open && _revealOpen(r) && block.timestamp <= r.revealUntil;
    }

    /// @dev Decide every model and pay or slash its BS. Returns the bitmaps (by submission index) of the passed and
    /// failed models and their counts.
    function _settleModels(uint256 round, uint64 snapshot, uint256 memberStake)
        private
        returns (uint32 passedBits, uint32 failedBits, uint256 passed, uint256 failed)
    {
        address[] storage bss = _submitters[round];
        uint256 n = bss.length;
        for (uint256 i = 0; i < n; ++i) {
            Outcome o = _settleModel(round, bss[i], snapshot, memberStake);
            if (o == Outcome.Passed) {
                passedBits |= uint32(1 << i);
                ++passed;
            } else if (o == Outcome.Failed) {
                failedBits |= uint32(1 << i);
                ++failed;
            }
        }
    }

    /// @dev Decide `bs`'s model out of the stake of every member but `bs`, then credit or slash `bs`.
    function _settleModel(uint256 round, address bs, uint64 snapshot, uint256 memberStake)
        private
        returns (Outcome o)
    {
        Submission storage s = _submissions[round][bs];
        uint256 eligible = memberStake;
        if (registry.isMember(bs)) eligible -= stake.bondedAt(bs, snapshot);
        AcceptanceRule.Decision d = AcceptanceRule.decide(s.passStake, s.failStake, eligible, quorumBps);
        if (d == AcceptanceRule.Decision.Passed) o = Outcome.Passed;
        else if (d == AcceptanceRule.Decision.Failed) o = Outcome.Failed;
        else o = Outcome.Unverified;
        s.outcome = o;
        uint256 reward = o == Outcome.Passed ? rewardPerModel : 0;
        uint256 slashed;
        if (reward != 0) stake.credit(bs, reward);
        if (o == Outcome.Failed) slashed = stake.slash(bs, slashBps);
        emit ModelSettled(round, bs, o, reward, slashed);
    }

    /// @dev Pay the verifiers whose revealed verdicts all agree with the decided outcomes (and decided at least one
    /// model with a non-zero weight), pay nothing to the ones with a verdict against an outcome, and slash the ones
    /// that never revealed their ballot.
    function _settleVerifiers(uint256 round, uint32 passedBits, uint32 failedBits) private {
        address[] storage vs = _committers[round];
        uint256 n = vs.length;
        for (uint256 i = 0; i < n; ++i) {
            address v = vs[i];
            Ballot storage b = _ballots[round][v];
            bool agreed = b.revealed && (b.passBits & failedBits) == 0 && (b.failBits & passedBits) == 0;
            uint256 reward;
            uint256 slashed;
            if (!b.revealed) {
                slashed = stake.slash(v, withheldSlashBps);
            } else if (agreed && ((b.passBits | b.failBits) & (passedBits | failedBits)) != 0 && b.weight != 0) {
                reward = verifierReward;
                if (reward != 0) stake.credit(v, reward);
            }
            emit VerifierSettled(round, v, b.revealed, agreed, reward, slashed);
        }
    }

    /// @dev Add `weight` to the pass or fail stake of every model the verdicts judge; the verdicts' bitmaps.
    function _tally(uint256 round, uint8[] calldata verdicts, uint16[] calldata scores, uint256 weight)
        private
        returns (uint32 passBits, uint32 failBits)
    {
        address[] storage bss = _submitters[round];
        for (uint256 i = 0; i < verdicts.length; ++i) {
            uint8 v = verdicts[i];
            if (v > FAIL) revert InvalidVerdict(i, v);
            if (scores[i] > MAX_SCORE) revert ScoreOutOfRange(scores[i]);
            if (v == ABSTAIN) continue;
            if (bss[i] == msg.sender) revert SelfVerification(msg.sender);
            Submission storage s = _submissions[round][bss[i]];
            if (v == PASS) {
                s.passStake += weight;
                passBits |= uint32(1 << i);
            } else {
                s.failStake += weight;
                failBits |= uint32(1 << i);
            }
        }
    }

    /// @dev `quorumBps` of the round's `memberStake`, rounded up, and at least 1 (no stake, no quorum).
    function _attestationQuorum(Round storage r) private view returns (uint256 quorum) {
        quorum = (uint256(r.memberStake) * quorumBps + BPS - 1) / BPS;
        if (quorum == 0) quorum = 1;
    }

    /// @dev Sum of the current members' bonds at `snapshot` and the bitmap of their registry seats (at most
    /// `MAX_MEMBERS` lookups).
    function _stakeOfMembers(uint64 snapshot) private view returns (uint256 total, uint256 seats) {
        address[] memory members = registry.members();
        for (uint256 i = 0; i < members.length; ++i) {
            total += stake.bondedAt(members[i], snapshot);
            seats |= uint256(1) << registry.seatOf(members[i]);
        }
    }

    /// @dev Set the deadline and the verdict windows that follow it.
    function _setDeadline(Round storage r, uint64 deadline) private {
        r.deadline = deadline;
        r.commitUntil = deadline + verificationWindow;
        r.revealUntil = r.commitUntil + revealWindow;
    }

    /// @dev Reveals are open after the commit window, or after the deadline once every member has committed, and stay
    /// open after the first reveal.
    function _revealOpen(Round storage r) private view returns (bool) {
        if (block.timestamp > r.commitUntil || r.revealed != 0) return true;
        return block.timestamp > r.deadline && r.committed >= registry.memberCount();
    }

    /// @dev Every member committed (after the deadline) and every ballot is revealed.
    function _allRevealed(Round storage r) private view returns (bool) {
        return block.timestamp > r.deadline && r.committed >= registry.memberCount() && r.revealed == r.committed;
    }

    function _openRound(uint256 round) private view returns (Round storage r) {
        r = _rounds[round];
        if (r.status != RoundStatus.Open) revert InvalidRoundStatus(round, r.status);
    }
}
