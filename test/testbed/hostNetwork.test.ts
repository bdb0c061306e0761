import { expect } from "chai";
import { hostNetwork, hostNetworkEnv, LOOPBACK, mayDial, TESTBED_HOST_ENV } from "../../src/testbed/hostNetwork";
import { bsAddress, HUB_ADDRESS, TESTBED_SUBNET, tbf } from "../../src/testbed/network";

describe("src/testbed/hostNetwork: where a process listens and whom it dials", () => {
  it("is 127.0.0.1 only outside the testbed", () => {
    expect(hostNetwork({})).to.deep.equal(LOOPBACK);
    expect(mayDial(LOOPBACK, "127.0.0.1")).to.equal(true);
    expect(mayDial(LOOPBACK, "10.77.0.1")).to.equal(false);
    expect(mayDial(LOOPBACK, "8.8.8.8")).to.equal(false);
  });

  it("inside the testbed binds its namespace's address and dials only the testbed's subnet", () => {
    const net = hostNetwork({ [TESTBED_HOST_ENV]: hostNetworkEnv(bsAddress(1), TESTBED_SUBNET) });
    expect(net.bind).to.equal("10.77.0.11");
    expect(mayDial(net, HUB_ADDRESS)).to.equal(true);
    expect(mayDial(net, "127.0.0.1")).to.equal(true);
    expect(mayDial(net, "10.77.1.1")).to.equal(false);
    expect(mayDial(net, "10.77.0.255")).to.equal(false);
    expect(mayDial(net, "192.168.0.1")).to.equal(false);
  });

  it("refuses a value that could reach another network, with what it expects", () => {
    for (const bad of ["192.168.0.2,192.168.0.0/24", "10.77.0.2", "10.77.1.2,10.77.0.0/24", "10.77.0.2,10.77.0.0/16", "10.77.0.0,10.77.0.0/24", "x,y"]) {
      expect(() => hostNetwork({ [TESTBED_HOST_ENV]: bad }), bad).to.throw(/is not "<address>,<10\.x\.y\.0>\/24"/);
    }
  });

  it("tbf buckets hold at least one 64 KiB segment and 20 ms of traffic", () => {
    expect(tbf(8e6)).to.deep.equal(["tbf", "rate", "8000kbit", "burst", String(128 * 1024), "latency", "500ms"]);
    expect(tbf(1e9)[4]).to.equal(String(2_500_000));
  });
});
