/**
 * IPFS over the emulated testbed's shaped links: three Helia nodes, one per BS namespace, each fetching the other
 * two's models at once over uplinks shaped to a few Mbit/s (the verification phase in small). Each regression is one
 * of the faults that made the testbed's fetches hang or duplicate: bitswap's 10 s message limits and 10-block send
 * queue (a 1 MB message shared on a 4 Mbit/s uplink takes longer), libp2p's connection monitor closing loaded
 * connections, and a fetch asking every connected peer (blocks sent twice). Every fetch must complete, the uplinks
 * must carry each model once per fetcher, and the whole must take about the links' time.
 */
import { expect } from "chai";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { IpfsPeerProcess } from "../../src/ipfs/peer";
import { EmulatedNetwork } from "../../src/testbed/network";
import { testbedPrerequisites } from "../../src/testbed/prerequisites";
import { TESTBED_HOST_ENV } from "../../src/testbed/hostNetwork";

describe("IPFS on shaped links (emulated testbed namespaces)", function () {
  this.timeout(180_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-ipfs-shaped-"));
  const peers: IpfsPeerProcess[] = [];
  let net: EmulatedNetwork | undefined;

  before(function () {
    if (!testbedPrerequisites().ready) this.skip(); // without root, cgroups, ip or tc: `dtwn doctor` says what is missing
  });
  after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    net?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("3 nodes fetching each other's 2.5 MB models over 4 Mbit/s uplinks: all complete, each model crosses its uplink once per fetcher, at about the link's rate", async () => {
    const n = 3;
    const size = 2_500_000;
    const uplinkBps = 4e6;
    net = EmulatedNetwork.create(process.pid, n);
    for (let i = 0; i < n; i++) net.shape(i, { uplinkBps, downlinkBps: 40e6 });
    const started = await Promise.all(Array.from({ length: n }, (_, i) => IpfsPeerProcess.start(path.join(dir, `bs${i}`), 60_000, { prefix: net!.exec(i), env: { ...process.env, [TESTBED_HOST_ENV]: net!.hostEnv(i) } })));
    peers.push(...started);
    for (const [i, p] of started.entries()) expect(p.multiaddrs.join(" "), `node ${i} listens in its namespace`).to.include(`/ip4/10.77.0.`);
    const models = started.map(() => crypto.randomBytes(size));
    const cids = await Promise.all(started.map((p, i) => p.add(models[i])));
    const before = Array.from({ length: n }, (_, i) => net!.bytes(i).uplinkBytes);
    const t0 = performance.now();
    const fetches = started.flatMap((p, i) => started.map((q, j) => ({ i, j, q })).filter(({ j }) => j !== i).map(({ j, q }) => p.fetch(cids[j], q.multiaddrs[0], { timeoutMs: 60_000 }).then((r) => ({ i, j, r }))));
    const results = await Promise.all(fetches);
    const seconds = (performance.now() - t0) / 1000;
    for (const { j, r } of results) expect(r.sha256).to.equal(crypto.createHash("sha256").update(models[j]).digest("hex"));
    // each uplink carried its model to n - 1 fetchers, once each (plus libp2p, noise and TCP framing)
    for (let i = 0; i < n; i++) {
      const sent = net.bytes(i).uplinkBytes - before[i];
      expect(sent / ((n - 1) * size), `BS ${i}'s uplink carried ${sent} bytes for ${n - 1} copies of ${size}`).to.be.within(1, 1.15);
    }
    // the links' time: (n - 1) models on each uplink at its rate, all uplinks at once. Not a speed test (a link's rate
    // is checked to +-15 % in the emulated run's test): it catches fetches that stall and wait on retries, which took
    // several times the bound; 1.5x was measured once on a loaded CI machine, hence the margin.
    const bound = ((n - 1) * size * 8) / uplinkBps;
    expect(seconds / bound, `${seconds.toFixed(1)} s against the links' ${bound.toFixed(1)} s`).to.be.within(1, 2);
  });
});
