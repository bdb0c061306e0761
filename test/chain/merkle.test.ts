import { expect } from "chai";
import { concat, id, keccak256, toBeHex, ZeroHash } from "ethers";
import { merkleProof, merkleRoot, recordLeaf } from "../../src/chain/merkle";
import { deployDpos, electSelfVoters, enterSlot, leavesOf, loadPinned } from "../consensus/dpos.helpers";

const L = Array.from({ length: 12 }, (_, i) => id(`leaf-${i}`));

/** keccak256 of the sorted pair, written independently of src/chain/merkle.ts (same-length hex sorts numerically). */
function h(a: string, b: string): string {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()].sort();
  return keccak256(concat([x, y]));
}

/** A minimal verifier (OpenZeppelin MerkleProof.verify semantics). */
function verify(proof: string[], root: string, leaf: string): boolean {
  return proof.reduce((acc, sibling) => h(acc, sibling), leaf) === root;
}

describe("src/chain/merkle", () => {
  describe("recordLeaf", () => {
    it("is keccak256 of the four 32-byte words index, kind, payloadHash, appendedAt (abi.encode, as RecordLog.leafHash)", () => {
      const payload = id("payload");
      for (const [index, kind, at] of [
        [0n, 0n, 0n],
        [7n, 1n, 1_700_000_000n],
        [2n ** 256n - 1n, 2n, 2n ** 64n - 1n],
      ]) {
        const words = concat([toBeHex(index, 32), toBeHex(kind, 32), payload, toBeHex(at, 32)]);
        expect(recordLeaf(index, kind, payload, at)).to.equal(keccak256(words));
        // numbers and bigints alike
        if (index < 2n ** 53n && at < 2n ** 53n) expect(recordLeaf(Number(index), Number(kind), payload, Number(at))).to.equal(keccak256(words));
      }
    });

    it("commits to appendedAt: the same record appended a second later has another leaf", () => {
      const payload = id("payload");
      expect(recordLeaf(3, 1, payload, 1_000)).to.not.equal(recordLeaf(3, 1, payload, 1_001));
      expect(recordLeaf(3, 1, payload, 1_000)).to.not.equal(recordLeaf(3, 2, payload, 1_000));
      expect(recordLeaf(3, 1, payload, 1_000)).to.not.equal(recordLeaf(4, 1, payload, 1_000));
    });

    it("refuses an appendedAt beyond uint64 and a kind beyond uint8 (what the event cannot carry)", () => {
      expect(() => recordLeaf(0, 0, ZeroHash, 2n ** 64n)).to.throw();
      expect(() => recordLeaf(0, 256, ZeroHash, 0)).to.throw();
    });
  });

  describe("merkleRoot", () => {
    it("is bytes32(0) for no leaves and the leaf itself for one", () => {
      expect(merkleRoot([])).to.equal(ZeroHash);
      expect(merkleRoot([L[0]])).to.equal(L[0]);
    });

    it("hashes two leaves as a sorted pair, so their order does not matter", () => {
      const [a, b] = L;
      const expected = BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]));
      expect(merkleRoot([a, b])).to.equal(expected);
      expect(merkleRoot([b, a])).to.equal(expected);
    });

    it("carries an odd last node up unchanged (3, 5, 6 and 7 leaves)", () => {
      const [a, b, c, d, e, f, g] = L;
      expect(merkleRoot([a, b, c])).to.equal(h(h(a, b), c));
      expect(merkleRoot([a, b, c, d, e])).to.equal(h(h(h(a, b), h(c, d)), e));
      expect(merkleRoot([a, b, c, d, e, f])).to.equal(h(h(h(a, b), h(c, d)), h(e, f)));
      expect(merkleRoot([a, b, c, d, e, f, g])).to.equal(h(h(h(a, b), h(c, d)), h(h(e, f), g)));
    });

    it("builds a balanced tree for 4 and 8 leaves", () => {
      const [a, b, c, d, e, f, g, k] = L;
      expect(merkleRoot([a, b, c, d])).to.equal(h(h(a, b), h(c, d)));
      expect(merkleRoot([a, b, c, d, e, f, g, k])).to.equal(h(h(h(a, b), h(c, d)), h(h(e, f), h(g, k))));
    });

    it("depends on the leaves' positions beyond a pair and does not modify its input", () => {
      const leaves = L.slice(0, 4);
      const copy = [...leaves];
      expect(merkleRoot([L[0], L[2], L[1], L[3]])).to.not.equal(merkleRoot(leaves));
      merkleRoot(leaves);
      merkleProof(leaves, 2);
      expect(leaves).to.deep.equal(copy);
    });
  });

  describe("merkleProof", () => {
    it("gives the siblings bottom-up, skipping levels where the node has none", () => {
      const [a, b, c, d, e] = L;
      expect(merkleProof([a], 0)).to.deep.equal([]);
      expect(merkleProof([a, b], 1)).to.deep.equal([a]);
      expect(merkleProof([a, b, c], 0)).to.deep.equal([b, c]);
      expect(merkleProof([a, b, c], 2)).to.deep.equal([h(a, b)]);
      expect(merkleProof([a, b, c, d, e], 4)).to.deep.equal([h(h(a, b), h(c, d))]);
      expect(merkleProof([a, b, c, d, e], 2)).to.deep.equal([d, h(a, b), e]);
    });

    it("every proof of trees with 1 to 12 leaves verifies, and only for its own leaf", () => {
      for (let n = 1; n <= L.length; n++) {
        const leaves = L.slice(0, n);
        const root = merkleRoot(leaves);
        for (let i = 0; i < n; i++) {
          const proof = merkleProof(leaves, i);
          expect(verify(proof, root, leaves[i]), `n=${n} i=${i}`).to.be.true;
          if (n > 1) expect(verify(proof, root, leaves[(i + 1) % n]), `n=${n} i=${i} other`).to.be.false;
          expect(verify(proof, id("not a leaf"), leaves[i])).to.be.false;
        }
      }
    });

    it("throws for an index outside the leaves", () => {
      expect(() => merkleProof(L.slice(0, 5), 5)).to.throw("Leaf 5 is outside the 5 leaves.");
      expect(() => merkleProof(L.slice(0, 5), -1)).to.throw("Leaf -1 is outside the 5 leaves.");
      expect(() => merkleProof([], 0)).to.throw("Leaf 0 is outside the 0 leaves.");
    });
  });

  describe("on chain (BlockLedger.isRecordInBlock, OpenZeppelin MerkleProof)", () => {
    const SIZES = [0, 1, 2, 3, 4, 5, 7, 9];

    /** Three producers; each block is proposed by its slot's owner and approved by the next; one of each size in SIZES. */
    async function blocksFixture() {
      const d = await deployDpos({ records: SIZES.reduce((a, b) => a + b, 0) });
      const { epoch, producers } = await electSelfVoters(d.election, d.bss);
      const leaves = await leavesOf(d.recordLog);
      const intervals: [number, number][] = [];
      let from = 0;
      for (const [k, size] of SIZES.entries()) {
        const slot = epoch * 10n + 1n + BigInt(k);
        await enterSlot(d.election, slot);
        const n = BigInt(producers.length);
        await d.blocks.connect(producers[Number(slot % n)]).proposeBlock(slot, from + size, merkleRoot(leaves.slice(from, from + size)));
        await d.blocks.connect(producers[Number((slot + 1n) % n)]).validateBlock(BigInt(k), true);
        intervals.push([from, from + size]);
        from += size;
      }
      return { ...d, leaves, intervals };
    }

    it("RecordLog.rootOf computes the same root on chain for every interval (and refuses one past the log)", async () => {
      const f = await loadPinned(blocksFixture);
      for (const [from, to] of f.intervals) expect(await f.recordLog.rootOf(from, to)).to.equal(merkleRoot(f.leaves.slice(from, to)));
      const n = f.leaves.length;
      for (let from = 0; from < n; from += 3) for (let to = from; to <= n; to += 5) expect(await f.recordLog.rootOf(from, to)).to.equal(merkleRoot(f.leaves.slice(from, to)));
      await expect(f.recordLog.rootOf(0, n + 1)).to.be.revertedWithCustomError(f.recordLog, "InvalidRange").withArgs(0n, BigInt(n + 1), BigInt(n));
      await expect(f.recordLog.rootOf(3, 2)).to.be.revertedWithCustomError(f.recordLog, "InvalidRange").withArgs(3n, 2n, BigInt(n));
    });

    it("every block is final and stores the root computed off chain", async () => {
      const f = await loadPinned(blocksFixture);
      expect(await f.blocks.finalBlockCount()).to.equal(BigInt(SIZES.length));
      for (const [k, [from, to]] of f.intervals.entries()) {
        const b = await f.blocks.getBlock(k);
        expect([b.status, b.fromRecord, b.toRecord]).to.deep.equal([2n, BigInt(from), BigInt(to)]);
        expect(b.root).to.equal(merkleRoot(f.leaves.slice(from, to)));
      }
      expect((await f.blocks.getBlock(0)).root).to.equal(ZeroHash);
    });

    it("every proof verifies on chain, and a proof of another record does not", async () => {
      const f = await loadPinned(blocksFixture);
      for (const [k, [from, to]] of f.intervals.entries()) {
        const leaves = f.leaves.slice(from, to);
        for (let i = 0; i < leaves.length; i++) {
          const proof = merkleProof(leaves, i);
          expect(verify(proof, merkleRoot(leaves), leaves[i])).to.be.true;
          expect(await f.blocks.isRecordInBlock(k, from + i, proof), `block ${k} record ${from + i}`).to.be.true;
          if (leaves.length > 1) {
            const j = (i + 1) % leaves.length;
            expect(await f.blocks.isRecordInBlock(k, from + j, proof), `block ${k} record ${from + j}`).to.be.false;
          }
        }
      }
      // The empty block holds no record.
      expect(await f.blocks.isRecordInBlock(0, 0, [])).to.be.false;
    });
  });
});
