// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {console} from "forge-std/console.sol";
import {IBSRegistry} from "../../contracts/membership/IBSRegistry.sol";
import {BSRegistry} from "../../contracts/membership/BSRegistry.sol";
import {UserRegistry} from "../../contracts/membership/UserRegistry.sol";
import {TrainingCoin} from "../../contracts/token/TrainingCoin.sol";
import {StakeVault} from "../../contracts/token/StakeVault.sol";
import {RecordLog} from "../../contracts/records/RecordLog.sol";
import {TwinRegistry} from "../../contracts/twins/TwinRegistry.sol";
import {TrainingRounds} from "../../contracts/fl/TrainingRounds.sol";
import {AcceptanceRule} from "../../contracts/fl/AcceptanceRule.sol";
import {AssociationLedger} from "../../contracts/twins/AssociationLedger.sol";
import {StakeGenesis} from "../../contracts/token/StakeGenesis.sol";
import {ProducerElection} from "../../contracts/consensus/ProducerElection.sol";
import {BlockLedger} from "../../contracts/consensus/BlockLedger.sol";
import {ProtocolHandler, Deployed, Devices, RecordFields, VmLogs} from "./ProtocolHandler.sol";

/// @title ProtocolInvariants
/// @notice Stateful fuzzing of the whole protocol with forge (`npm run fuzz`: 256 runs x depth 500; `npm test` runs
/// the short `ci` profile). The protocol is deployed as the Ignition module deploys it (every role wired, every
/// admin role renounced), with 16 end users admitted by the operator with their device keys, five BSs of two twins
/// each (registered and recorded with their devices' consents; 6 users left for the campaign to register) and the
/// Eq. 6 stake credited bonded. After every call the
/// invariants below must hold; forge prints the calls and reverts of every handler action (show_metrics), and a
/// scripted round (`test_everyActionSucceedsInAScriptedRound`) shows that every action can succeed, so a campaign
/// whose calls are all refused cannot pass unnoticed.
contract ProtocolInvariants {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    VmLogs private constant VML = VmLogs(address(uint160(uint256(keccak256("hevm cheat code")))));
    address private constant OPERATOR = address(0xB0B);
    /// @dev 12 minutes (the deployment default is a day): withdrawals happen within a run, and a round may last up to
    /// 360 s (RoundTooLong): its deadline at most 270 s after opening, then the commit (60 s) and reveal (30 s) windows.
    uint64 private constant UNBONDING_DELAY = 720;
    /// @dev End users admitted at deployment: 10 with a twin (2 per BS), 6 for the campaign's registrations (the
    /// handler's commits list twin ids 1..16).
    uint256 private constant USERS = 16;

    Deployed private d;
    ProtocolHandler private handler;
    address[] private bss;

    function setUp() public {
        VM.warp(1_000_000);
        d.registry = new BSRegistry(OPERATOR);
        d.coin = new TrainingCoin(address(this));
        d.recordLog = new RecordLog(address(this));
        d.stake = new StakeVault(IBSRegistry(address(d.registry)), d.coin, address(this), UNBONDING_DELAY);
        d.users = new UserRegistry(IBSRegistry(address(d.registry)));
        d.twins = new TwinRegistry(IBSRegistry(address(d.registry)), d.users, d.recordLog, address(this), 60_000);
        d.rounds = new TrainingRounds(
            IBSRegistry(address(d.registry)),
            d.stake,
            d.recordLog,
            TrainingRounds.Config({
                rewardPerModel: 10e18,
                slashBps: 1_000,
                verificationWindow: 60,
                revealWindow: 30,
                quorumBps: 5_000,
                verifierReward: 1e18,
                withheldSlashBps: 500
            })
        );
        d.ledger = new AssociationLedger(IBSRegistry(address(d.registry)), d.twins, d.rounds, 4, 16, 128);
        StakeGenesis genesis = new StakeGenesis(IBSRegistry(address(d.registry)), d.stake, d.twins, 1_000e18);
        d.election = new ProducerElection(IBSRegistry(address(d.registry)), d.stake, 0, 12, 10, 3, 2, address(this));
        d.blocks = new BlockLedger(IBSRegistry(address(d.registry)), d.election, d.recordLog, d.stake, 1_000);
        // the wiring of ignition/modules/Dtwn.ts, then the deployer gives up its powers
        d.coin.grantRole(d.coin.PROTOCOL_ROLE(), address(d.stake));
        d.stake.grantRole(d.stake.PROTOCOL_ROLE(), address(d.rounds));
        d.stake.grantRole(d.stake.PROTOCOL_ROLE(), address(genesis));
        d.stake.grantRole(d.stake.PROTOCOL_ROLE(), address(d.blocks));
        d.recordLog.grantRole(d.recordLog.WRITER_ROLE(), address(d.twins));
        d.recordLog.grantRole(d.recordLog.WRITER_ROLE(), address(d.rounds));
        d.twins.grantRole(d.twins.ASSOCIATOR_ROLE(), address(d.ledger));
        d.election.grantRole(d.election.JAILER_ROLE(), address(d.blocks));
        d.rounds.wireActionRecords(d.ledger);
        d.coin.renounceRole(bytes32(0), address(this));
        d.stake.renounceRole(bytes32(0), address(this));
        d.recordLog.renounceRole(bytes32(0), address(this));
        d.twins.renounceRole(bytes32(0), address(this));
        d.election.renounceRole(bytes32(0), address(this));

        // the operator admits the end users with their device keys (as the bootstrap of src/chain/bootstrap.ts)
        bytes32[] memory userIds = new bytes32[](USERS);
        address[] memory devices = new address[](USERS);
        for (uint256 u = 0; u < USERS; ++u) (userIds[u], devices[u]) = (Devices.userId(u), VM.addr(Devices.key(u)));
        VM.prank(OPERATOR);
        d.users.admitUsers(userIds, devices);
        require(Devices.domain(d.twins) == d.twins.domainSeparator(), "the consents' domain is not EIP712(dtwn TwinRegistry, 1)");
        VML.recordLogs(); // the twin data records' RecordAppended events, for the handler's ghost of the record log
        for (uint256 i = 0; i < 5; ++i) {
            address bs = address(uint160(0xB500 + i));
            bss.push(bs);
            VM.prank(OPERATOR);
            d.registry.admit(bs);
            for (uint256 k = 0; k < 2; ++k) _registerWithData(2 * i + k, bs, uint64(100 * (i + 1)));
            VM.prank(bs);
            d.election.registerCandidate();
        }
        VM.prank(OPERATOR);
        genesis.allocate();
        handler = new ProtocolHandler(d, OPERATOR, bss, USERS, block.timestamp + 1, VML.getRecordedLogs());
    }

    /// @dev User `u`'s twin on `bs` with one data record of `size` samples, both signed by the user's device.
    function _registerWithData(uint256 u, address bs, uint64 size) private {
        uint256 key = Devices.key(u);
        bytes memory consent = Devices.registration(d.twins, key, Devices.userId(u), bs);
        VM.prank(bs);
        uint256 id = d.twins.registerTwin(Devices.userId(u), consent);
        consent = Devices.data(d.twins, key, id, bs, size, keccak256(abi.encode(id)), bytes32(0), 1);
        VM.prank(bs);
        d.twins.recordTwinData(id, size, keccak256(abi.encode(id)), bytes32(0), consent);
    }

    /// @notice forge fuzzes the handler's actions only.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice No attack the handler tried was accepted, and every settlement (outcomes, model and verifier rewards
    /// and slashes), verdict weight and model weight matched the rules.
    function invariant_noAcceptedAttack() public view {
        require(!handler.violation(), handler.violationReason());
    }

    /// @notice Stake conservation: coins exist only as the BSs' liquid balances and the vault's holdings; the vault
    /// holds exactly every bond and every unbonding coin (plus what was transferred to it, which nobody can move);
    /// totalBonded is the sum of the bonds; and the supply is what the vault minted (the Eq. 6 allocation and the
    /// credits) minus what it burned (the slashes).
    function invariant_stakeConservation() public view {
        uint256 liquid;
        uint256 bonded;
        uint256 unbonding;
        for (uint256 i = 0; i < bss.length; ++i) {
            liquid += d.coin.balanceOf(bss[i]);
            (uint256 b, uint256 u) = d.stake.stakeOf(bss[i]);
            bonded += b;
            unbonding += u;
        }
        uint256 vault = d.coin.balanceOf(address(d.stake));
        require(d.coin.totalSupply() == liquid + vault, "supply != liquid balances + the vault's coins");
        require(vault == bonded + unbonding + handler.donated(), "the vault's coins != bonded + unbonding (+ transferred)");
        require(d.stake.totalBonded() == bonded, "totalBonded != sum of the bonds");
        require(d.coin.totalSupply() == handler.minted() - handler.burned(), "supply != credited - slashed");
    }

    /// @notice Slash exactness: every BS's bond and unbonding coins are exactly what the vault's events made them
    /// (credits + bonds - unbondings - withdrawals - slashes, replayed call by call), and every slash of every call
    /// took (bonded + unbonding) x bps / 10000 of the stake it found, bond first, and burned exactly that.
    function invariant_slashesExact() public view {
        require(!handler.stakeViolation(), handler.stakeViolationReason());
        for (uint256 i = 0; i < bss.length; ++i) {
            (uint256 b, uint256 u) = d.stake.stakeOf(bss[i]);
            require(b == handler.ghostBonded(bss[i]) && u == handler.ghostUnbonding(bss[i]), "a stake differs from its events");
        }
    }

    /// @notice Every settled model's outcome is AcceptanceRule.decide over its stored pass and fail stakes out of the
    /// snapshot bonds of every other member, and those stakes are the sums of the weights (snapshot bonds) of the
    /// revealed ballots that judged it. Checked on the current round: a round is settled while it is the current one
    /// and never changes afterwards, so every settled round is checked right after its settlement.
    function invariant_outcomesFollowTheRule() public {
        VM.warp(handler.now_()); // bondedAt reads only past instants
        uint256 r = d.rounds.currentRound();
        if (r == 0) return;
        TrainingRounds.Round memory round = d.rounds.getRound(r);
        if (round.status != TrainingRounds.RoundStatus.Settled && round.status != TrainingRounds.RoundStatus.Finalized) return;
        uint256 memberStake;
        for (uint256 j = 0; j < bss.length; ++j) memberStake += d.stake.bondedAt(bss[j], round.snapshot);
        address[] memory committers = d.rounds.committers(r);
        TrainingRounds.Ballot[] memory ballots = new TrainingRounds.Ballot[](committers.length);
        for (uint256 k = 0; k < committers.length; ++k) {
            ballots[k] = d.rounds.ballot(r, committers[k]);
            require(!ballots[k].revealed || ballots[k].weight == d.stake.bondedAt(committers[k], round.snapshot), "a verdict weighs other than the snapshot bond");
        }
        address[] memory subs = d.rounds.submitters(r);
        for (uint256 i = 0; i < subs.length; ++i) {
            TrainingRounds.Submission memory s = d.rounds.submission(r, subs[i]);
            uint256 pass;
            uint256 fail;
            for (uint256 k = 0; k < ballots.length; ++k) {
                if (!ballots[k].revealed) continue;
                if (ballots[k].passBits & (1 << i) != 0) pass += ballots[k].weight;
                if (ballots[k].failBits & (1 << i) != 0) fail += ballots[k].weight;
            }
            require(s.passStake == pass && s.failStake == fail, "a model's stakes are not its revealed verdicts' weights");
            uint256 eligible = memberStake - d.stake.bondedAt(subs[i], round.snapshot);
            AcceptanceRule.Decision dec = AcceptanceRule.decide(s.passStake, s.failStake, eligible, d.rounds.quorumBps());
            TrainingRounds.Outcome expected = dec == AcceptanceRule.Decision.Passed
                ? TrainingRounds.Outcome.Passed
                : dec == AcceptanceRule.Decision.Failed ? TrainingRounds.Outcome.Failed : TrainingRounds.Outcome.Unverified;
            require(s.outcome == expected, "an outcome differs from AcceptanceRule.decide over the stored stakes");
        }
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

    /// @notice Consent (issue class 2): no twin was registered, moved or given a data record without its user's
    /// device's signature. The handler's ghost twins change only in the calls it signed for (a registration, a move
    /// in a committed action, a data record), so every twin's host, data size, data version and device must be the
    /// ghost's, and every admitted user's twin the one the ghost registered; the device must be the user's key in the
    /// UserRegistry. A forged consent the chain accepted would leave the chain ahead of the ghost here (and set
    /// `violation` in the handler).
    function invariant_twinsChangeOnlyWithConsent() public view {
        uint256 count = d.twins.twinCount();
        require(count == handler.ghostTwinCount(), "a twin was registered without its device's consent");
        for (uint256 id = 1; id <= count; ++id) {
            TwinRegistry.Twin memory t = d.twins.twin(id);
            require(t.bs == handler.ghostHost(id), "a twin moved without its device's consent");
            require(
                t.dataSize == handler.ghostDataSize(id) && t.dataVersion == handler.ghostDataVersion(id),
                "a twin's data changed without its device's consent"
            );
            require(t.device == handler.ghostDevice(id) && t.device == d.users.deviceOf(t.userId), "a twin's device is not its user's key");
        }
        for (uint256 u = 0; u < USERS; ++u) {
            require(d.twins.twinOfUser(Devices.userId(u)) == handler.ghostTwinOfUser(u), "a user's twin is not the one it consented to");
        }
    }

    /// @notice No BS's Eq. 5 weight exceeds its twins' recorded data share: each model record weighs what its BS's
    /// committed action recorded (the data its listed twins had on record then, never an argument of the BS), and
    /// the models of a round together weigh at most the data of the twins listed in the slot (no twin counts twice).
    /// Checked on the current round: models are submitted only to it, and a record never changes afterwards.
    function invariant_weightsAtMostTheDataShare() public view {
        uint256 r = d.rounds.currentRound();
        if (r == 0) return;
        address[] memory subs = d.rounds.submitters(r);
        uint256 total;
        for (uint256 i = 0; i < subs.length; ++i) {
            TrainingRounds.Submission memory s = d.rounds.submission(r, subs[i]);
            (uint32 k, uint64 data) = d.ledger.committedAction(r, subs[i]);
            require(s.dataSize == data && s.numTwins == k, "a model's weight is not its committed action's");
            require(s.dataSize == handler.committedData(r, subs[i]), "a model's weight differs from its twins' data");
            total += s.dataSize;
        }
        require(total <= handler.claimedData(r), "a round's models weigh more than the data of its listed twins");
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

    /// @notice Attestation of the global model (issue class 7): a round r > 1 is open only if round r-1 passed no model
    /// (its global model is the one it trained from) or, by attestationTally, BSs holding the quorum attested its new
    /// global model and BSs holding the quorum did not dispute it; never when the MBS forged it (the handler's ghost,
    /// whose honest BSs, holding the quorum, dispute it). A round's tally no longer changes once the next round opens.
    function invariant_roundsOpenOnlyFromAttestedModels() public {
        VM.warp(handler.now_()); // the quorum reads snapshot bonds, which are past instants only
        uint256 rounds = d.rounds.currentRound();
        for (uint256 r = 2; r <= rounds; ++r) {
            require(!handler.forgedGlobal(r - 1), "a round opened from a forged global model");
            if (d.rounds.getRound(r - 1).passed == 0) continue;
            (uint256 attested, uint256 disputed, uint256 quorum) = d.rounds.attestationTally(r - 1);
            require(quorum == handler.attestationQuorum(r - 1), "the attestation quorum is not quorumBps of the snapshot stake");
            require(attested >= quorum, "a round opened from a global model the quorum did not attest");
            require(disputed < quorum, "a round opened from a global model the quorum disputed");
        }
    }

    /// @notice Every round's attest and dispute stakes on chain are the handler's ghost sums (the snapshot bonds of the
    /// words given, added call by call), every BS's stored word is the one it gave, and the quorum of every round (its
    /// base fixed at the opening) is quorumBps of the five members' snapshot bonds, rounded up.
    function invariant_attestationTallyIsTheGhost() public {
        VM.warp(handler.now_());
        uint256 rounds = d.rounds.currentRound();
        for (uint256 r = 1; r <= rounds; ++r) {
            (uint256 attested, uint256 disputed, uint256 quorum) = d.rounds.attestationTally(r);
            require(attested == handler.ghostAttestStake(r), "a round's attest stake is not the ghost's");
            require(disputed == handler.ghostDisputeStake(r), "a round's dispute stake is not the ghost's");
            require(quorum == handler.attestationQuorum(r), "the attestation quorum is not quorumBps of the snapshot stake");
            for (uint256 i = 0; i < bss.length; ++i) {
                require(d.rounds.attestation(r, bss[i]) == handler.ghostAttestation(r, bss[i]), "a BS's word is not the one it gave");
            }
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

    /// @notice Every record's leaf is keccak256(abi.encode(index, kind, payloadHash, appendedAt)) of the fields its
    /// RecordAppended event gave (the handler's ghost, appendedAt the timestamp of its append), and the records in
    /// final blocks when the current slot began (packedAtSlotStart, which a missed-slot report proves a waiting record
    /// against) are what packedUpTo was then, by the ghost's history of finalizations.
    function invariant_recordsAreTheirEvents() public {
        VM.warp(handler.now_());
        uint256 n = d.recordLog.length();
        require(handler.ghostRecordCount() == n, "a record has no RecordAppended event");
        for (uint256 i = 0; i < n; ++i) {
            RecordFields memory f = handler.ghostRecord(i);
            require(
                d.recordLog.leafAt(i) == keccak256(abi.encode(i, f.kind, f.payloadHash, f.appendedAt)),
                "a leaf is not keccak256(abi.encode(index, kind, payloadHash, appendedAt)) of its event"
            );
            require(i == 0 || f.appendedAt >= handler.ghostRecord(i - 1).appendedAt, "records were appended back in time");
        }
        uint256 slot = d.election.currentSlot();
        uint256 start = d.election.genesisTime() + slot * d.election.slotDuration();
        require(d.blocks.packedAtSlotStart(slot) == handler.packedBefore(start), "packedAtSlotStart is not packedUpTo when the slot began");
    }

    /// @notice Every handler action can succeed on the deployed protocol (so the campaign's calls are not all
    /// refused): one scripted round through every action, each of which must not revert, with each attack tried.
    function test_everyActionSucceedsInAScriptedRound() public {
        handler.openRound(0);
        handler.attestGlobal(0, 19); // invalid: round 2 is not even open (InvalidRoundStatus(2, None))
        for (uint256 i = 0; i < 5; ++i) handler.commit(i, 2, 32); // its own twins (no move, empty consents), batch 48
        for (uint256 i = 0; i < 5; ++i) handler.submit(i);
        for (uint256 i = 0; i < 4; ++i) handler.commitBallot(i, 0, 5, true); // PASS on every other model
        handler.revealBallot(0, 0, false); // attack: a reveal before the reveals open (refused), and nothing else
        handler.commitBallot(4, 0, 1, false); // attack: BS 4 also passes its own model (its reveal is refused)
        for (uint256 i = 0; i < 4; ++i) handler.revealBallot(i, i == 0 ? 0 : 1, false); // BS 0 first tries a changed verdict and a wrong salt
        handler.revealBallot(4, 1, false); // BS 4's ballot: refused; it stays unrevealed
        handler.settle(true); // 5 models pass; 4 verifiers paid; BS 4 slashed for the ballot it never revealed
        handler.attestGlobal(0, 3); // invalid: no global model recorded yet (InvalidRoundStatus(1, Settled))
        handler.record(true, 0); // first tries to leave a passed model out
        handler.attackOpenFromOtherCid(1);
        handler.openRound(0); // refused: nobody attested round 1's model (GlobalModelNotAttested(1, 0, quorum))
        handler.attestGlobal(0, 3); // BSs 0 and 1 attest it: 1/15 + 2/15 of the stake, below the quorum of 1/2
        handler.attestGlobal(1, 3);
        handler.openRound(0); // refused again (GlobalModelNotAttested(1, 1/5 of the stake, quorum))
        handler.attestGlobal(2, 0); // BS 2 disputes the true model (1/5 of the stake, below the quorum)
        handler.attestGlobal(3, 3); // BSs 3 and 4 attest: 4/5 of the stake attested
        handler.attestGlobal(4, 3);
        handler.attestGlobal(0, 2); // invalid: BS 0 again (AlreadyAttested(1, BS 0))
        handler.openRound(0);
        handler.attestGlobal(0, 1); // invalid: round 2 is open (AttestationClosed(1))
        handler.registerTwin(0, 0); // user 10 (the first without a twin) on BS 0 with its device's consent: twin 11
        handler.twinData(10, 456); // twin 11's first data record, signed by its device
        handler.commit(0, 10, 32); // BS 0 lists twin 1 (its own: zero consent) and twin 3 (BS 1's: moved with consent)
        handler.attackForgedConsent(0, 3); // BS 1 records 60,000 samples for twin 4: 3 forged consents refused
        handler.attackForgedConsent(1, 1); // BS 1 claims every unclaimed twin (from twin 2, BS 0's): 4 refused
        handler.attackForgedConsent(2, 0); // BS 0 registers user 11 (3 forged consents), then a stranger: 4 refused
        handler.twinData(0, 123);
        handler.submit(0); // BS 0's round-2 model (twins 1 and 3)
        for (uint256 i = 1; i < 5; ++i) handler.commitBallot(i, 0, 5, true); // BSs 1..4 pass it (after the deadline)
        for (uint256 i = 1; i < 5; ++i) handler.revealBallot(i, 1, true); // after the commit window
        handler.settle(true); // it passes; 4 more verifiers paid
        handler.attackForgedGlobal(32); // the MBS records a forged model; BS 3 attests it, BSs 0, 1, 2, 4 dispute it
        handler.openRound(0); // refused: GlobalModelDisputed(2, dispute stake, quorum), for good
        handler.attestGlobal(1, 2); // invalid: every BS has spoken (AlreadyAttested(2, BS 1))
        handler.unbond(0, 5e18, false);
        for (uint256 i = 0; i < 13; ++i) handler.warp(59); // past the unbonding delay
        handler.withdraw(0);
        handler.transfer(0, 1, 3e18); // liquid coins to BS 1
        handler.transfer(0, 8, 1e18); // and a donation to the vault
        handler.bond(1, 2e18 - 1); // BS 1 bonds 2 of them
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
        handler.warp(23); // the next slot passes without a block, records waiting (the block left some out)
        require(d.blocks.packedUpTo() < d.recordLog.length(), "the scripted block packed every record");
        // attack first: another payload hash than the waiting record's (RecordProofMismatch); then its true fields:
        // its producer is jailed and slashed
        handler.reportMissed(0, 5);
        // the next slot's producer packs every record, and the slot after it passes with nothing to pack
        handler.propose(d.recordLog.length() - d.blocks.packedUpTo(), false);
        validated = false;
        for (uint256 k = 0; k < 3 && !validated; ++k) {
            try handler.validate(k, true) {
                validated = true;
            } catch {} // the proposer and the jailed producer cannot validate
        }
        require(validated && d.blocks.packedUpTo() == d.recordLog.length(), "the second block did not pack every record");
        handler.warp(23);
        handler.reportMissed(0, 0); // attack: a slot with nothing to pack (refused with NothingWaiting)
        require(handler.forgedEvidenceRefused() == 1 && handler.idleReportsRefused() == 1, "a forged report was not refused");
        require(handler.missedSlotsReported() == 1, "the missed slot with a record waiting was not reported");
        require(!handler.violation(), handler.violationReason());
        require(!handler.stakeViolation(), handler.stakeViolationReason());
        // 84 calls + the one validation that succeeded (55 before the consents: + registerTwin, twinData, the commit
        // with a move and the 3 forged-consent attacks = 61 before the attestations: + 12 attestGlobal calls, 3
        // refused openRound calls, and round 2 to its settlement (submit, 4 ballots committed, 4 revealed, settle) and
        // the forged global model = 85) + the second block, its validation, a warp and the report of a slot with
        // nothing to pack = 89
        require(handler.successes() == 89, "an action did not count its success");
        require(handler.attestations() == 5 && handler.disputes() == 5, "the global models were not attested as scripted");
        require(handler.attestationsRefused() == 5, "an invalid attestation was not tried or not refused with its error");
        require(handler.opensRefused() == 3 && handler.forgedModelsDisputed() == 1, "a refused opening was not tried");
        require(d.rounds.currentRound() == 2, "a round opened from the disputed global model");
        require(handler.forgedConsentsRefused() == 11, "a forged consent was not tried or not refused with InvalidConsent");
        require(handler.consentedMoves() == 1 && d.twins.hostOf(3) == bss[0], "the consented move did not happen");
        require(handler.consentedRegistrations() == 1 && d.twins.twinCount() == 11, "the consented registration did not happen");
        require(d.rounds.submission(1, bss[0]).outcome == TrainingRounds.Outcome.Passed, "an honest model did not pass");
        require(d.rounds.submission(2, bss[0]).outcome == TrainingRounds.Outcome.Passed, "BS 0's round-2 model did not pass");
        // 4 verifiers paid in each round (4 before round 2 was settled)
        require(handler.verifierRewards() == 8 && handler.withheldSlashes() == 1, "verifiers paid or slashed other than scripted");
        require(d.blocks.finalBlockCount() == 2, "the blocks did not become final");
        require(handler.slashes() == 2, "the withheld ballot and the missed slot were not both slashed");
        invariant_stakeConservation();
        invariant_slashesExact();
        invariant_outcomesFollowTheRule();
        invariant_weightsAtMostTheDataShare();
        invariant_twinAccounting();
        invariant_twinsChangeOnlyWithConsent();
        invariant_roundsContinue();
        invariant_roundsOpenOnlyFromAttestedModels();
        invariant_attestationTallyIsTheGhost();
        invariant_recordsAreTheirEvents();
        invariant_finalBlocksAreTheRecords();
        console.log(
            "scripted rounds: 89 actions succeeded, 6 models passed, 2 blocks final, 2 slashes, 11 forged consents refused, 1 forged global model disputed, 2 forged missed-slot reports refused"
        );
    }
}
