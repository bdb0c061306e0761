import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { bsAddress, EmulatedNetwork, HUB_ADDRESS, namespaces } from "../../src/testbed/network";
import { testbedPrerequisites } from "../../src/testbed/prerequisites";

const SERVER = `const net = require("net"); const s = net.createServer((c) => { let n = 0, t0 = 0; c.on("data", (d) => { if (!t0) t0 = process.hrtime.bigint(); n += d.length; }); c.on("end", () => { process.stdout.write(JSON.stringify({ bytes: n, seconds: Number(process.hrtime.bigint() - t0) / 1e9 })); s.close(); }); }); s.listen(9000, process.argv[1], () => process.stdout.write("ready\\n"));`;
const CLIENT = `const c = require("net").connect(9000, process.argv[1], () => c.end(Buffer.alloc(Number(process.argv[2]))));`;

/** Send `bytes` from namespace prefix `from` to a server at `to` in namespace prefix `at`; the rate the server saw, bit/s. */
async function transfer(at: string[], to: string, from: string[], bytes: number): Promise<number> {
  const server = spawn(at[0], [...at.slice(1), process.execPath, "-e", SERVER, to], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  await new Promise<void>((resolve) => server.stdout.on("data", (d: Buffer) => ((out += d.toString()), out.includes("ready") && resolve())));
  const done = new Promise<void>((resolve) => server.once("exit", () => resolve()));
  const client = spawnSync(from[0], [...from.slice(1), process.execPath, "-e", CLIENT, to, String(bytes)], { encoding: "utf8" });
  expect(client.status, client.stderr).to.equal(0);
  await done;
  const r = JSON.parse(out.slice(out.indexOf("{"))) as { bytes: number; seconds: number };
  expect(r.bytes).to.equal(bytes);
  return (r.bytes * 8) / r.seconds;
}

describe("src/testbed/network: namespaces, veths and shaped links", function () {
  this.timeout(60_000);
  let net: EmulatedNetwork | undefined;

  before(function () {
    if (!testbedPrerequisites().ready) this.skip(); // `dtwn doctor` says what is missing
  });
  after(() => net?.remove());

  it("moves data over a link shaped to X Mbit/s at X +- 15 %, uplink and downlink, and removes every namespace and veth", async () => {
    net = EmulatedNetwork.create(process.pid, 2);
    expect(net.present()).to.have.length(3);
    net.shape(0, { uplinkBps: 16e6, downlinkBps: 40e6 });
    net.shape(1, { uplinkBps: 100e6, downlinkBps: 100e6 });
    const up = await transfer(net.exec(), HUB_ADDRESS, net.exec(0), 4_000_000);
    expect(up / 16e6, `uplink ${(up / 1e6).toFixed(1)} Mbit/s`).to.be.within(0.85, 1.15);
    const down = await transfer(net.exec(0), bsAddress(0), net.exec(), 8_000_000);
    expect(down / 40e6, `downlink ${(down / 1e6).toFixed(1)} Mbit/s`).to.be.within(0.85, 1.15);
    // BS to BS crosses the sender's uplink and the receiver's downlink: the slower of the two
    const across = await transfer(net.exec(1), bsAddress(1), net.exec(0), 4_000_000);
    expect(across / 16e6, `BS 0 to BS 1 ${(across / 1e6).toFixed(1)} Mbit/s`).to.be.within(0.85, 1.15);
    // a new slot's rate replaces the old one
    net.shape(0, { uplinkBps: 32e6, downlinkBps: 40e6 });
    const faster = await transfer(net.exec(), HUB_ADDRESS, net.exec(0), 8_000_000);
    expect(faster / 32e6, `uplink after the change ${(faster / 1e6).toFixed(1)} Mbit/s`).to.be.within(0.85, 1.15);
    net.remove();
    expect(net.present()).to.deep.equal([]);
    expect(namespaces().filter((n) => n.startsWith(`dtwn-${process.pid}-`))).to.deep.equal([]);
    expect(spawnSync("ip", ["-o", "link"], { encoding: "utf8" }).stdout).not.to.match(/\bbs0@|\bhub\b/);
  });

  it("a namespace cannot reach addresses outside the testbed", () => {
    net = EmulatedNetwork.create(process.pid, 2);
    const r = spawnSync(net.exec(0)[0], [...net.exec(0).slice(1), "ip", "route", "get", "1.1.1.1"], { encoding: "utf8" });
    expect(r.status).not.to.equal(0); // no default route: nothing leaves the testbed
    expect(r.stderr).to.match(/unreachable/i);
    net.remove();
  });
});
