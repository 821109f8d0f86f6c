/**
 * GET /v1/cells?bbox=west,south,east,north[&lead=]: the snapshot's cells whose centres lie in the
 * box, as GeoJSON hexagons with temperature, sigma and lead, or as an Apache Arrow IPC stream
 * (one row per cell, the centre instead of the outline) when the Accept header asks for it.
 * Boxes holding more than MAX_CELLS cells are refused with 413. ETag per run, lead and format
 * (If-None-Match → 304) and Cache-Control as the tiles'. The GeoJSON is written a slice of
 * features at a time (other requests run between slices), from outlines kept per grid.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Request, Response } from 'express';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { z } from 'zod';
import { cellAreaM2, cellOf, EARTH_RADIUS_M } from '../infra/geo/index.ts';
import { ApiError } from './errors.ts';
import { leadStep, runCacheControl } from './tiles.ts';
import type { SnapshotView } from './forecast.ts';
import type { CellGeometry, Snapshot } from './snapshot.ts';

export const MAX_CELLS = 10_000;
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

export const cellsQuery = z.object({
  bbox: z.string().describe('west,south,east,north in degrees (GeoJSON order)'),
  lead: z.string().optional().describe('Minutes after the run: 0 to 60 in steps of 5 (default 0)'),
});

function parseBBox(raw: unknown): { west: number; south: number; east: number; north: number } {
  if (typeof raw !== 'string') throw new ApiError('INVALID_PARAMETER', "Parameter 'bbox' is required once: west,south,east,north in degrees.");
  const parts = raw.length <= 200 ? raw.split(',').map((p) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)\s*$/.test(p) ? Number(p) : NaN)) : [];
  const [west, south, east, north] = parts;
  if (parts.length !== 4 || parts.some((p) => !Number.isFinite(p)) || west === undefined || south === undefined || east === undefined || north === undefined) {
    throw new ApiError('INVALID_PARAMETER', `Parameter 'bbox' must be four numbers west,south,east,north. Given: '${raw.slice(0, 60)}'.`);
  }
  if (!(west < east && south < north && south >= -90 && north <= 90 && west >= -180 && east <= 180)) {
    throw new ApiError('INVALID_PARAMETER', `Parameter 'bbox' needs west < east and south < north within ±180/±90. Given: '${raw.slice(0, 60)}'.`);
  }
  return { west, south, east, north };
}

/** How many cells of `resolution` a box holds, from its area on the sphere. */
export function estimatedCells(box: { west: number; south: number; east: number; north: number }, resolution: number): number {
  const rad = Math.PI / 180;
  const areaM2 = EARTH_RADIUS_M ** 2 * (Math.sin(box.north * rad) - Math.sin(box.south * rad)) * (box.east - box.west) * rad;
  return areaM2 / cellAreaM2(cellOf({ lat: (box.south + box.north) / 2, lon: (box.west + box.east) / 2 }, resolution));
}

export function cellsHandler(deps: { live: SnapshotView; resolution: number; batchIntervalMs: number; now?: () => number }) {
  return (req: Request, res: Response): void => {
    const box = parseBBox(req.query.bbox);
    const estimate = estimatedCells(box, deps.resolution);
    if (estimate > MAX_CELLS) throw new ApiError('PAYLOAD_TOO_LARGE', `The box holds about ${Math.round(estimate)} cells; at most ${MAX_CELLS} per request: ask for a smaller one (or use the tiles).`);
    const s = deps.live.current;
    const k = leadStep(req.query.lead, s);
    if (!s) throw new ApiError('NOT_READY', 'No nowcast has been loaded yet.', { retryAfterS: 30 });
    const g = s.geometry;
    const picked: number[] = [];
    for (let i = 0; i < s.size; i++) {
      const lat = g.centreLat[i]!, lon = g.centreLon[i]!;
      if (lat >= box.south && lat <= box.north && lon >= box.west && lon <= box.east) {
        picked.push(i);
        if (picked.length > MAX_CELLS) {
          throw new ApiError('PAYLOAD_TOO_LARGE', `The box holds more than ${MAX_CELLS} cells; ask for a smaller one (or use the tiles).`);
        }
      }
    }
    const leadMin = k * s.run.stepMin;
    const arrow = req.accepts(['application/geo+json', 'application/json', ARROW_STREAM]) === ARROW_STREAM;
    // The answer depends on the run, the lead, the box (in the URL) and the format asked for.
    const etag = `"${s.runTimeMs.toString(36)}-${k}-${arrow ? 'a' : 'g'}"`;
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', runCacheControl(s.runTimeMs, deps.batchIntervalMs, (deps.now ?? Date.now)()));
    res.vary('Accept'); // appended: other middleware (compression) adds its own
    if (req.get('if-none-match') === etag) {
      res.status(304).end();
      return;
    }
    if (arrow) {
      const n = picked.length;
      const t = new Float32Array(n), sg = new Float32Array(n), lat = new Float64Array(n), lon = new Float64Array(n), obs = new Int32Array(n), lead = new Int16Array(n).fill(leadMin);
      const cells: string[] = [];
      picked.forEach((i, j) => {
        const v = s.minutely(i, k);
        t[j] = v.tempC;
        sg[j] = v.sigmaC;
        lat[j] = g.centreLat[i]!;
        lon[j] = g.centreLon[i]!;
        obs[j] = s.run.nObs[i]!;
        cells.push(s.run.cells[i]!);
      });
      const table = tableFromArrays({ cell: cells, latitude: lat, longitude: lon, temperature_2m: t, temperature_2m_sigma: sg, lead_min: lead, n_obs: obs });
      res.setHeader('X-Run-Time', new Date(s.runTimeMs).toISOString());
      res.type(ARROW_STREAM).send(Buffer.from(tableToIPC(table, 'stream')));
      return;
    }
    res.type('application/geo+json');
    void writeFeatures(res, s, picked, k, leadMin);
  };
}

