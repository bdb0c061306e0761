// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBSRegistry} from "./IBSRegistry.sol";
import {MemberGated} from "./MemberGated.sol";

/// @title UserRegistry
/// @notice The end users (IoT devices) of the DTWN and their device keys, admitted by the operator (the MBS) as it
/// admits BSs (paper Section II-C: the permissioned chain "manages the participating users through permission
/// control"). A device key signs its user's consents (EIP-712, verified by the {TwinRegistry}): the registration of
/// its twin on a BS, each digital-twin data record (size, commitment, state) and each move of its twin to another BS.
/// @dev Attack stopped: a BS inventing users, or registering another BS's user first and recording data for it,
/// to take Eq. 6's S_ini and the Eq. 5 weights (issue class 2). No BS can add a user or a key; the operator can,
/// which is the same trust as admitting BSs (docs/protocol.md). A device key is bound for good: no call replaces or
/// removes it, so the operator cannot take over an admitted user's consents later.
contract UserRegistry is MemberGated {
    /// @notice Largest number of users in one {admitUsers} call (about 26k gas each: 5.1 Mgas for a full batch).
    uint256 public constant MAX_USERS_PER_BATCH = 200;

    mapping(bytes32 userId => address device) private _deviceOf;
    uint256 private _userCount;

    /// @notice The operator admitted end user `userId` with device key `device`.
    event UserAdmitted(bytes32 indexed userId, address indexed device);

    /// @dev The user id must be non-zero.
    error InvalidUserId();
    /// @dev The user is admitted already (its device key cannot change).
    error UserAlreadyAdmitted(bytes32 userId, address device);
    /// @dev A batch of 1 to `MAX_USERS_PER_BATCH` users with as many keys.
    error InvalidBatch(uint256 userIds, uint256 devices);
    /// @dev No admitted user has this id.
    error UnknownUser(bytes32 userId);

    /// @param registry_ The BS membership, whose operator admits users.
    constructor(IBSRegistry registry_) MemberGated(registry_) {}

    /// @notice Admit end users `userIds` with their device keys `devices`. Only the operator (the MBS).
    /// @param userIds Non-zero user ids (e.g. keccak256 of a device id), none admitted yet.
    /// @param devices The key of each user's device, in the order of `userIds`; never zero.
    function admitUsers(bytes32[] calldata userIds, address[] calldata devices) external onlyOperator {
        uint256 n = userIds.length;
        if (n == 0 || n > MAX_USERS_PER_BATCH || devices.length != n) revert InvalidBatch(n, devices.length);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 userId = userIds[i];
            address device = devices[i];
            if (userId == bytes32(0)) revert InvalidUserId();
            if (device == address(0)) revert ZeroAddress();
            address existing = _deviceOf[userId];
            if (existing != address(0)) revert UserAlreadyAdmitted(userId, existing);
            _deviceOf[userId] = device;
            emit UserAdmitted(userId, device);
        }
        _userCount += n;
    }

    /// @notice The device key of admitted user `userId`; reverts {UnknownUser} otherwise.
    /// @param userId The end user.
    function deviceOf(bytes32 userId) external view returns (address device) {
        device = _deviceOf[userId];
        if (device == address(0)) revert UnknownUser(userId);
    }

    /// @notice Whether `userId` is an admitted user.
    /// @param userId The end user.
    function isUser(bytes32 userId) external view returns (bool) {
        return _deviceOf[userId] != address(0);
    }

    /// @notice Number of admitted users.
    function userCount() external view returns (uint256) {
        return _userCount;
    }
}
