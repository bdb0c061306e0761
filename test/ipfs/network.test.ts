/**
 * Two IPFS nodes in two processes on 127.0.0.1: this test process and a forked `dtwn ipfs-peer`. Each dials the
 * other's multiaddr and fetches by CID over bitswap; a CID no connected peer has fails after the stall timeout; and
 * nothing listens on or dials an address other than 127.0.0.1.
 */
import { expect } from "chai";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HeliaWeightsStore, isLoopbackTcp } from "../../src/ipfs/helia";
import { IpfsPeerProcess } from "../../src/ipfs/peer";
import { CidNotFoundError, getWeights, putWeights } from "../../src/ipfs/store";
import { encodeWeights } from "../../src/fl/weightsFormat";
import { cidOf } from "../../src/ipfs/unixfs";
import { multiaddr } from "@multiformats/multiaddr";
import { mulberry32 } from "../../src/twins/random";

describe("IPFS between two processes on 127.0.0.1 (bitswap)", function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-ipfs-net-"));
  let node: HeliaWeightsStore;
  let peer: IpfsPeerProcess | undefined;
  const rng = mulberry32(11);
  // 1.6 MB of weights: 7 chunks, so the fetch walks a DAG of several blocks.
  const weights = [[400, 1000], [1000]].map((shape) => ({ shape, values: Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng() - 0.5) }));

  before(async () => {
    [node, peer] = await Promise.all([HeliaWeightsStore.open({ repo: path.join(dir, "node"), network: true }), IpfsPeerProcess.start(path.join(dir, "peer"))]);
  });
  after(async () => {
    await peer?.close();
    await node?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("listens on 127.0.0.1 only and refuses other addresses to listen on or dial", async () => {
    for (const a of [...node.multiaddrs(), ...peer!.multiaddrs]) expect(a).to.match(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\w+$/);
    await node.dial(`/ip4/192.168.1.10/tcp/4001/p2p/${peer!.peerId}`).then(
      () => expect.fail("dialled a non-loopback address"),
      (e: Error) => expect(e.message).to.match(/is refused: the embedded IPFS node only uses TCP on 127\.0\.0\.1/),
    );
    await HeliaWeightsStore.open({ repo: path.join(dir, "x"), network: true, listen: ["/ip4/0.0.0.0/tcp/0"] }).then(
      () => expect.fail("listened on all interfaces"),
      (e: Error) => expect(e.message).to.match(/Listen address \/ip4\/0\.0\.0\.0\/tcp\/0 is refused/),
    );
    expect(isLoopbackTcp(multiaddr("/ip4/127.0.0.1/tcp/1/p2p/" + peer!.peerId))).to.equal(true);
    expect(isLoopbackTcp(multiaddr("/ip4/127.0.0.2/tcp/1"))).to.equal(false);
    expect(isLoopbackTcp(multiaddr("/dns4/localhost/tcp/1"))).to.equal(false);
  });

  it("libp2p's connection gater itself refuses a dial to another address, below the text check", async () => {
    // 127.0.0.2 stays on this machine (loopback) but is not 127.0.0.1: without the gater this dial would reach the
    // TCP layer and fail with "connection refused" instead.
    const libp2p = (node as unknown as { libp2p: { dial(ma: unknown): Promise<unknown> } }).libp2p;
    const port = /\/tcp\/(\d+)\//.exec(peer!.multiaddrs[0])![1];
    await libp2p.dial(multiaddr(`/ip4/127.0.0.2/tcp/${port}/p2p/${peer!.peerId}`)).then(
      () => expect.fail("dialled 127.0.0.2"),
      (e: Error) => expect(`${e.name}: ${e.message}`).to.match(/DialDenied|denyDialMultiaddr|gater/i),
    );
  });

  it("with no peer connected, a CID that is not local fails at once, saying to dial a peer", async () => {
    const unknown = await cidOf(Buffer.from("nobody has this"));
    const t0 = Date.now();
    await node.cat(unknown).then(
      () => expect.fail("found an unknown CID"),
      (e: Error) => {
        expect(e).to.be.instanceOf(CidNotFoundError);
        expect(e.message).to.match(/is not in the local store .* and no peer is connected\. Dial the node that has it first/);
      },
    );
    expect(Date.now() - t0).to.be.below(1_000);
  });

  it("the peer process dials this node and fetches weights by CID; the bytes are equal", async () => {
    const cid = await putWeights(node, "net-test", weights);
    const r = await peer!.fetch(cid, node.multiaddrs()[0], { returnBytes: true });
    const blob = await node.cat(cid);
    expect(r.bytes).to.equal(blob.length);
    expect(Buffer.from(r.data!).equals(Buffer.from(blob))).to.equal(true);
    expect(r.sha256).to.equal(crypto.createHash("sha256").update(blob).digest("hex"));
    expect(node.connections()).to.be.at.least(1);
  });

  it("this node dials the peer, fetches the weights the peer added, decodes and pins them", async () => {
    const theirs = weights.map((w) => ({ shape: w.shape, values: w.values.map((v) => 2 * v) }));
    const blob = encodeWeights("net-peer", theirs);
    const cid = await peer!.add(blob);
    expect(cid).to.equal(await cidOf(blob));
    expect(await node.has(cid)).to.equal(false);
    await node.dial(peer!.multiaddrs[0]);
    const back = await getWeights(node, cid, "net-peer");
    back.weights.forEach((w, k) => expect(Buffer.from(w.values.buffer).equals(Buffer.from(theirs[k].values.buffer))).to.equal(true));
    expect(await node.isPinned(cid)).to.equal(false);
    await node.pin(cid);
    expect(await node.isPinned(cid)).to.equal(true);
  });

  it("a fetch `from` given peers asks only them: a connected peer that has the blocks sends none (no duplicate copies)", async () => {
    // Attack on the testbed's measurements (and its links): without a session, a want goes to every connected peer
    // and each one that has the block sends it, so a model crossed the links once per holder.
    const other = await HeliaWeightsStore.open({ repo: path.join(dir, "other"), network: true });
    try {
      const blob = encodeWeights("net-from", weights.map((w) => ({ shape: w.shape, values: w.values.map((v) => 3 * v) })));
      const cid = await peer!.add(blob);
      await node.dial(peer!.multiaddrs[0]);
      await node.dial(other.multiaddrs()[0]);
      await node.cat(cid, { from: [other.multiaddrs()[0]], timeoutMs: 1_500 }).then(
        () => expect.fail("fetched from a peer that does not have the blocks"),
        (e: Error) => expect(e.message).to.match(new RegExp(`^IPFS ${cid}`)),
      );
      expect(await node.has(cid)).to.equal(false); // the peer that has it, connected, sent nothing
      const got = await node.cat(cid, { from: [peer!.multiaddrs[0]], timeoutMs: 10_000 });
      expect(Buffer.from(got).equals(Buffer.from(blob))).to.equal(true);
    } finally {
      await other.close();
    }
  });

  it("a CID no connected peer has fails after the stall timeout, naming the CID", async () => {
    const unknown = await cidOf(Buffer.from("still nobody has this"));
    const t0 = Date.now();
    await node.cat(unknown, { timeoutMs: 800 }).then(
      () => expect.fail("found an unknown CID"),
      (e: Error) => {
        expect(e).to.be.instanceOf(CidNotFoundError);
        expect(e.message).to.match(new RegExp(`^IPFS ${unknown}: no block arrived from the \\d+ connected peer\\(s\\) within 800 ms`));
      },
    );
    expect(Date.now() - t0).to.be.within(700, 4_000);
    // And in the peer process, which asks only the node it was told to fetch from: the error names it and comes back over IPC.
    await peer!.fetch(unknown, node.multiaddrs()[0], { timeoutMs: 500 }).then(
      () => expect.fail("the peer found an unknown CID"),
      (e: Error) => {
        expect(e.message).to.match(new RegExp(`^IPFS peer: IPFS ${unknown}: no block arrived from the 1 peer\\(s\\) asked`));
        expect(e.message).to.contain(node.multiaddrs()[0]);
      },
    );
  });
});
