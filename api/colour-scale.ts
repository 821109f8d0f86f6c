/**
 * The map's fixed temperature scale: ColorBrewer RdYlBu (11 classes, marked colour-blind safe by
 * ColorBrewer), cold blue to warm red, interpolated linearly over MIN_C..MAX_C and quantised to
 * STEP_C, so every tile and the legend share one palette. The same scale at every time and zoom.
 */

export const SCALE_MIN_C = -15;
export const SCALE_MAX_C = 35;
/** Colour resolution of the tiles [K]. */
export const SCALE_STEP_C = 0.25;

/** RdYlBu, from cold to warm (ColorBrewer's order reversed). */
export const SCALE_ANCHORS = ['#313695', '#4575b4', '#74add1', '#abd9e9', '#e0f3f8', '#ffffbf', '#fee090', '#fdae61', '#f46d43', '#d73027', '#a50026'] as const;

function rgb(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** The colour of a temperature [°C] as [r, g, b] (clamped to the scale's ends). */
export function colourOf(tempC: number): [number, number, number] {
  const f = Math.min(1, Math.max(0, (tempC - SCALE_MIN_C) / (SCALE_MAX_C - SCALE_MIN_C))) * (SCALE_ANCHORS.length - 1);
  const k = Math.min(Math.floor(f), SCALE_ANCHORS.length - 2);
  const w = f - k;
  const a = rgb(SCALE_ANCHORS[k]!);
  const b = rgb(SCALE_ANCHORS[k + 1]!);
  return [0, 1, 2].map((j) => Math.round(a[j]! + w * (b[j]! - a[j]!))) as [number, number, number];
}

/** Palette entries: index 0 is transparent (no data); index 1 + q is the class q of STEP_C. */
export const PALETTE_CLASSES = Math.round((SCALE_MAX_C - SCALE_MIN_C) / SCALE_STEP_C) + 1;

/** The palette index of a temperature [°C]; 0 for NaN (no data). */
export function paletteIndex(tempC: number): number {
  if (Number.isNaN(tempC)) return 0;
  const q = Math.round((Math.min(SCALE_MAX_C, Math.max(SCALE_MIN_C, tempC)) - SCALE_MIN_C) / SCALE_STEP_C);
  return 1 + q;
}

/** RGB triples of the whole palette (index 0 black, transparent through tRNS). */
export function paletteRgb(): Uint8Array {
  const out = new Uint8Array(3 * (PALETTE_CLASSES + 1));
  for (let q = 0; q < PALETTE_CLASSES; q++) out.set(colourOf(SCALE_MIN_C + q * SCALE_STEP_C), 3 * (q + 1));
  return out;
}

/** What the legend needs: the ends, and the anchors' colours in order. */
export function scaleLegend(): { min_c: number; max_c: number; step_c: number; colors: readonly string[] } {
  return { min_c: SCALE_MIN_C, max_c: SCALE_MAX_C, step_c: SCALE_STEP_C, colors: SCALE_ANCHORS };
}
