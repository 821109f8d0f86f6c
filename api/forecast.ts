/**
 * GET /v1/forecast?latitude=..&longitude=..: the nowcast for the H3 cell containing the point, in
 * the shape of Open-Meteo's forecast API (`current`, plus `minutely_5` for the next hour in 5-minute
 * steps and a `_sigma` uncertainty beside each temperature).
 */
import type { Request, Response } from 'express';
import type { Queryable } from '../infra/store/index.ts';
import { latestNowcast } from '../infra/store/index.ts';
import { cellCenter, cellOf, inBBox, type BBox } from '../infra/geo/index.ts';
import { ApiError } from './errors.ts';

export interface ForecastDeps {
  store: Queryable;
  bbox: BBox;
  resolution: number;
  /** A nowcast older than this is not served [ms]. */
  maxAgeMs: number;
  now?: () => number;
}

/** Parses a coordinate parameter; the error names the parameter, the range and what was given. */
export function coordinate(query: Request['query'], name: 'latitude' | 'longitude', limit: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') throw new ApiError('INVALID_PARAMETER', `Parameter '${name}' is required.`);
  if (typeof raw !== 'string') throw new ApiError('INVALID_PARAMETER', `Parameter '${name}' must be given once, as a number.`);
  const trimmed = raw.trim();
  const v = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isFinite(v)) throw new ApiError('INVALID_PARAMETER', `Parameter '${name}' must be a number. Given: '${raw.slice(0, 40)}'.`);
  if (v < -limit || v > limit) throw new ApiError('INVALID_PARAMETER', `Parameter '${name}' must be in range of -${limit} to ${limit}. Given: ${v}.`);
  return v;
}

/** Open-Meteo's default time format: ISO 8601 in UTC to the minute, without a zone suffix. */
export function openMeteoTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

export function forecastHandler(deps: ForecastDeps) {
  const now = deps.now ?? Date.now;
  return async (req: Request, res: Response): Promise<void> => {
    const t0 = performance.now();
    const latitude = coordinate(req.query, 'latitude', 90);
    const longitude = coordinate(req.query, 'longitude', 180);
    const p = { lat: latitude, lon: longitude };
    if (!inBBox(p, deps.bbox)) {
      const b = deps.bbox;
      throw new ApiError('OUTSIDE_COVERAGE', `(${latitude}, ${longitude}) is outside the covered area: latitude ${b.south} to ${b.north}, longitude ${b.west} to ${b.east}.`);
    }
    const cell = cellOf(p, deps.resolution);
    const n = await latestNowcast(deps.store, cell, now(), deps.maxAgeMs).catch((err: unknown) => {
      throw new ApiError('STORE_UNAVAILABLE', `The store did not answer: ${err instanceof Error ? err.message : String(err)}`, { retryAfterS: 5 });
    });
    if (!n) throw new ApiError('NOT_READY', `No nowcast for cell ${cell} yet; the next batch run will produce one.`, { retryAfterS: 30 });
    const centre = cellCenter(cell);
    const times = n.tempsC.map((_, i) => openMeteoTime(n.runTimeMs + i * n.stepMin * 60_000));
    res.json({
      latitude,
      longitude,
      cell,
      cell_latitude: Number(centre.lat.toFixed(6)),
      cell_longitude: Number(centre.lon.toFixed(6)),
      generationtime_ms: Number((performance.now() - t0).toFixed(3)),
      utc_offset_seconds: 0,
      timezone: 'GMT',
      timezone_abbreviation: 'GMT',
      run_time: new Date(n.runTimeMs).toISOString(),
      method: n.method,
      observations_in_cell: n.nObs,
      current_units: { time: 'iso8601', interval: 'seconds', temperature_2m: '°C', temperature_2m_sigma: '°C' },
      current: { time: times[0], interval: n.stepMin * 60, temperature_2m: n.tempsC[0], temperature_2m_sigma: n.sigmasC[0] },
      minutely_5_units: { time: 'iso8601', temperature_2m: '°C', temperature_2m_sigma: '°C' },
      minutely_5: { time: times, temperature_2m: n.tempsC, temperature_2m_sigma: n.sigmasC },
    });
  };
}
