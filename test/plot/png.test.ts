/**
 * SVG -> PNG: a valid PNG of the requested width, text actually rasterised with the bundled DejaVu font (system
 * fonts are not loaded, so this also holds on a machine without any), and writeFigure's two files.
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { writeFigure } from "../../src/plot/files";
import { bundledFontFiles, fontOptions, svgToPng } from "../../src/plot/png";
import { lineChart, type LineChartSpec } from "../../src/plot/svg";

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const ihdr = (png: Buffer): { width: number; height: number } => {
  expect(png.subarray(12, 16).toString("latin1")).to.equal("IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
};
const chart = (title: string): LineChartSpec => ({
  title, xLabel: "Users", yLabel: "Seconds", series: [{ label: "MADDPG", x: [1, 2, 3], mean: [3, 1, 2], lower: [2, 0.5, 1], upper: [4, 2, 3] }],
});

describe("plot/png", () => {
  it("makes a valid PNG of the requested width, or the SVG's own size", () => {
    const svg = lineChart(chart("Time cost"));
    const png = svgToPng(svg, { width: 1280 });
    expect([...png.subarray(0, 8)]).to.deep.equal(PNG_MAGIC);
    expect(ihdr(png)).to.deep.equal({ width: 1280, height: 800 });
    expect(ihdr(svgToPng(svg))).to.deep.equal({ width: 640, height: 400 });
    expect(() => svgToPng(svg, { width: 0 })).to.throw(/positive integer/);
  });

  it("uses the DejaVu Sans shipped by npm, not the system fonts", () => {
    const files = bundledFontFiles();
    expect(files.length).to.be.greaterThan(0);
    files.forEach((f) => expect(existsSync(f), f).to.equal(true));
    expect(fontOptions()).to.include({ loadSystemFonts: false, defaultFontFamily: "DejaVu Sans" });
  });

  it("rasterises text", () => {
    const blank = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50" viewBox="0 0 200 50"></svg>`;
    const words = blank.replace("></svg>", ` font-family="DejaVu Sans"><text x="10" y="30" font-size="20">Hello</text></svg>`);
    expect(svgToPng(words).equals(svgToPng(blank))).to.equal(false);
    expect(svgToPng(lineChart(chart("A title"))).equals(svgToPng(lineChart(chart(""))))).to.equal(false);

    // Pixel level: the title band (y 8..30 px around the centre) has dark pixels only when there is a title.
    const darkInTitleBand = (svg: string): number => {
      const img = new Resvg(svg, { font: fontOptions(), background: "#ffffff" }).render();
      const { width, pixels } = img; // read once: each access to .pixels copies the whole RGBA buffer out of Rust
      let dark = 0;
      for (let y = 8; y < 30; y++) {
        for (let x = width / 2 - 100; x < width / 2 + 100; x++) {
          const i = (y * width + x) * 4;
          if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 300) dark++;
        }
      }
      return dark;
    };
    expect(darkInTitleBand(lineChart(chart("Time cost of learning")))).to.be.greaterThan(100);
    expect(darkInTitleBand(lineChart(chart("")))).to.equal(0);
  });

  it("writeFigure writes <base>.svg and <base>.png, creating directories", () => {
    const dir = mkdtempSync(join(tmpdir(), "dtwn-plot-"));
    try {
      const svg = lineChart(chart("Figure"));
      const paths = writeFigure(join(dir, "figs", "nested", "fig1"), svg);
      expect(paths).to.deep.equal({ svg: join(dir, "figs", "nested", "fig1.svg"), png: join(dir, "figs", "nested", "fig1.png") });
      expect(readFileSync(paths.svg, "utf8")).to.equal(svg);
      expect([...readFileSync(paths.png).subarray(0, 8)]).to.deep.equal(PNG_MAGIC);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
