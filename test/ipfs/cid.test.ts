/**
 * The CIDs are Kubo's: `ipfs add` default vectors from Kubo's own tests (sharness t0040-add-and-cat.sh and the
 * unixfs-v0-2015 profile of test/cli/cid_profiles_test.go), including the two files that pin the balanced layout's
 * 174-link fan-out; and CID texts that do not parse are refused with a clear error.
 */
import { expect } from "chai";
import crypto from "node:crypto";
import { cidOf, KUBO_CHUNK_BYTES, KUBO_MAX_LINKS } from "../../src/ipfs/unixfs";
import { InvalidCidError, parseCid } from "../../src/ipfs/store";

/**
 * Kubo's test data generator (test/cli/testutils): the ChaCha20 key stream with key sha256(seed) and a zero nonce,
 * counter from 0. OpenSSL's chacha20 takes a 16-byte IV: 4-byte little-endian counter, then the 12-byte nonce.
 */
function kuboDeterministicBytes(size: number, seed: string): Uint8Array {
  const key = crypto.createHash("sha256").update(seed).digest();
  const cipher = crypto.createCipheriv("chacha20", key, Buffer.alloc(16));
  return new Uint8Array(cipher.update(Buffer.alloc(size)));
}

describe("IPFS CIDs equal Kubo's `ipfs add` defaults", function () {
  this.timeout(30_000);

  it("small files: one dag-pb node, CIDv0", async () => {
    const vectors: [string, string][] = [
      ["hello world\n", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"],
      ["hello world", "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"],
      ["", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"],
      ["Hello Worlds!\n", "QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH"],
      ["Helloo Worlds!\n", "Qmf35k66MZNW2GijohUmXQEWKZU4cCGTCwK6idfnt152wJ"],
      ["Hello Venus!\n", "QmU5kp3BH3B8tnWUU2Pikdb2maksBNkb92FHRr56hyghh4"],
    ];
    for (const [text, cid] of vectors) expect(await cidOf(Buffer.from(text)), JSON.stringify(text)).to.equal(cid);
  });

  it("multi-chunk files: 256 KiB chunks, a root of exactly 174 links, and a rebalanced DAG one chunk later", async () => {
    expect([KUBO_CHUNK_BYTES, KUBO_MAX_LINKS]).to.deep.equal([262_144, 174]);
    // 44544 KiB = 174 chunks: the root links all 174 leaves.
    expect(await cidOf(kuboDeterministicBytes(174 * 262_144, "v0-seed"))).to.equal("QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2");
    // 44800 KiB = 175 chunks: the root has 2 links (a full node of 174 and one of 1).
    expect(await cidOf(kuboDeterministicBytes(175 * 262_144, "v0-seed"))).to.equal("QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf");
  });

  it("parses CIDv0, CIDv1 and /ipfs/ paths, and refuses malformed text with InvalidCidError", () => {
    expect(parseCid("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o").version).to.equal(0);
    expect(parseCid("/ipfs/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o").toString()).to.equal("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
    expect(parseCid("bafybeibyosqxljd2eptb4ebbtvk7pb4aoxzqa6ttdsflty6rsslz5y6i34").version).to.equal(1);
    for (const bad of ["", "Qm", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5", "hello", "bafy!!!", "0x1220"]) {
      expect(() => parseCid(bad), bad).to.throw(InvalidCidError, /Not a valid CID: .*expected CIDv0 "Qm\.\.\." or CIDv1/);
    }
  });

  it("the base32 CIDv1 of Kubo's sharness equals the CIDv0 we compute for the same bytes", async () => {
    const v0 = await cidOf(Buffer.from("base32 test\n"));
    expect(parseCid(v0).toV1().toString()).to.equal("bafybeibyosqxljd2eptb4ebbtvk7pb4aoxzqa6ttdsflty6rsslz5y6i34");
  });
});
