// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IBSRegistry
/// @notice The permissioned membership of the DTWN blockchain (paper Section II-C): the set of base stations (BSs)
/// admitted by the operator (the MBS), with the metadata other BSs need (CPU frequency, position, IPFS peer address).
interface IBSRegistry {
    /// @notice Metadata a BS registers about itself. Units: Hz for the CPU frequency, metres for the position.
    struct Metadata {
        uint64 cpuFrequencyHz;
        int32 xMetres;
        int32 yMetres;
        string ipfsPeerAddress;
    }

    /// @notice Whether `account` is currently an admitted BS.
    function isMember(address account) external view returns (bool);

    /// @notice The operator (the MBS): the only account that admits and removes BSs and opens FL rounds.
    function operator() external view returns (address);

    /// @notice Number of admitted BSs (at most `MAX_MEMBERS`).
    function memberCount() external view returns (uint256);

    /// @notice All admitted BSs (bounded by `MAX_MEMBERS`).
    function members() external view returns (address[] memory);

    /// @notice {members} and the seat of each (one call instead of one {seatOf} per member).
    function membersAndSeats() external view returns (address[] memory accounts, uint8[] memory seats);

    /// @notice The permanent seat (0..255) of a BS; a BS keeps its seat across removal and re-admission.
    function seatOf(address account) external view returns (uint8);

    /// @notice The BS holding seat `seat` (address(0) if the seat was never given): the inverse of {seatOf}, so other
    /// contracts can keep compact lists of seats instead of addresses.
    function accountOfSeat(uint8 seat) external view returns (address);
}
