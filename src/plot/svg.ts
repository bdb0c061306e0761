/**
 * Figures for the paper as standalone SVG documents: line charts (mean with an optional 95% band per series, linear
 * or log y) and grouped bar charts (with optional error bars). Pure functions, no I/O and no dependencies; png.ts
 * rasterises the result. Input is validated: arrays of different lengths or non-finite numbers throw an Error that
 * names the series and the field.
 */

export interface Series { label: string; x: number[]; mean: number[]; lower?: number[]; upper?: number[] }
export interface LineChartSpec {
  title: string; xLabel: string; yLabel: string; series: Series[]; width?: number; height?: number; logY?: boolean;
}
export interface Bar { label: string; mean: number; lower?: number; upper?: number }
export interface BarGroup { label: string; bars: Bar[] }
export interface BarChartSpec { title: string; yLabel: string; groups: BarGroup[]; width?: number; height?: number }

/** Okabe-Ito colour-blind-safe palette (yellow last: weakest on white). */
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];
export const FONT_FAMILY = "DejaVu Sans, Arial, sans-serif";
const FONT_PX = 12;
const CHAR_PX = 7; // rough advance of one DejaVu Sans character at 12 px, for layout estimates

/** Escapes &, <, > and " for XML text and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Widens an empty range [v, v] so that it has a length: by 10% of |v|, or by 1 around 0. */
export function padRange(min: number, max: number): [number, number] {
  if (min !== max) return [min, max];
  const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
  return [min - pad, max + pad];
}

/**
 * About `count` intervals of a "nice" step (1, 2 or 5 × 10^k) covering [min, max]: the first tick is <= min and the
 * last >= max, so the ticks also give the axis range. An empty range is padded first (padRange).
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new Error(`niceTicks: bounds must be finite, got [${min}, ${max}]`);
  if (min > max) throw new Error(`niceTicks: min ${min} is greater than max ${max}`);
  if (!Number.isInteger(count) || count < 1) throw new Error(`niceTicks: count must be a positive integer, got ${count}`);
  [min, max] = padRange(min, max);
  const raw = (max - min) / count;
  const power = Math.floor(Math.log10(raw));
  const err = raw / 10 ** power;
  const factor = err >= Math.sqrt(50) ? 10 : err >= Math.sqrt(10) ? 5 : err >= Math.sqrt(2) ? 2 : 1;
  // k * factor * 10^power, computed so that decimal steps stay exact (0.1 * 3 -> 0.3, not 0.30000000000000004).
  const at = (k: number): number => (power < 0 ? (k * factor) / 10 ** -power : k * factor * 10 ** power);
  const step = at(1);
  const ticks: number[] = [];
  for (let k = Math.floor(min / step + 1e-9); ; k++) {
    ticks.push(at(k) === 0 ? 0 : at(k));
    if (at(k) >= max - step * 1e-9) break;
  }
  return ticks;
}

/** A tick label with as many decimals as the step needs; exponent notation for very large or small steps. */
export function formatTick(value: number, step: number): string {
  const power = Math.floor(Math.log10(Math.abs(step)) + 1e-6); // a step of 0.0999999 (2.8 - 2.7) counts as 0.1
  if (value === 0) return "0";
  if (power >= 6 || power <= -5) return value.toExponential(Math.max(0, Math.floor(Math.log10(Math.abs(value))) - power));
  return value.toFixed(Math.max(0, -power));
}

const num = (v: number): string => String(Math.round(v * 100) / 100 + 0); // 2 decimals, never "-0"

function text(x: number, y: number, content: string, attrs = ""): string {
  return `<text x="${num(x)}" y="${num(y)}"${attrs ? " " + attrs : ""}>${escapeXml(content)}</text>`;
}

function checkNumbers(values: number[], what: string): void {
  const bad = values.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
  if (bad >= 0) throw new Error(`${what}[${bad}] is not a finite number (${values[bad]})`);
}

function checkSize(width: number, height: number): void {
  if (!(Number.isFinite(width) && Number.isFinite(height) && width >= 200 && height >= 150)) {
    throw new Error(`figure size must be at least 200 x 150, got ${width} x ${height}`);
  }
}

interface Frame { left: number; top: number; right: number; bottom: number }

/** Document head: white background, title. */
function open(width: number, height: number, title: string): string[] {
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="${escapeXml(FONT_FAMILY)}" font-size="${FONT_PX}">`,
    `<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (title) out.push(text(width / 2, 24, title, `class="title" text-anchor="middle" font-size="16" font-weight="bold"`));
  return out;
}

