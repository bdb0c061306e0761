// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AcceptanceRule} from "../fl/AcceptanceRule.sol";

/// @title AcceptanceRuleHarness
/// @notice Test-only: exposes {AcceptanceRule.decide} so tests can compare it with the simulator's rule. Not deployed
/// by the Ignition module.
contract AcceptanceRuleHarness {
    /// @notice {AcceptanceRule.decide}: 0 = unverified, 1 = passed, 2 = failed.
    /// @param passWeight Weight of the pass verdicts.
    /// @param failWeight Weight of the fail verdicts.
    /// @param eligibleWeight Weight of every eligible verifier.
    /// @param quorumBps Quorum in basis points.
    function decide(uint256 passWeight, uint256 failWeight, uint256 eligibleWeight, uint256 quorumBps)
        external
        pure
        returns (uint8)
    {
        return uint8(AcceptanceRule.decide(passWeight, failWeight, eligibleWeight, quorumBps));
    }
}
