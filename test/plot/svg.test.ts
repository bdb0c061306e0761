/**
 * The SVG figures: well-formed standalone documents, one polyline per series and one band per series with bounds,
 * legends, XML escaping, nice ticks, degenerate inputs (one point, flat data) and clear errors for bad input.
 */
import { expect } from "chai";
import { barChart, escapeXml, lineChart, niceTicks, type LineChartSpec, type Series } from "../../src/plot/svg";

/** A tiny well-formedness check: balanced tags, quoted attributes, '&' only in entities, one <svg> root. */
function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml [^?]*\?>\s*/, "");
  const stack: string[] = [];
  let roots = 0;
  let last = 0;
  const attr = String.raw`\s+[\w:.-]+="[^"<&]*(?:&(?:amp|lt|gt|quot);[^"<&]*)*"`;
  const tagRe = new RegExp(String.raw`^<(/?)([A-Za-z][\w:.-]*)((?:${attr})*)\s*(/?)>$`);
  for (const m of body.matchAll(/<[^>]*>/g)) {
    const between = body.slice(last, m.index);
    expect(between.replace(/&(?:amp|lt|gt|quot);/g, ""), `text before ${m[0]}`).to.not.match(/[&<>]/);
    last = m.index + m[0].length;
    const tag = tagRe.exec(m[0]);
    expect(tag, `malformed tag ${m[0]}`).to.not.equal(null);
    const [, close, name, , selfClose] = tag!;
    if (stack.length === 0) roots++;
    if (close) expect(stack.pop(), `closing </${name}>`).to.equal(name);
    else if (!selfClose) stack.push(name);
  }
  expect(body.slice(last).trim()).to.equal("");
  expect(stack, "unclosed elements").to.deep.equal([]);
  expect(roots, "root elements").to.equal(1);
  expect(body.startsWith("<svg ")).to.equal(true);
}

const count = (svg: string, re: RegExp): number => (svg.match(re) ?? []).length;
const band = (k: number, label: string): Series => {
  const x = [1, 2, 3, 4];
  const mean = x.map((v) => k * v);
  return { label, x, mean, lower: mean.map((v) => v - 0.5), upper: mean.map((v) => v + 0.5) };
};
const spec = (series: Series[], extra: Partial<LineChartSpec> = {}): LineChartSpec =>
  ({ title: "Time cost", xLabel: "Users", yLabel: "Seconds", series, ...extra });

