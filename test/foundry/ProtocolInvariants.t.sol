// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {console} from "forge-std/console.sol";
import {IBSRegistry} from "../../contracts/membership/IBSRegistry.sol";
import {BSRegistry} from "../../contracts/membership/BSRegistry.sol";
import {TrainingCoin} from "../../contracts/token/TrainingCoin.sol";
import {RecordLog} from "../../contracts/records/RecordLog.sol";
import {TwinRegistry} from "../../contracts/twins/TwinRegistry.sol";
import {TrainingRounds} from "../../contracts/fl/TrainingRounds.sol";
import {AssociationLedger} from "../../contracts/twins/AssociationLedger.sol";
import {StakeGenesis} from "../../contracts/token/StakeGenesis.sol";
import {ProducerElection} from "../../contracts/consensus/ProducerElection.sol";
import {BlockLedger} from "../../contracts/consensus/BlockLedger.sol";
import {ProtocolHandler, Deployed} from "./ProtocolHandler.sol";

/// @title ProtocolInvariants
/// @notice Stateful fuzzing of the whole protocol with forge (`npm run fuzz`: 256 runs x depth 500; `npm test` runs
/// the short `ci` profile). The protocol is deployed as the Ignition module deploys it (every role wired, every
/// admin role renounced), with five BSs of two twins each and the Eq. 6 coins. After every call the invariants below
/// must hold; forge prints the calls and reverts of every handler action (show_metrics), and a scripted round
/// (`test_everyActionSucceedsInAScriptedRound`) shows that every action can succeed, so a campaign whose calls are
/// all refused cannot pass unnoticed.
contract ProtocolInvariants {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    address private constant OPERATOR = address(0xB0B);

    Deployed private d;
    ProtocolHandler private handler;
    address[] private bss;

    function setUp() public {
        VM.warp(1_000_000);
        d.registry = new BSRegistry(OPERATOR);
        d.coin = new TrainingCoin(address(this));
        d.recordLog = new RecordLog(address(this));
        d.twins = new TwinRegistry(IBSRegistry(address(d.registry)), d.recordLog, address(this), 60_000);
        d.rounds = new TrainingRounds(IBSRegistry(address(d.registry)), d.coin, d.recordLog, 10e18, 1_000, 60, 5_000);
        d.ledger = new AssociationLedger(IBSRegistry(address(d.registry)), d.twins, d.rounds, 4, 16, 128);
        StakeGenesis genesis = new StakeGenesis(IBSRegistry(address(d.registry)), d.coin, d.twins, 1_000e18);
        d.election = new ProducerElection(IBSRegistry(address(d.registry)), d.coin, 0, 12, 10, 3, 2, address(this));
        d.blocks = new BlockLedger(IBSRegistry(address(d.registry)), d.election, d.recordLog, d.coin, 1_000);
        // the wiring of ignition/modules/Dtwn.ts, then the deployer gives up its powers
        d.coin.grantRole(d.coin.PROTOCOL_ROLE(), address(d.rounds));
        d.coin.grantRole(d.coin.PROTOCOL_ROLE(), address(genesis));
        d.coin.grantRole(d.coin.PROTOCOL_ROLE(), address(d.blocks));
        d.recordLog.grantRole(d.recordLog.WRITER_ROLE(), address(d.twins));
        d.recordLog.grantRole(d.recordLog.WRITER_ROLE(), address(d.rounds));
        d.twins.grantRole(d.twins.ASSOCIATOR_ROLE(), address(d.ledger));
        d.election.grantRole(d.election.JAILER_ROLE(), address(d.blocks));
        d.rounds.wireActionRecords(d.ledger);
        d.coin.renounceRole(bytes32(0), address(this));
        d.recordLog.renounceRole(bytes32(0), address(this));
        d.twins.renounceRole(bytes32(0), address(this));
        d.election.renounceRole(bytes32(0), address(this));

        for (uint256 i = 0; i < 5; ++i) {
            address bs = address(uint160(0xB500 + i));
            bss.push(bs);
            VM.prank(OPERATOR);
            d.registry.admit(bs);
            for (uint256 k = 0; k < 2; ++k) {
                VM.prank(bs);
                uint256 id = d.twins.registerTwin(keccak256(abi.encode("user", i, k)));
                VM.prank(bs);
                d.twins.recordTwinData(id, uint64(100 * (i + 1)), keccak256(abi.encode(id)), bytes32(0));
            }
            VM.prank(bs);
            d.election.registerCandidate();
        }
        VM.prank(OPERATOR);
        genesis.allocate();
        handler = new ProtocolHandler(d, OPERATOR, bss, block.timestamp + 1);
    }

    /// @notice forge fuzzes the handler's actions only.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice No attack the handler tried was accepted, and every settlement and weight matched the rules.
    function invariant_noAcceptedAttack() public view {
        require(!handler.violation(), handler.violationReason());
    }

    /// @notice Coins exist only at the BSs: the supply is the sum of their balances (mints and burns are the protocol's).
    function invariant_supplyIsTheBssBalances() public view {
        uint256 sum;
        for (uint256 i = 0; i < bss.length; ++i) sum += d.coin.balanceOf(bss[i]);
        require(d.coin.totalSupply() == sum, "supply != sum of the BSs' balances");
    }

    /// @notice Every twin is on one BS and the per-BS data sums add up to the total (Eq. 6's denominator).
    function invariant_twinAccounting() public view {
        uint256 twins;
        uint256 data;
        for (uint256 i = 0; i < bss.length; ++i) {
            twins += d.twins.twinsOn(bss[i]);
            data += d.twins.dataOn(bss[i]);
        }
        require(twins == d.twins.twinCount(), "sum of twinsOn != twinCount");
        require(data == d.twins.totalData(), "sum of dataOn != totalData");
    }

    /// @notice Each model record weighs what its BS's committed action recorded, and never more than the BS's twins'
    /// recorded data share of the total.
    function invariant_weightsFromCommittedActions() public view {
        uint256 rounds = d.rounds.currentRound();
        for (uint256 r = 1; r <= rounds; ++r) {
            address[] memory subs = d.rounds.submitters(r);
            for (uint256 i = 0; i < subs.length; ++i) {
                TrainingRounds.Submission memory s = d.rounds.submission(r, subs[i]);
                (uint32 k, uint64 data) = d.ledger.committedAction(r, subs[i]);
                require(s.dataSize == data && s.numTwins == k, "a model's weight is not its committed action's");
                require(s.dataSize == handler.committedData(r, subs[i]), "a model's weight differs from the ghost");
            }
        }
    }

    /// @notice Round r > 1 starts from the global model round r-1 recorded.
    function invariant_roundsContinue() public view {
        uint256 rounds = d.rounds.currentRound();
        for (uint256 r = 2; r <= rounds; ++r) {
            require(
                keccak256(d.rounds.getRound(r).globalCid) == keccak256(d.rounds.getRound(r - 1).newGlobalCid),
                "a round opened from a CID its predecessor did not record"
            );
        }
    }

    /// @notice Every final block's root is the Merkle root of its records, and final blocks tile [0, packedUpTo).
    function invariant_finalBlocksAreTheRecords() public view {
        uint256 n = d.blocks.blockCount();
        uint256 next;
        for (uint256 id = 0; id < n; ++id) {
            BlockLedger.Block memory b = d.blocks.getBlock(id);
            if (b.status != BlockLedger.BlockStatus.Final) continue;
            require(b.fromRecord == next, "final blocks do not tile the record log");
            require(b.root == handler.merkleRoot(b.fromRecord, b.toRecord), "a final block's root is not its records'");
            require(b.producerCount >= 3, "a block final with fewer than 3 producers");
            next = b.toRecord;
        }
        require(next == d.blocks.packedUpTo(), "packedUpTo is not the end of the final blocks");
    }

    /// @notice Every handler action can succeed on the deployed protocol (so the campaign's calls are not all
    /// refused): one scripted round through every action, each of which must not revert.
    function test_everyActionSucceedsInAScriptedRound() public {
        handler.openRound(0);
        for (uint256 i = 0; i < 5; ++i) handler.commit(i, 1, 32); // its own twins, batch 48
        for (uint256 i = 0; i < 5; ++i) handler.submit(i);
        for (uint256 j = 0; j < 5; ++j) for (uint256 k = 1; k <= 3; ++k) handler.verify(j + k, j, 0); // passes
        handler.settle(true);
        handler.record(true, 0); // first tries to leave a passed model out
        handler.attackOpenFromOtherCid(1);
        handler.openRound(0);
        handler.twinData(0, 123);
        handler.transfer(0, 1, 5);
        for (uint256 i = 0; i < 5; ++i) handler.vote(i, 0x1f);
        handler.elect(true);
        handler.propose(1000, true); // first tries a bogus root
        bool validated;
        for (uint256 k = 0; k < 3 && !validated; ++k) {
            try handler.validate(k, true) {
                validated = true;
            } catch {} // the proposer itself cannot validate
        }
        require(validated, "no producer could validate the block");
        handler.warp(5);
        require(!handler.violation(), handler.violationReason());
        require(handler.successes() == 41, "an action did not count its success"); // 40 + the one validation that succeeded
        require(d.rounds.submission(1, bss[0]).outcome == TrainingRounds.Outcome.Passed, "an honest model did not pass");
        require(d.blocks.finalBlockCount() == 1, "the block did not become final");
        console.log("scripted round: 41 actions succeeded, block final");
    }
}
