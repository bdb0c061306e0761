// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IStakeVault
/// @notice What the protocol contracts need of the bonded stake ({StakeVault}): pay coins bonded, slash the bond and
/// the unbonding queue, and read a BS's bond at a past instant (the weight of its votes and verdicts).
interface IStakeVault {
    /// @notice Mint `amount` new coins bonded to `bs` (the Eq. 6 allocation, model and verifier rewards).
    function credit(address bs, uint256 amount) external;

    /// @notice {credit} `amounts[i]` to `bss[i]` for every i, minting their sum once (a settlement's rewards).
    function creditMany(address[] calldata bss, uint256[] calldata amounts) external;

    /// @notice Burn `bps` basis points of `bs`'s bonded plus unbonding coins; returns the amount burned.
    function slash(address bs, uint256 bps) external returns (uint256 slashed);

    /// @notice `bs`'s bond at the past timestamp `timepoint`.
    function bondedAt(address bs, uint256 timepoint) external view returns (uint256);

    /// @notice {bondedAt} of every account of `bss` (one call for a whole membership).
    function bondedAtMany(address[] calldata bss, uint256 timepoint) external view returns (uint256[] memory bonds);

    /// @notice Seconds an unbonded coin stays in the queue (and slashable) before it can be withdrawn.
    function unbondingDelay() external view returns (uint64);

    /// @notice `bs`'s bonded and unbonding (not yet withdrawn) coins now.
    function stakeOf(address bs) external view returns (uint256 bonded, uint256 unbonding);
}
