// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBSRegistry} from "./IBSRegistry.sol";

/// @title MemberGated
/// @notice Base for every protocol contract: protocol calls are open only to admitted BSs, operator calls only to
/// the MBS recorded in the {BSRegistry}.
abstract contract MemberGated {
    /// @notice The membership every call is checked against.
    IBSRegistry public immutable registry;

    /// @dev `account` is not an admitted BS.
    error NotMember(address account);
    /// @dev `account` is not the operator (the MBS).
    error NotOperator(address account);
    /// @dev A required address argument was zero.
    error ZeroAddress();

    constructor(IBSRegistry registry_) {
        if (address(registry_) == address(0)) revert ZeroAddress();
        registry = registry_;
    }

    modifier onlyMember() {
        _checkMember(msg.sender);
        _;
    }

    modifier onlyOperator() {
        if (msg.sender != registry.operator()) revert NotOperator(msg.sender);
        _;
    }

    /// @dev Members and the operator may call (permissioned maintenance calls such as settling a round).
    modifier onlyMemberOrOperator() {
        if (msg.sender != registry.operator()) _checkMember(msg.sender);
        _;
    }

    function _checkMember(address account) internal view {
        if (!registry.isMember(account)) revert NotMember(account);
    }
}
