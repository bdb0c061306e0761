// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IBSRegistry} from "../membership/IBSRegistry.sol";
import {MemberGated} from "../membership/MemberGated.sol";
import {UserRegistry} from "../membership/UserRegistry.sol";
import {RecordLog} from "../records/RecordLog.sol";

/// @title TwinRegistry
/// @notice Digital twins DT_i = (M_i, D_i, s_t) of end users (paper Section II) and their edge association
/// <DT_i, BS_j> (Definition 1). A twin is on at most one BS; re-association moves it. Keeps, per BS, the number of
/// twins K_j and their data size sum_j D_DTj in O(1) per change, which Eq. 6 (initial coins) reads.
/// @dev Digital-twin data records (data size, commitment, state) and model records (CID of M_i) are appended to the
/// {RecordLog}. Every change emits an event with what an agent needs to rebuild the state without reading storage.
/// A BS records the models its twins trained in FL round r in batches ({recordTwinModels}), each batch tagged with
/// the round, so that anyone can recompute the BS's Eq. 4 model of round r from its twins' models (docs/audit.md).
/// A batch is one record of the log, whose leaf commits to the round, the BS, the twins and their CIDs; the CIDs live
/// in the batch's event and calldata only (no storage: nothing on chain reads them, the verifiers and auditors read
/// the event and check it against the leaf). Before, each twin's model was a storage entry and a leaf of its own,
/// 108 kgas per twin and 10.8 of the 15.3 Mgas of a paper-scale round.
/// This contract does not know the rounds: the round is the BS's statement, which an auditor checks against the
/// order of the chain's events (the batch must be mined after round r opened and before the BS's model of round r).
/// Consent of the end user (issue class 2): every twin belongs to a user admitted with a device key in the
/// {UserRegistry}, and the chain takes the user's word, not the BS's, for what the user owns. The device signs
/// (EIP-712, domain "dtwn TwinRegistry" version 1, this contract and chain id):
/// - `RegisterTwin(bytes32 userId,address bs)` to put its twin on `bs` (attack stopped: a BS registering another BS's
///   user first, or a user nobody admitted);
/// - `TwinData(uint256 twinId,address bs,uint64 dataSize,bytes32 dataCommitment,bytes32 state,uint32 version)` for
///   each data record, `version` being the record's new version so a signature is good for one record only (attack
///   stopped: a BS stating more data than its twins hold, which Eq. 6 and the Eq. 5 weights then pay for);
/// - `MoveTwin(uint256 twinId,address to,uint256 slot)` for a move to `to` in edge-association slot `slot`, checked
///   when the {AssociationLedger} moves the twin (attack stopped: the first BS to commit an action claiming every
///   twin, or any twin the joint action does not give it).
/// Signatures are 65-byte ECDSA signatures of EOAs (devices hold plain keys).
contract TwinRegistry is MemberGated, AccessControl, EIP712 {
    /// @notice Role of the contract allowed to re-associate twins (the {AssociationLedger}).
    bytes32 public constant ASSOCIATOR_ROLE = keccak256("ASSOCIATOR_ROLE");
    /// @notice Largest number of twins in one {recordTwinModels} call (a BS with more records several batches):
    /// bounds the calldata and the event of one transaction.
    uint256 public constant MAX_MODELS_PER_BATCH = 256;
    /// @notice EIP-712 type of a user's consent to register its twin on a BS.
    bytes32 public constant REGISTER_TYPEHASH = keccak256("RegisterTwin(bytes32 userId,address bs)");
    /// @notice EIP-712 type of a user's consent to one digital-twin data record.
    bytes32 public constant DATA_TYPEHASH = keccak256(
        "TwinData(uint256 twinId,address bs,uint64 dataSize,bytes32 dataCommitment,bytes32 state,uint32 version)"
    );
    /// @notice EIP-712 type of a user's consent to move its twin to another BS in an edge-association slot.
    bytes32 public constant MOVE_TYPEHASH = keccak256("MoveTwin(uint256 twinId,address to,uint256 slot)");

    /// @notice A digital twin as recorded on chain.
    struct Twin {
        bytes32 userId;
        address bs; // associated BS (Definition 1), never zero once registered
        uint64 dataSize; // |D_i| in samples
        uint32 dataVersion;
        address device; // the user's device key (from the {UserRegistry}), which signs its consents
        bytes32 dataCommitment; // hash commitment to the twin's data D_i
        bytes32 state; // hash of the live state s_t
    }

    /// @notice The record log the twin records are appended to.
    RecordLog public immutable recordLog;
    /// @notice The admitted end users and their device keys.
    UserRegistry public immutable users;
    /// @notice Largest data size a twin's data record may state (samples). Attack stopped: a BS recording 2^64-1
    /// samples to take almost all of Eq. 6's S_ini and of the Eq. 5 weights.
    uint64 public immutable maxDataSize;

    mapping(uint256 twinId => Twin) private _twins;
    mapping(bytes32 userId => uint256) private _twinOfUser;
    uint256 private _twinCount;
    mapping(address bs => uint256) private _twinsOn; // K_j
    mapping(address bs => uint256) private _dataOn; // sum of D_DTi over twins on BS j
    uint256 private _totalData;
    // twins on each BS: a bitmap, 256 twin ids per word (lets {associateMany} see that an action lists exactly the
    // twins a BS hosts without reading every twin)
    mapping(address bs => mapping(uint256 word => uint256)) private _hostedBits;

    /// @notice A twin was registered for `userId` on `bs`.
    event TwinRegistered(uint256 indexed twinId, bytes32 indexed userId, address indexed bs);
    /// @notice Association <DT_twinId, BS_to> (Definition 1); `from` is zero at registration.
    event TwinAssociated(uint256 indexed twinId, address indexed from, address indexed to, uint64 dataSize);
    /// @notice A digital-twin data record.
    event TwinDataRecorded(
        uint256 indexed twinId,
        address indexed bs,
        uint64 dataSize,
        bytes32 dataCommitment,
        bytes32 state,
        uint32 version,
        uint256 recordIndex
    );
    /// @notice The digital-twin model records of twins `twinIds` of `bs` for FL round `round`: twin `twinIds[k]`'s
    /// behaviour model M_i is the CIDv0 with sha2-256 digest `modelDigests[k]` (the CID `0x1220 || digest`). Record
    /// `recordIndex` of the {RecordLog} commits to it: its payload hash is
    /// `keccak256(abi.encode(round, bs, twinIds, modelDigests))`.
    event TwinModelsRecorded(
        uint256 indexed round, address indexed bs, uint256 recordIndex, uint256[] twinIds, bytes32[] modelDigests
    );

    /// @dev The user id must be non-zero.
    error InvalidUserId();
    /// @dev The user already has a twin.
    error UserAlreadyHasTwin(bytes32 userId, uint256 twinId);
    /// @dev No twin has this id.
    error UnknownTwin(uint256 twinId);
    /// @dev Only the BS the twin is associated with may record its data and model.
    error NotTwinHost(uint256 twinId, address caller, address host);
    /// @dev A data size above `maxDataSize`.
    error DataSizeOutOfRange(uint64 dataSize, uint64 maxDataSize);
    /// @dev A constructor parameter is out of range.
    error InvalidParameter();
    /// @dev A batch of model records must hold 1 to `MAX_MODELS_PER_BATCH` records.
    error InvalidBatchLength(uint256 length, uint256 maxLength);
    /// @dev A batch lists a different number of twins and CIDs.
    error BatchLengthMismatch(uint256 twinIds, uint256 modelDigests);
    /// @dev A twin model's CID digest is zero (no model has it).
    error ZeroModelDigest(uint256 twinId);
    /// @dev The twin ids of a batch must be strictly increasing (no twin twice).
    error TwinsNotSorted(uint256 twinId);
    /// @dev FL rounds are numbered from 1.
    error InvalidRound();
    /// @dev The signature is not the user's device's consent to this registration, data record or move.
    error InvalidConsent(uint256 twinId, address signer, address device);

    /// @param registry_ The BS membership.
    /// @param users_ The admitted end users and their device keys.
    /// @param recordLog_ The record log (this contract needs its WRITER_ROLE).
    /// @param admin The account that grants ASSOCIATOR_ROLE at deployment.
    /// @param maxDataSize_ Largest data size of one twin (samples, > 0, at most 2^32: a BS's sum of up to 256 twins
    /// then fits the 64-bit weights of its model record).
    constructor(IBSRegistry registry_, UserRegistry users_, RecordLog recordLog_, address admin, uint64 maxDataSize_)
        MemberGated(registry_)
        EIP712("dtwn TwinRegistry", "1")
    {
        if (address(users_) == address(0) || address(recordLog_) == address(0) || admin == address(0)) {
            revert ZeroAddress();
        }
        if (maxDataSize_ == 0 || maxDataSize_ > type(uint32).max) revert InvalidParameter();
        users = users_;
        recordLog = recordLog_;
        maxDataSize = maxDataSize_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Register the digital twin of admitted end user `userId` on the calling BS, with the user's consent.
    /// Only a member BS.
    /// @param userId The end user (admitted in the {UserRegistry}).
    /// @param consent The user's device's EIP-712 signature of `RegisterTwin(userId, msg.sender)`.
    /// @return twinId The new twin's id (from 1).
    function registerTwin(bytes32 userId, bytes calldata consent) external onlyMember returns (uint256 twinId) {
        if (userId == bytes32(0)) revert InvalidUserId();
        uint256 existing = _twinOfUser[userId];
        if (existing != 0) revert UserAlreadyHasTwin(userId, existing);
        address device = users.deviceOf(userId);
        _checkConsent(0, device, keccak256(abi.encode(REGISTER_TYPEHASH, userId, msg.sender)), consent);
        twinId = ++_twinCount;
        _twinOfUser[userId] = twinId;
        Twin storage t = _twins[twinId];
        t.userId = userId;
        t.device = device;
        t.bs = msg.sender;
        ++_twinsOn[msg.sender];
        _hostedBits[msg.sender][twinId >> 8] |= uint256(1) << (twinId & 0xff);
        emit TwinRegistered(twinId, userId, msg.sender);
        emit TwinAssociated(twinId, address(0), msg.sender, 0);
    }

    /// @notice Associate twin `twinId` with BS `to` in edge-association slot `slot`, moving it (and its data) from
    /// its current BS with its user's consent. Only the association ledger. A no-op when it is already there (the
    /// consent is then not read).
    /// @param twinId The twin.
    /// @param to The member BS that will host it.
    /// @param slot The slot of the move (the user's consent names it, so it is good for one slot only).
    /// @param consent The user's device's EIP-712 signature of `MoveTwin(twinId, to, slot)`.
    /// @return size The twin's recorded data size (samples).
    function associate(uint256 twinId, address to, uint256 slot, bytes calldata consent)
        external
        onlyRole(ASSOCIATOR_ROLE)
        returns (uint64 size)
    {
        Twin storage t = _existing(twinId);
        _checkMember(to);
        return _associate(twinId, t, to, slot, consent);
    }

    /// @notice Record the twin's data D_i (size, commitment) and live state s_t: a digital-twin data record, with
    /// the user's consent. Only the member BS hosting the twin.
    /// @param twinId The twin.
    /// @param dataSize |D_i| in samples, at most `maxDataSize`.
    /// @param dataCommitment Hash commitment to the data (e.g. Merkle root of the samples).
    /// @param state Hash of the live state s_t.
    /// @param consent The user's device's EIP-712 signature of
    /// `TwinData(twinId, msg.sender, dataSize, dataCommitment, state, version)`, `version` = `dataVersion + 1`.
    function recordTwinData(
        uint256 twinId,
        uint64 dataSize,
        bytes32 dataCommitment,
        bytes32 state,
        bytes calldata consent
    ) external onlyMember {
        if (dataSize > maxDataSize) revert DataSizeOutOfRange(dataSize, maxDataSize);
        Twin storage t = _hosted(twinId);
        uint32 version = t.dataVersion + 1;
        _checkConsent(
            twinId,
            t.device,
            keccak256(abi.encode(DATA_TYPEHASH, twinId, msg.sender, dataSize, dataCommitment, state, version)),
            consent
        );
        uint64 oldSize = t.dataSize;
        t.dataSize = dataSize;
        t.dataCommitment = dataCommitment;
        t.state = state;
        t.dataVersion = version;
        _dataOn[msg.sender] = _dataOn[msg.sender] - oldSize + dataSize;
        _totalData = _totalData - oldSize + dataSize;
        uint256 recordIndex = recordLog.append(
            RecordLog.RecordKind.TwinData,
            keccak256(abi.encode(twinId, msg.sender, dataSize, dataCommitment, state, version))
        );
        emit TwinDataRecorded(twinId, msg.sender, dataSize, dataCommitment, state, version, recordIndex);
    }

    /// @notice Record the models that the caller's twins `twinIds` trained in FL round `round`: one digital-twin model
    /// record for the batch ({TwinModelsRecorded}). Only the member BS hosting every listed twin (attack stopped: a BS
    /// recording models for twins it does not hold, which its peers would then take as Eq. 4's inputs).
    /// @dev The round is not checked against the FL rounds (see the contract documentation). Hosting is read from
    /// the caller's bitmap, one storage word per 256 twin ids.
    /// @param round The FL round the models were trained in (from 1).
    /// @param twinIds The twins, strictly increasing, at most `MAX_MODELS_PER_BATCH`.
    /// @param modelDigests The sha2-256 digest of each twin's model CID (CIDv0) in IPFS, in the order of `twinIds`;
    /// never zero.
    function recordTwinModels(uint256 round, uint256[] calldata twinIds, bytes32[] calldata modelDigests)
        external
        onlyMember
    {
        uint256 n = twinIds.length;
        if (n == 0 || n > MAX_MODELS_PER_BATCH) revert InvalidBatchLength(n, MAX_MODELS_PER_BATCH);
        if (modelDigests.length != n) revert BatchLengthMismatch(n, modelDigests.length);
        if (round == 0) revert InvalidRound();
        mapping(uint256 => uint256) storage hosted = _hostedBits[msg.sender];
        uint256 wordIndex = type(uint256).max;
        uint256 word;
        uint256 previous;
        for (uint256 i = 0; i < n; ++i) {
            uint256 twinId = twinIds[i];
            if (twinId <= previous) revert TwinsNotSorted(twinId);
            previous = twinId;
            if (modelDigests[i] == bytes32(0)) revert ZeroModelDigest(twinId);
            if (twinId >> 8 != wordIndex) {
                wordIndex = twinId >> 8;
                word = hosted[wordIndex];
            }
            if (word & (uint256(1) << (twinId & 0xff)) == 0) {
                revert NotTwinHost(twinId, msg.sender, _existing(twinId).bs);
            }
        }
        uint256 recordIndex = recordLog.append(
            RecordLog.RecordKind.TwinModel, keccak256(abi.encode(round, msg.sender, twinIds, modelDigests))
        );
        emit TwinModelsRecorded(round, msg.sender, recordIndex, twinIds, modelDigests);
    }

    /// @notice The twin `twinId`.
    /// @param twinId The twin.
    function twin(uint256 twinId) external view returns (Twin memory) {
        return _existing(twinId);
    }

    /// @notice The twin of user `userId`, or 0.
    /// @param userId The end user.
    function twinOfUser(bytes32 userId) external view returns (uint256) {
        return _twinOfUser[userId];
    }

    /// @notice The BS twin `twinId` is associated with.
    /// @param twinId The twin.
    function hostOf(uint256 twinId) external view returns (address) {
        return _existing(twinId).bs;
    }

    /// @notice Number of registered twins (twin ids are 1..twinCount).
    function twinCount() external view returns (uint256) {
        return _twinCount;
    }

    /// @notice K_j: number of twins associated with `bs`.
    /// @param bs The BS.
    function twinsOn(address bs) external view returns (uint256) {
        return _twinsOn[bs];
    }

    /// @notice Sum of D_DTi over the twins associated with `bs` (samples).
    /// @param bs The BS.
    function dataOn(address bs) external view returns (uint256) {
        return _dataOn[bs];
    }

    /// @notice Whether `twinIds` (strictly increasing) are exactly the twins associated with `bs`, and if so the sum
    /// of their data sizes (`dataOn(bs)`): an action that lists exactly the twins its BS hosts moves none of them, and
    /// its weight is read without reading every twin.
    /// @param bs The BS.
    /// @param twinIds The twins, strictly increasing (false otherwise).
    /// @return exact Whether they are exactly the twins on `bs`.
    /// @return dataSize Their data size sum when `exact`, else 0.
    function hostedExactly(address bs, uint256[] calldata twinIds)
        external
        view
        returns (bool exact, uint256 dataSize)
    {
        if (twinIds.length == 0 || twinIds.length != _twinsOn[bs] || !_hostsAll(bs, twinIds)) return (false, 0);
        return (true, _dataOn[bs]);
    }

    /// @notice Sum of D_DTi over all twins (samples).
    function totalData() external view returns (uint256) {
        return _totalData;
    }

    /// @notice The EIP-712 domain separator of the users' consents (this contract on this chain).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @dev Reverts {InvalidConsent} unless `consent` is `device`'s signature of the EIP-712 struct hash `structHash`.
    function _checkConsent(uint256 twinId, address device, bytes32 structHash, bytes calldata consent) private view {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(_hashTypedDataV4(structHash), consent);
        if (err != ECDSA.RecoverError.NoError || signer != device) revert InvalidConsent(twinId, signer, device);
    }

    /// @dev Move twin `t` (`twinId`) to `to` with its user's consent, unless it is there already; its data size.
    function _associate(uint256 twinId, Twin storage t, address to, uint256 slot, bytes calldata consent)
        private
        returns (uint64 size)
    {
        size = t.dataSize;
        address from = t.bs;
        if (from == to) return size;
        _checkConsent(twinId, t.device, keccak256(abi.encode(MOVE_TYPEHASH, twinId, to, slot)), consent);
        t.bs = to;
        --_twinsOn[from];
        ++_twinsOn[to];
        _dataOn[from] -= size;
        _dataOn[to] += size;
        uint256 bit = uint256(1) << (twinId & 0xff);
        _hostedBits[from][twinId >> 8] &= ~bit;
        _hostedBits[to][twinId >> 8] |= bit;
        emit TwinAssociated(twinId, from, to, size);
    }

    /// @dev Whether `bs` hosts every twin of `twinIds` (false unless they are strictly increasing).
    function _hostsAll(address bs, uint256[] calldata twinIds) private view returns (bool) {
        mapping(uint256 => uint256) storage hosted = _hostedBits[bs];
        uint256 wordIndex = type(uint256).max;
        uint256 word;
        uint256 previous;
        for (uint256 i = 0; i < twinIds.length; ++i) {
            uint256 twinId = twinIds[i];
            if (twinId <= previous) return false;
            previous = twinId;
            if (twinId >> 8 != wordIndex) {
                wordIndex = twinId >> 8;
                word = hosted[wordIndex];
            }
            if (word & (uint256(1) << (twinId & 0xff)) == 0) return false;
        }
        return true;
    }

    function _existing(uint256 twinId) private view returns (Twin storage t) {
        t = _twins[twinId];
        if (t.bs == address(0)) revert UnknownTwin(twinId);
    }

    function _hosted(uint256 twinId) private view returns (Twin storage t) {
        t = _existing(twinId);
        if (t.bs != msg.sender) revert NotTwinHost(twinId, msg.sender, t.bs);
    }
}
