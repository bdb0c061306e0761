/**
 * SVG -> PNG with resvg (@resvg/resvg-js: Rust, prebuilt native binaries shipped as npm optional dependencies, no
 * browser, no system libraries).
 *
 * Fonts: resvg draws no text at all when it finds no font, and a clean machine or CI container may have none
 * (no /usr/share/fonts, no fontconfig). So the font comes from npm: the `dejavu-fonts-ttf` package (DejaVu 2.37,
 * free Bitstream Vera / Arev licence) ships plain .ttf files, which are passed to resvg as `font.fontFiles`, and
 * system fonts are not loaded. The figures then use the same glyphs on every machine (reproducible PNGs, and
 * faster: no font-directory scan). DejaVu Sans is the first family of the SVG's font-family (svg.ts), and it
 * covers Latin, Greek and the common math symbols. Only if that package were missing do we fall back to the
 * system fonts.
 */
import { Resvg, type ResvgRenderOptions } from "@resvg/resvg-js";

const FONT_NAMES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf"];

/** Paths of the bundled DejaVu Sans faces, or [] if the `dejavu-fonts-ttf` package is not installed. */
export function bundledFontFiles(): string[] {
  try {
    return FONT_NAMES.map((name) => require.resolve(`dejavu-fonts-ttf/ttf/${name}`));
  } catch {
    return [];
  }
}

/** resvg's font options: the bundled DejaVu Sans, or the system fonts when it is missing. */
export function fontOptions(): NonNullable<ResvgRenderOptions["font"]> {
  const fontFiles = bundledFontFiles();
  return {
    fontFiles,
    loadSystemFonts: fontFiles.length === 0,
    defaultFontFamily: "DejaVu Sans",
    sansSerifFamily: "DejaVu Sans",
  };
}

/** Renders an SVG document to PNG bytes, `width` pixels wide if given (height keeps the aspect ratio). */
export function svgToPng(svg: string, opts: { width?: number } = {}): Buffer {
  if (opts.width !== undefined && !(Number.isInteger(opts.width) && opts.width > 0)) {
    throw new Error(`svgToPng: width must be a positive integer, got ${opts.width}`);
  }
  const resvg = new Resvg(svg, {
    font: fontOptions(),
    fitTo: opts.width === undefined ? { mode: "original" } : { mode: "width", value: opts.width },
    background: "#ffffff",
    logLevel: "off",
  });
  return resvg.render().asPng();
}
