/**
 * Map tiles: 256 px Web Mercator PNGs rendered on the server from the snapshot's H3 cells, on a
 * fixed colour scale (colour-scale.ts), transparent where there is no data. Two layers: the
 * temperature, and its difference from the median of the covered cells at the same lead (the
 * street-scale contrasts, which the temperature scale shows barely). A pixel takes the
 * colour of the cell containing its centre: each outline is projected to pixels and filled by
 * scanlines with a half-open rule, so neighbours neither overlap nor leave gaps at any zoom.
 * Rendered tiles are cached per run (LRU); the ETag names the run, the lead and the layer.
 */
import type { Request, Response } from 'express';
import { z } from 'zod';
import { ApiError } from './errors.ts';
import { DIFFERENCE_SCALE, paletteClasses, paletteIndex, paletteRgb, scaleLegend, TEMPERATURE_SCALE, type ColourScale } from './colour-scale.ts';
import { encodePalettePng } from './png.ts';
import { median } from '../pipeline/mean-bias.ts';
import type { Snapshot } from './snapshot.ts';
import type { SnapshotView } from './forecast.ts';
import type { HttpAnswer } from './http-answer.ts';

export const TILE_SIZE = 256;
export const MAX_ZOOM = 20;

/** What a tile shows: the temperature, or its difference from the covered cells' median at that lead. */
export const TILE_LAYERS = ['temperature', 'difference'] as const;
export type TileLayer = (typeof TILE_LAYERS)[number];

const SCALES: Record<TileLayer, Readonly<ColourScale>> = { temperature: TEMPERATURE_SCALE, difference: DIFFERENCE_SCALE };

function palette(scale: Readonly<ColourScale>): { rgb: Uint8Array; alpha: Uint8Array } {
  const alpha = new Uint8Array(paletteClasses(scale) + 1).fill(255);
  alpha[0] = 0;
  return { rgb: paletteRgb(scale), alpha };
}
const PALETTES: Record<TileLayer, { rgb: Uint8Array; alpha: Uint8Array }> = { temperature: palette(TEMPERATURE_SCALE), difference: palette(DIFFERENCE_SCALE) };

/** A fully transparent tile (outside the data). */
const EMPTY_TILE = encodePalettePng(TILE_SIZE, TILE_SIZE, new Uint8Array(TILE_SIZE * TILE_SIZE), PALETTES.temperature.rgb, PALETTES.temperature.alpha, 9);

const leadColours = new WeakMap<Snapshot, Map<string, Uint8Array>>();
const leadMedians = new WeakMap<Snapshot, Map<number, number>>();

/** The median temperature of the cells with a value at lead step k [°C]; NaN when none has one (cached per snapshot). */
export function medianAt(s: Snapshot, k: number): number {
  let m = leadMedians.get(s);
  if (!m) leadMedians.set(s, (m = new Map()));
  let med = m.get(k);
  if (med === undefined) {
    const values: number[] = [];
    for (let i = 0; i < s.size; i++) {
      const t = s.minutely(i, k).tempC;
      if (!Number.isNaN(t)) values.push(t);
    }
    med = median(values);
    m.set(k, med);
  }
  return med;
}

/** Palette index per cell at lead step k on a layer (cached per snapshot). */
function coloursAt(s: Snapshot, k: number, layer: TileLayer): Uint8Array {
  let m = leadColours.get(s);
  if (!m) leadColours.set(s, (m = new Map()));
  const key = `${layer}/${k}`;
  let c = m.get(key);
  if (!c) {
    c = new Uint8Array(s.size);
    const ref = layer === 'difference' ? medianAt(s, k) : 0;
    for (let i = 0; i < s.size; i++) c[i] = paletteIndex(s.minutely(i, k).tempC - ref, SCALES[layer]);
    m.set(key, c);
  }
  return c;
}

