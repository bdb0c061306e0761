// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IBSRegistry} from "../membership/IBSRegistry.sol";
import {MemberGated} from "../membership/MemberGated.sol";
import {IStakeVault} from "../token/IStakeVault.sol";

/// @dev {ProducerElection.MIN_PRODUCERS}, readable as a constant by the {BlockLedger} (no call).
uint256 constant MIN_EPOCH_PRODUCERS = 3;

/// @title ProducerElection
/// @notice Delegated Proof of Stake elections (paper Section II-C): "all the BSs vote for the candidate BSs by using
/// their own training coins"; the elected BSs "take turns to pack the transactions in a time interval T into a
/// block". Approval voting: each BS approves a set of candidates; a candidate's tally is the sum of its approvers'
/// bonded coins ({IStakeVault}) at the epoch's checkpoint (the instant before the epoch starts). Attack stopped: coins
/// moved to a second key vote twice or escape a slash: liquid coins carry no vote, bonded coins leave the bond only
/// through an unbonding delay during which they stay slashable, and the checkpoint fixes the weights before the
/// epoch. Each epoch the top `producersPerEpoch` eligible candidates (members, not jailed, tally > 0; ties broken by
/// seat) become the producers, and producer k of the epoch owns every slot s with s mod n = k from the election's
/// slot on (slots that passed before a late election have no producer).
/// @dev Time is split into slots of `slotDuration` seconds from `genesisTime`, `slotsPerEpoch` slots per epoch.
/// Approvals are a bitmap over registry seats. `elect` loops over members x candidates, both bounded by
/// `MAX_MEMBERS`.
contract ProducerElection is MemberGated, AccessControl {
    /// @notice Role of the contract allowed to jail producers (the {BlockLedger}).
    bytes32 public constant JAILER_ROLE = keccak256("JAILER_ROLE");
    /// @notice Maximum number of candidates (the registry's `MAX_MEMBERS`).
    uint256 public constant MAX_CANDIDATES = 32;
    /// @notice Fewest producers an epoch needs for its blocks to become final (and `producersPerEpoch`'s minimum).
    /// Attack stopped: with one producer its block is final on proposal (it finalises anything alone); with two, one
    /// rejection decides. With three, 2/3 finality needs two producers, so one dishonest producer decides nothing.
    uint256 public constant MIN_PRODUCERS = MIN_EPOCH_PRODUCERS;

    /// @notice The bonded stake whose checkpoints weight the approvals (liquid coins carry no vote).
    IStakeVault public immutable stake;
    /// @notice Timestamp at which slot 0 starts.
    uint64 public immutable genesisTime;
    /// @notice Length of a slot (seconds).
    uint64 public immutable slotDuration;
    /// @notice Slots per epoch.
    uint64 public immutable slotsPerEpoch;
    /// @notice Number of producers elected per epoch (N).
    uint8 public immutable producersPerEpoch;
    /// @notice Epochs a jailed producer is excluded from elections, counting the epoch it was jailed in.
    uint64 public immutable jailEpochs;

    address[] private _candidates;
    mapping(address bs => uint256) private _candidatePosition; // index + 1
    mapping(address voter => uint256) private _approvals; // bitmap over registry seats
    // Byte k (from the least significant end): the registry seat of the epoch's producer k (seats are permanent and
    // never reused, so a seat always names the same BS). One word per epoch instead of one per producer.
    mapping(uint256 epoch => uint256) private _producerSeats;
    // Bits 0-247: 1 + the slot in which the epoch's producers were elected (0 = not elected); bits 248-255: the number
    // of producers. A producer's position is found in `_producerSeats` (at most MAX_CANDIDATES), not stored.
    mapping(uint256 epoch => uint256) private _electedAt;
    uint256 private constant ELECTED_SLOT_MASK = (uint256(1) << 248) - 1;
    mapping(address bs => uint256) private _jailedUntil; // first epoch in which it is free again
    uint256 private _lastElectedEpoch;

    /// @notice `bs` stood as a candidate producer.
    event CandidateRegistered(address indexed bs);
    /// @notice `bs` withdrew its candidacy.
    event CandidateWithdrawn(address indexed bs);
    /// @notice `voter` now approves exactly `candidates`.
    event VoteCast(address indexed voter, address[] candidates);
    /// @notice Producers of `epoch`, in slot order, with their tallies at `snapshot`.
    event ProducersElected(uint256 indexed epoch, address[] producers, uint256[] tallies, uint256 snapshot);
    /// @notice `bs` was jailed until epoch `untilEpoch` (exclusive).
    event ProducerJailed(address indexed bs, uint256 untilEpoch);

    /// @dev `bs` is already a candidate.
    error AlreadyCandidate(address bs);
    /// @dev `bs` is not a candidate.
    error NotCandidate(address bs);
    /// @dev `MAX_CANDIDATES` candidates already.
    error TooManyCandidates();
    /// @dev The same candidate was approved twice in one vote.
    error DuplicateApproval(address candidate);
    /// @dev The producers of this epoch were elected already.
    error AlreadyElected(uint256 epoch);
    /// @dev No producers were elected for this epoch.
    error NoProducers(uint256 epoch);
    /// @dev A constructor parameter is out of range.
    error InvalidParameter();

    /// @param registry_ The BS membership.
    /// @param stake_ The bonded stake.
    /// @param genesisTime_ Start of slot 0 (timestamp, not in the future); 0 means the deployment block's timestamp.
    /// @param slotDuration_ Seconds per slot.
    /// @param slotsPerEpoch_ Slots per epoch.
    /// @param producersPerEpoch_ N, producers per epoch.
    /// @param jailEpochs_ Epochs a jailed producer sits out (>= 1).
    /// @param admin The account that grants JAILER_ROLE at deployment.
    constructor(
        IBSRegistry registry_,
        IStakeVault stake_,
        uint64 genesisTime_,
        uint64 slotDuration_,
        uint64 slotsPerEpoch_,
        uint8 producersPerEpoch_,
        uint64 jailEpochs_,
        address admin
    ) MemberGated(registry_) {
        if (address(stake_) == address(0) || admin == address(0)) revert ZeroAddress();
        if (slotDuration_ == 0 || slotsPerEpoch_ == 0 || jailEpochs_ == 0) {
            revert InvalidParameter();
        }
        if (producersPerEpoch_ < MIN_PRODUCERS || producersPerEpoch_ > MAX_CANDIDATES) revert InvalidParameter();
        if (genesisTime_ > block.timestamp) revert InvalidParameter();
        stake = stake_;
        genesisTime = genesisTime_ == 0 ? uint64(block.timestamp) : genesisTime_;
        slotDuration = slotDuration_;
        slotsPerEpoch = slotsPerEpoch_;
        producersPerEpoch = producersPerEpoch_;
        jailEpochs = jailEpochs_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Stand as a candidate producer. Only a member BS.
    function registerCandidate() external onlyMember {
        if (_candidatePosition[msg.sender] != 0) revert AlreadyCandidate(msg.sender);
        if (_candidates.length >= MAX_CANDIDATES) revert TooManyCandidates();
        _candidates.push(msg.sender);
        _candidatePosition[msg.sender] = _candidates.length;
        emit CandidateRegistered(msg.sender);
    }

    /// @notice Withdraw the caller's candidacy (from the next election on). Only a member BS that is a candidate.
    function withdrawCandidacy() external onlyMember {
        uint256 position = _candidatePosition[msg.sender];
        if (position == 0) revert NotCandidate(msg.sender);
        uint256 last = _candidates.length - 1;
        if (position - 1 != last) {
            address moved = _candidates[last];
            _candidates[position - 1] = moved;
            _candidatePosition[moved] = position;
        }
        _candidates.pop();
        delete _candidatePosition[msg.sender];
        emit CandidateWithdrawn(msg.sender);
    }

    /// @notice Approve exactly `candidates` (replacing the caller's previous approvals). An empty list withdraws
    /// every approval. Only a member BS. The weight is the caller's bond at each election's checkpoint.
    /// @param approved Candidates approved, each a current candidate, no duplicates.
    function vote(address[] calldata approved) external onlyMember {
        uint256 n = approved.length;
        if (n > MAX_CANDIDATES) revert TooManyCandidates();
        uint256 bitmap;
        for (uint256 i = 0; i < n; ++i) {
            address c = approved[i];
            if (_candidatePosition[c] == 0) revert NotCandidate(c);
            uint256 bit = uint256(1) << registry.seatOf(c);
            if (bitmap & bit != 0) revert DuplicateApproval(c);
            bitmap |= bit;
        }
        _approvals[msg.sender] = bitmap;
        emit VoteCast(msg.sender, approved);
    }

    /// @notice Elect the producers of the current epoch from the approvals, weighted by bonded coins at the checkpoint
    /// `epochStart - 1`. Any member BS or the operator, once per epoch.
    /// @return producers The producers in slot order (highest tally first).
    function elect() external onlyMemberOrOperator returns (address[] memory producers) {
        uint256 epoch = currentEpoch();
        if (_electedAt[epoch] != 0) revert AlreadyElected(epoch);
        uint256 snapshot = epochStart(epoch) - 1;
        (address[] memory eligible, uint256[] memory tallies, uint8[] memory seats, uint256 m) =
            _tallies(epoch, snapshot);

        // Selection of the top-N by (tally desc, seat asc): N passes over at most MAX_CANDIDATES entries.
        uint256 n = producersPerEpoch < m ? producersPerEpoch : m;
        producers = new address[](n);
        uint256[] memory chosenTallies = new uint256[](n);
        uint256 packedSeats;
        for (uint256 k = 0; k < n; ++k) {
            uint256 best = type(uint256).max;
            for (uint256 j = 0; j < m; ++j) {
                if (eligible[j] == address(0)) continue;
                if (
                    best == type(uint256).max || tallies[j] > tallies[best]
                        || (tallies[j] == tallies[best] && seats[j] < seats[best])
                ) {
                    best = j;
                }
            }
            producers[k] = eligible[best];
            chosenTallies[k] = tallies[best];
            packedSeats |= uint256(seats[best]) << (8 * k);
            eligible[best] = address(0);
        }

        _electedAt[epoch] = (currentSlot() + 1) | (n << 248); // n <= MAX_CANDIDATES
        _lastElectedEpoch = epoch;
        if (n != 0) _producerSeats[epoch] = packedSeats;
        emit ProducersElected(epoch, producers, chosenTallies, snapshot);
    }

    /// @notice Jail `bs` for `jailEpochs` epochs from the current one. Only the block ledger.
    /// @param bs The producer.
    function jail(address bs) external onlyRole(JAILER_ROLE) {
        uint256 until = currentEpoch() + jailEpochs;
        _jailedUntil[bs] = until;
        emit ProducerJailed(bs, until);
    }

    /// @notice The current slot.
    function currentSlot() public view returns (uint256) {
        return (block.timestamp - genesisTime) / slotDuration;
    }

    /// @notice The current epoch.
    function currentEpoch() public view returns (uint256) {
        return currentSlot() / slotsPerEpoch;
    }

    /// @notice The epoch slot `slot` belongs to.
    /// @param slot The slot.
    function epochOfSlot(uint256 slot) public view returns (uint256) {
        return slot / slotsPerEpoch;
    }

    /// @notice Start timestamp of epoch `epoch`.
    /// @param epoch The epoch.
    function epochStart(uint256 epoch) public view returns (uint256) {
        return genesisTime + epoch * slotsPerEpoch * slotDuration;
    }

    /// @notice End timestamp (exclusive) of slot `slot`.
    /// @param slot The slot.
    function slotEnd(uint256 slot) public view returns (uint256) {
        return genesisTime + (slot + 1) * slotDuration;
    }

    /// @notice The producer owning slot `slot` (reverts if its epoch has no producers, or if the slot passed before
    /// the epoch's election: nobody owned it then, so nobody can be held responsible for missing it).
    /// @param slot The slot.
    function producerOfSlot(uint256 slot) external view returns (address) {
        uint256 epoch = epochOfSlot(slot);
        uint256 elected = _electedAt[epoch];
        uint256 n = elected >> 248;
        if (n == 0 || slot + 1 < (elected & ELECTED_SLOT_MASK)) revert NoProducers(epoch);
        return registry.accountOfSeat(uint8(_producerSeats[epoch] >> (8 * (slot % n))));
    }

    /// @notice The producers of `epoch` in slot order (empty before its election).
    /// @param epoch The epoch.
    function producersOf(uint256 epoch) external view returns (address[] memory producers) {
        uint256 n = _electedAt[epoch] >> 248;
        uint256 seats = _producerSeats[epoch];
        producers = new address[](n);
        for (uint256 k = 0; k < n; ++k) {
            producers[k] = registry.accountOfSeat(uint8(seats >> (8 * k)));
        }
    }

    /// @notice Number of producers of `epoch` (0 before its election).
    /// @param epoch The epoch.
    function producerCount(uint256 epoch) external view returns (uint256) {
        return _electedAt[epoch] >> 248;
    }

    /// @notice Position + 1 of `bs` among the producers of `epoch`, 0 if it is not one.
    /// @param epoch The epoch.
    /// @param bs The BS.
    function producerPosition(uint256 epoch, address bs) external view returns (uint256) {
        uint256 n = _electedAt[epoch] >> 248;
        if (n == 0) return 0;
        uint8 seat;
        try registry.seatOf(bs) returns (uint8 s) {
            seat = s;
        } catch {
            return 0; // never admitted: no seat, no producer
        }
        uint256 seats = _producerSeats[epoch];
        for (uint256 i = 0; i < n; ++i) {
            if (uint8(seats >> (8 * i)) == seat) return i + 1;
        }
        return 0;
    }

    /// @notice Whether the producers of `epoch` were elected.
    /// @param epoch The epoch.
    function isElected(uint256 epoch) external view returns (bool) {
        return _electedAt[epoch] != 0;
    }

    /// @notice The latest epoch with an election.
    function lastElectedEpoch() external view returns (uint256) {
        return _lastElectedEpoch;
    }

    /// @notice Whether `bs` is jailed in the current epoch.
    /// @param bs The BS.
    function isJailed(address bs) public view returns (bool) {
        return _jailedUntil[bs] > currentEpoch();
    }

    /// @notice First epoch in which `bs` is free again (0 if never jailed).
    /// @param bs The BS.
    function jailedUntil(address bs) external view returns (uint256) {
        return _jailedUntil[bs];
    }

    /// @notice The current candidates.
    function candidates() external view returns (address[] memory) {
        return _candidates;
    }

    /// @notice The candidates `voter` approves (current candidates only).
    /// @param voter The voter.
    function approvalsOf(address voter) external view returns (address[] memory approved) {
        uint256 bitmap = _approvals[voter];
        uint256 n = _candidates.length;
        address[] memory tmp = new address[](n);
        uint256 count;
        for (uint256 i = 0; i < n; ++i) {
            if (bitmap & (uint256(1) << registry.seatOf(_candidates[i])) != 0) tmp[count++] = _candidates[i];
        }
        approved = new address[](count);
        for (uint256 i = 0; i < count; ++i) approved[i] = tmp[i];
    }

    /// @notice Tallies the current approvals would give in an election now, for every eligible candidate.
    /// @return eligible Eligible candidates (members, candidates, not jailed, tally > 0).
    /// @return tallies Their tallies (bonded coins at the current epoch's checkpoint).
    function currentTallies() external view returns (address[] memory eligible, uint256[] memory tallies) {
        uint256 epoch = currentEpoch();
        (address[] memory all, uint256[] memory allTallies,, uint256 m) = _tallies(epoch, epochStart(epoch) - 1);
        eligible = new address[](m);
        tallies = new uint256[](m);
        for (uint256 j = 0; j < m; ++j) {
            eligible[j] = all[j];
            tallies[j] = allTallies[j];
        }
    }

    function _tallies(uint256 epoch, uint256 snapshot)
        private
        view
        returns (address[] memory eligible, uint256[] memory tallies, uint8[] memory seats, uint256 m)
    {
        uint256 nc = _candidates.length;
        eligible = new address[](nc);
        tallies = new uint256[](nc);
        seats = new uint8[](nc);
        uint256[] memory bits = new uint256[](nc);
        for (uint256 j = 0; j < nc; ++j) {
            address c = _candidates[j];
            if (!registry.isMember(c) || _jailedUntil[c] > epoch) continue;
            eligible[m] = c;
            uint8 seat = registry.seatOf(c);
            seats[m] = seat;
            bits[m] = uint256(1) << seat;
            ++m;
        }
        address[] memory voters = registry.members();
        for (uint256 v = 0; v < voters.length; ++v) {
            uint256 bitmap = _approvals[voters[v]];
            if (bitmap == 0) continue;
            uint256 weight = stake.bondedAt(voters[v], snapshot);
            if (weight == 0) continue;
            for (uint256 j = 0; j < m; ++j) {
                if (bitmap & bits[j] != 0) tallies[j] += weight;
            }
        }
        // Drop candidates without any stake behind them.
        uint256 kept;
        for (uint256 j = 0; j < m; ++j) {
            if (tallies[j] == 0) continue;
            eligible[kept] = eligible[j];
            tallies[kept] = tallies[j];
            seats[kept] = seats[j];
            ++kept;
        }
        m = kept;
    }
}