/** Y axis with grid lines, tick labels and the rotated axis label; `label` turns a tick into its text. */
function yAxis(f: Frame, ticks: number[], y: (v: number) => number, label: (v: number) => string, name: string): string[] {
  const out = ticks.map((t) => {
    const py = y(t);
    return (
      `<line class="grid" x1="${num(f.left)}" y1="${num(py)}" x2="${num(f.right)}" y2="${num(py)}" stroke="#e0e0e0"/>` +
      `<line class="tick" x1="${num(f.left - 5)}" y1="${num(py)}" x2="${num(f.left)}" y2="${num(py)}" stroke="#000"/>` +
      text(f.left - 8, py + 4, label(t), `class="tick-label" text-anchor="end"`)
    );
  });
  out.push(`<line class="axis" x1="${num(f.left)}" y1="${num(f.top)}" x2="${num(f.left)}" y2="${num(f.bottom)}" stroke="#000"/>`);
  const cy = (f.top + f.bottom) / 2;
  out.push(text(16, cy, name, `class="axis-label" text-anchor="middle" transform="rotate(-90 16 ${num(cy)})"`));
  return out;
}

/** Legend in the right margin: one coloured swatch and label per entry. */
function legend(f: Frame, labels: string[]): string[] {
  return labels.map((label, i) => {
    const y = f.top + 8 + i * 20;
    const colour = PALETTE[i % PALETTE.length];
    return (
      `<rect class="legend-swatch" x="${num(f.right + 12)}" y="${num(y - 6)}" width="18" height="12" fill="${colour}"/>` +
      text(f.right + 36, y + 4, label, `class="legend-label"`)
    );
  });
}

function legendWidth(width: number, labels: string[]): number {
  return Math.min(width * 0.35, 44 + CHAR_PX * Math.max(0, ...labels.map((l) => l.length)));
}

function leftMargin(tickLabels: string[]): number {
  return Math.max(50, 34 + CHAR_PX * Math.max(...tickLabels.map((l) => l.length)));
}

/** Validates one series of a line chart (lengths, finiteness, lower <= upper, positivity on a log axis). */
function checkSeries(s: Series, logY: boolean): void {
  const name = `series "${s.label}"`;
  if (s.x.length === 0) throw new Error(`${name} has no points`);
  if ((s.lower === undefined) !== (s.upper === undefined)) throw new Error(`${name}: give both lower and upper, or neither`);
  for (const [field, values] of [["mean", s.mean], ["lower", s.lower], ["upper", s.upper]] as const) {
    if (values && values.length !== s.x.length) {
      throw new Error(`${name}: ${field} has ${values.length} values but x has ${s.x.length}`);
    }
  }
  checkNumbers(s.x, `${name} x`);
  for (const field of ["mean", "lower", "upper"] as const) {
    const values = s[field];
    if (!values) continue;
    checkNumbers(values, `${name} ${field}`);
    if (logY && values.some((v) => v <= 0)) throw new Error(`${name}: ${field} has a value <= 0, impossible on a log y axis`);
  }
  if (s.lower && s.upper && s.lower.some((lo, i) => lo > s.upper![i])) throw new Error(`${name}: lower > upper at some point`);
}

/** Log-axis ticks: whole decades covering [min, max] (log10 values), at most about 6 of them. */
function decadeTicks(min: number, max: number): number[] {
  let lo = Math.floor(min);
  let hi = Math.ceil(max);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const step = Math.ceil((hi - lo) / 6);
  const ticks: number[] = [];
  for (let k = Math.floor(lo / step) * step; ; k += step) {
    ticks.push(k);
    if (k >= hi) break;
  }
  return ticks;
}

