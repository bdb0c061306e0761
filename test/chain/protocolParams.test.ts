/** Protocol parameters: defaults, overrides from JSON, and clear errors for malformed configuration. */
import { expect } from "chai";
import { DEFAULT_PROTOCOL_PARAMS, resolveProtocolParams } from "../../src/chain/protocolParams";

describe("protocol parameters", () => {
  it("defaults validate and overrides merge, with coin amounts from decimal strings", () => {
    expect(resolveProtocolParams()).to.deep.equal(DEFAULT_PROTOCOL_PARAMS);
    const p = resolveProtocolParams({ subchannels: 20, initialSupply: "5000000000000000000000" });
    expect(p.subchannels).to.equal(20);
    expect(p.initialSupply).to.equal(5000n * 10n ** 18n);
  });

  it("names every invalid field and what it expects", () => {
    expect(() => resolveProtocolParams({ subchannels: 0, roundSlashBps: 20_000 })).to.throw(
      /Invalid protocol parameters:\n {2}- roundSlashBps: Number must be less than or equal to 10000\n {2}- subchannels: Number must be greater than or equal to 1\nFix these fields/,
    );
    expect(() => resolveProtocolParams({ minBatchSize: 200 })).to.throw(/minBatchSize: minBatchSize \(b_min\) must not exceed maxBatchSize \(b_max\)/);
    expect(() => resolveProtocolParams({ initialSupply: "lots" })).to.throw(/initialSupply: expected an integer amount of coin base units, got "lots"/);
    expect(() => resolveProtocolParams({ slotDurationSeconds: 1.5 })).to.throw(/slotDurationSeconds: Expected integer, received float/);
  });

  it("refuses an unbonding delay shorter than one DPoS epoch (a BS could unbond and withdraw before its slash)", () => {
    const short = { slotDurationSeconds: 12, slotsPerEpoch: 10, verificationWindowSeconds: 20, revealWindowSeconds: 10 };
    expect(() => resolveProtocolParams({ ...short, unbondingDelaySeconds: 119 })).to.throw(/unbondingDelaySeconds: unbondingDelaySeconds must be at least one DPoS epoch/);
    expect(resolveProtocolParams({ ...short, unbondingDelaySeconds: 120 }).unbondingDelaySeconds).to.equal(120);
    // A round's commit and reveal windows must end within half the delay (TrainingRounds RoundTooLong).
    expect(() => resolveProtocolParams({ ...short, unbondingDelaySeconds: 300, verificationWindowSeconds: 100, revealWindowSeconds: 50 })).to.throw(/unbondingDelaySeconds must exceed twice the commit and reveal windows/);
    expect(() => resolveProtocolParams({ revealWindowSeconds: 0 })).to.throw(/revealWindowSeconds/);
    expect(() => resolveProtocolParams({ withheldSlashBps: 10_001 })).to.throw(/withheldSlashBps/);
    expect(resolveProtocolParams({ verifierReward: "5" }).verifierReward).to.equal(5n);
  });

  it("rejects unknown fields (a typo must not be silently ignored)", () => {
    expect(() => resolveProtocolParams({ subchanels: 3 } as never)).to.throw(/Unrecognized key\(s\) in object: 'subchanels'/);
  });
});