/** Renders tile (z, x, y) of lead step k on a layer to palette indices. Pure. */
export function renderTileIndices(s: Snapshot, z: number, x: number, y: number, k: number, layer: TileLayer = 'temperature'): Uint8Array | null {
  const g = s.geometry;
  const scale = 2 ** z;
  const tx0 = x / scale, tx1 = (x + 1) / scale, ty0 = y / scale, ty1 = (y + 1) / scale;
  const colours = coloursAt(s, k, layer);
  const px = new Uint8Array(TILE_SIZE * TILE_SIZE);
  const sx = scale * TILE_SIZE;
  let any = false;
  const vx: number[] = [];
  const vy: number[] = [];
  for (let i = 0; i < s.size; i++) {
    if (g.maxX[i]! <= tx0 || g.minX[i]! >= tx1 || g.maxY[i]! <= ty0 || g.minY[i]! >= ty1) continue;
    const colour = colours[i]!;
    if (colour === 0) continue;
    const o0 = g.offset[i]!, o1 = g.offset[i + 1]!;
    const nv = o1 - o0;
    vx.length = nv;
    vy.length = nv;
    let ymin = Infinity, ymax = -Infinity;
    for (let v = 0; v < nv; v++) {
      vx[v] = g.x[o0 + v]! * sx - x * TILE_SIZE;
      const py = g.y[o0 + v]! * sx - y * TILE_SIZE;
      vy[v] = py;
      if (py < ymin) ymin = py;
      if (py > ymax) ymax = py;
    }
    const r0 = Math.max(0, Math.ceil(ymin - 0.5));
    const r1 = Math.min(TILE_SIZE - 1, Math.ceil(ymax - 0.5) - 1);
    for (let row = r0; row <= r1; row++) {
      const yc = row + 0.5;
      let xl = Infinity, xr = -Infinity;
      for (let v = 0; v < nv; v++) {
        const w = v + 1 === nv ? 0 : v + 1;
        const ya = vy[v]!, yb = vy[w]!;
        if ((ya <= yc && yc < yb) || (yb <= yc && yc < ya)) {
          const xa = vx[v]!;
          const xi = xa + ((yc - ya) * (vx[w]! - xa)) / (yb - ya);
          if (xi < xl) xl = xi;
          if (xi > xr) xr = xi;
        }
      }
      if (xl === Infinity) continue;
      const c0 = Math.max(0, Math.ceil(xl - 0.5));
      const c1 = Math.min(TILE_SIZE - 1, Math.ceil(xr - 0.5) - 1);
      if (c1 < c0) continue;
      px.fill(colour, row * TILE_SIZE + c0, row * TILE_SIZE + c1 + 1);
      any = true;
    }
  }
  return any ? px : null;
}

export function renderTilePng(s: Snapshot, z: number, x: number, y: number, k: number, layer: TileLayer = 'temperature'): Buffer {
  const idx = renderTileIndices(s, z, x, y, k, layer);
  return idx ? encodePalettePng(TILE_SIZE, TILE_SIZE, idx, PALETTES[layer].rgb, PALETTES[layer].alpha) : EMPTY_TILE;
}

/** A bounded LRU of rendered tiles of the current run. */
export class TileCache {
  #map = new Map<string, Buffer>();
  #run = NaN;
  constructor(readonly maxEntries: number) {}

