// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {BSRegistry} from "../../contracts/membership/BSRegistry.sol";
import {UserRegistry} from "../../contracts/membership/UserRegistry.sol";
import {TrainingCoin} from "../../contracts/token/TrainingCoin.sol";
import {StakeVault} from "../../contracts/token/StakeVault.sol";
import {RecordLog} from "../../contracts/records/RecordLog.sol";
import {TwinRegistry} from "../../contracts/twins/TwinRegistry.sol";
import {TrainingRounds} from "../../contracts/fl/TrainingRounds.sol";
import {AcceptanceRule} from "../../contracts/fl/AcceptanceRule.sol";
import {AssociationLedger} from "../../contracts/twins/AssociationLedger.sol";
import {ProducerElection} from "../../contracts/consensus/ProducerElection.sol";
import {BlockLedger} from "../../contracts/consensus/BlockLedger.sol";

/// @notice The protocol as the invariant campaign deploys it (as the Ignition module: roles wired, admins renounced).
struct Deployed {
    BSRegistry registry;
    UserRegistry users;
    TrainingCoin coin;
    StakeVault stake;
    RecordLog recordLog;
    TwinRegistry twins;
    TrainingRounds rounds;
    AssociationLedger ledger;
    ProducerElection election;
    BlockLedger blocks;
}

/// @notice The end users of the campaign and their devices' consents (EIP-712, as TwinRegistry checks them): user `u`
/// has id keccak256("user", u) and a device key derived from keccak256("device", u); a device signs with `vm.sign`.
/// The type hashes and the domain are computed here from their definitions, not read from the contract.
library Devices {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    /// @dev The order of secp256k1: private keys are 1..N-1.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 internal constant REGISTER_TYPEHASH = keccak256("RegisterTwin(bytes32 userId,address bs)");
    bytes32 internal constant DATA_TYPEHASH = keccak256(
        "TwinData(uint256 twinId,address bs,uint64 dataSize,bytes32 dataCommitment,bytes32 state,uint32 version)"
    );
    bytes32 internal constant MOVE_TYPEHASH = keccak256("MoveTwin(uint256 twinId,address to,uint256 slot)");

    /// @notice User `u`'s id.
    function userId(uint256 u) internal pure returns (bytes32) {
        return keccak256(abi.encode("user", u));
    }

    /// @notice User `u`'s device private key (deterministic, in [1, N-1]).
    function key(uint256 u) internal pure returns (uint256) {
        return toKey(keccak256(abi.encode("device", u)));
    }

    /// @notice A private key in [1, N-1] from any seed.
    function toKey(bytes32 seed) internal pure returns (uint256) {
        return 1 + (uint256(seed) % (SECP256K1_N - 1));
    }

    /// @notice The EIP-712 domain separator of `twins` as EIP712("dtwn TwinRegistry", "1") defines it.
    function domain(TwinRegistry twins) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("dtwn TwinRegistry"),
                keccak256("1"),
                block.chainid,
                address(twins)
            )
        );
    }

    /// @notice `pk`'s 65-byte signature (r ‖ s ‖ v) of the EIP-712 struct hash `structHash` in `twins`'s domain.
    function sign(TwinRegistry twins, uint256 pk, bytes32 structHash) internal returns (bytes memory) {
        bytes32 digest = keccak256(abi.encodePacked("\x19\x01", twins.domainSeparator(), structHash));
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @notice `pk`'s consent to register user `user`'s twin on `bs`.
    function registration(TwinRegistry twins, uint256 pk, bytes32 user, address bs) internal returns (bytes memory) {
        return sign(twins, pk, keccak256(abi.encode(REGISTER_TYPEHASH, user, bs)));
    }

    /// @notice `pk`'s consent to the data record (`size`, `commitment`, `state`) of version `version` of twin
    /// `twinId` by `bs`.
    function data(
        TwinRegistry twins,
        uint256 pk,
        uint256 twinId,
        address bs,
        uint64 size,
        bytes32 commitment,
        bytes32 state,
        uint32 version
    ) internal returns (bytes memory) {
        return sign(twins, pk, keccak256(abi.encode(DATA_TYPEHASH, twinId, bs, size, commitment, state, version)));
    }

    /// @notice `pk`'s consent to move twin `twinId` to `to` in slot `slot`.
    function move(TwinRegistry twins, uint256 pk, uint256 twinId, address to, uint256 slot)
        internal
        returns (bytes memory)
    {
        return sign(twins, pk, keccak256(abi.encode(MOVE_TYPEHASH, twinId, to, slot)));
    }
}

/// @notice A record of the log as its RecordAppended event gives it: the fields of its leaf besides its index.
struct RecordFields {
    RecordLog.RecordKind kind;
    bytes32 payloadHash;
    uint64 appendedAt;
}

/// @notice The log-recording cheatcodes of forge 1.x (the npm forge-std 1.1.2 Vm interface predates them).
interface VmLogs {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;

    function getRecordedLogs() external returns (Log[] memory);
}

