// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBSRegistry} from "../membership/IBSRegistry.sol";
import {MemberGated} from "../membership/MemberGated.sol";
import {TwinRegistry} from "./TwinRegistry.sol";
import {TrainingRounds} from "../fl/TrainingRounds.sol";
import {IActionRecords} from "./IActionRecords.sol";

/// @title AssociationLedger
/// @notice The edge-association actions of the BS agents (paper Section IV-A): for slot t each BS i commits
/// a_i(t) = (K_i, b_i, tau_i) = (the twins it hosts, their training batch sizes, its time fraction on each OFDMA
/// subchannel). Peers rebuild the joint action from the {ActionCommitted} events ("a BS can retrieve records from
/// blockchain to obtain the system states and actions of other agents").
/// A slot has two steps: every agent first proposes its actor's raw output ({proposeAction}, 3 numbers in [0, 1]);
/// every agent then decodes the same joint action from all proposals (src/agents/association/decode.ts) and commits
/// its own part ({commitAction}). The contract does not check that a commitment follows from the proposals; peers can.
/// @dev Slot t is FL round t of {TrainingRounds} (an agent acts "at the beginning of iteration t"): actions are
/// accepted while that round accepts submissions. The contract enforces what it can check cheaply:
/// - (18d) b_min <= b_n <= b_max for every listed twin;
/// - tau_{i,c} in [0, 1] and (18c) sum_i tau_{i,c} <= 1 for every subchannel c;
/// - Definition 1: listing a twin associates it with the caller in the {TwinRegistry}, which holds one BS per twin,
///   and a twin may be listed in only one BS's action per slot, so the joint action peers rebuild from the events
///   puts every listed twin on exactly one BS;
/// - a listed twin that moves to the caller carries its user's consent to that move in that slot (an EIP-712
///   signature of the user's device, checked by the {TwinRegistry}); attack stopped: the first BS to commit claiming
///   twins the joint action gives to others (they could then not commit theirs).
/// - the committed action's K_i and the sum of its twins' recorded data sizes are kept ({committedAction}): they are
///   the weights of the BS's training model record (Eq. 5) and cannot be restated by the BS when it submits.
/// Encoding (big-endian, packed):
/// - `twins`: one 6-byte entry per twin, `uint32 twinId | uint16 batchSize`, twin ids strictly increasing;
/// - `tau`: one `uint16` per subchannel, the fraction scaled by `TAU_SCALE` (10000 = the whole subchannel);
/// - `consents`: empty when no listed twin moves, else one `CONSENT_BYTES` signature per twin entry in the same order
///   (any bytes, e.g. zeros, for a twin that stays: it is not read).
contract AssociationLedger is MemberGated, IActionRecords {
    /// @notice Fixed-point scale of tau: 10000 = 1.0.
    uint16 public constant TAU_SCALE = 10_000;
    /// @notice Maximum number of twins in one action.
    uint256 public constant MAX_TWINS_PER_ACTION = 256;
    /// @notice Maximum number of OFDMA subchannels C.
    uint256 public constant MAX_SUBCHANNELS = 64;
    /// @notice Bytes per twin entry in the `twins` encoding.
    uint256 public constant TWIN_ENTRY_BYTES = 6;
    /// @notice Entries of a raw action (load, batch level, bandwidth demand), each a `uint16` scaled by `TAU_SCALE`.
    uint256 public constant RAW_ACTION_ENTRIES = 3;
    /// @notice Bytes per move consent in the `consents` encoding (a 65-byte ECDSA signature r ‖ s ‖ v).
    uint256 public constant CONSENT_BYTES = 65;

    /// @notice The twins and their associations.
    TwinRegistry public immutable twinRegistry;
    /// @notice The FL rounds; slot t is round t.
    TrainingRounds public immutable rounds;
    /// @notice C, the number of OFDMA subchannels.
    uint16 public immutable subchannels;
    /// @notice b_min, the smallest training batch size (samples).
    uint16 public immutable minBatchSize;
    /// @notice b_max, the largest training batch size (samples).
    uint16 public immutable maxBatchSize;

    // sum over BSs of tau_{i,c} for each slot, 16 subchannels of 16 bits per word
    mapping(uint256 slot => mapping(uint256 word => uint256)) private _tauUsed;
    mapping(uint256 slot => mapping(address bs => bytes32)) private _actionHash;
    mapping(uint256 slot => mapping(address bs => bool)) private _proposed;
    mapping(uint256 slot => mapping(address bs => Committed)) private _committed;

    struct Committed {
        uint32 numTwins; // K_i
        uint64 dataSize; // sum of the listed twins' recorded data sizes at commitment (samples)
    }
    // twins listed by an action of each slot: a bitmap, 256 twin ids per word
    mapping(uint256 slot => mapping(uint256 word => uint256)) private _claimed;

    /// @notice BS `bs` committed action a_i(t) for slot `slot` (encodings as in the contract documentation).
    event ActionCommitted(uint256 indexed slot, address indexed bs, bytes twins, bytes tau);
    /// @notice The chain's record of `bs`'s committed action in slot `slot`: K_i twins with `dataSize` samples.
    event ActionWeighed(uint256 indexed slot, address indexed bs, uint32 numTwins, uint64 dataSize);

    /// @notice BS `bs` proposed the raw action `raw` of its actor for slot `slot` (3 big-endian `uint16`, 10000 = 1.0).
    event ActionProposed(uint256 indexed slot, address indexed bs, bytes raw);

    /// @dev Slot `slot` is not the open round.
    error SlotNotOpen(uint256 slot);
    /// @dev The BS already committed its action for this slot.
    error ActionAlreadyCommitted(uint256 slot, address bs);
    /// @dev The BS already proposed its raw action for this slot.
    error ActionAlreadyProposed(uint256 slot, address bs);
    /// @dev The raw action is not `RAW_ACTION_ENTRIES` uint16 values, or an entry exceeds `TAU_SCALE`.
    error MalformedRawAction(uint256 length);
    /// @dev The `twins` bytes are not a whole number of 6-byte entries, or list too many or no twins.
    error MalformedTwins(uint256 length);
    /// @dev The `tau` bytes are not exactly 2 bytes per subchannel.
    error MalformedTau(uint256 length, uint256 expected);
    /// @dev The `consents` bytes are neither empty nor `CONSENT_BYTES` per twin entry.
    error MalformedConsents(uint256 length, uint256 expected);
    /// @dev Twin ids must be strictly increasing (no duplicates).
    error TwinsNotSorted(uint256 twinId);
    /// @dev Another BS's action already listed this twin in this slot (one BS per twin, Definition 1).
    error TwinAlreadyClaimed(uint256 twinId, uint256 slot);
    /// @dev Constraint (18d) violated.
    error BatchSizeOutOfRange(uint256 twinId, uint256 batchSize);
    /// @dev tau_{i,c} > 1.
    error FractionOutOfRange(uint256 subchannel, uint256 tau);
    /// @dev Constraint (18c) violated: sum_i tau_{i,c} > 1.
    error SubchannelOverallocated(uint256 subchannel, uint256 total);
    /// @dev A constructor parameter is out of range.
    error InvalidParameter();

    /// @param registry_ The BS membership.
    /// @param twinRegistry_ The twins (this contract needs its ASSOCIATOR_ROLE).
    /// @param rounds_ The FL rounds.
    /// @param subchannels_ C, the number of OFDMA subchannels (1..64).
    /// @param minBatchSize_ b_min (>= 1).
    /// @param maxBatchSize_ b_max (>= b_min).
    constructor(
        IBSRegistry registry_,
        TwinRegistry twinRegistry_,
        TrainingRounds rounds_,
        uint16 subchannels_,
        uint16 minBatchSize_,
        uint16 maxBatchSize_
    ) MemberGated(registry_) {
        if (address(twinRegistry_) == address(0) || address(rounds_) == address(0)) revert ZeroAddress();
        if (subchannels_ == 0 || subchannels_ > MAX_SUBCHANNELS) revert InvalidParameter();
        if (minBatchSize_ == 0 || maxBatchSize_ < minBatchSize_) revert InvalidParameter();
        twinRegistry = twinRegistry_;
        rounds = rounds_;
        subchannels = subchannels_;
        minBatchSize = minBatchSize_;
        maxBatchSize = maxBatchSize_;
    }

    /// @notice Propose the caller's raw action for slot `slot`: its actor's output, from which every agent decodes the
    /// joint action. Only a member BS, once per slot, while round `slot` accepts submissions.
    /// @param slot The slot (= the open FL round).
    /// @param raw `RAW_ACTION_ENTRIES` big-endian `uint16` values in [0, TAU_SCALE].
    function proposeAction(uint256 slot, bytes calldata raw) external onlyMember {
        if (slot != rounds.currentRound() || !rounds.acceptsSubmissions(slot)) revert SlotNotOpen(slot);
        if (_proposed[slot][msg.sender]) revert ActionAlreadyProposed(slot, msg.sender);
        if (raw.length != 2 * RAW_ACTION_ENTRIES) revert MalformedRawAction(raw.length);
        for (uint256 i = 0; i < RAW_ACTION_ENTRIES; ++i) {
            uint256 entry = (uint256(uint8(raw[2 * i])) << 8) | uint8(raw[2 * i + 1]);
            if (entry > TAU_SCALE) revert MalformedRawAction(raw.length);
        }
        _proposed[slot][msg.sender] = true;
        emit ActionProposed(slot, msg.sender, raw);
    }

    /// @notice Whether `bs` proposed a raw action for slot `slot`.
    /// @param slot The slot.
    /// @param bs The BS.
    function hasProposed(uint256 slot, address bs) external view returns (bool) {
        return _proposed[slot][bs];
    }

    /// @notice Commit the caller's action a_i(t) for slot `slot` and associate the listed twins with it.
    /// Only a member BS, once per slot, while round `slot` accepts submissions.
    /// @param slot The slot (= the open FL round).
    /// @param twins Packed `uint32 twinId | uint16 batchSize` entries, twin ids strictly increasing.
    /// @param tau Packed `uint16` time fractions, one per subchannel, scaled by `TAU_SCALE`.
    /// @param consents Empty, or one `CONSENT_BYTES` user consent per twin entry: the signature of
    /// `MoveTwin(twinId, msg.sender, slot)` by the device of each twin that moves to the caller.
    function commitAction(uint256 slot, bytes calldata twins, bytes calldata tau, bytes calldata consents)
        external
        onlyMember
    {
        if (slot != rounds.currentRound() || !rounds.acceptsSubmissions(slot)) revert SlotNotOpen(slot);
        if (_actionHash[slot][msg.sender] != bytes32(0)) revert ActionAlreadyCommitted(slot, msg.sender);
        uint256 count = twins.length / TWIN_ENTRY_BYTES;
        if (twins.length % TWIN_ENTRY_BYTES != 0 || count == 0 || count > MAX_TWINS_PER_ACTION) {
            revert MalformedTwins(twins.length);
        }
        uint256 c = subchannels;
        if (tau.length != 2 * c) revert MalformedTau(tau.length, 2 * c);
        if (consents.length != 0 && consents.length != count * CONSENT_BYTES) {
            revert MalformedConsents(consents.length, count * CONSENT_BYTES);
        }

        // Checks and effects on the subchannel shares (18c).
        for (uint256 word = 0; word * 16 < c; ++word) {
            uint256 packed = _tauUsed[slot][word];
            uint256 end = c < (word + 1) * 16 ? c : (word + 1) * 16;
            for (uint256 ch = word * 16; ch < end; ++ch) {
                uint256 share = (uint256(uint8(tau[2 * ch])) << 8) | uint8(tau[2 * ch + 1]);
                if (share > TAU_SCALE) revert FractionOutOfRange(ch, share);
                uint256 shift = (ch % 16) * 16;
                uint256 total = ((packed >> shift) & 0xffff) + share;
                if (total > TAU_SCALE) revert SubchannelOverallocated(ch, total);
                packed = (packed & ~(uint256(0xffff) << shift)) | (total << shift);
            }
            _tauUsed[slot][word] = packed;
        }
        _actionHash[slot][msg.sender] = keccak256(abi.encodePacked(twins, tau));
        emit ActionCommitted(slot, msg.sender, twins, tau);

        // Checks on (18d), sorting, claims and consents, then the associations (Definition 1).
        uint256 dataSize = _associateListed(slot, twins, count, consents);
        // count <= MAX_TWINS_PER_ACTION and each size is bounded by the registry, so both fit.
        _committed[slot][msg.sender] = Committed(uint32(count), uint64(dataSize));
        emit ActionWeighed(slot, msg.sender, uint32(count), uint64(dataSize));
    }

    /// @inheritdoc IActionRecords
    function committedAction(uint256 slot, address bs) external view returns (uint32 numTwins, uint64 dataSize) {
        Committed storage c = _committed[slot][bs];
        return (c.numTwins, c.dataSize);
    }

    /// @notice sum_i tau_{i,c} committed for slot `slot` on subchannel `subchannel`, scaled by `TAU_SCALE`.
    /// @param slot The slot.
    /// @param subchannel The subchannel (0..C-1).
    function tauUsed(uint256 slot, uint256 subchannel) external view returns (uint256) {
        if (subchannel >= subchannels) revert InvalidParameter();
        return (_tauUsed[slot][subchannel / 16] >> ((subchannel % 16) * 16)) & 0xffff;
    }

    /// @notice Whether an action of slot `slot` already listed twin `twinId`.
    /// @param slot The slot.
    /// @param twinId The twin.
    function isClaimed(uint256 slot, uint256 twinId) external view returns (bool) {
        return _claimed[slot][twinId >> 8] & (uint256(1) << (twinId & 0xff)) != 0;
    }

    /// @notice keccak256(twins ‖ tau) of `bs`'s action for slot `slot`, or zero if it committed none.
    /// @param slot The slot.
    /// @param bs The BS.
    function actionHash(uint256 slot, address bs) external view returns (bytes32) {
        return _actionHash[slot][bs];
    }

    /// @dev Check (18d), sorting and claims of the `count` twin entries, then associate each twin with the caller in
    /// the trusted twin registry (which checks each move's consent); returns the sum of their recorded data sizes.
    /// When the entries list exactly the twins the caller hosts (no move, the usual case), no twin is read one by one:
    /// the registry gives their data size sum. The claim bitmap is read and written once per word.
    function _associateListed(uint256 slot, bytes calldata twins, uint256 count, bytes calldata consents)
        private
        returns (uint256 dataSize)
    {
        uint256[] memory twinIds = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            (twinIds[i],) = _entry(twins, i);
        }
        bool exact;
        (exact, dataSize) = twinRegistry.hostedExactly(msg.sender, twinIds); // (false, 0) unless exact
        mapping(uint256 => uint256) storage claims = _claimed[slot];
        uint256 previous = 0;
        uint256 wordIndex = type(uint256).max;
        uint256 claimed;
        for (uint256 i = 0; i < count; ++i) {
            uint256 twinId = twinIds[i];
            if (twinId <= previous) revert TwinsNotSorted(twinId);
            _checkBatch(twins, i, twinId);
            if (twinId >> 8 != wordIndex) {
                if (i != 0) claims[wordIndex] = claimed;
                wordIndex = twinId >> 8;
                claimed = claims[wordIndex];
            }
            if (claimed & (uint256(1) << (twinId & 0xff)) != 0) revert TwinAlreadyClaimed(twinId, slot);
            claimed |= uint256(1) << (twinId & 0xff);
            previous = twinId;
            // Twins that stay need no consent and cannot fail to associate: the registry is called for moves only.
            if (!exact) dataSize += _associate(slot, twinId, consents, i);
        }
        claims[wordIndex] = claimed;
    }

    /// @dev (18d) for entry `i` (twin `twinId`): b_min <= batch size <= b_max.
    function _checkBatch(bytes calldata twins, uint256 i, uint256 twinId) private view {
        (, uint256 batch) = _entry(twins, i);
        if (batch < minBatchSize || batch > maxBatchSize) revert BatchSizeOutOfRange(twinId, batch);
    }

    /// @dev Associate twin `twinId` (entry `i`) with the caller in the twin registry; its data size.
    function _associate(uint256 slot, uint256 twinId, bytes calldata consents, uint256 i) private returns (uint256) {
        return twinRegistry.associate(twinId, msg.sender, slot, _consent(consents, i));
    }

    /// @dev Consent `i` of the `consents` encoding (empty when no consent was given).
    function _consent(bytes calldata consents, uint256 i) private pure returns (bytes calldata) {
        return consents.length == 0 ? consents[0:0] : consents[i * CONSENT_BYTES:(i + 1) * CONSENT_BYTES];
    }

    /// @dev Entry `i` of the packed `twins` encoding: (uint32 twinId, uint16 batchSize), big-endian.
    function _entry(bytes calldata twins, uint256 i) private pure returns (uint256 twinId, uint256 batch) {
        uint48 entry = uint48(bytes6(twins[i * TWIN_ENTRY_BYTES:(i + 1) * TWIN_ENTRY_BYTES]));
        twinId = entry >> 16;
        batch = uint16(entry);
    }
}
