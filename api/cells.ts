/**
 * GET /v1/cells?bbox=west,south,east,north[&lead=]: the snapshot's cells whose centres lie in the
 * box, as GeoJSON hexagons with temperature, sigma and lead, or as an Apache Arrow IPC stream
 * (one row per cell, the centre instead of the outline) when the Accept header asks for it.
 * Boxes holding more than MAX_CELLS cells are refused with 413.
 */
import type { Request, Response } from 'express';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { z } from 'zod';
import { cellAreaM2, cellOf, EARTH_RADIUS_M } from '../infra/geo/index.ts';
import { ApiError } from './errors.ts';
import { leadStep } from './tiles.ts';
import type { SnapshotView } from './forecast.ts';

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

export function cellsHandler(deps: { live: SnapshotView; resolution: number }) {
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
    const round2 = (v: number) => (Number.isNaN(v) ? null : Math.round(v * 100) / 100);
    if (req.accepts(['application/geo+json', 'application/json', ARROW_STREAM]) === ARROW_STREAM) {
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
    const features = picked.map((i) => {
      const ring: [number, number][] = [];
      for (let o = g.offset[i]!; o < g.offset[i + 1]!; o++) ring.push([lonOf(g.x[o]!), latOf(g.y[o]!)]);
      ring.push(ring[0]!);
      const v = s.minutely(i, k);
      const p = s.provenance(i);
      return {
        type: 'Feature',
        geometry: { type: 'Polygon', coordinates: [ring] },
        properties: { cell: s.run.cells[i], temperature_2m: round2(v.tempC), temperature_2m_sigma: round2(v.sigmaC), lead_min: leadMin, n_obs: p.nObs, method: p.method },
      };
    });
    res.type('application/geo+json').send(JSON.stringify({ type: 'FeatureCollection', run_time: new Date(s.runTimeMs).toISOString(), lead_min: leadMin, features }));
  };
}

/** Inverse Web Mercator (zoom-0 units back to degrees), rounded to 1e-6°. */
function lonOf(x: number): number {
  return Math.round((x * 360 - 180) * 1e6) / 1e6;
}
function latOf(y: number): number {
  return Math.round(((Math.atan(Math.sinh(Math.PI * (1 - 2 * y))) * 180) / Math.PI) * 1e6) / 1e6;
}
