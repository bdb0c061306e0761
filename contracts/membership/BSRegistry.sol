// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IBSRegistry} from "./IBSRegistry.sol";

/// @title BSRegistry
/// @notice Permissioned membership of the DTWN blockchain (paper Section II-C, "permissioned blockchain ... manages
/// the participating users through permission control"). The owner is the operator: the MBS. It admits and removes
/// BSs; each BS then registers its own metadata. Every other protocol contract checks membership here.
/// @dev Members live in a bounded array (`MAX_MEMBERS`) so no call loops over an unbounded set. Each BS also gets a
/// permanent seat (0..255) used for compact bitmaps elsewhere (DPoS approvals); seats are never reused by another
/// address, so a bitmap bit always means the same BS.
contract BSRegistry is IBSRegistry, Ownable2Step {
    /// @notice Maximum number of BSs admitted at the same time.
    uint256 public constant MAX_MEMBERS = 32;
    /// @notice Maximum number of distinct BSs ever admitted (size of the seat bitmap).
    uint256 public constant MAX_SEATS = 256;
    /// @notice Maximum length in bytes of the IPFS peer multiaddress.
    uint256 public constant MAX_PEER_ADDRESS_LENGTH = 256;

    struct Member {
        bool active;
        bool seated;
        uint8 seat;
        Metadata metadata;
    }

    mapping(address account => Member) private _members;
    address[] private _memberList;
    mapping(address account => uint256) private _listPosition; // index + 1; 0 = not listed
    uint256 private _seatsUsed;
    mapping(uint256 seat => address) private _seatHolder; // the BS holding each used seat (never changes)

    /// @notice A BS was admitted by the operator.
    event MemberAdmitted(address indexed bs, uint8 seat);
    /// @notice A BS was removed by the operator.
    event MemberRemoved(address indexed bs);
    /// @notice A BS registered (or updated) its metadata.
    event MetadataRegistered(
        address indexed bs, uint64 cpuFrequencyHz, int32 xMetres, int32 yMetres, string ipfsPeerAddress
    );

    /// @dev `account` is already an admitted BS.
    error AlreadyMember(address account);
    /// @dev `account` is not an admitted BS.
    error NotMember(address account);
    /// @dev `MAX_MEMBERS` BSs are admitted already.
    error RegistryFull();
    /// @dev `MAX_SEATS` distinct BSs were admitted over the registry's life.
    error SeatsExhausted();
    /// @dev The CPU frequency must be positive.
    error InvalidCpuFrequency();
    /// @dev The IPFS peer address must be non-empty and at most `MAX_PEER_ADDRESS_LENGTH` bytes.
    error InvalidPeerAddress(uint256 length);
    /// @dev A zero address was given.
    error ZeroAddress();
    /// @dev The registry cannot be left without an operator; transfer it instead.
    error RenounceDisabled();

    /// @param mbs The operator (the MBS).
    constructor(address mbs) Ownable(mbs) {}

    /// @notice Admit `bs` as a member BS. Only the operator (the MBS).
    /// @param bs The BS's account.
    function admit(address bs) external onlyOwner {
        if (bs == address(0)) revert ZeroAddress();
        Member storage m = _members[bs];
        if (m.active) revert AlreadyMember(bs);
        if (_memberList.length >= MAX_MEMBERS) revert RegistryFull();
        if (!m.seated) {
            if (_seatsUsed >= MAX_SEATS) revert SeatsExhausted();
            m.seat = uint8(_seatsUsed);
            m.seated = true;
            _seatHolder[_seatsUsed] = bs;
            ++_seatsUsed;
        }
        m.active = true;
        _memberList.push(bs);
        _listPosition[bs] = _memberList.length;
        emit MemberAdmitted(bs, m.seat);
    }

    /// @notice Remove `bs` from the members. Only the operator (the MBS). Its metadata and seat are kept.
    /// @param bs The BS's account.
    function remove(address bs) external onlyOwner {
        Member storage m = _members[bs];
        if (!m.active) revert NotMember(bs);
        m.active = false;
        uint256 index = _listPosition[bs] - 1;
        uint256 last = _memberList.length - 1;
        if (index != last) {
            address moved = _memberList[last];
            _memberList[index] = moved;
            _listPosition[moved] = index + 1;
        }
        _memberList.pop();
        delete _listPosition[bs];
        emit MemberRemoved(bs);
    }

    /// @notice Register or update the caller's metadata. Only a member BS.
    /// @param cpuFrequencyHz The BS's CPU frequency f_i^C in Hz (paper Section V: 1.8-3.6 GHz).
    /// @param xMetres The BS's x position in metres (relative to the MBS).
    /// @param yMetres The BS's y position in metres (relative to the MBS).
    /// @param ipfsPeerAddress The multiaddress other BSs dial to fetch this BS's model weights over bitswap.
    function registerMetadata(uint64 cpuFrequencyHz, int32 xMetres, int32 yMetres, string calldata ipfsPeerAddress)
        external
    {
        Member storage m = _members[msg.sender];
        if (!m.active) revert NotMember(msg.sender);
        if (cpuFrequencyHz == 0) revert InvalidCpuFrequency();
        uint256 len = bytes(ipfsPeerAddress).length;
        if (len == 0 || len > MAX_PEER_ADDRESS_LENGTH) revert InvalidPeerAddress(len);
        m.metadata = Metadata(cpuFrequencyHz, xMetres, yMetres, ipfsPeerAddress);
        emit MetadataRegistered(msg.sender, cpuFrequencyHz, xMetres, yMetres, ipfsPeerAddress);
    }

    /// @notice Refused: without an operator no BS could ever be admitted or removed and every operator call of the
    /// protocol would be locked. Use the two-step `transferOwnership` to hand the role over.
    function renounceOwnership() public view override onlyOwner {
        revert RenounceDisabled();
    }

    /// @inheritdoc IBSRegistry
    function isMember(address account) external view returns (bool) {
        return _members[account].active;
    }

    /// @inheritdoc IBSRegistry
    function operator() external view returns (address) {
        return owner();
    }

    /// @inheritdoc IBSRegistry
    function memberCount() external view returns (uint256) {
        return _memberList.length;
    }

    /// @inheritdoc IBSRegistry
    function members() external view returns (address[] memory) {
        return _memberList;
    }

    /// @inheritdoc IBSRegistry
    function membersAndSeats() external view returns (address[] memory accounts, uint8[] memory seats) {
        accounts = _memberList;
        seats = new uint8[](accounts.length);
        for (uint256 i = 0; i < accounts.length; ++i) {
            seats[i] = _members[accounts[i]].seat; // every member is seated
        }
    }

    /// @inheritdoc IBSRegistry
    function seatOf(address account) external view returns (uint8) {
        Member storage m = _members[account];
        if (!m.seated) revert NotMember(account);
        return m.seat;
    }

    /// @inheritdoc IBSRegistry
    function accountOfSeat(uint8 seat) external view returns (address) {
        return _seatHolder[seat];
    }

    /// @notice The metadata registered by `bs` (empty until it registers).
    /// @param bs The BS's account.
    function metadataOf(address bs) external view returns (Metadata memory) {
        return _members[bs].metadata;
    }
}
