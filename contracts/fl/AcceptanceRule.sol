// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title AcceptanceRule
/// @notice The one rule that turns the verdicts on a BS model into its outcome, used by {TrainingRounds} on chain and,
/// as the same function, by the federated-learning simulator (src/fl/acceptance.ts; a test checks that the two agree on
/// random verdict sets). Verdicts carry weights (today one per verifying member BS).
/// - Quorum: a model is decided only when the weight of the verdicts given reaches `quorumBps` of the weight of every
///   eligible verifier; otherwise it is unverified (neither paid nor slashed). Attack stopped: one or two verifiers
///   deciding a model while the others are silent.
/// - Majority: with a quorum, it passes when the pass weight exceeds the fail weight and fails when the fail weight
///   exceeds the pass weight.
/// - A tie is not a fail: it is unverified. Attack stopped: one colluder cancelling one honest verdict and slashing an
///   honest model.
library AcceptanceRule {
    /// @notice Denominator of `quorumBps`.
    uint256 internal constant BPS = 10_000;

    /// @notice What the verdicts decide.
    enum Decision {
        Unverified,
        Passed,
        Failed
    }

    /// @notice The outcome of a model with `passWeight` and `failWeight` of verdicts out of `eligibleWeight`.
    /// @param passWeight Weight of the pass verdicts.
    /// @param failWeight Weight of the fail verdicts.
    /// @param eligibleWeight Weight of every verifier that could have given a verdict (pass + fail <= eligible).
    /// @param quorumBps Share of `eligibleWeight` that must have given a verdict (basis points, 1..10000).
    function decide(uint256 passWeight, uint256 failWeight, uint256 eligibleWeight, uint256 quorumBps)
        internal
        pure
        returns (Decision)
    {
        uint256 given = passWeight + failWeight;
        if (given == 0 || given * BPS < quorumBps * eligibleWeight) return Decision.Unverified;
        if (passWeight > failWeight) return Decision.Passed;
        if (failWeight > passWeight) return Decision.Failed;
        return Decision.Unverified;
    }
}
