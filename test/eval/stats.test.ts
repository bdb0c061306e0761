import { expect } from "chai";
import { cumulativeMean, curveInterval, interval95, mean, median } from "../../src/eval/stats";

describe("summary statistics", () => {
  it("median: the middle value, the mean of the middle two for an even count, and an error when empty", () => {
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(() => median([])).to.throw(/empty sample/);
  });

  it("interval95 is mean +- t(0.975, n-1) sd / sqrt(n), worked by hand", () => {
    // xs = 1..5: mean 3, sd sqrt(2.5), t(0.975, 4) = 2.776 -> half width 2.776 * 1.5811 / 2.2361 = 1.9629.
    const iv = interval95([1, 2, 3, 4, 5]);
    expect(iv.mean).to.equal(3);
    expect(iv.upper - iv.mean).to.be.closeTo(1.9629, 1e-4);
    expect(iv.mean - iv.lower).to.be.closeTo(1.9629, 1e-4);
    expect(interval95([7])).to.deep.equal({ n: 1, mean: 7, lower: 7, upper: 7 });
    expect(() => mean([])).to.throw(/empty/);
  });

  it("cumulative mean and point-wise curve intervals", () => {
    expect(cumulativeMean([2, 4, 6])).to.deep.equal([2, 3, 4]);
    const c = curveInterval([
      [1, 2, 3],
      [3, 4],
    ]);
    expect(c.mean).to.deep.equal([2, 3]);
    expect(c.lower[0]).to.be.below(2);
    expect(c.upper[1]).to.be.above(3);
  });
});
