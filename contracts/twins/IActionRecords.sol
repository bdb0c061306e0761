// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IActionRecords
/// @notice What the chain recorded of a BS's committed edge-association action a_i(t) in slot t: how many twins it
/// listed (K_i) and the sum of their recorded data sizes (samples) when it committed. {TrainingRounds} weights a
/// training model record by these, never by numbers the BS reports about itself.
interface IActionRecords {
    /// @notice K_i and sum_j D_DTj (samples) of `bs`'s action in slot `slot`; (0, 0) if it committed none.
    /// @param slot The slot (= the FL round).
    /// @param bs The BS.
    function committedAction(uint256 slot, address bs) external view returns (uint32 numTwins, uint64 dataSize);
}
