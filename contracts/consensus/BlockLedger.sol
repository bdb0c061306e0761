// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IBSRegistry} from "../membership/IBSRegistry.sol";
import {MemberGated} from "../membership/MemberGated.sol";
import {RecordLog} from "../records/RecordLog.sol";
import {IStakeVault} from "../token/IStakeVault.sol";
import {MIN_EPOCH_PRODUCERS, ProducerElection} from "./ProducerElection.sol";

/// @title BlockLedger
/// @notice DPoS block production and validation (paper Section II-C, Fig. 2 steps 4-7). The producer of a slot packs
/// the records of its interval (the next consecutive range of the {RecordLog}, spanning several local training
/// periods) into a block whose body is the Merkle root of their leaves, and the other producers of the epoch validate
/// it and approve or reject it. With approvals from at least 2/3 of the epoch's producers (the proposer counts as
/// one) the block is final and never changes again; with rejections from more than 1/3 it can no longer become
/// final and is rejected (its records are packed again). A producer that lets its slot pass without a block while
/// records were waiting to be packed is reported, jailed and slashed; a slot with nothing to pack needs no block (an
/// empty block would cost a proposal and its approvals and record nothing).
/// @dev Checks the chain makes itself (each names the attack it stops):
/// - the proposed root must equal {RecordLog.rootOf} over the interval (`RootMismatch`): producers cannot finalise a
///   root of records that are not on chain, however many of them collude. Since the root is checked, a rejection
///   costs the proposer nothing (a coalition rejecting correct blocks can delay finality, never punish);
/// - an epoch needs at least {ProducerElection.MIN_PRODUCERS} producers before any block is proposed
///   (`TooFewProducers`): no lone producer's block is final on proposal, no single rejection decides;
/// - a missed slot is punished only with proof that a record was waiting when the slot began: the first record not in
///   a final block at the slot's start, with its leaf's fields, appended before that start (`NothingWaiting`,
///   `RecordProofMismatch`): a reporter (the MBS or a coalition of BSs) cannot jail and slash a producer whose slot
///   had nothing to pack, and a producer that sits out its slot while records wait (censoring them) is still
///   punished.
/// Merkle tree: leaves in log order; each level hashes pairs with OpenZeppelin's commutative keccak256 (sorted pair),
/// an odd last node is carried up unchanged; the root of one leaf is the leaf itself and of zero leaves bytes32(0).
/// Verdicts are accepted until the end of the block's slot, so at most one block is pending at a time; a pending
/// block whose slot ended without finality is expired and its records are packed again.
contract BlockLedger is MemberGated {
    /// @notice Maximum number of records in one block (keeps off-chain validation and proofs small).
    uint256 public constant MAX_RECORDS_PER_BLOCK = 256;
    /// @notice Denominator of `slashBps`.
    uint256 public constant BPS = 10_000;

    enum BlockStatus {
        None,
        Pending,
        Final,
        Rejected
    }

    struct Block {
        BlockStatus status;
        address producer;
        uint64 slot;
        uint64 epoch;
        uint64 fromRecord; // first record index (inclusive)
        uint64 toRecord; // last record index (exclusive)
        uint16 producerCount; // producers of the epoch at proposal time
        uint16 approvals;
        uint16 rejections;
        bytes32 root;
    }

    /// @notice The producer schedule and jail.
    ProducerElection public immutable election;
    /// @notice The records packed into blocks.
    RecordLog public immutable recordLog;
    /// @notice The bonded stake slashed from faulty producers (this contract needs its PROTOCOL_ROLE).
    IStakeVault public immutable stake;
    /// @notice Fraction of a faulty producer's bonded and unbonding coins burned (basis points).
    uint256 public immutable slashBps;

    /// @dev A block as stored: {Block} in three words, with the bitmap of the producer positions that gave their
    /// verdict in the word of the tallies (one word written per verdict).
    struct BlockState {
        BlockStatus status;
        address producer;
        uint64 slot;
        uint16 producerCount;
        uint64 epoch;
        uint64 fromRecord;
        uint64 toRecord;
        uint16 approvals;
        uint16 rejections;
        uint32 voted; // bit k: producer position k + 1 gave its verdict (the proposer's approval included)
        bytes32 root;
    }

    BlockState[] private _blocks;
    mapping(uint256 slot => bool) private _missReported;
    uint128 private _packedUpTo; // records [0, _packedUpTo) are in final blocks
    uint128 private _finalCount; // (one word with _packedUpTo: both change at each finality)

    /// @notice `producer` proposed block `blockId` for `slot` over records [fromRecord, toRecord).
    event BlockProposed(
        uint256 indexed blockId, uint256 indexed slot, address indexed producer, uint256 fromRecord,
        uint256 toRecord, bytes32 root
    );
    /// @notice `validator` approved (or rejected) block `blockId`.
    event BlockValidated(uint256 indexed blockId, address indexed validator, bool approve);
    /// @notice Block `blockId` became final.
    event BlockFinalized(uint256 indexed blockId, uint256 toRecord);
    /// @notice Block `blockId` was rejected.
    event BlockRejected(uint256 indexed blockId);
    /// @notice The producer of `slot` let it pass without a block.
    event SlotMissed(uint256 indexed slot, address indexed producer, address reporter);
    /// @notice `producer` was slashed `amount` coins (and jailed in the {ProducerElection}).
    event ProducerSlashed(address indexed producer, uint256 amount);

    /// @dev Blocks may only be proposed for the current slot.
    error WrongSlot(uint256 slot, uint256 current);
    /// @dev The caller does not own this slot.
    error NotSlotProducer(uint256 slot, address caller, address producer);
    /// @dev The producer is jailed.
    error ProducerIsJailed(address producer);
    /// @dev A block was proposed for this slot already.
    error SlotAlreadyUsed(uint256 slot);
    /// @dev The interval must start at the first unpacked record, end within the log and hold at most
    /// `MAX_RECORDS_PER_BLOCK` records.
    error InvalidInterval(uint256 fromRecord, uint256 toRecord, uint256 logLength);
    /// @dev No block with this id.
    error UnknownBlock(uint256 blockId);
    /// @dev The block is not pending (final and rejected blocks never change).
    error BlockNotPending(uint256 blockId, BlockStatus status);
    /// @dev Verdicts are accepted only until the end of the block's slot.
    error ValidationClosed(uint256 blockId);
    /// @dev The caller is not a producer of the block's epoch.
    error NotEpochProducer(uint256 epoch, address caller);
    /// @dev The caller already gave its verdict (the proposer's approval is implicit).
    error AlreadyValidated(uint256 blockId, address validator);
    /// @dev The slot's producer was removed from the members: it could not propose, so it is not punished.
    error ProducerNotMember(address producer);
    /// @dev The slot is not over yet.
    error SlotNotOver(uint256 slot);
    /// @dev The slot has a block.
    error SlotNotMissed(uint256 slot);
    /// @dev The missed slot was reported already.
    error AlreadyReported(uint256 slot);
    /// @dev A parameter is out of range.
    error InvalidParameter();
    /// @dev The proposed root is not the Merkle root of the interval's records on chain.
    error RootMismatch(bytes32 expected, bytes32 proposed);
    /// @dev The epoch has fewer than {ProducerElection.MIN_PRODUCERS} producers: none of its blocks could be final.
    error TooFewProducers(uint256 epoch, uint256 producers);
    /// @dev No record was waiting to be packed when the slot began (record `waiting` is not on the log, or was appended
    /// at or after `slotStart`): the producer had nothing to pack.
    error NothingWaiting(uint256 slot, uint256 waiting, uint256 slotStart);
    /// @dev The given fields are not those of record `index`'s leaf.
    error RecordProofMismatch(uint256 index);

    /// @param registry_ The BS membership.
    /// @param election_ The producer schedule (this contract needs JAILER_ROLE).
    /// @param recordLog_ The record log.
    /// @param stake_ The bonded stake (this contract needs its PROTOCOL_ROLE).
    /// @param slashBps_ Basis points of a faulty producer's bonded and unbonding coins burned (at most 10000).
    constructor(
        IBSRegistry registry_,
        ProducerElection election_,
        RecordLog recordLog_,
        IStakeVault stake_,
        uint256 slashBps_
    ) MemberGated(registry_) {
        if (address(election_) == address(0) || address(recordLog_) == address(0) || address(stake_) == address(0)) {
            revert ZeroAddress();
        }
        if (slashBps_ > BPS) revert InvalidParameter();
        election = election_;
        recordLog = recordLog_;
        stake = stake_;
        slashBps = slashBps_;
    }

    /// @notice Propose the block of the current slot: records [packedUpTo, toRecord) with Merkle root `root`.
    /// Only the member BS that owns the slot.
    /// @param slot The current slot.
    /// @param toRecord End (exclusive) of the packed interval.
    /// @param root Merkle root of the interval's leaves (see the contract documentation).
    /// @return blockId The new block's id.
    function proposeBlock(uint256 slot, uint256 toRecord, bytes32 root) external onlyMember returns (uint256 blockId) {
        uint256 current = election.currentSlot();
        if (slot != current) revert WrongSlot(slot, current);
        address producer = election.producerOfSlot(slot);
        if (producer != msg.sender) revert NotSlotProducer(slot, msg.sender, producer);
        if (election.isJailed(msg.sender)) revert ProducerIsJailed(msg.sender);
        // Blocks are proposed for the current slot only, so their slots increase: a block of this slot is the last one.
        uint256 count = _blocks.length;
        if (count != 0 && _blocks[count - 1].slot == slot) revert SlotAlreadyUsed(slot);
        uint256 fromRecord = _packedUpTo;
        uint256 logLength = recordLog.length();
        if (toRecord < fromRecord || toRecord > logLength || toRecord - fromRecord > MAX_RECORDS_PER_BLOCK) {
            revert InvalidInterval(fromRecord, toRecord, logLength);
        }
        uint256 epoch = election.epochOfSlot(slot);
        uint256 producerCount = election.producerCount(epoch);
        if (producerCount < MIN_EPOCH_PRODUCERS) revert TooFewProducers(epoch, producerCount);
        bytes32 expected = recordLog.rootOf(fromRecord, toRecord);
        if (root != expected) revert RootMismatch(expected, root);

        blockId = _blocks.length;
        // The proposer owns a slot of the epoch, so it is one of its (at most MAX_CANDIDATES = 32) producers.
        _blocks.push(
            BlockState({
                status: BlockStatus.Pending,
                producer: msg.sender,
                slot: uint64(slot),
                producerCount: uint16(producerCount),
                epoch: uint64(epoch),
                fromRecord: uint64(fromRecord),
                toRecord: uint64(toRecord),
                approvals: 1,
                rejections: 0,
                voted: uint32(1 << (election.producerPosition(epoch, msg.sender) - 1)),
                root: root
            })
        );
        emit BlockProposed(blockId, slot, msg.sender, fromRecord, toRecord, root);
        _finalizeIfQuorum(blockId);
    }

    /// @notice Approve or reject pending block `blockId` (the chain checked its root at proposal; a validator attests
    /// that it holds the interval's records). Only a member BS that is a producer of the block's epoch and not jailed,
    /// once, before the slot ends.
    /// @param blockId The block.
    /// @param approve True to approve, false to reject.
    function validateBlock(uint256 blockId, bool approve) external onlyMember {
        BlockState storage b = _pending(blockId);
        if (block.timestamp >= election.slotEnd(b.slot)) revert ValidationClosed(blockId);
        uint256 position = election.producerPosition(b.epoch, msg.sender);
        if (position == 0) revert NotEpochProducer(b.epoch, msg.sender);
        if (election.isJailed(msg.sender)) revert ProducerIsJailed(msg.sender);
        uint32 bit = uint32(1 << (position - 1)); // position <= MAX_CANDIDATES = 32
        if (b.voted & bit != 0) revert AlreadyValidated(blockId, msg.sender);
        b.voted |= bit;
        emit BlockValidated(blockId, msg.sender, approve);
        if (approve) {
            ++b.approvals;
            _finalizeIfQuorum(blockId);
        } else {
            ++b.rejections;
            if (uint256(b.rejections) * 3 > b.producerCount) {
                b.status = BlockStatus.Rejected;
                emit BlockRejected(blockId);
            }
        }
    }

    /// @notice Report that the producer of past slot `slot` proposed no block although a record was waiting: it is
    /// jailed and slashed. Any member BS or the operator, with the fields of the first record that was not in a final
    /// block when the slot began ({packedAtSlotStart}; they are in its `RecordAppended` event). A producer already
    /// jailed past that slot's epoch, or no longer a member, is not punished again (so a producer pays at most one
    /// missed-slot penalty per jail period).
    /// @param slot The missed slot.
    /// @param kind The waiting record's kind.
    /// @param payloadHash The waiting record's payload hash.
    /// @param appendedAt The block timestamp at which the waiting record was appended (before the slot began).
    function reportMissedSlot(uint256 slot, RecordLog.RecordKind kind, bytes32 payloadHash, uint64 appendedAt)
        external
        onlyMemberOrOperator
    {
        if (slot >= election.currentSlot()) revert SlotNotOver(slot);
        (bool proposed,) = _blockOf(slot);
        if (proposed) revert SlotNotMissed(slot);
        if (_missReported[slot]) revert AlreadyReported(slot);
        address producer = election.producerOfSlot(slot);
        // A producer jailed before or during this slot is not punished twice for the same absence.
        if (election.jailedUntil(producer) > election.epochOfSlot(slot)) revert ProducerIsJailed(producer);
        if (!registry.isMember(producer)) revert ProducerNotMember(producer);
        uint256 epoch = election.epochOfSlot(slot);
        uint256 producerCount = election.producerCount(epoch);
        // With too few producers no block could be proposed: nobody is at fault.
        if (producerCount < MIN_EPOCH_PRODUCERS) revert TooFewProducers(epoch, producerCount);
        _checkWaiting(slot, kind, payloadHash, appendedAt);
        _missReported[slot] = true;
        emit SlotMissed(slot, producer, msg.sender);
        _penalize(producer);
    }

    /// @notice The records [0, packedAtSlotStart(slot)) were in final blocks when slot `slot` began: the record at
    /// this index is the first one its producer had to pack (if it was appended before the slot began).
    /// @dev Blocks are proposed in their own slot and validated only until its end, so the last block of an earlier
    /// slot was decided before `slot` began: its end if it became final, its start otherwise.
    /// @param slot The slot.
    function packedAtSlotStart(uint256 slot) public view returns (uint256) {
        uint256 k = _firstBlockFrom(slot);
        if (k == 0) return 0;
        BlockState storage b = _blocks[k - 1];
        return b.status == BlockStatus.Final ? b.toRecord : b.fromRecord;
    }

    /// @notice Number of blocks proposed.
    function blockCount() external view returns (uint256) {
        return _blocks.length;
    }

    /// @notice Number of final blocks.
    function finalBlockCount() external view returns (uint256) {
        return _finalCount;
    }

    /// @notice Records [0, packedUpTo) are in final blocks; the next block starts here.
    function packedUpTo() external view returns (uint256) {
        return _packedUpTo;
    }

    /// @notice Block `blockId`.
    /// @param blockId The block.
    function getBlock(uint256 blockId) external view returns (Block memory) {
        if (blockId >= _blocks.length) revert UnknownBlock(blockId);
        BlockState storage b = _blocks[blockId];
        return Block({
            status: b.status,
            producer: b.producer,
            slot: b.slot,
            epoch: b.epoch,
            fromRecord: b.fromRecord,
            toRecord: b.toRecord,
            producerCount: b.producerCount,
            approvals: b.approvals,
            rejections: b.rejections,
            root: b.root
        });
    }

    /// @notice The block proposed for `slot`, if any.
    /// @param slot The slot.
    /// @return exists Whether a block was proposed.
    /// @return blockId Its id.
    function blockOfSlot(uint256 slot) external view returns (bool exists, uint256 blockId) {
        return _blockOf(slot);
    }

    /// @notice Whether the pending block `blockId` expired (its slot ended without finality).
    /// @param blockId The block.
    function isExpired(uint256 blockId) external view returns (bool) {
        if (blockId >= _blocks.length) revert UnknownBlock(blockId);
        BlockState storage b = _blocks[blockId];
        return b.status == BlockStatus.Pending && block.timestamp >= election.slotEnd(b.slot);
    }

    /// @notice Whether record `recordIndex` (with leaf `leaf` in the {RecordLog}) is in final block `blockId`.
    /// @param blockId The block.
    /// @param recordIndex The record's index in the log.
    /// @param proof Merkle proof of the leaf against the block's root.
    function isRecordInBlock(uint256 blockId, uint256 recordIndex, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (blockId >= _blocks.length) revert UnknownBlock(blockId);
        BlockState storage b = _blocks[blockId];
        if (b.status != BlockStatus.Final || recordIndex < b.fromRecord || recordIndex >= b.toRecord) return false;
        return MerkleProof.verifyCalldata(proof, b.root, recordLog.leafAt(recordIndex));
    }

    /// @dev The block proposed for `slot`: blocks' slots strictly increase (each is proposed in its own slot, the
    /// current one, and at most one per slot).
    function _blockOf(uint256 slot) private view returns (bool exists, uint256 blockId) {
        blockId = _firstBlockFrom(slot);
        if (blockId < _blocks.length && _blocks[blockId].slot == slot) return (true, blockId);
        return (false, 0);
    }

    /// @dev The id of the first block proposed for `slot` or a later slot (the number of blocks if none), by binary
    /// search over the blocks' increasing slots.
    function _firstBlockFrom(uint256 slot) private view returns (uint256 lo) {
        uint256 hi = _blocks.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (_blocks[mid].slot < slot) lo = mid + 1;
            else hi = mid;
        }
    }

    /// @dev The record at {packedAtSlotStart} of `slot` has these leaf fields and was appended before the slot began.
    function _checkWaiting(uint256 slot, RecordLog.RecordKind kind, bytes32 payloadHash, uint64 appendedAt)
        private
        view
    {
        uint256 waiting = packedAtSlotStart(slot);
        uint256 slotStart = election.slotEnd(slot) - election.slotDuration();
        if (waiting >= recordLog.length() || appendedAt >= slotStart) revert NothingWaiting(slot, waiting, slotStart);
        if (recordLog.leafAt(waiting) != recordLog.leafHash(waiting, kind, payloadHash, appendedAt)) {
            revert RecordProofMismatch(waiting);
        }
    }

    function _pending(uint256 blockId) private view returns (BlockState storage b) {
        if (blockId >= _blocks.length) revert UnknownBlock(blockId);
        b = _blocks[blockId];
        if (b.status != BlockStatus.Pending) revert BlockNotPending(blockId, b.status);
    }

    function _finalizeIfQuorum(uint256 blockId) private {
        BlockState storage b = _blocks[blockId];
        if (uint256(b.approvals) * 3 >= uint256(b.producerCount) * 2) {
            b.status = BlockStatus.Final;
            _packedUpTo = b.toRecord;
            ++_finalCount;
            emit BlockFinalized(blockId, b.toRecord);
        }
    }

    function _penalize(address producer) private {
        election.jail(producer);
        uint256 amount = stake.slash(producer, slashBps);
        emit ProducerSlashed(producer, amount);
    }
}
