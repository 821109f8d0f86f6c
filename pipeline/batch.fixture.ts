/**
 * A small, deterministic batch set-up for tests: a domain of a few shards, a background rising 1 K
 * per hour, and crowd readings with a local warm patch and a few faulty sensors.
 */
import { cellOf, type BBox } from '../infra/geo/index.ts';
import { createLogger } from '../infra/log.ts';
import { insertReadings, upsertBackground, type ReadingRow, type Store } from '../infra/store/index.ts';
import { HOUR_MS, MINUTE_MS } from '../infra/time.ts';
import { DEFAULT_ANALYSIS } from './analysis/defaults.ts';
import { BatchWorker, makeDomain, type BatchOptions, type Domain } from './batch.ts';
import { DEFAULT_QC } from './qc/defaults.ts';

export const WINDOW_MS = 5 * MINUTE_MS;
export const T0 = Date.UTC(2026, 5, 10, 12, 0);
/** ~2.2 km × 2.7 km of Berlin; at shard resolution 7 it has several shards. */
export const BOX: BBox = { south: 52.5, west: 13.38, north: 52.52, east: 13.42 };
export const RESOLUTION = 9;
export const SHARD_RESOLUTION = 7;

export function testDomain(): Domain {
  return makeDomain(BOX, RESOLUTION, SHARD_RESOLUTION);
}

export const backgroundC = (tMs: number) => 10 + (tMs - T0) / HOUR_MS;

export async function seedBackground(store: Store): Promise<void> {
  const points = [{ id: 'sw', lat: 52.45, lon: 13.3 }, { id: 'ne', lat: 52.6, lon: 13.5 }, { id: 'nw', lat: 52.6, lon: 13.3 }, { id: 'se', lat: 52.45, lon: 13.5 }];
  await upsertBackground(store, points.flatMap((p) => Array.from({ length: 8 }, (_, h) => ({
    source: 'bg', pointId: p.id, lat: p.lat, lon: p.lon, validTimeMs: T0 + (h - 2) * HOUR_MS, issuedAtMs: T0 - 3 * HOUR_MS, tempC: backgroundC(T0 + (h - 2) * HOUR_MS),
  }))));
}

/** Deterministic pseudo-random numbers in [0, 1) from integers. */
function hash01(...k: number[]): number {
  let h = 2166136261;
  for (const x of k) h = Math.imul(h ^ (x | 0), 16777619) >>> 0;
  h ^= h >>> 13; h = Math.imul(h, 0x5bd1e995) >>> 0; h ^= h >>> 15;
  return h / 4294967296;
}

/**
 * Readings of `sensors` crowd sensors on a jittered lattice over the box, one per minute over
 * [fromMs, toMs): background + 1 K (+1 K more in the warm patch) + noise; sensor 3 is stuck far too
 * warm (flagged by the spatial checks), one official station reads the background exactly.
 */
export function makeReadings(fromMs: number, toMs: number, sensors = 60): ReadingRow[] {
  const rows: ReadingRow[] = [];
  const side = Math.ceil(Math.sqrt(sensors));
  for (let s = 0; s < sensors; s++) {
    const lat = BOX.south + ((Math.floor(s / side) + 0.5 + 0.3 * (hash01(s, 1) - 0.5)) / side) * (BOX.north - BOX.south);
    const lon = BOX.west + (((s % side) + 0.5 + 0.3 * (hash01(s, 2) - 0.5)) / side) * (BOX.east - BOX.west);
    const warm = lat > 52.51 && lon > 13.40 ? 1 : 0;
    for (let t = fromMs; t < toMs; t += MINUTE_MS) {
      const tempC = s === 3 ? backgroundC(t) + 9 : backgroundC(t) + 1 + warm + 0.4 * (hash01(s, t / MINUTE_MS) - 0.5);
      rows.push({ sensorId: `s${String(s).padStart(3, '0')}`, timeMs: t, kind: 'amateur', lat, lon, elevationM: 40, cell: cellOf({ lat, lon }, RESOLUTION), tempC: Math.round(tempC * 10) / 10, humidityPct: null, pressureHpa: null });
    }
  }
  for (let t = fromMs; t < toMs; t += 10 * MINUTE_MS) {
    rows.push({ sensorId: 'official-1', timeMs: t, kind: 'official', lat: 52.505, lon: 13.39, elevationM: 35, cell: cellOf({ lat: 52.505, lon: 13.39 }, RESOLUTION), tempC: Math.round(backgroundC(t) * 10) / 10, humidityPct: null, pressureHpa: null });
  }
  return rows;
}

export async function seedReadings(store: Store, fromMs: number, toMs: number, sensors = 60): Promise<number> {
  return insertReadings(store, makeReadings(fromMs, toMs, sensors));
}

export function testWorker(store: Store, domain: Domain, over: Partial<BatchOptions> = {}): BatchWorker {
  return new BatchWorker({
    store, log: createLogger('silent'), domain, windowMs: WINDOW_MS, qc: DEFAULT_QC, analysis: DEFAULT_ANALYSIS, haloM: 3000,
    workerId: 'w1', leaseMs: 60_000, maxTaskAttempts: 2, retryBaseMs: 1000, retryMaxMs: 10_000, hourlyMaxSteps: 6, recordMaxAgeMs: 7 * 24 * HOUR_MS,
    now: () => Date.now(), pollMs: 10, mapThreads: 0, ...over,
  });
}

/** Every nowcast of a run, as comparable plain rows sorted by cell. */
export async function nowcastsOf(store: Store, runTimeMs: number): Promise<unknown[]> {
  const r = await store.query<Record<string, unknown>>(
    `SELECT cell, temps_c, sigmas_c, n_obs, method, hourly_start, hourly_temps_c, hourly_sigmas_c, newest_obs FROM nowcasts WHERE run_time = $1 ORDER BY cell`,
    [new Date(runTimeMs)],
  );
  return r.rows.map((row) => ({ ...row, hourly_start: (row.hourly_start as Date | null)?.getTime() ?? null, newest_obs: (row.newest_obs as Date | null)?.getTime() ?? null }));
}
