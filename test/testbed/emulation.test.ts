import { expect } from "chai";
import { cpuMaxLine, cpuQuotas, CPU_PERIOD_US, tcRate } from "../../src/testbed/emulation";
import { PAPER_BS_CPU_HZ } from "../../src/twins/scenario";

describe("src/testbed/emulation: frequency-to-quota and rate-to-tc maps", () => {
  it("gives quotas in proportion to f_i u_i, the fastest BS one core when the machine has room", () => {
    const q = cpuQuotas([1.8e9, 3.6e9], [1, 1], 2);
    expect(q.quotaUs).to.deep.equal([CPU_PERIOD_US / 2, CPU_PERIOD_US]);
    expect(q.coreHz).to.equal(3.6e9); // one full core stands for the fastest BS
  });

  it("scales the paper's five BSs down to fit two cores, keeping their ratios", () => {
    const u = [1, 0.8, 0.9, 0.5, 1];
    const q = cpuQuotas(PAPER_BS_CPU_HZ, u, 2);
    expect(q.quotaUs.reduce((s, x) => s + x, 0)).to.be.at.most(2 * CPU_PERIOD_US + 5);
    const hz = PAPER_BS_CPU_HZ.map((f, i) => f * u[i]);
    for (let i = 1; i < hz.length; i++) expect(q.quotaUs[i] / q.quotaUs[0]).to.be.closeTo(hz[i] / hz[0], 1e-3);
    // a BS with quota x of a core computes as a CPU of x * coreHz
    hz.forEach((f, i) => expect((q.quotaUs[i] / CPU_PERIOD_US) * q.coreHz).to.be.closeTo(f, f * 1e-4));
  });

  it("refuses frequencies, availabilities or core counts that cannot be a quota", () => {
    expect(() => cpuQuotas([1e9], [0], 2)).to.throw(/u in \(0, 1\]/);
    expect(() => cpuQuotas([1e9, 2e9], [1], 2)).to.throw(/2 frequencies and 1/);
    expect(() => cpuQuotas([1e9], [1], 0)).to.throw(/cores must be positive/);
  });

  it("writes cgroup v2's cpu.max and tc's kbit rates after the slowdown", () => {
    expect(cpuMaxLine(50_000)).to.equal("50000 100000");
    expect(tcRate(400e6, 100)).to.equal("4000kbit");
    expect(tcRate(1, 1)).to.equal("8kbit"); // tc's floor
    expect(() => tcRate(1e6, 0.5)).to.throw(/slowdown/);
  });
});
