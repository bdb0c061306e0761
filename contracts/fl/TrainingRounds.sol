// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBSRegistry} from "../membership/IBSRegistry.sol";
import {MemberGated} from "../membership/MemberGated.sol";
import {RecordLog} from "../records/RecordLog.sol";
import {TrainingCoin} from "../token/TrainingCoin.sol";
import {CidCheck} from "../utils/CidCheck.sol";
import {IActionRecords} from "../twins/IActionRecords.sol";
import {AcceptanceRule} from "./AcceptanceRule.sol";

/// @title TrainingRounds
/// @notice Federated-learning rounds and training model records (paper Sections II-B and II-C, Fig. 2).
/// The MBS opens round r with the global model's CID; each BS submits its aggregated model G_m (Eq. 4) as a
/// training model record; the other BSs verify it and submit verdicts. After the verification window the round is
/// settled: models that passed earn `rewardPerModel` coins, models that failed lose `slashBps` of their holder's
/// coins. The MBS then records the new global model (Eq. 5) with the list of models it aggregated.
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
///   everyone out but a favoured BS.
/// - the outcome is {AcceptanceRule.decide} over the verdicts, each of weight one, out of every other member BS: a
///   model is decided only with a quorum of `quorumBps` of the other members' verdicts, passes with more pass than
///   fail verdicts, fails with more fail than pass verdicts, and is unverified (neither paid nor slashed) otherwise,
///   a tie included.
/// Settling loops over the round's submissions, bounded by `MAX_SUBMISSIONS`. A round may be settled before the
/// verification window ends once every submitted model has a verdict from every other member.
/// The action records are wired once after deployment ({wireActionRecords}, by the deploying account only, which
/// keeps no other power): the {AssociationLedger} that records actions needs this contract's address first.
contract TrainingRounds is MemberGated {
    /// @notice Maximum number of model submissions per round.
    uint256 public constant MAX_SUBMISSIONS = 32;
    /// @notice Verification scores are in basis points (0..10000 = 0..100 %).
    uint16 public constant MAX_SCORE = 10_000;
    /// @notice Denominator of `slashBps`.
    uint256 public constant BPS = 10_000;

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

    struct Round {
        RoundStatus status;
        uint64 deadline; // last timestamp at which models may be submitted
        uint64 verifyUntil; // last timestamp at which verdicts may be submitted
        uint16 passed; // models that passed (set at settlement)
        bytes globalCid; // the global model this round trains from
        bytes newGlobalCid; // the global model it produced (set at finalization)
    }

    struct Submission {
        bool exists;
        Outcome outcome;
        uint16 passVotes;
        uint16 failVotes;
        uint32 numTwins; // K_i
        uint64 dataSize; // sum of D_DTj over its twins (samples)
        uint256 recordIndex;
        bytes cid;
    }

    /// @notice The training coins paid and slashed.
    TrainingCoin public immutable coin;
    /// @notice The record log the training model records are appended to.
    RecordLog public immutable recordLog;
    /// @notice Coins minted for each model that passes verification.
    uint256 public immutable rewardPerModel;
    /// @notice Fraction of the holder's balance burned for a model that fails verification (basis points).
    uint256 public immutable slashBps;
    /// @notice Time after the submission deadline during which verdicts are accepted (seconds).
    uint64 public immutable verificationWindow;
    /// @notice Share of the other member BSs whose verdicts decide a model (basis points, {AcceptanceRule}).
    uint256 public immutable quorumBps;
    /// @notice The chain's records of the BSs' committed actions (the {AssociationLedger}), wired once.
    IActionRecords public actionRecords;
    /// @dev The deploying account: its one power is to wire `actionRecords` once.
    address private immutable _wirer;

    uint256 private _roundCount;
    mapping(uint256 round => Round) private _rounds;
    mapping(uint256 round => address[]) private _submitters;
    mapping(uint256 round => mapping(address bs => Submission)) private _submissions;
    mapping(uint256 round => mapping(address bs => mapping(address verifier => bool))) private _verified;

    /// @notice The action records were wired (once).
    event ActionRecordsWired(IActionRecords actionRecords);
    /// @notice The MBS closed round `round` to submissions early: the deadline and the verification window moved.
    event SubmissionsClosed(uint256 indexed round, uint64 deadline, uint64 verifyUntil);
    /// @notice Round `round` was opened with global model `globalCid`.
    event RoundOpened(uint256 indexed round, bytes globalCid, uint64 deadline, uint64 verifyUntil);
    /// @notice A training model record.
    event ModelSubmitted(
        uint256 indexed round, address indexed bs, bytes cid, uint64 dataSize, uint32 numTwins, uint256 recordIndex
    );
    /// @notice `verifier` gave a verdict on `bs`'s model of round `round`.
    event ModelVerified(uint256 indexed round, address indexed bs, address indexed verifier, bool pass, uint16 score);
    /// @notice Outcome of `bs`'s model: coins minted (`reward`) or burned (`slashed`).
    event ModelSettled(uint256 indexed round, address indexed bs, Outcome outcome, uint256 reward, uint256 slashed);
    /// @notice Round `round` was settled.
    event RoundSettled(uint256 indexed round, uint256 passed, uint256 failed);
    /// @notice The MBS recorded the new global model of round `round` and the models it aggregated (Eq. 5).
    event GlobalModelRecorded(uint256 indexed round, bytes newGlobalCid, address[] aggregated);

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
    /// @dev `bs` submitted no model in this round.
    error NoSuchSubmission(uint256 round, address bs);
    /// @dev A BS cannot verify its own model.
    error SelfVerification(address bs);
    /// @dev The verifier already gave a verdict on this model.
    error AlreadyVerified(uint256 round, address bs, address verifier);
    /// @dev The score must be at most `MAX_SCORE`.
    error ScoreOutOfRange(uint16 score);
    /// @dev Verdicts are accepted only until `verifyUntil`.
    error VerificationClosed(uint256 round, uint64 verifyUntil);
    /// @dev The round can be settled only after its verification window.
    error VerificationStillOpen(uint256 round, uint64 verifyUntil);
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

    /// @param registry_ The BS membership (its operator is the MBS).
    /// @param coin_ The training coins (this contract needs PROTOCOL_ROLE).
    /// @param recordLog_ The record log (this contract needs WRITER_ROLE).
    /// @param rewardPerModel_ Coins minted per passing model.
    /// @param slashBps_ Basis points of the balance burned per failing model (at most 10000).
    /// @param verificationWindow_ Seconds after the deadline during which verdicts are accepted.
    /// @param quorumBps_ Share of the other members' verdicts that decides a model (basis points, 1..10000).
    constructor(
        IBSRegistry registry_,
        TrainingCoin coin_,
        RecordLog recordLog_,
        uint256 rewardPerModel_,
        uint256 slashBps_,
        uint64 verificationWindow_,
        uint256 quorumBps_
    ) MemberGated(registry_) {
        if (address(coin_) == address(0) || address(recordLog_) == address(0)) revert ZeroAddress();
        if (slashBps_ > BPS || verificationWindow_ == 0) revert InvalidParameter();
        if (quorumBps_ == 0 || quorumBps_ > BPS) revert InvalidParameter();
        quorumBps = quorumBps_;
        coin = coin_;
        recordLog = recordLog_;
        rewardPerModel = rewardPerModel_;
        slashBps = slashBps_;
        verificationWindow = verificationWindow_;
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
    /// @param deadline Last timestamp at which models may be submitted.
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
        }
        _roundCount = round;
        Round storage r = _rounds[round];
        r.status = RoundStatus.Open;
        r.deadline = deadline;
        r.verifyUntil = deadline + verificationWindow;
        r.globalCid = globalCid;
        emit RoundOpened(round, globalCid, deadline, r.verifyUntil);
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

    /// @notice Give a verdict on `bs`'s model of round `round`. Only a member BS other than `bs`, once per model,
    /// until the end of the verification window.
    /// @param round The round.
    /// @param bs The BS whose model was verified.
    /// @param pass Whether the model passed the verifier's checks.
    /// @param score The verifier's score in basis points (e.g. held-out accuracy x 10000).
    function verifyModel(uint256 round, address bs, bool pass, uint16 score) external onlyMember {
        if (score > MAX_SCORE) revert ScoreOutOfRange(score);
        if (bs == msg.sender) revert SelfVerification(bs);
        Round storage r = _openRound(round);
        if (block.timestamp > r.verifyUntil) revert VerificationClosed(round, r.verifyUntil);
        Submission storage s = _submissions[round][bs];
        if (!s.exists) revert NoSuchSubmission(round, bs);
        if (_verified[round][bs][msg.sender]) revert AlreadyVerified(round, bs, msg.sender);

        _verified[round][bs][msg.sender] = true;
        if (pass) ++s.passVotes;
        else ++s.failVotes;
        emit ModelVerified(round, bs, msg.sender, pass, score);
    }

    /// @notice Close round `round` to submissions now (before its deadline), once every member BS has submitted: the
    /// deadline becomes this block's timestamp and verdicts are accepted for `verificationWindow` after it. Only the
    /// operator (the MBS).
    /// @param round The open round.
    function closeSubmissions(uint256 round) external onlyOperator {
        Round storage r = _openRound(round);
        if (block.timestamp >= r.deadline) revert SubmissionTooLate(round, r.deadline);
        uint256 submitted = _submitters[round].length;
        uint256 members = registry.memberCount();
        if (submitted < members) revert SubmissionsPending(round, submitted, members);
        uint64 deadline = uint64(block.timestamp);
        r.deadline = deadline;
        r.verifyUntil = deadline + verificationWindow;
        emit SubmissionsClosed(round, deadline, r.verifyUntil);
    }

    /// @notice Settle round `round` after its verification window, or earlier once submissions are closed and every
    /// submitted model has a verdict from every other member: pay the models that passed and slash the ones that
    /// failed. Any member BS or the operator may call it.
    /// @param round The round.
    function settleRound(uint256 round) external onlyMemberOrOperator {
        Round storage r = _openRound(round);
        if (block.timestamp <= r.verifyUntil && !_fullyVerified(round, r)) {
            revert VerificationStillOpen(round, r.verifyUntil);
        }
        r.status = RoundStatus.Settled;

        address[] storage bss = _submitters[round];
        uint256 n = bss.length;
        uint256 members = registry.memberCount();
        uint256 passed;
        uint256 failed;
        for (uint256 i = 0; i < n; ++i) {
            address bs = bss[i];
            Submission storage s = _submissions[round][bs];
            uint256 reward;
            uint256 slashed;
            // Eligible verifiers: every member but the submitter (a removed submitter leaves them all eligible).
            uint256 eligible = registry.isMember(bs) ? members - 1 : members;
            AcceptanceRule.Decision d = AcceptanceRule.decide(s.passVotes, s.failVotes, eligible, quorumBps);
            if (d == AcceptanceRule.Decision.Passed) {
                s.outcome = Outcome.Passed;
                reward = rewardPerModel;
                ++passed;
            } else if (d == AcceptanceRule.Decision.Failed) {
                s.outcome = Outcome.Failed;
                slashed = (coin.balanceOf(bs) * slashBps) / BPS;
                ++failed;
            } else {
                s.outcome = Outcome.Unverified;
            }
            emit ModelSettled(round, bs, s.outcome, reward, slashed);
            if (reward != 0) coin.mint(bs, reward);
            if (slashed != 0) coin.burn(bs, slashed);
        }
        r.passed = uint16(passed); // at most MAX_SUBMISSIONS
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

    /// @notice Whether `verifier` gave a verdict on `bs`'s model in round `round`.
    /// @param round The round.
    /// @param bs The BS whose model was verified.
    /// @param verifier The verifying BS.
    function hasVerified(uint256 round, address bs, address verifier) external view returns (bool) {
        return _verified[round][bs][verifier];
    }

    /// @dev Submissions are closed and every submitted model has verdicts from all other current members.
    function _fullyVerified(uint256 round, Round storage r) private view returns (bool) {
        if (block.timestamp <= r.deadline) return false;
        uint256 others = registry.memberCount() - 1;
        address[] storage bss = _submitters[round];
        uint256 n = bss.length;
        if (n == 0) return false;
        for (uint256 i = 0; i < n; ++i) {
            Submission storage s = _submissions[round][bss[i]];
            if (uint256(s.passVotes) + s.failVotes < others) return false;
        }
        return true;
    }

    function _openRound(uint256 round) private view returns (Round storage r) {
        r = _rounds[round];
        if (r.status != RoundStatus.Open) revert InvalidRoundStatus(round, r.status);
    }
}
