/**
 * The map's fixed colour scales, each interpolated linearly between ColorBrewer anchors over
 * min..max and quantised to a step, so every tile and the legend share one palette; the same scale
 * at every time and zoom.
 * - temperature: RdYlBu (11 classes, colour-blind safe per ColorBrewer), cold blue to warm red, −15…35 °C;
 * - difference: RdBu (11 classes, colour-blind safe), a cell's temperature minus the median of the
 *   covered cells at the same time, −3…+3 K: the street-scale contrasts (heat island, parks, water)
 *   that span a few per cent of the temperature scale and so look uniform on it.
 */

export interface ColourScale {
  /** Lowest and highest values [°C or K]; values beyond take the end colours. */
  minC: number;
  maxC: number;
  /** Colour resolution [K]. */
  stepC: number;
  /** Anchor colours from the low end to the high end. */
  anchors: readonly string[];
}

/** RdYlBu, from cold to warm (ColorBrewer's order reversed). */
export const TEMPERATURE_SCALE: Readonly<ColourScale> = Object.freeze({
  minC: -15, maxC: 35, stepC: 0.25,
  anchors: Object.freeze(['#313695', '#4575b4', '#74add1', '#abd9e9', '#e0f3f8', '#ffffbf', '#fee090', '#fdae61', '#f46d43', '#d73027', '#a50026']),
});

/** RdBu, from colder than the median to warmer (ColorBrewer's order reversed). */
export const DIFFERENCE_SCALE: Readonly<ColourScale> = Object.freeze({
  minC: -3, maxC: 3, stepC: 0.05,
  anchors: Object.freeze(['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f']),
});

function rgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** The colour of a value as [r, g, b] (clamped to the scale's ends). */
export function colourOf(value: number, scale: Readonly<ColourScale> = TEMPERATURE_SCALE): [number, number, number] {
  const n = scale.anchors.length;
  const f = Math.min(1, Math.max(0, (value - scale.minC) / (scale.maxC - scale.minC))) * (n - 1);
  const k = Math.min(Math.floor(f), n - 2);
  const w = f - k;
  const a = rgb(scale.anchors[k]!);
  const b = rgb(scale.anchors[k + 1]!);
  return [0, 1, 2].map((j) => Math.round(a[j]! + w * (b[j]! - a[j]!))) as [number, number, number];
}

/** Palette entries besides index 0 (transparent, no data): class q of the step is index 1 + q. */
export function paletteClasses(scale: Readonly<ColourScale> = TEMPERATURE_SCALE): number {
  return Math.round((scale.maxC - scale.minC) / scale.stepC) + 1;
}

/** The palette index of a value; 0 for NaN (no data). */
export function paletteIndex(value: number, scale: Readonly<ColourScale> = TEMPERATURE_SCALE): number {
  if (Number.isNaN(value)) return 0;
  const q = Math.round((Math.min(scale.maxC, Math.max(scale.minC, value)) - scale.minC) / scale.stepC);
  return 1 + q;
}

/** RGB triples of the whole palette (index 0 black, transparent through tRNS). */
export function paletteRgb(scale: Readonly<ColourScale> = TEMPERATURE_SCALE): Uint8Array {
  const classes = paletteClasses(scale);
  if (classes + 1 > 256) throw new Error(`a scale of ${classes} classes does not fit an 8-bit palette`);
  const out = new Uint8Array(3 * (classes + 1));
  for (let q = 0; q < classes; q++) out.set(colourOf(scale.minC + q * scale.stepC, scale), 3 * (q + 1));
  return out;
}

/** What the legend needs: the ends, the step, and the anchors' colours in order. */
export function scaleLegend(scale: Readonly<ColourScale> = TEMPERATURE_SCALE): { min_c: number; max_c: number; step_c: number; colors: readonly string[] } {
  return { min_c: scale.minC, max_c: scale.maxC, step_c: scale.stepC, colors: scale.anchors };
}
