// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {IBSRegistry} from "../membership/IBSRegistry.sol";
import {MemberGated} from "../membership/MemberGated.sol";
import {TrainingCoin} from "./TrainingCoin.sol";
import {IStakeVault} from "./IStakeVault.sol";

/// @title StakeVault
/// @notice Bonded training-coin stake (paper Section II-C): the stake that backs a BS's DPoS votes and its verdicts.
/// The Eq. 6 genesis allocation and model rewards are paid into the vault already bonded ({credit}); a member BS may
/// bond liquid coins ({bond}); leaving takes `unbondingDelay` ({unbond}, then {withdraw}); the protocol contracts
/// slash the bond and the unbonding queue ({slash}).
/// @dev Rules the vault enforces, each with the attack it stops:
/// - only bonded coins count ({bondedAt}), and an account's weight is its own bond: there is no delegation. Coins
///   moved to a second key count nowhere until that key bonds them, and then only from the time it bonds them, so a
///   BS cannot keep its weight on a key that holds nothing slashable, nor count the same coins twice at one snapshot;
/// - unbonding coins stay slashable for `unbondingDelay` (at least one DPoS epoch, set at deployment), and matured
///   entries until they are withdrawn: a BS that unbonds everything right before a slash still loses the full share;
/// - a slash takes `(bonded + unbonding) * bps / BPS`, from the bond first, then from the unbonding queue newest entry
///   first, and burns exactly what it takes: the BS's stake and the coin supply drop by the same amount, never more
///   (an honest co-holder is untouched) and never less (nothing escapes by sitting in the queue);
/// - credits are minted into the vault and bonded at once: a reward cannot be moved away before the next slash;
/// - at most `MAX_UNBONDING` entries are pending per account, so {withdraw} and {slash} loop over a bounded queue;
///   only the account itself adds entries, so no one else can fill its queue;
/// - {bondedAt} refuses the current and future timestamps (`FutureLookup`): a weight read "now" could still change
///   within the block.
/// The vault itself holds (and, by the coin's auto self-delegation, has the ERC20Votes weight of) every bonded and
/// unbonding coin; elections must read {bondedAt}, not the coin's votes.
contract StakeVault is IStakeVault, MemberGated, AccessControl {
    using Checkpoints for Checkpoints.Trace208;
    using SafeERC20 for TrainingCoin;

    /// @notice A pending unbonding: `amount` coins released to the owner at `releaseAt` (timestamp).
    struct Entry {
        uint192 amount;
        uint64 releaseAt;
    }

    struct Account {
        Checkpoints.Trace208 bondHistory; // bonded amount, keyed by timestamp; its latest value is the bond
        Entry[] queue; // pending unbondings, oldest first (increasing releaseAt); length <= MAX_UNBONDING
    }

    /// @notice Role of the protocol contracts (TrainingRounds, StakeGenesis, BlockLedger) that credit and slash.
    bytes32 public constant PROTOCOL_ROLE = keccak256("PROTOCOL_ROLE");
    /// @notice Denominator of a slash's `bps`.
    uint256 public constant BPS = 10_000;
    /// @notice Maximum number of pending unbonding entries per account (bounds the loops of withdraw and slash).
    uint256 public constant MAX_UNBONDING = 8;

    /// @notice The training coins held by the vault (it needs the coin's PROTOCOL_ROLE to mint and burn).
    TrainingCoin public immutable coin;
    /// @notice Seconds between {unbond} and the earliest {withdraw} of those coins (at least one DPoS epoch).
    uint64 public immutable unbondingDelay;

    mapping(address account => Account) private _accounts;
    uint256 private _totalBonded;

    /// @notice `amount` new coins were minted and bonded to `bs` (genesis allocation or reward).
    event Credited(address indexed bs, uint256 amount);
    /// @notice `bs` bonded `amount` of its liquid coins.
    event Bonded(address indexed bs, uint256 amount);
    /// @notice `bs` moved `amount` from its bond to its unbonding queue, withdrawable from `releaseAt`.
    event UnbondingStarted(address indexed bs, uint256 amount, uint64 releaseAt);
    /// @notice `bs` withdrew `amount` matured coins as liquid coins.
    event Withdrawn(address indexed bs, uint256 amount);
    /// @notice `bs` was slashed `bps` of its stake: `fromBond + fromUnbonding` coins were burned.
    event Slashed(address indexed bs, uint256 bps, uint256 fromBond, uint256 fromUnbonding);

    /// @dev A parameter is out of range (a zero unbonding delay, a slash above `BPS`).
    error InvalidParameter();
    /// @dev A bond, unbond or withdrawal of zero coins.
    error ZeroAmount();
    /// @dev The caller's bond `bonded` is less than the `amount` it tried to unbond.
    error InsufficientBond(uint256 bonded, uint256 amount);
    /// @dev `MAX_UNBONDING` entries are pending already; withdraw the matured ones first.
    error UnbondingQueueFull();
    /// @dev No unbonding entry of the caller has matured.
    error NothingToWithdraw();
    /// @dev A past-bond lookup at or after the current timestamp `currentClock`.
    error FutureLookup(uint256 timepoint, uint48 currentClock);

    /// @param registry_ The BS membership (only members bond).
    /// @param coin_ The training coins (the vault needs their PROTOCOL_ROLE).
    /// @param admin Receives DEFAULT_ADMIN_ROLE, to grant PROTOCOL_ROLE to the protocol contracts at deployment.
    /// @param unbondingDelay_ Seconds from unbonding to withdrawal (positive; at least one DPoS epoch).
    constructor(IBSRegistry registry_, TrainingCoin coin_, address admin, uint64 unbondingDelay_)
        MemberGated(registry_)
    {
        if (address(coin_) == address(0) || admin == address(0)) revert ZeroAddress();
        if (unbondingDelay_ == 0) revert InvalidParameter();
        coin = coin_;
        unbondingDelay = unbondingDelay_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Mint `amount` new coins into the vault and bond them to `bs`: the Eq. 6 allocation and model rewards
    /// are paid bonded. Only a protocol contract. A zero `amount` is a no-op (no event), so a protocol configured with
    /// a zero reward still settles.
    /// @dev Paying bonded stops a BS from moving a fresh reward away before a slash can reach it.
    /// @param bs The BS credited.
    /// @param amount Coins minted and bonded (coin base units).
    function credit(address bs, uint256 amount) external onlyRole(PROTOCOL_ROLE) {
        if (bs == address(0)) revert ZeroAddress();
        if (amount == 0) return;
        _addBond(bs, amount);
        emit Credited(bs, amount);
        coin.mint(address(this), amount);
    }

    /// @notice {credit} `amounts[i]` to `bss[i]` for every i (in that order; zero amounts are skipped, no event), and
    /// mint their sum into the vault once. Only a protocol contract (a round's settlement pays its rewards with one
    /// call: one `Credited` per listed BS, one mint).
    /// @param bss The BSs credited.
    /// @param amounts Coins minted and bonded to each (coin base units).
    function creditMany(address[] calldata bss, uint256[] calldata amounts) external onlyRole(PROTOCOL_ROLE) {
        if (bss.length != amounts.length) revert InvalidParameter();
        uint256 total;
        for (uint256 i = 0; i < bss.length; ++i) {
            address bs = bss[i];
            uint256 amount = amounts[i];
            if (bs == address(0)) revert ZeroAddress();
            if (amount == 0) continue;
            Account storage a = _accounts[bs];
            _setBond(a, a.bondHistory.latest() + amount);
            total += amount;
            emit Credited(bs, amount);
        }
        if (total == 0) return;
        _totalBonded += total;
        coin.mint(address(this), total);
    }

    /// @notice Bond `amount` of the caller's liquid coins (pulled with `transferFrom`; approve the vault first).
    /// Only a member BS.
    /// @dev The coins count in {bondedAt} from this block's timestamp on, never before: coins withdrawn by one BS and
    /// bonded by another are not counted twice at a past snapshot.
    /// @param amount Coins bonded (coin base units, positive).
    function bond(uint256 amount) external onlyMember {
        if (amount == 0) revert ZeroAmount();
        _addBond(msg.sender, amount);
        emit Bonded(msg.sender, amount);
        coin.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Move `amount` of the caller's bond to its unbonding queue, withdrawable after `unbondingDelay`. Any
    /// account with a bond may unbond (a removed BS too).
    /// @dev The coins stop counting at once but stay slashable until withdrawn: unbonding cannot escape a slash.
    /// @param amount Coins unbonded (positive, at most the bond and below 2^192).
    function unbond(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        Account storage a = _accounts[msg.sender];
        uint256 bonded = a.bondHistory.latest();
        if (amount > bonded) revert InsufficientBond(bonded, amount);
        if (a.queue.length >= MAX_UNBONDING) revert UnbondingQueueFull();
        uint64 releaseAt = uint64(block.timestamp) + unbondingDelay;
        a.queue.push(Entry(SafeCast.toUint192(amount), releaseAt));
        _setBond(a, bonded - amount);
        _totalBonded -= amount;
        emit UnbondingStarted(msg.sender, amount, releaseAt);
    }

    /// @notice Transfer every matured unbonding entry (`releaseAt <= block.timestamp`) of the caller to it as liquid
    /// coins.
    /// @dev The queue is kept compact (oldest first, pending entries only), so matured entries are a prefix.
    /// @return amount The coins withdrawn.
    function withdraw() external returns (uint256 amount) {
        Entry[] storage q = _accounts[msg.sender].queue;
        uint256 n = q.length;
        uint256 matured;
        while (matured < n && q[matured].releaseAt <= block.timestamp) {
            amount += q[matured].amount;
            ++matured;
        }
        if (matured == 0) revert NothingToWithdraw();
        for (uint256 i = matured; i < n; ++i) {
            q[i - matured] = q[i];
        }
        for (uint256 i = 0; i < matured; ++i) {
            q.pop();
        }
        emit Withdrawn(msg.sender, amount);
        coin.safeTransfer(msg.sender, amount);
    }

    /// @notice Slash `bps` of `bs`'s stake: burn `(bonded + unbonding) * bps / BPS` coins, taken from the bond first,
    /// then from the unbonding queue newest entry first. Only a protocol contract. A BS with nothing to take (no
    /// stake, or a share that rounds to 0) is left as it is: returns 0, no event.
    /// @dev Taking from the queue too stops a BS from escaping a slash by unbonding right before it; burning exactly
    /// the amount taken keeps the supply equal to what is bonded, unbonding and liquid.
    /// @param bs The BS slashed (a removed BS too).
    /// @param bps Share of its stake burned, in basis points (at most `BPS`).
    /// @return slashed The coins burned.
    function slash(address bs, uint256 bps) external onlyRole(PROTOCOL_ROLE) returns (uint256 slashed) {
        if (bps > BPS) revert InvalidParameter();
        Account storage a = _accounts[bs];
        uint256 bonded = a.bondHistory.latest();
        slashed = ((bonded + _unbonding(a.queue)) * bps) / BPS;
        if (slashed == 0) return 0;
        uint256 fromBond = Math.min(slashed, bonded);
        if (fromBond != 0) {
            _setBond(a, bonded - fromBond);
            _totalBonded -= fromBond;
        }
        uint256 rest = slashed - fromBond;
        Entry[] storage q = a.queue;
        while (rest != 0) {
            Entry storage e = q[q.length - 1];
            uint256 entryAmount = e.amount;
            if (entryAmount <= rest) {
                rest -= entryAmount;
                q.pop();
            } else {
                e.amount = uint192(entryAmount - rest); // < entryAmount, which fits
                rest = 0;
            }
        }
        emit Slashed(bs, bps, fromBond, slashed - fromBond);
        coin.burn(address(this), slashed);
    }

    /// @notice The current bond of `bs`.
    /// @param bs The account.
    function bondedOf(address bs) external view returns (uint256) {
        return _accounts[bs].bondHistory.latest();
    }

    /// @notice The coins `bs` is unbonding: every pending entry, matured or not, until withdrawn. Matured coins not
    /// yet withdrawn are still slashable.
    /// @param bs The account.
    function unbondingOf(address bs) external view returns (uint256) {
        return _unbonding(_accounts[bs].queue);
    }

    /// @notice The slashable stake of `bs`.
    /// @param bs The account.
    /// @return bonded Its bond (the part that counts in elections and verdicts).
    /// @return unbonding Its pending unbonding entries (matured or not).
    function stakeOf(address bs) external view returns (uint256 bonded, uint256 unbonding) {
        Account storage a = _accounts[bs];
        return (a.bondHistory.latest(), _unbonding(a.queue));
    }

    /// @notice The bond of `bs` at the end of past timestamp `timepoint` (the weight elections and verdicts read).
    /// @dev Refuses `timepoint >= clock()`: the bond at the current timestamp may still change in this block.
    /// @param bs The account.
    /// @param timepoint A timestamp before the current block's.
    function bondedAt(address bs, uint256 timepoint) external view returns (uint256) {
        uint48 currentClock = clock();
        if (timepoint >= currentClock) revert FutureLookup(timepoint, currentClock);
        return _accounts[bs].bondHistory.upperLookupRecent(SafeCast.toUint48(timepoint));
    }

    /// @notice {bondedAt} of every account of `bss`.
    /// @param bss The accounts.
    /// @param timepoint A timestamp before the current block's.
    function bondedAtMany(address[] calldata bss, uint256 timepoint) external view returns (uint256[] memory bonds) {
        uint48 currentClock = clock();
        if (timepoint >= currentClock) revert FutureLookup(timepoint, currentClock);
        uint48 t = SafeCast.toUint48(timepoint);
        bonds = new uint256[](bss.length);
        for (uint256 i = 0; i < bss.length; ++i) {
            bonds[i] = _accounts[bss[i]].bondHistory.upperLookupRecent(t);
        }
    }

    /// @notice The sum of every account's bond (unbonding coins excluded).
    function totalBonded() external view returns (uint256) {
        return _totalBonded;
    }

    /// @notice The pending unbonding entries of `bs`, oldest first (at most `MAX_UNBONDING`).
    /// @param bs The account.
    function unbondingEntries(address bs) external view returns (Entry[] memory) {
        return _accounts[bs].queue;
    }

    /// @notice ERC-6372 clock: bonds are checkpointed by block timestamp, like the coin's votes.
    function clock() public view returns (uint48) {
        return Time.timestamp();
    }

    /// @notice ERC-6372 clock mode.
    function CLOCK_MODE() external pure returns (string memory) {
        return "mode=timestamp";
    }

    function _addBond(address bs, uint256 amount) private {
        Account storage a = _accounts[bs];
        _setBond(a, a.bondHistory.latest() + amount);
        _totalBonded += amount;
    }

    function _setBond(Account storage a, uint256 bonded) private {
        a.bondHistory.push(clock(), SafeCast.toUint208(bonded));
    }

    function _unbonding(Entry[] storage q) private view returns (uint256 sum) {
        uint256 n = q.length;
        for (uint256 i = 0; i < n; ++i) {
            sum += q[i].amount;
        }
    }
}
