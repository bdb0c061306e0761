import { expect } from "chai";
import { getBytes, hexlify } from "ethers";
import {
  TAU_SCALE,
  TWIN_ENTRY_BYTES,
  decodeAction,
  decodeRawAction,
  encodeAction,
  encodeRawAction,
  floorTau,
  type AssociationAction,
} from "../../src/chain/actionCodec";

describe("src/chain/actionCodec", () => {
  describe("encodeAction", () => {
    it("packs twins (uint32 id | uint16 batch, sorted by id) and tau (uint16 x 10000) big-endian", () => {
      const e = encodeAction({
        twins: [
          { twinId: 0x0102_0304, batchSize: 0x0a0b },
          { twinId: 1, batchSize: 16 },
        ],
        tau: [0.5, 0, 1, 0.25],
      });
      expect(TWIN_ENTRY_BYTES).to.equal(6);
      expect(TAU_SCALE).to.equal(10_000);
      expect(hexlify(e.twins)).to.equal("0x" + "00000001" + "0010" + "01020304" + "0a0b");
      expect(hexlify(e.tau)).to.equal("0x" + "1388" + "0000" + "2710" + "09c4");
    });

    it("rounds tau to the nearest 1/10000", () => {
      const e = encodeAction({ twins: [{ twinId: 7, batchSize: 1 }], tau: [0.33333, 0.66666, 0.00004] });
      expect(hexlify(e.tau)).to.equal("0x" + (3333).toString(16).padStart(4, "0") + (6667).toString(16).padStart(4, "0") + "0000");
    });

    it("accepts the boundaries: twin id 1 and 2^32-1, batch 0 and 65535, tau 0 and 1, no subchannels", () => {
      const e = encodeAction({
        twins: [
          { twinId: 0xffff_ffff, batchSize: 0xffff },
          { twinId: 1, batchSize: 0 },
        ],
        tau: [],
      });
      expect(hexlify(e.twins)).to.equal("0x" + "00000001" + "0000" + "ffffffff" + "ffff");
      expect(e.tau).to.have.length(0);
    });

    it("does not reorder the caller's array", () => {
      const twins = [
        { twinId: 9, batchSize: 1 },
        { twinId: 3, batchSize: 2 },
      ];
      encodeAction({ twins, tau: [] });
      expect(twins.map((t) => t.twinId)).to.deep.equal([9, 3]);
    });

    it("throws for an action without twins", () => {
      expect(() => encodeAction({ twins: [], tau: [1] })).to.throw("An action must list at least one twin.");
    });

    it("throws for a twin id that is not a uint32 >= 1", () => {
      for (const twinId of [0, -1, 1.5, 2 ** 32, Number.NaN]) {
        expect(() => encodeAction({ twins: [{ twinId, batchSize: 16 }], tau: [] })).to.throw(`Twin id ${twinId} is not a uint32 >= 1.`);
      }
    });

    it("throws for a twin listed twice (in any order)", () => {
      const twins = [
        { twinId: 5, batchSize: 16 },
        { twinId: 2, batchSize: 16 },
        { twinId: 5, batchSize: 32 },
      ];
      expect(() => encodeAction({ twins, tau: [] })).to.throw("Twin 5 is listed twice.");
    });

    it("throws for a batch size that is not a uint16", () => {
      for (const batchSize of [-1, 65_536, 2.5, Number.NaN]) {
        expect(() => encodeAction({ twins: [{ twinId: 4, batchSize }], tau: [] })).to.throw(
          `Batch size ${batchSize} of twin 4 is not a uint16.`,
        );
      }
    });

    it("throws for a tau outside [0, 1] or not finite, naming the subchannel", () => {
      for (const bad of [-0.01, 1.01, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(() => encodeAction({ twins: [{ twinId: 1, batchSize: 1 }], tau: [0.2, bad] })).to.throw(
          `tau on subchannel 1 is ${bad}; it must be in [0, 1].`,
        );
      }
    });
  });

  describe("decodeAction", () => {
    it("round-trips an action (twins come back sorted by id, tau at 1/10000 precision)", () => {
      const action: AssociationAction = {
        twins: [
          { twinId: 42, batchSize: 128 },
          { twinId: 3, batchSize: 16 },
          { twinId: 4_000_000_000, batchSize: 65_535 },
        ],
        tau: [0, 0.1, 0.25, 0.5, 0.9999, 1],
      };
      const e = encodeAction(action);
      expect(e.twins).to.have.length(3 * TWIN_ENTRY_BYTES);
      expect(e.tau).to.have.length(12);
      const d = decodeAction(e.twins, e.tau);
      expect(d.twins).to.deep.equal([...action.twins].sort((a, b) => a.twinId - b.twinId));
      expect(d.tau).to.deep.equal(action.tau);
      expect(encodeAction(d)).to.deep.equal(e);
    });

    it("decodes views into a larger buffer (non-zero byteOffset), as event bytes often are", () => {
      const e = encodeAction({ twins: [{ twinId: 258, batchSize: 515 }], tau: [0.75] });
      const buffer = getBytes("0xdeadbeef" + hexlify(e.twins).slice(2) + hexlify(e.tau).slice(2) + "cafe");
      const twins = buffer.subarray(4, 4 + e.twins.length);
      const tau = buffer.subarray(4 + e.twins.length, 4 + e.twins.length + e.tau.length);
      expect(decodeAction(twins, tau)).to.deep.equal({ twins: [{ twinId: 258, batchSize: 515 }], tau: [0.75] });
    });

    it("decodes empty inputs to an empty action", () => {
      expect(decodeAction(new Uint8Array(0), new Uint8Array(0))).to.deep.equal({ twins: [], tau: [] });
    });

    it("throws for a twins encoding that is not a multiple of 6 bytes", () => {
      expect(() => decodeAction(new Uint8Array(7), new Uint8Array(2))).to.throw(
        "Malformed twins encoding: 7 bytes is not a multiple of 6.",
      );
    });

    it("throws for a tau encoding of odd length", () => {
      expect(() => decodeAction(new Uint8Array(6), new Uint8Array(3))).to.throw("Malformed tau encoding: 3 bytes is odd.");
    });
  });

  describe("raw actions (proposeAction)", () => {
    it("encodes 3 entries as uint16 x 10000, clipped to [0, 1], and decodes them back", () => {
      const bytes = encodeRawAction([0.5, 1.7, -0.2]);
      expect(hexlify(bytes)).to.equal("0x" + "1388" + "2710" + "0000");
      expect(decodeRawAction(bytes)).to.deep.equal([0.5, 1, 0]);
      expect(decodeRawAction(getBytes("0x000109c42710"))).to.deep.equal([0.0001, 0.25, 1]);
    });

    it("refuses a wrong length or a non-finite entry", () => {
      expect(() => encodeRawAction([0.1, 0.2])).to.throw(/3 entries; got 2/);
      expect(() => encodeRawAction([0.1, NaN, 0.2])).to.throw(/entry 1 is NaN/);
      expect(() => decodeRawAction(new Uint8Array(5))).to.throw(/Malformed raw action: 5 bytes; expected 6/);
    });

    it("floorTau rounds down to the grid so that sums of encoded shares stay <= 1", () => {
      const shares = [1 / 3, 1 / 3, 1 / 3];
      const encodedSum = floorTau(shares).reduce((s, x) => s + Math.round(x * TAU_SCALE), 0);
      expect(encodedSum).to.be.at.most(TAU_SCALE);
      expect(floorTau([0.66669, 1.2, -1])).to.deep.equal([0.6666, 1, 0]);
    });
  });
});