describe("plot/svg", () => {
  describe("niceTicks", () => {
    it("gives ~5 ticks of a 1/2/5 x 10^k step covering the range", () => {
      expect(niceTicks(0, 1, 5)).to.deep.equal([0, 0.2, 0.4, 0.6, 0.8, 1]);
      expect(niceTicks(0, 100, 5)).to.deep.equal([0, 20, 40, 60, 80, 100]);
      expect(niceTicks(0.13, 0.87, 5)).to.deep.equal([0, 0.2, 0.4, 0.6, 0.8, 1]);
      expect(niceTicks(3, 97, 2)).to.deep.equal([0, 50, 100]);
      expect(niceTicks(1e-7, 3e-7, 5)).to.deep.equal([1e-7, 1.5e-7, 2e-7, 2.5e-7, 3e-7]);
      for (const [min, max] of [[-3, 1234], [0.001, 0.0042], [17, 18], [-5e6, -2e6], [2.7, 3.3]]) {
        const ticks = niceTicks(min, max, 5);
        const step = ticks[1] - ticks[0];
        const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
        expect([1, 2, 5].some((n) => Math.abs(mantissa - n) < 1e-6), `step ${step}`).to.equal(true);
        expect(ticks[0]).to.be.at.most(min);
        expect(ticks[ticks.length - 1]).to.be.at.least(max);
        expect(ticks.length).to.be.within(3, 11);
      }
    });

    it("pads an empty range and rejects bad bounds", () => {
      expect(niceTicks(0, 0)).to.deep.equal([-1, -0.5, 0, 0.5, 1]);
      const ticks = niceTicks(5, 5);
      expect(ticks.length).to.be.greaterThan(2);
      expect(ticks[0]).to.be.below(5);
      expect(ticks[ticks.length - 1]).to.be.above(5);
      expect(() => niceTicks(NaN, 1)).to.throw(/finite/);
      expect(() => niceTicks(2, 1)).to.throw(/greater than max/);
      expect(() => niceTicks(0, 1, 0)).to.throw(/count/);
    });
  });

  describe("lineChart", () => {
    it("is a well-formed standalone SVG with one polyline per series and one band per bounded series", () => {
      const plain: Series = { label: "Greedy", x: [1, 2, 3, 4], mean: [2, 3, 5, 4] };
      const svg = lineChart(spec([band(1, "MADDPG"), plain, band(2, "Random")], { width: 800, height: 500 }));
      assertWellFormed(svg);
      expect(svg).to.match(/<svg [^>]*width="800" height="500" viewBox="0 0 800 500"/);
      expect(svg).to.contain('xmlns="http://www.w3.org/2000/svg"');
      expect(svg).to.contain('font-family="DejaVu Sans, Arial, sans-serif"');
      expect(count(svg, /<polyline /g)).to.equal(3);
      expect(count(svg, /<polygon class="band"/g)).to.equal(2);
      const colours = [...svg.matchAll(/<polyline [^>]*stroke="(#[0-9A-Fa-f]{6})"/g)].map((m) => m[1]);
      expect(new Set(colours).size).to.equal(3);
      for (const label of ["MADDPG", "Greedy", "Random", "Time cost", "Users", "Seconds"]) expect(svg).to.contain(`>${label}</text>`);
      expect(svg).to.not.match(/NaN|Infinity|undefined/);
    });

    it("escapes text for XML", () => {
      const svg = lineChart(spec([{ ...band(1, 'a<b> & "c"'), label: 'a<b> & "c"' }], { title: "T & <U>" }));
      assertWellFormed(svg);
      expect(svg).to.contain(">a&lt;b&gt; &amp; &quot;c&quot;</text>");
      expect(svg).to.contain(">T &amp; &lt;U&gt;</text>");
      expect(escapeXml(`<&>"`)).to.equal("&lt;&amp;&gt;&quot;");
    });

    it("draws a single point and flat data on a padded range", () => {
      const one = lineChart(spec([{ label: "p", x: [3], mean: [5] }]));
      assertWellFormed(one);
      expect(count(one, /<polyline /g)).to.equal(1);
      expect(count(one, /<circle class="marker"/g)).to.equal(1);
      expect(count(one, /class="tick-label"/g)).to.be.greaterThan(4);
      const flat = lineChart(spec([{ label: "flat", x: [0, 1, 2], mean: [7, 7, 7], lower: [7, 7, 7], upper: [7, 7, 7] }]));
      assertWellFormed(flat);
      expect(flat).to.not.match(/NaN|Infinity/);
    });

    it("puts decades on a log y axis", () => {
      const svg = lineChart(spec([{ label: "loss", x: [0, 1, 2], mean: [1, 0.1, 0.01] }], { logY: true }));
      assertWellFormed(svg);
      for (const t of ["0.01", "0.1", "1"]) expect(svg).to.contain(`>${t}</text>`);
      expect(() => lineChart(spec([{ label: "loss", x: [0, 1], mean: [1, 0] }], { logY: true }))).to.throw(/log y axis/);
    });

    it("rejects bad input with a clear message", () => {
      const bad = (s: Partial<Series>): (() => string) => () => lineChart(spec([{ label: "S", x: [1, 2, 3], mean: [1, 2, 3], ...s }]));
      expect(bad({ mean: [1, 2] })).to.throw('series "S": mean has 2 values but x has 3');
      expect(bad({ lower: [0, 1, 2], upper: [2, 3] })).to.throw('series "S": upper has 2 values but x has 3');
      expect(bad({ mean: [1, NaN, 3] })).to.throw('series "S" mean[1] is not a finite number (NaN)');
      expect(bad({ x: [1, Infinity, 3] })).to.throw('series "S" x[1] is not a finite number (Infinity)');
      expect(bad({ lower: [0, 1, 2] })).to.throw(/both lower and upper/);
      expect(bad({ lower: [0, 5, 2], upper: [2, 3, 4] })).to.throw(/lower > upper/);
      expect(bad({ x: [], mean: [] })).to.throw(/no points/);
      expect(() => lineChart(spec([]))).to.throw(/no series/);
      expect(() => lineChart(spec([band(1, "a")], { width: 10 }))).to.throw(/figure size/);
    });
  });

  describe("barChart", () => {
    const groups = [
      { label: "M = 3", bars: [{ label: "MADDPG", mean: 3.2, lower: 2.9, upper: 3.5 }, { label: "Random", mean: 5.1 }] },
      { label: "M = 5 & more", bars: [{ label: "Greedy", mean: 3 }, { label: "MADDPG", mean: 2.5, lower: 2.3, upper: 2.8 }] },
    ];

    it("draws grouped bars with consistent colours, error bars, a legend and a y axis from 0", () => {
      const svg = barChart({ title: "Time cost", yLabel: "Seconds", groups });
      assertWellFormed(svg);
      expect(svg).to.match(/<svg [^>]*width="640" height="400" viewBox="0 0 640 400"/);
      expect(count(svg, /<rect class="bar"/g)).to.equal(4);
      expect(count(svg, /<path class="errorbar"/g)).to.equal(2);
      const colourOf = (label: string): string[] =>
        [...svg.matchAll(/<rect class="bar" [^>]*fill="(#\w+)"><title>[^<]*, (\w+):/g)].filter((m) => m[2] === label).map((m) => m[1]);
      expect(colourOf("MADDPG")).to.have.length(2);
      expect(new Set(colourOf("MADDPG")).size).to.equal(1);
      expect(new Set([colourOf("MADDPG")[0], colourOf("Random")[0], colourOf("Greedy")[0]]).size).to.equal(3);
      expect(count(svg, /class="legend-label"/g)).to.equal(3);
      for (const label of ["MADDPG", "Random", "Greedy", "M = 3", "M = 5 &amp; more"]) expect(svg).to.contain(`>${label}</text>`);
      const yTicks = [...svg.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => Number(m[1]));
      expect(yTicks[0]).to.equal(0);
      expect(yTicks[yTicks.length - 1]).to.be.at.least(5.1);
    });

    it("rejects bad input with a clear message", () => {
      const chart = (bars: { label: string; mean: number; lower?: number; upper?: number }[]) => () =>
        barChart({ title: "t", yLabel: "y", groups: [{ label: "G", bars }] });
      expect(chart([{ label: "A", mean: NaN }])).to.throw('group "G" bar "A" [mean, lower, upper][0] is not a finite number (NaN)');
      expect(chart([{ label: "A", mean: 1, lower: 2, upper: 0 }])).to.throw(/lower 2 > upper 0/);
      expect(chart([{ label: "A", mean: 1, upper: 2 }])).to.throw(/both lower and upper/);
      expect(chart([{ label: "A", mean: 1 }, { label: "A", mean: 2 }])).to.throw(/appears twice/);
      expect(chart([])).to.throw(/no bars/);
      expect(() => barChart({ title: "t", yLabel: "y", groups: [] })).to.throw(/no groups/);
      assertWellFormed(chart([{ label: "zero", mean: 0 }])());
    });
  });
});
