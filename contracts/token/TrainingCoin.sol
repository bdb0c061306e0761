// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @title TrainingCoin
/// @notice The training coins of the DTWN blockchain (paper Section II-C): the stake of Delegated Proof of Stake.
/// Coins are minted for the Eq. 6 initial allocation and for models that pass verification, and burned when a BS is
/// slashed; only protocol contracts (PROTOCOL_ROLE) mint or burn.
/// @dev Votes are checkpointed by timestamp (ERC-6372 `mode=timestamp`) so elections can read the weight at a past
/// instant. Every holder is self-delegated automatically on first receipt, so stake counts without a manual
/// delegation step; delegating to address(0) (which would silently drop the stake from elections) is refused.
contract TrainingCoin is ERC20, ERC20Votes, AccessControl {
    /// @notice Role of the protocol contracts allowed to mint and burn.
    bytes32 public constant PROTOCOL_ROLE = keccak256("PROTOCOL_ROLE");

    /// @dev Delegating to address(0) is refused: it would remove the holder's stake from every election.
    error DelegateToZeroAddress();
    /// @dev The admin must not be address(0): nobody could grant PROTOCOL_ROLE.
    error ZeroAdmin();

    /// @param admin The account that grants PROTOCOL_ROLE to the protocol contracts at deployment.
    constructor(address admin) ERC20("DTWN Training Coin", "DTC") EIP712("DTWN Training Coin", "1") {
        if (admin == address(0)) revert ZeroAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Mint `amount` coins to `to`. Only a protocol contract.
    /// @param to Receiver (self-delegated on first receipt).
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

    /// @notice ERC-6372 clock: votes are checkpointed by block timestamp.
    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice ERC-6372 clock mode.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
        // Stake counts without a manual delegation step: the first receipt self-delegates the holder.
        if (to != address(0) && delegates(to) == address(0)) {
            _delegate(to, to);
        }
    }

    function _delegate(address account, address delegatee) internal override {
        if (delegatee == address(0)) revert DelegateToZeroAddress();
        super._delegate(account, delegatee);
    }
}