/** Line chart: one polyline per series, a semi-transparent band where lower/upper are given, axes and a legend. */
export function lineChart(spec: LineChartSpec): string {
  const { width = 640, height = 400, logY = false } = spec;
  checkSize(width, height);
  if (spec.series.length === 0) throw new Error("lineChart: no series to draw");
  spec.series.forEach((s) => checkSeries(s, logY));

  const ty = (v: number): number => (logY ? Math.log10(v) : v);
  const xs = spec.series.flatMap((s) => s.x);
  const ys = spec.series.flatMap((s) => [...s.mean, ...(s.lower ?? []), ...(s.upper ?? [])]).map(ty);
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs));
  const yTicks = logY ? decadeTicks(Math.min(...ys), Math.max(...ys)) : niceTicks(Math.min(...ys), Math.max(...ys));
  const yStep = yTicks[1] - yTicks[0];
  const yLabel = (t: number): string => (logY ? formatTick(10 ** t, 10 ** t) : formatTick(t, yStep));

  const labels = spec.series.map((s) => s.label);
  const f: Frame = { left: leftMargin(yTicks.map(yLabel)), top: 40, right: width - 10 - legendWidth(width, labels), bottom: height - 50 };
  const [x0, x1] = [xTicks[0], xTicks[xTicks.length - 1]];
  const [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1]];
  const px = (v: number): number => f.left + ((v - x0) / (x1 - x0)) * (f.right - f.left);
  const py = (v: number): number => f.bottom - ((v - y0) / (y1 - y0)) * (f.bottom - f.top);
  const point = (x: number, y: number): string => `${num(px(x))},${num(py(ty(y)))}`;

  const out = open(width, height, spec.title);
  out.push(...yAxis(f, yTicks, py, yLabel, spec.yLabel));
  const xStep = xTicks[1] - xTicks[0];
  for (const t of xTicks) {
    out.push(`<line class="tick" x1="${num(px(t))}" y1="${num(f.bottom)}" x2="${num(px(t))}" y2="${num(f.bottom + 5)}" stroke="#000"/>`);
    out.push(text(px(t), f.bottom + 18, formatTick(t, xStep), `class="tick-label" text-anchor="middle"`));
  }
  out.push(`<line class="axis" x1="${num(f.left)}" y1="${num(f.bottom)}" x2="${num(f.right)}" y2="${num(f.bottom)}" stroke="#000"/>`);
  out.push(text((f.left + f.right) / 2, height - 12, spec.xLabel, `class="axis-label" text-anchor="middle"`));

  spec.series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    if (s.lower && s.upper) {
      const upper = s.x.map((x, j) => point(x, s.upper![j]));
      const lower = s.x.map((x, j) => point(x, s.lower![j])).reverse();
      out.push(`<polygon class="band" points="${[...upper, ...lower].join(" ")}" fill="${colour}" fill-opacity="0.2" stroke="none"/>`);
    }
  });
  spec.series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const points = s.x.map((x, j) => point(x, s.mean[j]));
    out.push(`<polyline class="series" points="${points.join(" ")}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    // Markers when points are few enough to tell apart (and so that a single point is visible at all).
    if (points.length <= 25) {
      for (const p of points) {
        const [cx, cy] = p.split(",");
        out.push(`<circle class="marker" cx="${cx}" cy="${cy}" r="3" fill="${colour}"/>`);
      }
    }
  });
  out.push(...legend(f, labels), "</svg>");
  return out.join("\n") + "\n";
}

/** Grouped bar chart: one group per category, one colour per bar label (same in every group), y axis from 0. */
export function barChart(spec: BarChartSpec): string {
  const { width = 640, height = 400 } = spec;
  checkSize(width, height);
  if (spec.groups.length === 0) throw new Error("barChart: no groups to draw");
  const labels: string[] = [];
  const values: number[] = [0];
  for (const g of spec.groups) {
    const seen = new Set<string>();
    for (const b of g.bars) {
      const name = `group "${g.label}" bar "${b.label}"`;
      if (seen.has(b.label)) throw new Error(`${name} appears twice in the group`);
      seen.add(b.label);
      if (!labels.includes(b.label)) labels.push(b.label);
      if ((b.lower === undefined) !== (b.upper === undefined)) throw new Error(`${name}: give both lower and upper, or neither`);
      const own = [b.mean, ...(b.lower === undefined ? [] : [b.lower, b.upper!])];
      checkNumbers(own, `${name} [mean, lower, upper]`);
      if (b.lower !== undefined && b.lower > b.upper!) throw new Error(`${name}: lower ${b.lower} > upper ${b.upper}`);
      values.push(...own);
    }
  }
  if (labels.length === 0) throw new Error("barChart: the groups have no bars");

  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  const yTicks = niceTicks(lo, lo === hi ? 1 : hi);
  const yStep = yTicks[1] - yTicks[0];
  const yLabel = (t: number): string => formatTick(t, yStep);
  const f: Frame = { left: leftMargin(yTicks.map(yLabel)), top: 40, right: width - 10 - legendWidth(width, labels), bottom: height - 40 };
  const [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1]];
  const py = (v: number): number => f.bottom - ((v - y0) / (y1 - y0)) * (f.bottom - f.top);

  const out = open(width, height, spec.title);
  out.push(...yAxis(f, yTicks, py, yLabel, spec.yLabel));
  const groupW = (f.right - f.left) / spec.groups.length;
  const barW = (groupW * 0.8) / labels.length;
  spec.groups.forEach((g, gi) => {
    const gx = f.left + gi * groupW;
    for (const b of g.bars) {
      const k = labels.indexOf(b.label);
      const bx = gx + groupW * 0.1 + k * barW;
      const [top, bottom] = [py(Math.max(b.mean, 0)), py(Math.min(b.mean, 0))];
      out.push(
        `<rect class="bar" x="${num(bx)}" y="${num(top)}" width="${num(barW)}" height="${num(bottom - top)}" ` +
          `fill="${PALETTE[k % PALETTE.length]}"><title>${escapeXml(`${g.label}, ${b.label}: ${b.mean}`)}</title></rect>`,
      );
      if (b.lower !== undefined && b.upper !== undefined) {
        const [cx, w, yl, yu] = [bx + barW / 2, Math.min(8, barW / 3), py(b.lower), py(b.upper)];
        out.push(
          `<path class="errorbar" d="M${num(cx)} ${num(yl)}V${num(yu)}M${num(cx - w)} ${num(yl)}H${num(cx + w)}` +
            `M${num(cx - w)} ${num(yu)}H${num(cx + w)}" stroke="#000" stroke-width="1.2" fill="none"/>`,
        );
      }
    }
    out.push(text(gx + groupW / 2, f.bottom + 18, g.label, `class="tick-label" text-anchor="middle"`));
  });
  out.push(`<line class="axis" x1="${num(f.left)}" y1="${num(py(0))}" x2="${num(f.right)}" y2="${num(py(0))}" stroke="#000"/>`);
  out.push(...legend(f, labels), "</svg>");
  return out.join("\n") + "\n";
}
