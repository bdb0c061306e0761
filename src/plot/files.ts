/** The plotting module's only I/O: writes a figure as <basePath>.svg and <basePath>.png side by side. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { svgToPng } from "./png";

/** Writes `<basePath>.svg` and `<basePath>.png` (creating parent directories) and returns both paths. */
export function writeFigure(basePath: string, svg: string): { svg: string; png: string } {
  const paths = { svg: `${basePath}.svg`, png: `${basePath}.png` };
  const png = svgToPng(svg); // render first: a bad SVG leaves no half-written figure behind
  mkdirSync(dirname(paths.svg), { recursive: true });
  writeFileSync(paths.svg, svg, "utf8");
  writeFileSync(paths.png, png);
  return paths;
}
