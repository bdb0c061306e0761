/**
 * The embedded weights store on disk (no networking): weights round trip, refusal of another architecture, pinning,
 * a missing or malformed CID failing at once with a clear message, persistence across reopening, and the choice of
 * backend and directory from options and environment.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chooseBackend, DEFAULT_REPO_DIR, openWeightsStore, resolveRepoDir } from "../../src/ipfs";
import { HeliaWeightsStore } from "../../src/ipfs/helia";
import { CidNotFoundError, getWeights, InvalidCidError, putWeights } from "../../src/ipfs/store";
import { cidOf } from "../../src/ipfs/unixfs";
import { encodeWeights, WeightsFormatError } from "../../src/fl/weightsFormat";
import { mulberry32, randNormal } from "../../src/twins/random";

describe("IPFS weights store (embedded Helia, on disk, offline)", function () {
  this.timeout(30_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-ipfs-store-"));
  const repo = path.join(dir, "repo");
  let store: HeliaWeightsStore;
  const rng = mulberry32(7);
  // A small CNN-like model of 1.3 MB: more than one 256 KiB chunk, so the DAG has several blocks.
  const weights = [[5, 5, 3, 32], [32], [2048, 160], [160], [160, 10], [10]].map((shape) => ({ shape, values: Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => randNormal(rng)) }));

  before(async () => {
    store = await HeliaWeightsStore.open({ repo });
  });
  after(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("gives Kubo's CIDs and returns the bytes unchanged", async () => {
    expect(await store.add(Buffer.from("hello world\n"))).to.equal("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
    expect(await store.add(new Uint8Array(0))).to.equal("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
    expect(Buffer.from(await store.cat("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")).toString()).to.equal("hello world\n");
    expect((await store.cat("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH")).length).to.equal(0);
  });

  it("round-trips model weights: putWeights -> CID -> getWeights, every float32 bit", async () => {
    const cid = await putWeights(store, "test-cnn", weights);
    expect(cid).to.match(/^Qm/);
    expect(cid).to.equal(await cidOf(encodeWeights("test-cnn", weights)));
    const back = await getWeights(store, cid, "test-cnn");
    expect(back.arch).to.equal("test-cnn");
    expect(back.weights.map((w) => w.shape)).to.deep.equal(weights.map((w) => w.shape));
    back.weights.forEach((w, k) => expect(Buffer.from(w.values.buffer).equals(Buffer.from(weights[k].values.buffer))).to.equal(true));
    // An encoded blob is accepted as it is, and gives the same CID.
    expect(await putWeights(store, encodeWeights("test-cnn", weights))).to.equal(cid);
  });

  it("refuses weights of another architecture or other layer shapes, naming the CID", async () => {
    const cid = await putWeights(store, "paper-cnn-32x32x3-10", weights);
    let err: Error | undefined;
    await getWeights(store, cid, "paper-cnn-28x28x1-10").catch((e) => (err = e));
    expect(err).to.be.instanceOf(WeightsFormatError);
    expect(err?.message).to.equal(`IPFS ${cid}: Weights are for architecture "paper-cnn-32x32x3-10", not "paper-cnn-28x28x1-10": they cannot be loaded into this model.`);
    await getWeights(store, cid, { arch: "paper-cnn-32x32x3-10", shapes: [[1]] }).then(
      () => expect.fail("accepted other shapes"),
      (e: Error) => expect(e.message).to.match(/this model needs \[1\]/),
    );
    // Bytes that are not weights are refused by putWeights (before storing) and by getWeights.
    await putWeights(store, Buffer.from("not weights")).then(
      () => expect.fail("stored a non-weights blob"),
      (e: Error) => expect(e.message).to.match(/Not a dtwn weights blob/),
    );
    await getWeights(store, "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", "x").then(
      () => expect.fail("decoded text as weights"),
      (e: Error) => expect(e.message).to.match(/^IPFS QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o: Not a dtwn weights blob/),
    );
  });

  it("an unknown CID fails at once with CidNotFoundError saying where it looked and what to do", async () => {
    const unknown = await cidOf(Buffer.from("never added"));
    const t0 = Date.now();
    let err: CidNotFoundError | undefined;
    await store.cat(unknown).catch((e) => (err = e));
    expect(Date.now() - t0).to.be.below(1_000);
    expect(err).to.be.instanceOf(CidNotFoundError);
    expect(err?.cid).to.equal(unknown);
    expect(err?.message).to.include(`IPFS ${unknown} is not in the local store ${repo} and this store is offline`);
    expect(err?.message).to.include("--peer /ip4/127.0.0.1/tcp/PORT/p2p/ID");
    expect(await store.has(unknown)).to.equal(false);
    await store.pin(unknown).then(
      () => expect.fail("pinned a missing CID"),
      (e: Error) => expect(e).to.be.instanceOf(CidNotFoundError),
    );
  });

  it("refuses malformed CIDs with InvalidCidError in every operation", async () => {
    for (const op of [() => store.cat("Qmnope"), () => store.has("hello"), () => store.pin("bafy!"), () => store.isPinned("")]) {
      await op().then(
        () => expect.fail("accepted a malformed CID"),
        (e: Error) => expect(e).to.be.instanceOf(InvalidCidError),
      );
    }
  });

  it("pins what it adds; pin is idempotent; content and pins survive reopening", async () => {
    const blob = encodeWeights("pinned", weights.slice(0, 2));
    const cid = await store.add(blob);
    expect(await store.isPinned(cid)).to.equal(true);
    expect(await store.has(cid)).to.equal(true);
    await store.pin(cid); // already pinned: no error
    await store.close();
    store = await HeliaWeightsStore.open({ repo });
    expect(await store.isPinned(cid)).to.equal(true);
    expect(Buffer.from(await store.cat(cid)).equals(Buffer.from(blob))).to.equal(true);
    expect(await store.isPinned(await cidOf(Buffer.from("never added")))).to.equal(false);
  });

  it("knows no peers when offline; with networking, keeps its peer id across restarts", async () => {
    expect(() => store.multiaddrs()).to.throw(/opened without networking/);
    expect(store.connections()).to.equal(0);
    const ids: string[] = [];
    for (let k = 0; k < 2; k++) {
      const node = await HeliaWeightsStore.open({ repo: path.join(dir, "net"), network: true });
      ids.push(node.peerId());
      expect(node.multiaddrs()).to.have.length(1);
      expect(node.multiaddrs()[0]).to.match(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${ids[k]}$`));
      await node.close();
    }
    expect(ids[1]).to.equal(ids[0]);
  });
});

describe("IPFS backend choice", () => {
  it("uses the embedded store in --repo, else $DTWN_IPFS_REPO, else .dtwn/ipfs in the working directory", () => {
    expect(chooseBackend({}, {})).to.deep.equal({ kind: "helia", repo: path.resolve(DEFAULT_REPO_DIR) });
    expect(resolveRepoDir(undefined, { DTWN_IPFS_REPO: "/tmp/x" })).to.equal("/tmp/x");
    expect(resolveRepoDir("rel", { DTWN_IPFS_REPO: "/tmp/x" })).to.equal(path.resolve("rel"));
  });

  it("uses Kubo when IPFS_API_URL or --api is set, normalised to its /api/v0 root; a blank variable does not count", () => {
    expect(chooseBackend({}, { IPFS_API_URL: "http://127.0.0.1:5001" })).to.deep.equal({ kind: "kubo", url: "http://127.0.0.1:5001/api/v0", from: "IPFS_API_URL" });
    expect(chooseBackend({ api: "http://localhost:5001/api/v0/" }, {})).to.deep.equal({ kind: "kubo", url: "http://localhost:5001/api/v0", from: "--api" });
    expect(chooseBackend({ repo: "r" }, { IPFS_API_URL: "  " }).kind).to.equal("helia");
  });

  it("refuses an IPFS_API_URL that is not an http(s) API root, naming the variable", async () => {
    expect(() => chooseBackend({}, { IPFS_API_URL: "localhost:5001" })).to.throw(/IPFS_API_URL .* must be an http:\/\/ or https:\/\/ URL/);
    expect(() => chooseBackend({}, { IPFS_API_URL: "not a url" })).to.throw(/IPFS_API_URL "not a url" is not a URL/);
    expect(() => chooseBackend({}, { IPFS_API_URL: "http://127.0.0.1:5001/ipfs" })).to.throw(/must be the API root/);
    expect(() => chooseBackend({ api: "ftp://127.0.0.1" }, {})).to.throw(/^--api ftp/);
    await openWeightsStore({}, { IPFS_API_URL: "file:///tmp" }).then(
      () => expect.fail("opened a file: URL"),
      (e: Error) => expect(e.message).to.match(/must be an http/),
    );
  });
});
