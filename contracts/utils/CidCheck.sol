// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title CidCheck
/// @notice Shape check for IPFS CIDs stored on chain in binary form (CIDv0: 34 bytes = 0x12 0x20 + sha2-256 digest;
/// CIDv1: version, codec, multihash). The contracts store CIDs, never weights; the bytes are the CID's binary form
/// (`CID.bytes` in multiformats), so peers can fetch the weights from IPFS.
library CidCheck {
    /// @notice Shortest accepted CID in bytes (a CIDv0 is 34).
    uint256 internal constant MIN_LENGTH = 34;
    /// @notice Longest accepted CID in bytes.
    uint256 internal constant MAX_LENGTH = 64;

    /// @dev The CID's length is outside [MIN_LENGTH, MAX_LENGTH].
    error InvalidCid(uint256 length);

    /// @dev Reverts with {InvalidCid} unless `cid` has a plausible CID length.
    function check(bytes calldata cid) internal pure {
        if (cid.length < MIN_LENGTH || cid.length > MAX_LENGTH) revert InvalidCid(cid.length);
    }

    /// @dev Whether `cid` is a CIDv0: 34 bytes, the sha2-256 multihash prefix 0x12 0x20, then the digest. Contracts
    /// store such a CID as its 32-byte digest (one storage slot) and any other CID as bytes.
    function isV0(bytes calldata cid) internal pure returns (bool) {
        return cid.length == MIN_LENGTH && cid[0] == 0x12 && cid[1] == 0x20;
    }

    /// @dev The digest of CIDv0 `cid` (its last 32 bytes; call only when {isV0}).
    function digestOf(bytes calldata cid) internal pure returns (bytes32) {
        return bytes32(cid[2:MIN_LENGTH]);
    }

    /// @dev The CIDv0 of sha2-256 digest `digest`: 0x12 0x20 followed by the digest.
    function fromDigest(bytes32 digest) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes2(0x1220), digest);
    }
}
