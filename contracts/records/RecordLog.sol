// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @title RecordLog
/// @notice The append-only sequence of the DTWN blockchain's records (paper Section II-C): digital-twin model records,
/// digital-twin data records and training model records. DPoS block producers pack consecutive ranges of this log
/// into blocks (a block = the Merkle root of the leaves of its interval, see {BlockLedger}).
/// @dev Only writer contracts ({TwinRegistry}, {TrainingRounds}) append. A leaf is
/// `keccak256(abi.encode(index, kind, payloadHash, appendedAt))`, so a leaf commits to its position, its kind and the
/// block timestamp at which it was appended: anyone can prove on chain that a record was waiting to be packed at a
/// given time ({BlockLedger.reportMissedSlot}) with the event's fields alone.
contract RecordLog is AccessControl {
    /// @notice Role of the contracts allowed to append records.
    bytes32 public constant WRITER_ROLE = keccak256("WRITER_ROLE");

    /// @notice The three record kinds of Section II-C.
    enum RecordKind {
        TwinModel,
        TwinData,
        TrainingModel
    }

    bytes32[] private _leaves;

    /// @notice A record was appended at `index`, at block timestamp `appendedAt`.
    event RecordAppended(
        uint256 indexed index, RecordKind indexed kind, bytes32 payloadHash, uint64 appendedAt, bytes32 leaf
    );

    /// @dev The admin must not be address(0): nobody could grant WRITER_ROLE.
    error ZeroAdmin();
    /// @dev `index` is past the end of the log.
    error RecordOutOfRange(uint256 index, uint256 length);
    /// @dev The interval [fromRecord, toRecord) is not within the log.
    error InvalidRange(uint256 fromRecord, uint256 toRecord, uint256 length);

    /// @param admin The account that grants WRITER_ROLE at deployment.
    constructor(address admin) {
        if (admin == address(0)) revert ZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Append a record. Only a writer contract.
    /// @param kind The record kind.
    /// @param payloadHash keccak256 of the record's ABI-encoded payload (the writer's event carries the payload).
    /// @return index The record's position in the log.
    function append(RecordKind kind, bytes32 payloadHash) external onlyRole(WRITER_ROLE) returns (uint256 index) {
        index = _leaves.length;
        uint64 appendedAt = uint64(block.timestamp);
        bytes32 leaf = leafHash(index, kind, payloadHash, appendedAt);
        _leaves.push(leaf);
        emit RecordAppended(index, kind, payloadHash, appendedAt, leaf);
    }

    /// @notice Number of records.
    function length() external view returns (uint256) {
        return _leaves.length;
    }

    /// @notice The leaf of record `index`.
    /// @param index Position in the log.
    function leafAt(uint256 index) external view returns (bytes32) {
        if (index >= _leaves.length) revert RecordOutOfRange(index, _leaves.length);
        return _leaves[index];
    }

    /// @notice The Merkle root of the leaves of records [fromRecord, toRecord): leaves in log order; each level hashes
    /// pairs with OpenZeppelin's commutative keccak256 (sorted pair); an odd last node is carried up unchanged; the
    /// root of one leaf is the leaf itself and of zero leaves bytes32(0) (as src/chain/merkle.ts). The DPoS block
    /// ledger compares every proposed block's root with this, so no producer can finalise a root of other records.
    /// @dev Reads `toRecord - fromRecord` storage slots; callers bound the interval.
    /// @param fromRecord First record (inclusive).
    /// @param toRecord Last record (exclusive).
    function rootOf(uint256 fromRecord, uint256 toRecord) external view returns (bytes32) {
        uint256 len = _leaves.length;
        if (fromRecord > toRecord || toRecord > len) revert InvalidRange(fromRecord, toRecord, len);
        uint256 n = toRecord - fromRecord;
        if (n == 0) return bytes32(0);
        bytes32[] memory level = new bytes32[](n);
        bytes32[] storage leaves = _leaves;
        // The range is checked above: the leaves are read straight from their slots, and each level is hashed in
        // place (pair i into node i), with no bounds checks (n <= length, which fits memory only when bounded). Saves a
        // length read and a bounds check per leaf.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            mstore(0, leaves.slot)
            let base := add(keccak256(0, 32), fromRecord)
            let data := add(level, 32)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(add(data, shl(5, i)), sload(add(base, i)))
            }
        }
        while (n > 1) {
            uint256 pairs = n / 2;
            for (uint256 i = 0; i < pairs; ++i) {
                bytes32 a;
                bytes32 b;
                // solhint-disable-next-line no-inline-assembly
                assembly ("memory-safe") {
                    let p := add(add(level, 32), shl(6, i))
                    a := mload(p)
                    b := mload(add(p, 32))
                }
                bytes32 node = Hashes.commutativeKeccak256(a, b);
                // solhint-disable-next-line no-inline-assembly
                assembly ("memory-safe") {
                    mstore(add(add(level, 32), shl(5, i)), node)
                }
            }
            if (n % 2 == 1) level[pairs] = level[n - 1];
            n = n - pairs;
        }
        return level[0];
    }

    /// @notice The leaf hash of a record.
    /// @param index Position in the log.
    /// @param kind The record kind.
    /// @param payloadHash keccak256 of the record's payload.
    /// @param appendedAt The block timestamp at which the record was appended.
    function leafHash(uint256 index, RecordKind kind, bytes32 payloadHash, uint64 appendedAt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(index, kind, payloadHash, appendedAt));
    }
}