/// @title ProtocolHandler
/// @notice The actions of the stateful fuzzing campaign (test/foundry/ProtocolInvariants.t.sol): five BSs and the MBS
/// drive FL rounds (association actions, models, commit-reveal verdict ballots, settlements), twin data records,
/// bonded stake (bond, unbond, withdraw, liquid transfers), and DPoS blocks (votes, elections, proposals, missed slots)
/// with fuzzed inputs, and try the attacks of the trust issues (a bogus block root, an aggregation that leaves out a
/// passed model, a round opened from another CID, an oversized data record, a reveal before the reveals open, a reveal
/// that does not open its commitment, a copied commitment, a verdict on the BS's own model, a withheld ballot). Calls
/// the protocol refuses revert (forge counts them per action); an attack the protocol accepts, or a settlement,
/// reward or slash other than the rules, sets `violation`. Every call that reaches the vault also replays the
/// StakeVault's events over the stakes it read before the call: each BS's bond and unbonding coins must end exactly
/// where the events say, every slash must take (bonded + unbonding) x bps / 10000 (bond first) and burn it, and the
/// supply must change only by the credits and slashes (`stakeViolation` otherwise); the replayed (ghost) stakes must
/// equal the chain's after every call. The end users' devices (library {Devices}) sign every registration, data record
/// and move the honest actions make, and the ghost twins (host, data size and version, device) change only with those
/// consented calls, so the chain's twins must equal them (invariant_twinsChangeOnlyWithConsent). Attack: a BS
/// registering, recording data for or moving a twin with a forged consent (another key's signature, the device's
/// consent to another BS, slot or record, or none) must be refused with TwinRegistry's InvalidConsent (counted in
/// `forgedConsentsRefused`). The BSs attest or dispute every recorded global model (attestGlobal) with their snapshot
/// bonds, which the ghost adds up (invariant_attestationTallyIsTheGhost), and openRound must be refused until the
/// previous model is attested by the quorum, and for good once the quorum disputed it. Attack (class 7): the MBS
/// records a forged global model, which the honest BSs dispute (attackForgedGlobal). The ghost of the record log keeps
/// every record's fields from its RecordAppended event (each leaf must be keccak256(abi.encode(index, kind,
/// payloadHash, appendedAt)) of them, appendedAt the call's timestamp) and packedUpTo after every finalization, so it
/// knows which record was waiting when any slot began: a missed slot is reported with that record's fields, and
/// attack: a report of a slot that had nothing to pack, or with fields that are not the waiting record's (a forged
/// payload, a backdated or wrong appendedAt, a wrong kind), must be refused with NothingWaiting or RecordProofMismatch
/// (reportMissed). Ghost state records what the chain must agree with.
contract ProtocolHandler {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    VmLogs private constant VML = VmLogs(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 private constant BPS = 10_000;
    uint256 private constant NONE = type(uint256).max;
    bytes32 private constant TRANSFER = keccak256("Transfer(address,address,uint256)");

    Deployed public d;
    address public immutable operator;
    address[] public bss;
    uint256 public immutable quorumBps;
    uint64 public immutable maxDataSize;

    /// @notice The end users admitted at deployment: users 0..userCount-1 (`Devices`), some without a twin yet.
    uint256 public immutable userCount;

    /// @notice The chain's clock as the campaign moves it (forge does not keep `vm.warp` between calls).
    uint256 public now_;
    /// @notice Successful actions in this run (the scripted test checks that every action can succeed).
    uint256 public successes;
    /// @notice Set, with a reason, when the protocol accepts what it must refuse or disagrees with a ghost.
    bool public violation;
    string public violationReason;
    /// @notice Set, with a reason, when a stake, slash, mint or burn differs from the vault's own events.
    bool public stakeViolation;
    string public stakeViolationReason;

    bytes public lastGlobal;
    // ghost of the twins, changed only by the calls their users' devices signed
    uint256 public ghostTwinCount;
    mapping(uint256 twinId => uint256 user) public userOfTwin;
    mapping(uint256 user => uint256 twinId) public ghostTwinOfUser;
    mapping(uint256 twinId => address) public ghostHost;
    mapping(uint256 twinId => address) public ghostDevice;
    mapping(uint256 twinId => uint64) public ghostDataSize;
    mapping(uint256 twinId => uint32) public ghostDataVersion;
    // counts for the report: consented changes, and forged consents refused with InvalidConsent (or UnknownUser)
    uint256 public consentedRegistrations;
    uint256 public consentedRecords;
    uint256 public consentedMoves;
    uint256 public forgedConsentsRefused;
    // ghost: what each committed action weighs, and the data of every twin listed in the slot
    mapping(uint256 round => mapping(address bs => uint256)) public committedData;
    mapping(uint256 round => mapping(address bs => uint256)) public committedTwins;
    mapping(uint256 round => uint256) public claimedData;
    // ghost: the weight of the revealed verdicts on each model
    mapping(uint256 round => mapping(address bs => uint256)) public passGiven;
    mapping(uint256 round => mapping(address bs => uint256)) public failGiven;
    // ghost of the global-model attestations: each BS's word and the snapshot bonds of the words given, and the
    // rounds whose global model the MBS forged (attackForgedGlobal)
    mapping(uint256 round => mapping(address bs => TrainingRounds.Attestation)) public ghostAttestation;
    mapping(uint256 round => uint256) public ghostAttestStake;
    mapping(uint256 round => uint256) public ghostDisputeStake;
    mapping(uint256 round => bool) public forgedGlobal;
    // counts for the report: words given, invalid attestations and openings refused with the right error, forged
    // global models disputed
    uint256 public attestations;
    uint256 public disputes;
    uint256 public attestationsRefused;
    uint256 public opensRefused;
    uint256 public forgedModelsDisputed;
    // ghost of the record log: every record's fields (from its RecordAppended event), and packedUpTo after each
    // finalization with its timestamp; counts for the report: missed slots reported, reports refused for a slot with
    // nothing waiting and for fields that are not the waiting record's
    mapping(uint256 index => RecordFields) private _ghostRecords;
    uint256 public ghostRecordCount;
    uint64[] private _finalizedAt;
    uint256[] private _packedAfter;
    uint256 public missedSlotsReported;
    uint256 public idleReportsRefused;
    uint256 public forgedEvidenceRefused;

    /// @dev A ballot a BS committed: what it reveals, and whether it will (or can) reveal it.
    struct Ballot {
        uint8[] verdicts;
        uint16[] scores;
        bytes32 salt;
        bool withhold; // commits, never reveals
        bool selfVerdict; // a PASS on its own model: its reveal must be refused
        bool copied; // another BS's commitment: it can never be opened
    }

    mapping(uint256 round => mapping(address bs => Ballot)) private _ballots;

    // ghost of the vault, replayed from its events
    mapping(address bs => uint256) public ghostBonded;
    mapping(address bs => uint256) public ghostUnbonding;
    uint256 public minted;
    uint256 public burned;
    uint256 public donated;
    // counts for the report
    uint256 public slashes;
    uint256 public credits;
    uint256 public outcomesPassed;
    uint256 public outcomesFailed;
    uint256 public outcomesUnverified;
    uint256 public verifierRewards;
    uint256 public withheldSlashes;
    uint256 public slashesAtSettlement;

    // the stakes and supply before the current call, and whether its logs were replayed already
    uint256[5] private _bonded0;
    uint256[5] private _unbonding0;
    uint256 private _supply0;
    bool private _logsTaken;

    /// @param bootLogs The logs of the deployment's calls (its twin data records' RecordAppended events).
    constructor(
        Deployed memory d_,
        address operator_,
        address[] memory bss_,
        uint256 users_,
        uint256 start,
        VmLogs.Log[] memory bootLogs
    ) {
        d = d_;
        _takeRecords(bootLogs);
        if (ghostRecordCount != d_.recordLog.length()) _violate("a deployed record has no RecordAppended event");
        operator = operator_;
        bss = bss_;
        userCount = users_;
        // the twins the deployment registered with their devices' consents, as the ghost's starting point
        for (uint256 u = 0; u < users_; ++u) {
            uint256 id = d_.twins.twinOfUser(Devices.userId(u));
            if (id == 0) continue;
            TwinRegistry.Twin memory t = d_.twins.twin(id);
            _ghostRegister(u, id, t.bs);
            (ghostDataSize[id], ghostDataVersion[id]) = (t.dataSize, t.dataVersion);
        }
        if (ghostTwinCount != d_.twins.twinCount()) _violate("a deployed twin belongs to no admitted user");
        quorumBps = d_.rounds.quorumBps();
        maxDataSize = d_.twins.maxDataSize();
        now_ = start;
        lastGlobal = _cid("global", 0, address(0));
        for (uint256 i = 0; i < bss_.length; ++i) {
            (ghostBonded[bss_[i]], ghostUnbonding[bss_[i]]) = d_.stake.stakeOf(bss_[i]);
        }
        minted = d_.coin.totalSupply(); // the Eq. 6 allocation, credited bonded at deployment
    }

    /// @dev Every action records its logs: the RecordAppended events feed the ghost of the record log (the vault's
    /// events, for the actions that reach it, are replayed by `staked`, which takes the records first).
    modifier timed() {
        VM.warp(now_);
        VML.recordLogs();
        _;
        _takeRecords(VML.getRecordedLogs());
        _notePacked();
        ++successes;
    }

    /// @dev The actions that reach the vault (settlements, missed-slot reports, bonds, unbonds, withdrawals) replay its
    /// events over the stakes before the call. The others leave every stake as it was: the ghost stakes, which change
    /// only by a replay, must still equal the chain's after them (invariant_slashesExact).
    modifier staked() {
        _beforeCall();
        _;
        if (!_logsTaken) _takeLogs();
        _logsTaken = false;
    }

    // ----- time -----------------------------------------------------------------------------------------------

    /// @notice Let 1..60 seconds pass.
    function warp(uint256 dt) external timed {
        now_ += 1 + (dt % 60);
        VM.warp(now_);
    }

    // ----- FL rounds ------------------------------------------------------------------------------------------

    /// @notice The MBS opens the next round from the last recorded global model, with a deadline 30..309 s away.
    /// While the previous round's new global model (it passed a model) has not been attested by BSs holding the quorum
    /// of its snapshot stake, or once BSs holding the quorum disputed it, the opening must be refused with
    /// GlobalModelNotAttested or GlobalModelDisputed over the ghost's tally (and is all the call does): a disputed
    /// model stops the rounds for good. Attack: a round whose reveal window would end later than half the unbonding
    /// delay from now (a BS unbonding at the opening could withdraw before the settlement) must be refused.
    function openRound(uint256 dt) external timed {
        uint256 deadline = now_ + 30 + (dt % 280);
        uint256 revealUntil = deadline + d.rounds.verificationWindow() + d.rounds.revealWindow();
        bool tooLong = revealUntil > now_ + d.stake.unbondingDelay() / 2;
        bytes memory refusal = _openRefusal(d.rounds.currentRound());
        if (refusal.length != 0) {
            VM.prank(operator);
            try d.rounds.openRound(lastGlobal, uint64(deadline)) {
                _violate("a round opened from a global model not attested by the quorum, or disputed by it");
            } catch (bytes memory err) {
                if (keccak256(err) != keccak256(refusal)) {
                    _violate("an unattested or disputed global model was refused with another error than the tally's");
                }
            }
            ++opensRefused;
            return;
        }
        VM.prank(operator);
        if (tooLong) {
            try d.rounds.openRound(lastGlobal, uint64(deadline)) {
                _violate("a round longer than half the unbonding delay was opened");
            } catch {}
            return;
        }
        d.rounds.openRound(lastGlobal, uint64(deadline));
    }

    /// @notice Attack: the MBS opens the next round from a CID nobody recorded. Must be refused after round 1.
    function attackOpenFromOtherCid(uint256 salt) external timed {
        uint256 r = d.rounds.currentRound();
        if (r == 0) return;
        VM.prank(operator);
        try d.rounds.openRound(_cid("forged", salt, address(0)), uint64(now_ + 100)) {
            _violate("a round opened from a CID the previous round did not record");
        } catch {}
    }

    /// @notice A BS that has not committed yet commits an action: mostly the twins it hosts, 1 time in 5 with one
    /// more twin not claimed in the slot yet (which moves it), 1 time in 5 the unclaimed twins of `mask` (over twin
    /// ids 1..16, which moves them), with batch size `batch`. Each twin that moves carries its device's consent to
    /// move to the BS in this slot, a twin that stays 65 zero bytes; with no move the consents are empty, or (now and
    /// then) all zeros.
    function commit(uint256 bsSeed, uint256 mask, uint256 batch) external timed {
        uint256 round = d.rounds.currentRound();
        address bs = _pick(bsSeed, round, Pick.NotCommitted);
        uint256 count = d.twins.twinCount();
        if (count > 16) count = 16;
        if (mask % 5 != 0) {
            uint256 extra = mask % 5 == 1 && count > 0 ? 1 + ((mask >> 8) % count) : 0;
            mask = 0;
            for (uint256 id = 1; id <= count; ++id) if (d.twins.hostOf(id) == bs || id == extra) mask |= 1 << id;
        }
        for (uint256 id = 1; id <= count; ++id) if (d.ledger.isClaimed(round, id)) mask &= ~(uint256(1) << id);
        uint256 n;
        for (uint256 id = 1; id <= count; ++id) if (mask & (1 << id) != 0) ++n;
        uint16 b = uint16(batch % 10 == 0 ? batch % 200 : 16 + (batch % 113)); // now and then outside [16, 128]
        uint256[] memory ids = new uint256[](n);
        uint256 k;
        for (uint256 id = 1; id <= count; ++id) if (mask & (1 << id) != 0) ids[k++] = id;
        (bytes memory consents, uint256 moves) = _moveConsents(ids, bs, round, (batch / 200) % 2 == 1);
        uint256 data;
        for (uint256 i = 0; i < n; ++i) data += d.twins.twin(ids[i]).dataSize;
        bytes memory tau = new bytes(2 * d.ledger.subchannels());
        VM.prank(bs);
        d.ledger.commitAction(round, _entries(ids, b), tau, consents);
        for (uint256 i = 0; i < n; ++i) ghostHost[ids[i]] = bs; // every listed twin is on `bs` now, with consent
        consentedMoves += moves;
        committedData[round][bs] = data;
        committedTwins[round][bs] = n;
        claimedData[round] += data;
    }

    /// @dev commitAction's consents for the twins `ids` listed by `to` in `slot`: each moving twin's device signs
    /// MoveTwin(id, to, slot), a staying twin gets 65 zero bytes; empty when none moves (unless `zeros`).
    function _moveConsents(uint256[] memory ids, address to, uint256 slot, bool zeros)
        private
        returns (bytes memory consents, uint256 moves)
    {
        for (uint256 i = 0; i < ids.length; ++i) {
            if (d.twins.hostOf(ids[i]) == to) {
                consents = bytes.concat(consents, new bytes(65));
            } else {
                consents = bytes.concat(consents, Devices.move(d.twins, _key(ids[i]), ids[i], to, slot));
                ++moves;
            }
        }
        if (moves == 0 && !zeros) consents = "";
    }

    /// @dev The packed `uint32 twinId | uint16 batchSize` entries of `ids`, all with batch size `b`.
    function _entries(uint256[] memory ids, uint16 b) private pure returns (bytes memory twins) {
        twins = new bytes(6 * ids.length);
        for (uint256 k = 0; k < ids.length; ++k) {
            uint256 id = ids[k];
            twins[6 * k] = bytes1(uint8(id >> 24));
            twins[6 * k + 1] = bytes1(uint8(id >> 16));
            twins[6 * k + 2] = bytes1(uint8(id >> 8));
            twins[6 * k + 3] = bytes1(uint8(id));
            twins[6 * k + 4] = bytes1(uint8(b >> 8));
            twins[6 * k + 5] = bytes1(uint8(b));
        }
    }

    /// @notice A BS that committed and has not submitted submits its model; the chain must weigh it by its action.
    function submit(uint256 bsSeed) external timed {
        uint256 round = d.rounds.currentRound();
        address bs = _pick(bsSeed, round, Pick.CommittedNotSubmitted);
        VM.prank(bs);
        d.rounds.submitModel(round, _cid("model", round, bs));
        TrainingRounds.Submission memory s = d.rounds.submission(round, bs);
        if (s.dataSize != committedData[round][bs] || s.numTwins != committedTwins[round][bs]) {
            _violate("a model record's weight differs from its committed action");
        }
    }

    /// @notice A BS that has not committed a ballot commits the hash of its verdicts on every model of the round
    /// (after the deadline; with `jump` the clock first moves past it, mostly only once no model is pending): per model PASS 1 time in 2, FAIL 1 in 4,
    /// ABSTAIN 1 in 4 (from `verdictSeed`), ABSTAIN on its own model. `mode` 0: it withholds the ballot (commits,
    /// never reveals); 1: attack, a PASS on its own model (its reveal must be refused); 2: attack, it commits a copy
    /// of another BS's commitment (it can never open it). Attack: once a verdict is revealed, a commitment must be
    /// refused (and is all the call does).
    function commitBallot(uint256 verifierSeed, uint256 verdictSeed, uint256 mode, bool jump) external timed {
        uint256 round = d.rounds.currentRound();
        // jump past the deadline once every BS that committed an action has submitted (and now and then before)
        if (jump && now_ <= d.rounds.getRound(round).deadline && (!_submissionsPending(round) || verdictSeed % 8 == 0)) {
            now_ = d.rounds.getRound(round).deadline + 1;
            VM.warp(now_);
        }
        address v = _pick(verifierSeed, round, Pick.NoBallot);
        if (d.rounds.getRound(round).revealed != 0) {
            // attack: a commitment after a verdict was revealed (it could copy the majority) must be refused
            VM.prank(v);
            try d.rounds.commitVerdicts(round, keccak256(abi.encode("late", verdictSeed))) {
                _violate("a commitment after a reveal was accepted");
            } catch {}
            return;
        }
        (uint8[] memory verdicts, uint16[] memory scores, uint256 own) = _verdicts(round, v, verdictSeed);
        Ballot storage b = _ballots[round][v];
        mode %= 10;
        b.withhold = mode == 0;
        b.selfVerdict = mode == 1 && own != NONE;
        if (b.selfVerdict) verdicts[own] = 1;
        b.verdicts = verdicts;
        b.scores = scores;
        b.salt = keccak256(abi.encode("salt", round, v, verdictSeed));
        bytes32 commitment = keccak256(abi.encode(round, v, verdicts, scores, b.salt));
        b.copied = false;
        if (mode == 2) {
            bytes32 theirs = _someCommitment(round, verdictSeed);
            if (theirs != bytes32(0)) (commitment, b.copied) = (theirs, true);
        }
        VM.prank(v);
        d.rounds.commitVerdicts(round, commitment);
    }

    /// @dev `v`'s verdicts on the round's models from `seed` (2 bits each: PASS, PASS, FAIL, ABSTAIN), ABSTAIN on its
    /// own model (whose index is `own`, or NONE), with scores.
    function _verdicts(uint256 round, address v, uint256 seed)
        private
        view
        returns (uint8[] memory verdicts, uint16[] memory scores, uint256 own)
    {
        address[] memory subs = d.rounds.submitters(round);
        verdicts = new uint8[](subs.length);
        scores = new uint16[](subs.length);
        own = NONE;
        for (uint256 i = 0; i < subs.length; ++i) {
            if (subs[i] == v) {
                own = i;
                continue;
            }
            uint256 x = (seed >> (2 * i)) & 3;
            verdicts[i] = x < 2 ? 1 : x == 2 ? 2 : 0;
            scores[i] = verdicts[i] == 1 ? 9_000 : verdicts[i] == 2 ? 1_000 : 0;
        }
    }

    /// @dev Whether a ballot of `round` that its BS will and can open (not withheld, no verdict on its own model, not a
    /// copy) is not revealed yet while the reveal window (ending at `revealUntil`) lasts.
    function _revealPending(uint256 round, uint64 revealUntil) private view returns (bool) {
        if (now_ > revealUntil) return false;
        for (uint256 i = 0; i < bss.length; ++i) {
            Ballot storage b = _ballots[round][bss[i]];
            TrainingRounds.Ballot memory c = d.rounds.ballot(round, bss[i]);
            if (c.commitment != bytes32(0) && !c.revealed && !b.withhold && !b.selfVerdict && !b.copied) return true;
        }
        return false;
    }

    /// @dev Whether a BS that committed an action in `round` has not submitted its model yet.
    function _submissionsPending(uint256 round) private view returns (bool) {
        for (uint256 i = 0; i < bss.length; ++i) {
            if (committedTwins[round][bss[i]] != 0 && !d.rounds.submission(round, bss[i]).exists) return true;
        }
        return false;
    }

    /// @dev The commitment of one of the round's committers (bytes32(0) if none committed yet).
    function _someCommitment(uint256 round, uint256 seed) private view returns (bytes32) {
        address[] memory committed = d.rounds.committers(round);
        if (committed.length == 0) return bytes32(0);
        return d.rounds.ballot(round, committed[seed % committed.length]).commitment;
    }

    /// @notice A BS reveals the ballot it committed (with `jump` the clock first moves past the commit window if the
    /// reveals are not open). Attacks first: while the reveals are closed, a reveal (must be refused, and is all it
    /// does); with `tamper` % 3 == 0 a changed verdict and a wrong salt (must be refused); a ballot with a verdict on
    /// the BS's own model or a copied commitment (must be refused). A revealed verdict weighs the BS's bond at the
    /// round's snapshot.
    function revealBallot(uint256 verifierSeed, uint256 tamper, bool jump) external timed {
        uint256 round = d.rounds.currentRound();
        TrainingRounds.Round memory r = d.rounds.getRound(round);
        if (jump && !d.rounds.acceptsReveals(round) && now_ > r.deadline && now_ <= r.commitUntil) {
            now_ = r.commitUntil + 1;
            VM.warp(now_);
        }
        address v = _pick(verifierSeed, round, Pick.BallotToReveal);
        Ballot storage b = _ballots[round][v];
        require(d.rounds.ballot(round, v).commitment != bytes32(0) && !b.withhold, "no ballot to reveal");
        if (!d.rounds.acceptsReveals(round)) {
            VM.prank(v);
            try d.rounds.revealVerdicts(round, b.verdicts, b.scores, b.salt) {
                _violate("a reveal before the reveals opened was accepted");
            } catch {}
            return;
        }
        if (tamper % 3 == 0 && b.verdicts.length > 0) {
            uint8[] memory changed = b.verdicts;
            uint256 i = (tamper / 3) % changed.length;
            changed[i] = changed[i] == 1 ? 2 : 1;
            VM.prank(v);
            try d.rounds.revealVerdicts(round, changed, b.scores, b.salt) {
                _violate("a reveal with a changed verdict was accepted");
                return;
            } catch {}
            VM.prank(v);
            try d.rounds.revealVerdicts(round, b.verdicts, b.scores, keccak256(abi.encode(b.salt))) {
                _violate("a reveal with a wrong salt was accepted");
                return;
            } catch {}
        }
        if (b.selfVerdict || b.copied) {
            VM.prank(v);
            try d.rounds.revealVerdicts(round, b.verdicts, b.scores, b.salt) {
                _violate(b.selfVerdict ? "a verdict on the BS's own model was accepted" : "a copied commitment was opened");
            } catch {}
            return;
        }
        uint256 weight = d.stake.bondedAt(v, r.snapshot);
        VM.prank(v);
        d.rounds.revealVerdicts(round, b.verdicts, b.scores, b.salt);
        address[] memory subs = d.rounds.submitters(round);
        for (uint256 i = 0; i < subs.length; ++i) {
            if (b.verdicts[i] == 1) passGiven[round][subs[i]] += weight;
            else if (b.verdicts[i] == 2) failGiven[round][subs[i]] += weight;
        }
        if (d.rounds.ballot(round, v).weight != weight) _violate("a verdict weighs other than the bond at the snapshot");
    }

    /// @notice The MBS settles the round (after its reveal window when `wait`; otherwise only once every ballot is
    /// revealed). It waits for the verdicts: with `wait` the clock moves past the reveal window only after the
    /// submission deadline and once no ballot that can be opened is still to be revealed (the call reverts before), so
    /// that models get verdicts and pass (and their global models need attesting). Outcomes must be
    /// AcceptanceRule.decide over the revealed stakes and the other members' snapshot bonds; rewards and slashes of
    /// models and verifiers must follow the rules.
    function settle(bool wait) external timed staked {
        uint256 round = d.rounds.currentRound();
        TrainingRounds.Round memory r = d.rounds.getRound(round);
        if (wait) {
            require(now_ > r.deadline && !_revealPending(round, r.revealUntil), "verdicts pending");
            // wait for the reveals to close, never back in time (a chain's clock only moves forward: the records'
            // appendedAt, the blocks' slots and the snapshots rely on it)
            if (now_ <= r.revealUntil) now_ = r.revealUntil + 1;
            VM.warp(now_);
        }
        VM.prank(operator);
        d.rounds.settleRound(round);
        VmLogs.Log[] memory logs = _takeLogs();
        (uint32 passedBits, uint32 failedBits) = _checkOutcomes(round, r.snapshot);
        _checkSettlementEvents(round, logs, passedBits, failedBits);
    }

    /// @notice The MBS records the new global model with exactly the passed models; `leaveOneOut` tries the attack of
    /// an aggregation without one passed model first (it must be refused).
    function record(bool leaveOneOut, uint256 salt) external timed {
        uint256 round = d.rounds.currentRound();
        address[] memory passed = _passedSorted(round);
        bytes memory cid = _cid("global", round * 1_000_003 + (salt % 1000), address(0));
        if (leaveOneOut && passed.length > 0) {
            address[] memory fewer = new address[](passed.length - 1);
            for (uint256 i = 0; i + 1 < passed.length; ++i) fewer[i] = passed[i];
            VM.prank(operator);
            try d.rounds.recordGlobalModel(round, cid, fewer) {
                _violate("an aggregation without a passed model was recorded");
                return;
            } catch {}
        }
        if (passed.length == 0) {
            // Attack: a round in which nothing passed records a model of the MBS's choosing. Must be refused.
            VM.prank(operator);
            try d.rounds.recordGlobalModel(round, cid, passed) {
                _violate("a round without a passed model recorded another global model");
                return;
            } catch {}
            cid = lastGlobal; // the model stays
        }
        VM.prank(operator);
        d.rounds.recordGlobalModel(round, cid, passed);
        lastGlobal = cid;
    }

    /// @notice A BS word on the current round's recorded global model (issue class 7), by `agreesSeed` % 8. 0: a BS
    /// that did not attest yet says the opposite of what recomputing Eq. 5 tells it (it disputes a true model); 3..7:
    /// it attests a true model and disputes a forged one (the ghost's `forgedGlobal`, what the handler cannot
    /// recompute); either adds its bond at the round's snapshot to the ghost's attest or dispute stake. Invalid calls
    /// (and all the call does): 1: on the previous round, after this one opened (AttestationClosed); 2, or when every
    /// BS has spoken: a BS that already attested or disputed, again (AlreadyAttested); and whenever the round is not
    /// Finalized yet, on it or (1 time in 2) on the round after it (InvalidRoundStatus). Each must revert with exactly
    /// that error.
    function attestGlobal(uint256 bsSeed, uint256 agreesSeed) external timed {
        uint256 round = d.rounds.currentRound();
        require(round != 0, "no round");
        uint256 mode = agreesSeed % 8;
        bool agrees = (agreesSeed >> 3) % 2 == 0; // what an invalid call says
        if (mode == 1 && round > 1) {
            _tryAttest(
                _bs(bsSeed),
                round - 1,
                agrees,
                abi.encodeWithSelector(TrainingRounds.AttestationClosed.selector, round - 1),
                "an attestation after the next round opened was accepted"
            );
            return;
        }
        TrainingRounds.RoundStatus status = d.rounds.getRound(round).status;
        if (status != TrainingRounds.RoundStatus.Finalized) {
            uint256 target = (agreesSeed >> 4) % 2 == 0 ? round : round + 1;
            _tryAttest(
                _bs(bsSeed),
                target,
                agrees,
                abi.encodeWithSelector(TrainingRounds.InvalidRoundStatus.selector, target, d.rounds.getRound(target).status),
                "an attestation of a round not Finalized was accepted"
            );
            return;
        }
        address bs = _pick(bsSeed, round, Pick.NotAttested);
        if (mode == 2 || ghostAttestation[round][bs] != TrainingRounds.Attestation.None) {
            bs = _pick(bsSeed, round, Pick.Attested);
            if (ghostAttestation[round][bs] != TrainingRounds.Attestation.None) {
                _tryAttest(
                    bs,
                    round,
                    agrees,
                    abi.encodeWithSelector(TrainingRounds.AlreadyAttested.selector, round, bs),
                    "a second attestation by one BS was accepted"
                );
                return;
            }
        }
        _attest(round, bs, mode == 0 ? forgedGlobal[round] : !forgedGlobal[round]);
    }

    /// @notice Attack (issue class 7): the MBS records a forged global model for a settled round with passed models
    /// (any CID other than Eq. 5 of the models it lists: the chain cannot tell, so it is accepted, and the ghost marks
    /// it forged), 1 time in 2 with one colluding BS attesting it (only if the others still hold the quorum); the
    /// honest BSs, holding the quorum, dispute it. The next round must then be refused with GlobalModelDisputed, here
    /// and in every later openRound (no round ever opens from it). Only from an even `seed` (otherwise the call
    /// reverts): it ends the run's rounds, so that half of the (rare) settled rounds with a passed model go on to an
    /// honest record and attestation.
    function attackForgedGlobal(uint256 seed) external timed {
        uint256 round = d.rounds.currentRound();
        require(round != 0 && seed % 2 == 0, "not this time");
        TrainingRounds.Round memory r = d.rounds.getRound(round);
        require(r.status == TrainingRounds.RoundStatus.Settled && r.passed != 0, "no settled round with a passed model");
        bytes memory forged = _cid("forged global", round, address(uint160(seed)));
        address[] memory passed = _passedSorted(round); // before the prank: it reads the chain with external calls
        VM.prank(operator);
        d.rounds.recordGlobalModel(round, forged, passed);
        forgedGlobal[round] = true;
        lastGlobal = forged;
        uint256 quorum = attestationQuorum(round);
        address colluder = _bs(seed >> 2);
        if ((seed >> 5) % 2 == 0 || _memberStake(r.snapshot) - d.stake.bondedAt(colluder, r.snapshot) < quorum) {
            colluder = address(0);
        }
        for (uint256 i = 0; i < bss.length; ++i) _attest(round, bss[i], bss[i] == colluder);
        if (ghostDisputeStake[round] < quorum) _violate("the honest BSs' disputes did not reach the quorum");
        bytes memory refusal = _openRefusal(round);
        if (bytes4(refusal) != TrainingRounds.GlobalModelDisputed.selector) _violate("the ghost does not see the dispute");
        VM.prank(operator);
        try d.rounds.openRound(forged, uint64(now_ + 100)) {
            _violate("a round opened from a disputed global model");
        } catch (bytes memory err) {
            if (keccak256(err) != keccak256(refusal)) _violate("a disputed global model was refused for another reason");
        }
        ++forgedModelsDisputed;
    }

    /// @dev `bs` attests (`agrees`) or disputes round `round`'s global model; its word must weigh its bond at the
    /// round's snapshot, as the ghost adds it.
    function _attest(uint256 round, address bs, bool agrees) private {
        uint256 weight = d.stake.bondedAt(bs, d.rounds.getRound(round).snapshot);
        VM.prank(bs);
        d.rounds.attestGlobalModel(round, agrees);
        TrainingRounds.Attestation a = agrees ? TrainingRounds.Attestation.Agrees : TrainingRounds.Attestation.Disputes;
        ghostAttestation[round][bs] = a;
        if (agrees) {
            ghostAttestStake[round] += weight;
            ++attestations;
        } else {
            ghostDisputeStake[round] += weight;
            ++disputes;
        }
        if (d.rounds.attestation(round, bs) != a) _violate("an attestation was stored other than given");
    }

    /// @dev An attestation the chain must refuse with exactly `want`.
    function _tryAttest(address bs, uint256 round, bool agrees, bytes memory want, string memory accepted) private {
        VM.prank(bs);
        try d.rounds.attestGlobalModel(round, agrees) {
            _violate(accepted);
        } catch (bytes memory err) {
            if (keccak256(err) != keccak256(want)) _violate("an invalid attestation was refused with another error");
            else ++attestationsRefused;
        }
    }

    /// @dev The error openRound must give after round `previous` by the ghost's tally (empty when it may open, or when
    /// `previous` is not Finalized: then PreviousRoundNotFinalized reverts the call).
    function _openRefusal(uint256 previous) private view returns (bytes memory) {
        if (previous == 0) return "";
        TrainingRounds.Round memory p = d.rounds.getRound(previous);
        if (p.status != TrainingRounds.RoundStatus.Finalized || p.passed == 0) return "";
        uint256 quorum = attestationQuorum(previous);
        uint256 disputed = ghostDisputeStake[previous];
        uint256 attested = ghostAttestStake[previous];
        if (disputed >= quorum) {
            return abi.encodeWithSelector(TrainingRounds.GlobalModelDisputed.selector, previous, disputed, quorum);
        }
        if (attested < quorum) {
            return abi.encodeWithSelector(TrainingRounds.GlobalModelNotAttested.selector, previous, attested, quorum);
        }
        return "";
    }

    // ----- twins, coins and stake -----------------------------------------------------------------------------

    /// @notice An admitted user without a twin has it registered on a BS, with its device's consent.
    function registerTwin(uint256 bsSeed, uint256 userSeed) external timed {
        uint256 u = _userWithoutTwin(userSeed);
        require(u != NONE, "every user has a twin");
        address bs = _bs(bsSeed);
        bytes memory consent = Devices.registration(d.twins, Devices.key(u), Devices.userId(u), bs);
        VM.prank(bs);
        uint256 id = d.twins.registerTwin(Devices.userId(u), consent);
        if (id != ghostTwinCount + 1) _violate("a twin was registered with another id than the next");
        _ghostRegister(u, id, bs);
        ++consentedRegistrations;
    }

    /// @notice The host of a twin records its data, with its device's consent; sizes above the bound must be refused.
    function twinData(uint256 twinSeed, uint256 size) external timed {
        uint256 count = d.twins.twinCount();
        uint256 id = 1 + (twinSeed % count);
        address host = d.twins.hostOf(id);
        uint64 s = uint64(size % (uint256(maxDataSize) + 1000));
        uint32 version = d.twins.twin(id).dataVersion + 1;
        bytes32 commitment = keccak256(abi.encode(id, s));
        bytes memory consent = Devices.data(d.twins, _key(id), id, host, s, commitment, bytes32(size), version);
        VM.prank(host);
        d.twins.recordTwinData(id, s, commitment, bytes32(size), consent);
        if (s > maxDataSize) _violate("a data record above maxDataSize was accepted");
        (ghostDataSize[id], ghostDataVersion[id]) = (s, version);
        ++consentedRecords;
    }

    /// @notice Attack (issue class 2): a BS acts on a twin without its user's consent. `kind` % 3 == 0: the host
    /// records the largest data size for one of its twins; 1: a BS that has not committed in the open slot commits an
    /// action claiming every unclaimed twin (ids 1..16; the first that moves decides the refusal); 2: a BS registers
    /// an admitted user's twin, then a user nobody admitted. Each is tried with another key's signature, with a real
    /// consent of the device to something else (a smaller record or the last record again; a move to another BS or
    /// in another slot; the registration on another BS) and with no consent at all; every try must be refused with
    /// InvalidConsent naming the twin (0 for a registration), the recovered signer and the device (UnknownUser for
    /// the stranger), and is counted in `forgedConsentsRefused`. A call whose preconditions do not hold reverts.
    function attackForgedConsent(uint256 kind, uint256 seed) external timed {
        kind %= 3;
        if (kind == 0) _forgeData(seed);
        else if (kind == 1) _forgeMove(seed);
        else _forgeRegistration(seed);
    }

    function _forgeData(uint256 seed) private {
        uint256 id = 1 + (seed % d.twins.twinCount());
        uint256 forger = _forger(seed, id);
        bytes32 c = keccak256(abi.encode("inflated", id, seed));
        // the largest size (what Eq. 6 and the Eq. 5 weights would pay for) with another key's signature of it
        _tryData(id, forger, maxDataSize, c, VM.addr(forger));
        // the largest size with the device's consent to half of it
        _tryData(id, _key(id), maxDataSize / 2, c, address(0));
        // the device's consent to the twin's current record, replayed (it names the current version)
        TwinRegistry.Twin memory t = d.twins.twin(id);
        bytes memory last = Devices.data(d.twins, _key(id), id, t.bs, t.dataSize, t.dataCommitment, t.state, t.dataVersion);
        VM.prank(t.bs);
        try d.twins.recordTwinData(id, t.dataSize, t.dataCommitment, t.state, last) {
            _violate("a replayed data consent was accepted");
        } catch (bytes memory err) {
            _expectInvalidConsent(err, id, address(0), t.device);
        }
    }

    /// @dev The host records the largest size for twin `id` (commitment `c`, state 0) with `pk`'s consent to a
    /// record of `signedSize`, which must be refused as signed by `signer` (any other signer than the device when
    /// zero).
    function _tryData(uint256 id, uint256 pk, uint64 signedSize, bytes32 c, address signer) private {
        address host = d.twins.hostOf(id);
        uint32 version = d.twins.twin(id).dataVersion + 1;
        bytes memory consent = Devices.data(d.twins, pk, id, host, signedSize, c, 0, version);
        VM.prank(host);
        try d.twins.recordTwinData(id, maxDataSize, c, 0, consent) {
            _violate("a data record without its device's consent was accepted");
        } catch (bytes memory err) {
            _expectInvalidConsent(err, id, signer, ghostDevice[id]);
        }
    }

    /// @dev A forged claim: `bs` lists the unclaimed twins `ids` (entries `twins`) in slot `round`; `first` is the
    /// first of them that would move.
    struct Claim {
        uint256 round;
        address bs;
        uint256[] ids;
        bytes twins;
        uint256 first;
    }

    function _forgeMove(uint256 seed) private {
        Claim memory a = _claimAll(seed);
        address other = _bs(_index(a.bs) + 1 + (seed % (bss.length - 1))); // another BS than `bs`
        uint256 forger = _forger(seed, a.first);
        // another key's signatures of the moves; the device's consents to a move to another BS, and in another slot
        _tryMove(a, _forgedMoves(a, forger, a.bs, a.round), VM.addr(forger));
        _tryMove(a, _forgedMoves(a, 0, other, a.round), address(0));
        _tryMove(a, _forgedMoves(a, 0, a.bs, a.round + 1), address(0));
        // no consent at all (what any BS could do before: claim every twin first)
        _tryMove(a, "", address(1));
    }

    /// @dev A BS that has not committed in the open slot (from `seed`) and every unclaimed twin of ids 1..16.
    function _claimAll(uint256 seed) private view returns (Claim memory a) {
        a.round = d.rounds.currentRound();
        require(a.round != 0 && d.rounds.acceptsSubmissions(a.round), "no slot open");
        a.bs = _pick(seed, a.round, Pick.NotCommitted);
        require(d.ledger.actionHash(a.round, a.bs) == bytes32(0), "every BS committed");
        uint256 count = d.twins.twinCount();
        if (count > 16) count = 16;
        uint256 n;
        uint256[] memory ids = new uint256[](count);
        for (uint256 id = 1; id <= count; ++id) {
            if (d.ledger.isClaimed(a.round, id)) continue;
            ids[n++] = id;
            if (a.first == 0 && d.twins.hostOf(id) != a.bs) a.first = id;
        }
        require(a.first != 0, "no twin to claim");
        assembly {
            mstore(ids, n)
        }
        a.ids = ids;
        a.twins = _entries(ids, 32);
    }

    /// @dev Consents for the claim's twins: zeros for the claimant's own, for each other one `pk`'s signature (its
    /// device's when `pk` is 0) of MoveTwin(id, to, slot).
    function _forgedMoves(Claim memory a, uint256 pk, address to, uint256 slot) private returns (bytes memory consents) {
        for (uint256 i = 0; i < a.ids.length; ++i) {
            uint256 id = a.ids[i];
            if (d.twins.hostOf(id) == a.bs) {
                consents = bytes.concat(consents, new bytes(65));
            } else {
                consents = bytes.concat(consents, Devices.move(d.twins, pk == 0 ? _key(id) : pk, id, to, slot));
            }
        }
    }

    /// @dev The claimant commits the claim with `consents`: must be refused for its first moving twin, as signed by
    /// `signer` (as {_expectInvalidConsent}).
    function _tryMove(Claim memory a, bytes memory consents, address signer) private {
        bytes memory tau = new bytes(2 * d.ledger.subchannels());
        VM.prank(a.bs);
        try d.ledger.commitAction(a.round, a.twins, tau, consents) {
            _violate("a move without its device's consent was accepted");
        } catch (bytes memory err) {
            _expectInvalidConsent(err, a.first, signer, ghostDevice[a.first]);
        }
    }

    function _forgeRegistration(uint256 seed) private {
        address bs = _bs(seed);
        uint256 u = _userWithoutTwin(seed);
        if (u != NONE) {
            bytes32 user = Devices.userId(u);
            address device = VM.addr(Devices.key(u));
            uint256 forger = _forger(seed, u);
            address other = bss[(seed + 1 + ((seed >> 8) % (bss.length - 1))) % bss.length];
            _tryRegister(bs, user, Devices.registration(d.twins, forger, user, bs), VM.addr(forger), device);
            _tryRegister(bs, user, Devices.registration(d.twins, Devices.key(u), user, other), address(0), device);
            _tryRegister(bs, user, "", address(1), device);
        }
        // a user nobody admitted, with a key of the BS's choosing
        bytes32 stranger = keccak256(abi.encode("stranger", seed));
        bytes memory consent = Devices.registration(d.twins, _forger(seed, NONE), stranger, bs);
        VM.prank(bs);
        try d.twins.registerTwin(stranger, consent) {
            _violate("a twin of a user nobody admitted was registered");
        } catch (bytes memory err) {
            if (keccak256(err) == keccak256(abi.encodeWithSelector(UserRegistry.UnknownUser.selector, stranger))) {
                ++forgedConsentsRefused;
            } else {
                _violate("a twin of a user nobody admitted was refused for another reason");
            }
        }
    }

    function _tryRegister(address bs, bytes32 user, bytes memory consent, address signer, address device) private {
        VM.prank(bs);
        try d.twins.registerTwin(user, consent) {
            _violate("a registration without its device's consent was accepted");
        } catch (bytes memory err) {
            _expectInvalidConsent(err, 0, signer, device);
        }
    }

    /// @dev `err` must be InvalidConsent(twinId, signer', device) with signer' != device and signer' == `signer`
    /// (`signer` zero: any signer but the device; address(1): the zero address, no signature at all).
    function _expectInvalidConsent(bytes memory err, uint256 twinId, address signer, address device) private {
        if (err.length != 100 || bytes4(err) != TwinRegistry.InvalidConsent.selector) {
            _violate("a forged consent was refused for another reason than InvalidConsent");
            return;
        }
        uint256 id;
        address recovered;
        address dev;
        assembly {
            id := mload(add(err, 36))
            recovered := mload(add(err, 68))
            dev := mload(add(err, 100))
        }
        bool signerOk = signer == address(0) ? recovered != device : recovered == (signer == address(1) ? address(0) : signer);
        if (id != twinId || dev != device || recovered == device || !signerOk) {
            _violate("InvalidConsent misstates the twin, the signer or the device");
            return;
        }
        ++forgedConsentsRefused;
    }

    /// @notice A BS moves liquid coins to another BS, or (1 time in 8) to the vault itself (a donation nobody can move
    /// again).
    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external timed {
        address from = _bs(fromSeed);
        address to = toSeed % 8 == 0 ? address(d.stake) : _bs(toSeed);
        uint256 bal = d.coin.balanceOf(from);
        amount = bal == 0 ? 0 : amount % (bal + 1);
        VM.prank(from);
        require(d.coin.transfer(to, amount), "transfer");
        if (to == address(d.stake)) donated += amount;
    }

    /// @notice A BS with liquid coins approves the vault for 1..all of them and bonds them.
    function bond(uint256 bsSeed, uint256 amount) external timed staked {
        address bs = _bs(bsSeed);
        uint256 bal = d.coin.balanceOf(bs);
        require(bal > 0, "no liquid coins");
        amount = 1 + (amount % bal);
        VM.prank(bs);
        require(d.coin.approve(address(d.stake), amount), "approve");
        VM.prank(bs);
        d.stake.bond(amount);
    }

    /// @notice A BS unbonds 1..all of its bond (`all`: everything, e.g. right after a round's snapshot).
    function unbond(uint256 bsSeed, uint256 amount, bool all) external timed staked {
        address bs = _bs(bsSeed);
        uint256 bonded = d.stake.bondedOf(bs);
        require(bonded > 0, "no bond");
        VM.prank(bs);
        d.stake.unbond(all ? bonded : 1 + (amount % bonded));
    }

    /// @notice The first BS from `bsSeed` on with a matured unbonding entry withdraws.
    function withdraw(uint256 bsSeed) external timed staked {
        address bs = _bs(bsSeed);
        for (uint256 k = 0; k < bss.length; ++k) {
            StakeVault.Entry[] memory q = d.stake.unbondingEntries(_bs(bsSeed + k));
            if (q.length > 0 && q[0].releaseAt <= now_) {
                bs = _bs(bsSeed + k);
                break;
            }
        }
        VM.prank(bs);
        d.stake.withdraw();
    }

    // ----- DPoS -----------------------------------------------------------------------------------------------

    /// @notice A BS approves the candidates of `mask`.
    function vote(uint256 bsSeed, uint256 mask) external timed {
        address bs = _bs(bsSeed);
        uint256 n;
        for (uint256 i = 0; i < bss.length; ++i) if (mask & (1 << i) != 0) ++n;
        address[] memory approved = new address[](n);
        uint256 k;
        for (uint256 i = 0; i < bss.length; ++i) if (mask & (1 << i) != 0) approved[k++] = bss[i];
        VM.prank(bs);
        d.election.vote(approved);
    }

    /// @notice Elect the producers of the current epoch (jumping to the next epoch's start when `next`).
    function elect(bool next) external timed {
        if (next) {
            now_ = d.election.epochStart(d.election.currentEpoch() + 1);
            VM.warp(now_);
        }
        VM.prank(bss[0]);
        d.election.elect();
    }

    /// @notice The slot's producer proposes the next records; with `bogus` it first tries a root of its choosing.
    function propose(uint256 toSeed, bool bogus) external timed {
        uint256 slot = d.election.currentSlot();
        address producer = d.election.producerOfSlot(slot);
        uint256 from = d.blocks.packedUpTo();
        uint256 len = d.recordLog.length();
        uint256 max = len - from > 256 ? 256 : len - from;
        uint256 to = from + (toSeed % (max + 1));
        if (bogus) {
            VM.prank(producer);
            try d.blocks.proposeBlock(slot, to, keccak256(abi.encode("bogus", toSeed))) {
                _violate("a block with a root of no records was accepted");
                return;
            } catch {}
        }
        bytes32 root = merkleRoot(from, to); // before the prank: it reads the log with external calls
        VM.prank(producer);
        d.blocks.proposeBlock(slot, to, root);
    }

    /// @notice A producer of the pending block's epoch approves or rejects it.
    function validate(uint256 producerSeed, bool approve) external timed {
        uint256 count = d.blocks.blockCount();
        require(count > 0, "no block");
        BlockLedger.Block memory b = d.blocks.getBlock(count - 1);
        address[] memory producers = d.election.producersOf(b.epoch);
        address v = producers[producerSeed % producers.length];
        VM.prank(v);
        d.blocks.validateBlock(count - 1, approve);
    }

    /// @notice A BS reports one of the last 20 slots as missed, with the fields of the record that was waiting when
    /// the slot began (the first not in a final block then, by the ghost's history of packedUpTo, if it was appended
    /// before the slot began): its producer is jailed and slashed (blockSlashBps of its bonded and unbonding coins).
    /// The chain's packedAtSlotStart must be the ghost's. Attack first (a reporter jailing and slashing a producer that
    /// had nothing to pack): a slot with no record waiting is reported with the fields of the record at that position
    /// (appended during the slot) or of one nobody appended; and (`forgeSeed` % 8 >= 5) a slot is first reported with
    /// fields that are not the waiting record's (another payload hash, a backdated appendedAt, another kind). Each must
    /// be refused, when it gets past the earlier checks, with NothingWaiting (nothing was waiting, or the claimed
    /// appendedAt is not before the slot) or else RecordProofMismatch, with their arguments; then the true fields of a
    /// waiting record are given, and must never be refused with either.
    function reportMissed(uint256 slotSeed, uint256 forgeSeed) external timed staked {
        uint256 current = d.election.currentSlot();
        uint256 back = 1 + (slotSeed % 20);
        require(current >= back, "no such slot");
        uint256 slot = current - back;
        uint256 start = d.election.genesisTime() + slot * d.election.slotDuration();
        uint256 waiting = packedBefore(start);
        if (d.blocks.packedAtSlotStart(slot) != waiting) _violate("packedAtSlotStart is not packedUpTo when the slot began");
        RecordFields memory truth = waiting < ghostRecordCount
            ? _ghostRecords[waiting]
            : RecordFields(RecordLog.RecordKind.TrainingModel, keccak256(abi.encode("no record", forgeSeed)), uint64(start - 1));
        bool waited = waiting < ghostRecordCount && truth.appendedAt < start;
        address reporter = bss[slotSeed % bss.length];
        uint256 mode = forgeSeed % 8;
        if (!waited || mode >= 5) {
            RecordFields memory f = RecordFields(truth.kind, truth.payloadHash, truth.appendedAt);
            if (mode == 5) f.payloadHash = keccak256(abi.encode("forged payload", forgeSeed));
            else if (mode == 6) f.appendedAt = _backdated(f.appendedAt, 1 + (forgeSeed >> 8) % 600);
            else if (mode == 7) f.kind = RecordLog.RecordKind((uint8(f.kind) + 1 + (forgeSeed >> 8) % 2) % 3);
            _reportRefused(reporter, slot, f, waiting, start);
            if (!waited) return;
        }
        VM.prank(reporter);
        try d.blocks.reportMissedSlot(slot, truth.kind, truth.payloadHash, truth.appendedAt) {
            ++missedSlotsReported;
        } catch (bytes memory err) {
            bytes4 sel = bytes4(err);
            if (sel == BlockLedger.NothingWaiting.selector || sel == BlockLedger.RecordProofMismatch.selector) {
                _violate("a producer that sat out its slot while a record waited could not be reported");
            }
            // refused by an earlier check (not over, not missed, reported, jailed, not a member, too few producers)
            assembly {
                revert(add(err, 32), mload(err))
            }
        }
    }

    /// @dev `t` moved `dt` seconds back (not below 0).
    function _backdated(uint64 t, uint256 dt) private pure returns (uint64) {
        return t > dt ? t - uint64(dt) : 0;
    }

    /// @dev Attack: `reporter` reports `slot` with fields `f` that are not those of a record waiting when it began
    /// (record `waiting`; the slot began at `start`). It must be refused: by an earlier check, or with the
    /// NothingWaiting or RecordProofMismatch the fields call for.
    function _reportRefused(address reporter, uint256 slot, RecordFields memory f, uint256 waiting, uint256 start) private {
        bytes memory refusal = waiting >= ghostRecordCount || f.appendedAt >= start
            ? abi.encodeWithSelector(BlockLedger.NothingWaiting.selector, slot, waiting, start)
            : abi.encodeWithSelector(BlockLedger.RecordProofMismatch.selector, waiting);
        VM.prank(reporter);
        try d.blocks.reportMissedSlot(slot, f.kind, f.payloadHash, f.appendedAt) {
            _violate("a producer was punished without the true fields of a record waiting when its slot began");
        } catch (bytes memory err) {
            bytes4 sel = bytes4(err);
            if (sel != BlockLedger.NothingWaiting.selector && sel != BlockLedger.RecordProofMismatch.selector) return;
            if (keccak256(err) != keccak256(refusal)) _violate("a report without a waiting record was refused with another error");
            else if (sel == BlockLedger.NothingWaiting.selector) ++idleReportsRefused;
            else ++forgedEvidenceRefused;
        }
    }

    // ----- views for the invariants -----------------------------------------------------------------------------

    /// @notice The Merkle root of records [from, to), computed here independently of the contracts: sorted-pair
    /// keccak256, an odd last node carried up, bytes32(0) for no records.
    function merkleRoot(uint256 from, uint256 to) public view returns (bytes32) {
        uint256 n = to - from;
        if (n == 0) return bytes32(0);
        bytes32[] memory level = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) level[i] = d.recordLog.leafAt(from + i);
        while (n > 1) {
            uint256 m = 0;
            for (uint256 i = 0; i < n; i += 2) {
                if (i + 1 == n) {
                    level[m++] = level[i];
                } else {
                    (bytes32 a, bytes32 c) = level[i] < level[i + 1] ? (level[i], level[i + 1]) : (level[i + 1], level[i]);
                    level[m++] = keccak256(abi.encodePacked(a, c));
                }
            }
            n = m;
        }
        return level[0];
    }

    /// @notice What packedUpTo was just before `ts`, by the ghost's history of finalizations (0 before the first).
    function packedBefore(uint256 ts) public view returns (uint256 packed) {
        for (uint256 k = 0; k < _finalizedAt.length && _finalizedAt[k] < ts; ++k) packed = _packedAfter[k];
    }

    /// @notice The ghost's fields of record `index` (from its RecordAppended event).
    function ghostRecord(uint256 index) external view returns (RecordFields memory) {
        return _ghostRecords[index];
    }

    /// @notice The five BSs.
    function allBss() external view returns (address[] memory) {
        return bss;
    }

    /// @notice The stake an attestation or a dispute of round `round`'s global model needs, computed here: quorumBps
    /// of the five members' bonds at the round's snapshot, rounded up, at least 1.
    function attestationQuorum(uint256 round) public view returns (uint256 quorum) {
        quorum = (_memberStake(d.rounds.getRound(round).snapshot) * quorumBps + BPS - 1) / BPS;
        if (quorum == 0) quorum = 1;
    }

    function _memberStake(uint64 snapshot) private view returns (uint256 memberStake) {
        for (uint256 j = 0; j < bss.length; ++j) memberStake += d.stake.bondedAt(bss[j], snapshot);
    }

    // ----- settlement checks -------------------------------------------------------------------------------------

    /// @dev Every model's stored stakes are its revealed verdicts' weights, and its outcome is AcceptanceRule.decide
    /// over them out of the snapshot bonds of every other member (all five BSs are members throughout).
    function _checkOutcomes(uint256 round, uint64 snapshot)
        private
        returns (uint32 passedBits, uint32 failedBits)
    {
        address[] memory subs = d.rounds.submitters(round);
        uint256 memberStake;
        for (uint256 j = 0; j < bss.length; ++j) memberStake += d.stake.bondedAt(bss[j], snapshot);
        for (uint256 i = 0; i < subs.length; ++i) {
            TrainingRounds.Submission memory s = d.rounds.submission(round, subs[i]);
            if (s.passStake != passGiven[round][subs[i]] || s.failStake != failGiven[round][subs[i]]) {
                _violate("a model's verdict stakes differ from its revealed verdicts' weights");
            }
            uint256 eligible = memberStake - d.stake.bondedAt(subs[i], snapshot);
            AcceptanceRule.Decision dec = AcceptanceRule.decide(s.passStake, s.failStake, eligible, quorumBps);
            TrainingRounds.Outcome expected = dec == AcceptanceRule.Decision.Passed
                ? TrainingRounds.Outcome.Passed
                : dec == AcceptanceRule.Decision.Failed ? TrainingRounds.Outcome.Failed : TrainingRounds.Outcome.Unverified;
            if (s.outcome != expected) _violate("an outcome differs from the acceptance rule");
            if (expected == TrainingRounds.Outcome.Passed) {
                passedBits |= uint32(1 << i);
                ++outcomesPassed;
            } else if (expected == TrainingRounds.Outcome.Failed) {
                failedBits |= uint32(1 << i);
                ++outcomesFailed;
            } else {
                ++outcomesUnverified;
            }
        }
    }

    /// @dev The settlement's ModelSettled and VerifierSettled events against the rules: a passed model earns
    /// rewardPerModel, a failed one loses the slash the vault took just before (slashBps), an unverified one neither;
    /// a verifier that revealed and agreed with every decided outcome (and decided one, with a weight) earns
    /// verifierReward, one with a verdict against an outcome nothing, one that never revealed loses the vault's slash
    /// of withheldSlashBps.
    function _checkSettlementEvents(uint256 round, VmLogs.Log[] memory logs, uint32 passedBits, uint32 failedBits)
        private
    {
        LastSlash memory last;
        for (uint256 k = 0; k < logs.length; ++k) {
            VmLogs.Log memory l = logs[k];
            if (l.emitter == address(d.stake) && l.topics[0] == StakeVault.Slashed.selector) {
                (uint256 bps, uint256 fromBond, uint256 fromUnbonding) = abi.decode(l.data, (uint256, uint256, uint256));
                (last.bs, last.bps, last.amount) = (_topicAddress(l.topics[1]), bps, fromBond + fromUnbonding);
                ++slashesAtSettlement;
            } else if (l.emitter == address(d.rounds) && l.topics[0] == TrainingRounds.ModelSettled.selector) {
                _checkModelSettled(l, last);
                last.bs = address(0);
            } else if (l.emitter == address(d.rounds) && l.topics[0] == TrainingRounds.VerifierSettled.selector) {
                _checkVerifierSettled(round, l, last, passedBits, failedBits);
                last.bs = address(0);
            }
        }
    }

    /// @dev The last slash the vault made in a settlement (what the next ModelSettled or VerifierSettled reports).
    struct LastSlash {
        address bs;
        uint256 bps;
        uint256 amount;
    }

    function _checkModelSettled(VmLogs.Log memory l, LastSlash memory last) private {
        address bs = _topicAddress(l.topics[2]);
        (uint8 outcome, uint256 reward, uint256 slashed) = abi.decode(l.data, (uint8, uint256, uint256));
        bool passed = outcome == uint8(TrainingRounds.Outcome.Passed);
        bool failed = outcome == uint8(TrainingRounds.Outcome.Failed);
        if (reward != (passed ? d.rounds.rewardPerModel() : 0)) _violate("a model was paid other than the rule");
        uint256 want = failed && last.bs == bs && last.bps == d.rounds.slashBps() ? last.amount : 0;
        if (slashed != want) _violate("a model was slashed other than the rule");
    }

    function _checkVerifierSettled(
        uint256 round,
        VmLogs.Log memory l,
        LastSlash memory last,
        uint32 passedBits,
        uint32 failedBits
    ) private {
        address v = _topicAddress(l.topics[2]);
        (bool revealed, bool agreed, uint256 reward, uint256 slashed) = abi.decode(l.data, (bool, bool, uint256, uint256));
        TrainingRounds.Ballot memory b = d.rounds.ballot(round, v);
        bool agrees = b.revealed && (b.passBits & failedBits) == 0 && (b.failBits & passedBits) == 0;
        bool decided = ((b.passBits | b.failBits) & (passedBits | failedBits)) != 0;
        uint256 wantReward = agrees && decided && b.weight != 0 ? d.rounds.verifierReward() : 0;
        uint256 wantSlash = !b.revealed && last.bs == v && last.bps == d.rounds.withheldSlashBps() ? last.amount : 0;
        if (revealed != b.revealed || agreed != agrees) _violate("a verifier's settlement misstates its ballot");
        if (reward != wantReward) _violate("a verifier was paid other than the rule");
        if (slashed != wantSlash) _violate("a verifier was slashed other than the rule");
        if (reward != 0) ++verifierRewards;
        if (slashed != 0) ++withheldSlashes;
    }

    // ----- stake accounting -----------------------------------------------------------------------------------

    function _beforeCall() private {
        for (uint256 i = 0; i < bss.length; ++i) (_bonded0[i], _unbonding0[i]) = d.stake.stakeOf(bss[i]);
        _supply0 = d.coin.totalSupply();
        VML.recordLogs();
    }

    /// @dev Replay the call's StakeVault and coin events over the stakes read before it: each BS's bond and unbonding
    /// coins end where the events say, every slash takes (bonded + unbonding) x bps / 10000 (bond first, then the
    /// queue) and burns exactly that, only the vault mints (its credits) and burns (its slashes), and the supply
    /// changes by credits minus slashes.
    function _takeLogs() private returns (VmLogs.Log[] memory logs) {
        logs = VML.getRecordedLogs();
        _logsTaken = true;
        _takeRecords(logs);
        Replay memory st;
        st.bonded = _bonded0;
        st.unbonding = _unbonding0;
        for (uint256 k = 0; k < logs.length; ++k) {
            if (logs[k].emitter == address(d.coin) && logs[k].topics[0] == TRANSFER) _replayCoin(st, logs[k]);
            else if (logs[k].emitter == address(d.stake) && !_replayVault(st, logs[k])) return logs;
        }
        for (uint256 i = 0; i < bss.length; ++i) {
            (uint256 bonded, uint256 unbonding) = d.stake.stakeOf(bss[i]);
            if (bonded != st.bonded[i] || unbonding != st.unbonding[i]) {
                _violateStake("a BS's bond or unbonding coins changed other than by the vault's events");
            }
            (ghostBonded[bss[i]], ghostUnbonding[bss[i]]) = (st.bonded[i], st.unbonding[i]);
        }
        if (st.mints != st.credited || st.burns != st.slashed) {
            _violateStake("the vault minted or burned other than its credits and slashes");
        }
        if (d.coin.totalSupply() + st.slashed != _supply0 + st.credited) {
            _violateStake("the supply changed other than by credits and slashes");
        }
        minted += st.credited;
        burned += st.slashed;
    }

    /// @dev The stakes and sums a call's events lead to.
    struct Replay {
        uint256[5] bonded;
        uint256[5] unbonding;
        uint256 credited;
        uint256 slashed;
        uint256 mints;
        uint256 burns;
    }

    function _replayCoin(Replay memory st, VmLogs.Log memory l) private {
        address from = _topicAddress(l.topics[1]);
        address to = _topicAddress(l.topics[2]);
        uint256 value = abi.decode(l.data, (uint256));
        if (from == address(0)) {
            if (to != address(d.stake)) _violateStake("coins minted outside the vault");
            st.mints += value;
        }
        if (to == address(0)) {
            if (from != address(d.stake)) _violateStake("coins burned outside the vault");
            st.burns += value;
        }
    }

    /// @dev Apply one StakeVault event; false (and a stake violation) when it cannot follow from the stake before it.
    function _replayVault(Replay memory st, VmLogs.Log memory l) private returns (bool) {
        uint256 i = _index(_topicAddress(l.topics[1]));
        if (i == NONE) {
            _violateStake("a vault event for an account that is not a BS");
            return false;
        }
        bytes32 t = l.topics[0];
        if (t == StakeVault.Credited.selector) {
            uint256 a = abi.decode(l.data, (uint256));
            st.bonded[i] += a;
            st.credited += a;
            ++credits;
        } else if (t == StakeVault.Bonded.selector) {
            st.bonded[i] += abi.decode(l.data, (uint256));
        } else if (t == StakeVault.UnbondingStarted.selector) {
            (uint256 a,) = abi.decode(l.data, (uint256, uint64));
            if (a > st.bonded[i]) {
                _violateStake("an unbonding larger than the bond");
                return false;
            }
            st.bonded[i] -= a;
            st.unbonding[i] += a;
        } else if (t == StakeVault.Withdrawn.selector) {
            uint256 a = abi.decode(l.data, (uint256));
            if (a > st.unbonding[i]) {
                _violateStake("a withdrawal larger than the unbonding coins");
                return false;
            }
            st.unbonding[i] -= a;
        } else if (t == StakeVault.Slashed.selector) {
            (uint256 bps, uint256 fromBond, uint256 fromUnbonding) = abi.decode(l.data, (uint256, uint256, uint256));
            uint256 total = ((st.bonded[i] + st.unbonding[i]) * bps) / BPS;
            uint256 wantFromBond = total < st.bonded[i] ? total : st.bonded[i];
            if (total == 0 || fromBond != wantFromBond || fromUnbonding != total - wantFromBond) {
                _violateStake("a slash took other than (bonded + unbonding) x bps / 10000, bond first");
                return false;
            }
            st.bonded[i] -= fromBond;
            st.unbonding[i] -= fromUnbonding;
            st.slashed += total;
            ++slashes;
        }
        return true;
    }

    // ----- record log ------------------------------------------------------------------------------------------

    /// @dev The RecordAppended events of `logs`, into the ghost of the record log: in index order, each one's fields
    /// giving its stored leaf (keccak256(abi.encode(index, kind, payloadHash, appendedAt)), as the event's own leaf),
    /// appendedAt the call's timestamp. Events of calls that reverted (a refused append in a try) are left out: their
    /// leaf is not the one stored at their index, if any.
    function _takeRecords(VmLogs.Log[] memory logs) private {
        uint256 length = d.recordLog.length();
        for (uint256 k = 0; k < logs.length; ++k) {
            VmLogs.Log memory l = logs[k];
            if (l.emitter != address(d.recordLog) || l.topics[0] != RecordLog.RecordAppended.selector) continue;
            uint256 index = uint256(l.topics[1]);
            (bytes32 payloadHash, uint64 appendedAt, bytes32 leaf) = abi.decode(l.data, (bytes32, uint64, bytes32));
            if (index >= length || d.recordLog.leafAt(index) != leaf) continue;
            RecordFields memory f = RecordFields(RecordLog.RecordKind(uint8(uint256(l.topics[2]))), payloadHash, appendedAt);
            if (index != ghostRecordCount) _violate("a record was appended out of order");
            if (keccak256(abi.encode(index, f.kind, f.payloadHash, f.appendedAt)) != leaf) {
                _violate("a record's leaf is not keccak256(abi.encode(index, kind, payloadHash, appendedAt))");
            }
            if (appendedAt != block.timestamp) _violate("a record's appendedAt is not the timestamp of its append");
            _ghostRecords[index] = f;
            ghostRecordCount = index + 1;
        }
    }

    /// @dev packedUpTo after the call, into the ghost's history when a block became final in it (at most one per call).
    function _notePacked() private {
        if (d.blocks.finalBlockCount() == _packedAfter.length) return;
        _finalizedAt.push(uint64(block.timestamp));
        _packedAfter.push(d.blocks.packedUpTo());
        if (d.blocks.finalBlockCount() != _packedAfter.length) _violate("more than one block became final in one call");
    }

    // ----- helpers ----------------------------------------------------------------------------------------------

    function _passedSorted(uint256 round) private view returns (address[] memory out) {
        address[] memory subs = d.rounds.submitters(round);
        uint256 n;
        for (uint256 i = 0; i < subs.length; ++i) {
            if (d.rounds.submission(round, subs[i]).outcome == TrainingRounds.Outcome.Passed) ++n;
        }
        out = new address[](n);
        uint256 k;
        for (uint256 i = 0; i < subs.length; ++i) {
            if (d.rounds.submission(round, subs[i]).outcome == TrainingRounds.Outcome.Passed) out[k++] = subs[i];
        }
        for (uint256 i = 1; i < n; ++i) {
            for (uint256 j = i; j > 0 && out[j - 1] > out[j]; --j) (out[j - 1], out[j]) = (out[j], out[j - 1]);
        }
    }

    /// @dev The first admitted user from `seed` on without a twin, or NONE.
    function _userWithoutTwin(uint256 seed) private view returns (uint256) {
        for (uint256 k = 0; k < userCount; ++k) {
            uint256 u = (seed + k) % userCount;
            if (d.twins.twinOfUser(Devices.userId(u)) == 0) return u;
        }
        return NONE;
    }

    /// @dev The ghost of twin `id` of user `u`, registered on `bs` with its device's consent.
    function _ghostRegister(uint256 u, uint256 id, address bs) private {
        userOfTwin[id] = u;
        ghostTwinOfUser[u] = id;
        ghostHost[id] = bs;
        ghostDevice[id] = VM.addr(Devices.key(u));
        ++ghostTwinCount;
    }

    /// @dev The device key of twin `id`'s user.
    function _key(uint256 id) private view returns (uint256) {
        return Devices.key(userOfTwin[id]);
    }

    /// @dev A key of a forger's choosing (never a device's: those derive from another preimage).
    function _forger(uint256 seed, uint256 salt) private pure returns (uint256) {
        return Devices.toKey(keccak256(abi.encode("forger", seed, salt)));
    }

    function _bs(uint256 seed) private view returns (address) {
        return bss[seed % bss.length];
    }

    function _index(address a) private view returns (uint256) {
        for (uint256 i = 0; i < bss.length; ++i) if (bss[i] == a) return i;
        return NONE;
    }

    function _topicAddress(bytes32 topic) private pure returns (address) {
        return address(uint160(uint256(topic)));
    }

    enum Pick {
        NotCommitted,
        CommittedNotSubmitted,
        NoBallot,
        BallotToReveal,
        NotAttested,
        Attested
    }

    /// @dev The first BS from `seed` on that fits `what` in `round` (or the seed's BS when none does).
    function _pick(uint256 seed, uint256 round, Pick what) private view returns (address) {
        for (uint256 k = 0; k < bss.length; ++k) {
            address bs = _bs(seed + k);
            if (what == Pick.NotAttested || what == Pick.Attested) {
                bool attested = ghostAttestation[round][bs] != TrainingRounds.Attestation.None;
                if (attested == (what == Pick.Attested)) return bs;
            } else if (what == Pick.NotCommitted || what == Pick.CommittedNotSubmitted) {
                bool committed = committedTwins[round][bs] != 0;
                if (what == Pick.NotCommitted && !committed) return bs;
                if (what == Pick.CommittedNotSubmitted && committed && !d.rounds.submission(round, bs).exists) return bs;
            } else {
                TrainingRounds.Ballot memory b = d.rounds.ballot(round, bs);
                if (what == Pick.NoBallot && b.commitment == bytes32(0)) return bs;
                if (what == Pick.BallotToReveal && b.commitment != bytes32(0) && !b.revealed && !_ballots[round][bs].withhold) {
                    return bs;
                }
            }
        }
        return _bs(seed);
    }

    function _cid(string memory label, uint256 n, address who) private pure returns (bytes memory) {
        return abi.encodePacked(bytes2(0x1220), keccak256(abi.encode(label, n, who)));
    }

    function _violate(string memory reason) private {
        if (!violation) {
            violation = true;
            violationReason = reason;
        }
    }

    function _violateStake(string memory reason) private {
        if (!stakeViolation) {
            stakeViolation = true;
            stakeViolationReason = reason;
        }
    }
}
