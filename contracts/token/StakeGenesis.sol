// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBSRegistry} from "../membership/IBSRegistry.sol";
import {MemberGated} from "../membership/MemberGated.sol";
import {TwinRegistry} from "../twins/TwinRegistry.sol";
import {IStakeVault} from "./IStakeVault.sol";

/// @title StakeGenesis
/// @notice The initial training-coin allocation of Eq. 6: S_i = S_ini * (sum_{j<=K_i} D_DTj) / (sum_k D_k),
/// where the numerator is the data of the twins on BS i and the denominator the data of the twins on all BSs.
/// Run once by the operator after the twins' data records are on chain. The allocation is paid bonded
/// ({IStakeVault.credit}): it weighs votes and verdicts from the start and can be slashed.
/// @dev Loops over the members, bounded by the registry's `MAX_MEMBERS`. Integer division rounds each share down,
/// so the total minted is at most S_ini.
contract StakeGenesis is MemberGated {
    /// @notice The bonded stake the allocation is paid into (this contract needs its PROTOCOL_ROLE).
    IStakeVault public immutable stake;
    /// @notice The twins whose data sizes weight the allocation.
    TwinRegistry public immutable twinRegistry;
    /// @notice S_ini, the total initial allocation (coin base units).
    uint256 public immutable initialSupply;
    /// @notice Whether the allocation was made.
    bool public allocated;

    /// @notice BS `bs` received `amount` = S_i for `dataSize` samples out of `totalData` (Eq. 6).
    event GenesisAllocated(address indexed bs, uint256 dataSize, uint256 totalData, uint256 amount);

    /// @dev The allocation was made already.
    error AlreadyAllocated();
    /// @dev No member holds any twin data yet.
    error NoTwinData();

    /// @param registry_ The BS membership.
    /// @param stake_ The bonded stake.
    /// @param twinRegistry_ The twins.
    /// @param initialSupply_ S_ini.
    constructor(IBSRegistry registry_, IStakeVault stake_, TwinRegistry twinRegistry_, uint256 initialSupply_)
        MemberGated(registry_)
    {
        if (address(stake_) == address(0) || address(twinRegistry_) == address(0)) revert ZeroAddress();
        stake = stake_;
        twinRegistry = twinRegistry_;
        initialSupply = initialSupply_;
    }

    /// @notice Allocate S_i to every member BS by Eq. 6. Only the operator (the MBS), once.
    function allocate() external onlyOperator {
        if (allocated) revert AlreadyAllocated();
        address[] memory bss = registry.members();
        uint256 n = bss.length;
        uint256[] memory data = new uint256[](n);
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            data[i] = twinRegistry.dataOn(bss[i]);
            total += data[i];
        }
        if (total == 0) revert NoTwinData();
        allocated = true;
        for (uint256 i = 0; i < n; ++i) {
            uint256 amount = (initialSupply * data[i]) / total;
            emit GenesisAllocated(bss[i], data[i], total, amount);
            if (amount != 0) stake.credit(bss[i], amount);
        }
    }
}
