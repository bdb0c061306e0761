// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {BSRegistry} from "../../contracts/membership/BSRegistry.sol";
import {TrainingCoin} from "../../contracts/token/TrainingCoin.sol";
import {RecordLog} from "../../contracts/records/RecordLog.sol";
import {TwinRegistry} from "../../contracts/twins/TwinRegistry.sol";
import {TrainingRounds} from "../../contracts/fl/TrainingRounds.sol";
import {AssociationLedger} from "../../contracts/twins/AssociationLedger.sol";
import {ProducerElection} from "../../contracts/consensus/ProducerElection.sol";
import {BlockLedger} from "../../contracts/consensus/BlockLedger.sol";

/// @notice The protocol as the invariant campaign deploys it (as the Ignition module: roles wired, admins renounced).
struct Deployed {
    BSRegistry registry;
    TrainingCoin coin;
    RecordLog recordLog;
    TwinRegistry twins;
    TrainingRounds rounds;
    AssociationLedger ledger;
    ProducerElection election;
    BlockLedger blocks;
}

/// @title ProtocolHandler
/// @notice The actions of the stateful fuzzing campaign (test/foundry/ProtocolInvariants.t.sol): five BSs and the MBS
/// drive FL rounds, association actions, twin data records, coin transfers and DPoS blocks with fuzzed inputs, and
/// try the attacks of the trust issue (a bogus block root, an aggregation that leaves out a passed model, a round
/// opened from another CID, an oversized data record). Calls the protocol refuses revert (forge counts them per
/// action); an attack the protocol accepts sets `violation`. Ghost state records what the chain must agree with.
contract ProtocolHandler {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    uint256 private constant BPS = 10_000;

    Deployed public d;
    address public immutable operator;
    address[] public bss;
    uint256 public immutable quorumBps;
    uint64 public immutable maxDataSize;

    /// @notice The chain's clock as the campaign moves it (forge does not keep `vm.warp` between calls).
    uint256 public now_;
    /// @notice Successful actions in this run (a campaign that reverts everything fails `afterInvariant`).
    uint256 public successes;
    /// @notice Set, with a reason, when the protocol accepts what it must refuse or disagrees with a ghost.
    bool public violation;
    string public violationReason;

    bytes public lastGlobal;
    // ghost: what each committed action weighs, and the verdicts given
    mapping(uint256 round => mapping(address bs => uint256)) public committedData;
    mapping(uint256 round => mapping(address bs => uint256)) public committedTwins;
    mapping(uint256 round => mapping(address bs => uint256)) public passGiven;
    mapping(uint256 round => mapping(address bs => uint256)) public failGiven;

    constructor(Deployed memory d_, address operator_, address[] memory bss_, uint256 start) {
        d = d_;
        operator = operator_;
        bss = bss_;
        quorumBps = d_.rounds.quorumBps();
        maxDataSize = d_.twins.maxDataSize();
        now_ = start;
        lastGlobal = _cid("global", 0, address(0));
    }

    modifier timed() {
        VM.warp(now_);
        _;
        ++successes;
    }

    // ----- time -----------------------------------------------------------------------------------------------

    /// @notice Let 1..60 seconds pass.
    function warp(uint256 dt) external timed {
        now_ += 1 + (dt % 60);
        VM.warp(now_);
    }

    // ----- FL rounds ------------------------------------------------------------------------------------------

    /// @notice The MBS opens the next round from the last recorded global model.
    function openRound(uint256 dt) external timed {
        VM.prank(operator);
        d.rounds.openRound(lastGlobal, uint64(now_ + 300 + (dt % 600)));
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

    /// @notice A BS that has not committed yet commits an action: mostly the twins it hosts, now and then the twins
    /// of `mask` (over twin ids 1..16, which moves them), with batch size `batch`.
    function commit(uint256 bsSeed, uint256 mask, uint256 batch) external timed {
        uint256 round = d.rounds.currentRound();
        address bs = _pick(bsSeed, round, Pick.NotCommitted);
        uint256 count = d.twins.twinCount();
        if (count > 16) count = 16;
        if (mask % 5 != 0) {
            mask = 0;
            for (uint256 id = 1; id <= count; ++id) if (d.twins.hostOf(id) == bs) mask |= 1 << id;
        }
        uint256 n;
        for (uint256 id = 1; id <= count; ++id) if (mask & (1 << id) != 0) ++n;
        bytes memory twins = new bytes(6 * n);
        uint16 b = uint16(batch % 10 == 0 ? batch % 200 : 16 + (batch % 113)); // now and then outside [16, 128]
        uint256 k;
        uint256 data;
        for (uint256 id = 1; id <= count; ++id) {
            if (mask & (1 << id) == 0) continue;
            twins[6 * k] = bytes1(uint8(id >> 24));
            twins[6 * k + 1] = bytes1(uint8(id >> 16));
            twins[6 * k + 2] = bytes1(uint8(id >> 8));
            twins[6 * k + 3] = bytes1(uint8(id));
            twins[6 * k + 4] = bytes1(uint8(b >> 8));
            twins[6 * k + 5] = bytes1(uint8(b));
            data += d.twins.twin(id).dataSize;
            ++k;
        }
        bytes memory tau = new bytes(2 * d.ledger.subchannels());
        VM.prank(bs);
        d.ledger.commitAction(round, twins, tau);
        committedData[round][bs] = data;
        committedTwins[round][bs] = n;
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

    /// @notice A BS gives a verdict on a submitted model it has not judged yet (pass 7 times in 10).
    function verify(uint256 verifierSeed, uint256 bsSeed, uint256 passSeed) external timed {
        uint256 round = d.rounds.currentRound();
        address[] memory subs = d.rounds.submitters(round);
        require(subs.length > 0, "no submission");
        address bs = subs[bsSeed % subs.length];
        address verifier = _bs(verifierSeed);
        for (uint256 k = 0; k < bss.length && (verifier == bs || d.rounds.hasVerified(round, bs, verifier)); ++k) {
            verifier = _bs(verifierSeed + k + 1);
        }
        bool pass = passSeed % 10 < 7;
        VM.prank(verifier);
        d.rounds.verifyModel(round, bs, pass, pass ? 9000 : 1000);
        if (pass) ++passGiven[round][bs];
        else ++failGiven[round][bs];
    }

    /// @notice The MBS settles the round (after its window when `wait`); outcomes and coins must follow the rule.
    function settle(bool wait) external timed {
        uint256 round = d.rounds.currentRound();
        if (wait) {
            now_ = d.rounds.getRound(round).verifyUntil + 1;
            VM.warp(now_);
        }
        address[] memory subs = d.rounds.submitters(round);
        uint256[] memory before = new uint256[](subs.length);
        for (uint256 i = 0; i < subs.length; ++i) before[i] = d.coin.balanceOf(subs[i]);
        VM.prank(operator);
        d.rounds.settleRound(round);
        uint256 eligible = d.registry.memberCount() - 1; // every submitter is one of the five members
        for (uint256 i = 0; i < subs.length; ++i) {
            uint256 p = passGiven[round][subs[i]];
            uint256 f = failGiven[round][subs[i]];
            TrainingRounds.Outcome expected = TrainingRounds.Outcome.Unverified;
            if (p + f > 0 && (p + f) * BPS >= quorumBps * eligible) {
                if (p > f) expected = TrainingRounds.Outcome.Passed;
                else if (f > p) expected = TrainingRounds.Outcome.Failed;
            }
            if (d.rounds.submission(round, subs[i]).outcome != expected) _violate("an outcome differs from the acceptance rule");
            uint256 now1 = d.coin.balanceOf(subs[i]);
            uint256 want = before[i];
            if (expected == TrainingRounds.Outcome.Passed) want += d.rounds.rewardPerModel();
            if (expected == TrainingRounds.Outcome.Failed) want -= (before[i] * d.rounds.slashBps()) / BPS;
            if (now1 != want) _violate("a settlement paid or slashed other than the rule");
        }
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

    // ----- twins and coins ------------------------------------------------------------------------------------

    /// @notice The host of a twin records its data; sizes above the bound must be refused.
    function twinData(uint256 twinSeed, uint256 size) external timed {
        uint256 count = d.twins.twinCount();
        uint256 id = 1 + (twinSeed % count);
        address host = d.twins.hostOf(id);
        uint64 s = uint64(size % (uint256(maxDataSize) + 1000));
        VM.prank(host);
        d.twins.recordTwinData(id, s, keccak256(abi.encode(id, s)), bytes32(size));
        if (s > maxDataSize) _violate("a data record above maxDataSize was accepted");
    }

    /// @notice A BS moves coins to another BS.
    function transfer(uint256 fromSeed, uint256 toSeed, uint256 amount) external timed {
        address from = _bs(fromSeed);
        address to = _bs(toSeed);
        uint256 bal = d.coin.balanceOf(from);
        VM.prank(from);
        require(d.coin.transfer(to, bal == 0 ? 0 : amount % (bal + 1)), "transfer");
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

    /// @notice The five BSs.
    function allBss() external view returns (address[] memory) {
        return bss;
    }

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

    function _bs(uint256 seed) private view returns (address) {
        return bss[seed % bss.length];
    }

    enum Pick {
        NotCommitted,
        CommittedNotSubmitted
    }

    /// @dev The first BS from `seed` on that fits `what` in `round` (or the seed's BS when none does).
    function _pick(uint256 seed, uint256 round, Pick what) private view returns (address) {
        for (uint256 k = 0; k < bss.length; ++k) {
            address bs = _bs(seed + k);
            bool committed = committedTwins[round][bs] != 0;
            if (what == Pick.NotCommitted && !committed) return bs;
            if (what == Pick.CommittedNotSubmitted && committed && !d.rounds.submission(round, bs).exists) return bs;
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
}