  get(run: number, key: string): Buffer | undefined {
    if (run !== this.#run) return undefined;
    const v = this.#map.get(key);
    if (v) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(run: number, key: string, v: Buffer): void {
    if (run !== this.#run) {
      this.#map.clear();
      this.#run = run;
    }
    this.#map.set(key, v);
    if (this.#map.size > this.maxEntries) this.#map.delete(this.#map.keys().next().value!);
  }

  get size(): number {
    return this.#map.size;
  }
}

const INT = /^\d{1,8}$/;

/** `lead` in minutes: a multiple of the run's step within its hour; returns the step index. */
export function leadStep(raw: unknown, s: Snapshot | null): number {
  if (raw === undefined) return 0;
  const stepMin = s?.run.stepMin ?? 5;
  const maxMin = s ? (s.run.stepsPerCell - 1) * stepMin : 60;
  if (typeof raw !== 'string' || !INT.test(raw) || Number(raw) % stepMin !== 0 || Number(raw) > maxMin) {
    throw new ApiError('INVALID_PARAMETER', `Parameter 'lead' must be minutes from 0 to ${maxMin} in steps of ${stepMin}. Given: '${String(raw).slice(0, 20)}'.`);
  }
  return Number(raw) / stepMin;
}

/** `layer`: temperature (default) or difference. */
export function tileLayer(raw: unknown): TileLayer {
  if (raw === undefined) return 'temperature';
  if (typeof raw === 'string' && (TILE_LAYERS as readonly string[]).includes(raw)) return raw as TileLayer;
  throw new ApiError('INVALID_PARAMETER', `Parameter 'layer' must be one of ${TILE_LAYERS.join(', ')}. Given: '${String(raw).slice(0, 20)}'.`);
}

export const tileQuery = z.object({
  lead: z.string().optional().describe('Minutes after the run: 0 to 60 in steps of 5 (default 0)'),
  layer: z.string().optional().describe("temperature (default), or difference: the cell's temperature minus the median of the covered cells at that lead, on a scale of -3 to +3 K"),
});
export const tilePath = z.object({ z: z.string().describe(`Zoom 0..${MAX_ZOOM}`), x: z.string(), y: z.string() });

export interface TileDeps {
  live: SnapshotView;
  batchIntervalMs: number;
  cache: TileCache;
  now?: () => number;
}

/** Cache-Control of an answer drawn from the run of `runTimeMs`: public, for at most a minute. */
export function runCacheControl(runTimeMs: number, batchIntervalMs: number, nowMs: number): string {
  const ageS = Math.round((nowMs - runTimeMs) / 1000);
  return `public, max-age=${Math.max(5, Math.min(60, Math.round(batchIntervalMs / 2000) - Math.max(0, ageS % 60)))}`;
}

/** The answer to GET /tiles/{z}/{x}/{file} (file = `{y}.png`). Throws ApiError. */
export function tileAnswer(params: { z: string; x: string; file: string }, query: { lead?: unknown; layer?: unknown }, ifNoneMatch: string | undefined, deps: TileDeps): HttpAnswer {
  const m = /^(\d{1,8})\.png$/.exec(params.file);
  if (!INT.test(params.z) || !INT.test(params.x) || !m) throw new ApiError('INVALID_PARAMETER', 'A tile is /tiles/{z}/{x}/{y}.png with non-negative integers.');
  const z = Number(params.z), x = Number(params.x), y = Number(m[1]);
  if (z > MAX_ZOOM) throw new ApiError('INVALID_PARAMETER', `Zoom must be from 0 to ${MAX_ZOOM}. Given: ${z}.`);
  const n = 2 ** z;
  if (x >= n || y >= n) throw new ApiError('INVALID_PARAMETER', `At zoom ${z}, x and y must be from 0 to ${n - 1}. Given: ${x}, ${y}.`);
  const s = deps.live.current;
  const k = leadStep(query.lead, s);
  const layer = tileLayer(query.layer);
  if (!s) throw new ApiError('NOT_READY', 'No nowcast has been loaded yet.', { retryAfterS: 30 });
  const etag = `"${s.runTimeMs.toString(36)}-${k}${layer === 'difference' ? '-d' : ''}"`;
  const headers = { ETag: etag, 'Cache-Control': runCacheControl(s.runTimeMs, deps.batchIntervalMs, (deps.now ?? Date.now)()) };
  if (ifNoneMatch === etag) return { status: 304, headers, body: '' };
  const key = `${layer}/${k}/${z}/${x}/${y}`;
  let png = deps.cache.get(s.runTimeMs, key);
  if (!png) {
    png = renderTilePng(s, z, x, y, k, layer);
    deps.cache.set(s.runTimeMs, key, png);
  }
  return { status: 200, headers: { ...headers, 'Content-Type': 'image/png' }, body: png };
}

export function tileJsonHandler(deps: { live: SnapshotView; bbox: { south: number; west: number; north: number; east: number }; basemap?: { url: string; attribution: string } | null }) {
  return (req: Request, res: Response): void => {
    const base = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    const b = deps.bbox;
    const s = deps.live.current;
    const leads = s ? Array.from({ length: s.run.stepsPerCell }, (_, k) => k * s.run.stepMin) : [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60];
    res.json({
      tilejson: '3.0.0',
      name: 'air temperature nowcast',
      description: "2 m air temperature per H3 cell; ?lead= minutes ahead (0..60, step 5); ?layer=difference: the cell's temperature minus the median of the covered cells at that lead",
      version: '1.0.0',
      scheme: 'xyz',
      tiles: [`${base}/tiles/{z}/{x}/{y}.png`],
      minzoom: 0,
      maxzoom: MAX_ZOOM,
      bounds: [b.west, b.south, b.east, b.north],
      center: [(b.west + b.east) / 2, (b.south + b.north) / 2, 11],
      attribution: 'Nowcast: a background forecast corrected with official and amateur station readings',
      run_time: s ? new Date(s.runTimeMs).toISOString() : null,
      leads_min: leads,
      temperature_scale: scaleLegend(TEMPERATURE_SCALE),
      layers: TILE_LAYERS,
      difference_scale: scaleLegend(DIFFERENCE_SCALE),
      // the median each lead's difference layer is taken from [°C] (null where no cell has a value)
      // the raster basemap the map page draws under the tiles (MAP_BASEMAP_URL), or null
      basemap: deps.basemap ? { tiles: [deps.basemap.url], attribution: deps.basemap.attribution } : null,
      difference_medians_c: s ? leads.map((_, k) => { const m = medianAt(s, k); return Number.isNaN(m) ? null : Math.round(m * 100) / 100; }) : null,
    });
  };
}

