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
}
