// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title TrainingCoin
/// @notice The training coins of the DTWN blockchain (paper Section II-C): the stake of Delegated Proof of Stake.
/// Coins are minted for the Eq. 6 initial allocation and for models and verdicts that pass, and burned when a BS is
/// slashed; only protocol contracts (PROTOCOL_ROLE: the {StakeVault}) mint or burn.
/// @dev Liquid coins carry no vote: only coins bonded in the {StakeVault} weigh votes and verdicts, and only they can
/// be slashed. Attack stopped: a BS moving its coins to a second key that delegates them back (ERC20Votes, which this
/// coin used to be) escaped every slash and kept its election weight. There is no delegation.
contract TrainingCoin is ERC20, AccessControl {
    /// @notice Role of the protocol contracts allowed to mint and burn.
    bytes32 public constant PROTOCOL_ROLE = keccak256("PROTOCOL_ROLE");

    /// @dev The admin must not be address(0): nobody could grant PROTOCOL_ROLE.
    error ZeroAdmin();

    /// @param admin The account that grants PROTOCOL_ROLE to the protocol contracts at deployment.
    constructor(address admin) ERC20("DTWN Training Coin", "DTC") {
        if (admin == address(0)) revert ZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Mint `amount` coins to `to`. Only a protocol contract.
    /// @param to Receiver.
    /// @param amount Amount in coin base units (18 decimals).
    function mint(address to, uint256 amount) external onlyRole(PROTOCOL_ROLE) {
        _mint(to, amount);
    }

    /// @notice Burn `amount` coins held by `from` (slashing). Only a protocol contract.
    /// @param from Holder whose coins are burned.
    /// @param amount Amount in coin base units; must not exceed the balance.
    function burn(address from, uint256 amount) external onlyRole(PROTOCOL_ROLE) {
        _burn(from, amount);
    }
}