/** Features per slice of a GeoJSON answer: the HTTP thread turns to other requests between slices. */
export const FEATURES_PER_SLICE = 1_000;

/**
 * Writes the FeatureCollection of cells `picked` of snapshot `s` at lead step `k`, a slice of features
 * at a time, waiting for the socket when it is full and giving other requests a turn between slices;
 * stops when the client goes away. The text is that of JSON.stringify on the same objects.
 */
export async function writeFeatures(res: Sink, s: Snapshot, picked: readonly number[], k: number, leadMin: number): Promise<void> {
  const outline = outlines(s.geometry);
  const num = (v: number) => (Number.isNaN(v) ? 'null' : String(Math.round(v * 100) / 100));
  try {
    let more = res.write(`{"type":"FeatureCollection","run_time":"${new Date(s.runTimeMs).toISOString()}","lead_min":${leadMin},"features":[`);
    for (let from = 0; from < picked.length; from += FEATURES_PER_SLICE) {
      if (from > 0) {
        await (more ? nextTurn() : drainedOrClosed(res));
        if (res.destroyed) return;
      }
      const parts: string[] = [];
      for (let j = from; j < Math.min(picked.length, from + FEATURES_PER_SLICE); j++) {
        const i = picked[j]!;
        const v = s.minutely(i, k);
        const p = s.provenance(i);
        parts.push(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[${outline(i)}]},"properties":{"cell":${JSON.stringify(s.run.cells[i])},"temperature_2m":${num(v.tempC)},"temperature_2m_sigma":${num(v.sigmaC)},"lead_min":${leadMin},"n_obs":${p.nObs},"method":${JSON.stringify(p.method)}}}`);
      }
      more = res.write((from > 0 ? ',' : '') + parts.join(','));
    }
    res.end(']}');
  } catch (err) {
    // Past the first byte no error answer can be given: cut the answer short so that it cannot pass for whole.
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}

/** What writeFeatures writes to: an HTTP response, or any writable stream. */
export interface Sink {
  write(chunk: string): boolean;
  end(chunk: string): unknown;
  destroy(err?: Error): unknown;
  readonly destroyed: boolean;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/** Resolves when the sink can take more, or when it has closed (a client gone never drains). */
function drainedOrClosed(sink: Sink): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
}

const outlineCache = new WeakMap<CellGeometry, (string | undefined)[]>();

/** Each cell's closed outline as GeoJSON ring text, made when first asked for, kept as long as the grid. */
function outlines(g: CellGeometry): (i: number) => string {
  let texts = outlineCache.get(g);
  if (!texts) outlineCache.set(g, (texts = new Array<string | undefined>(g.cells.length)));
  const cache = texts;
  return (i) => {
    let t = cache[i];
    if (t === undefined) {
      const ring: [number, number][] = [];
      for (let o = g.offset[i]!; o < g.offset[i + 1]!; o++) ring.push([lonOf(g.x[o]!), latOf(g.y[o]!)]);
      ring.push(ring[0]!);
      cache[i] = t = JSON.stringify(ring);
    }
    return t;
  };
}

/** Inverse Web Mercator (zoom-0 units back to degrees), rounded to 1e-6°. */
function lonOf(x: number): number {
  return Math.round((x * 360 - 180) * 1e6) / 1e6;
}
function latOf(y: number): number {
  return Math.round(((Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI) * 1e6) / 1e6;
}
