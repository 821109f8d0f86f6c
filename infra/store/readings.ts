/**
 * Hot-path SQL for readings and the sensor registry (ingest and the bench).
 *
 * One statement per chunk of rows. Where the adapter has a bulk load (`copyFrom`, the embedded
 * engine), a chunk is first appended with a plain binary COPY, the engine's cheapest write; a COPY
 * that meets a reading already stored fails whole (SQLSTATE 23505, nothing written) and the chunk is
 * written again the idempotent way. That way is the only one elsewhere: columns travel as arrays and
 * are expanded with `unnest(...)` under ON CONFLICT DO NOTHING, far cheaper to parse and plan than
 * per-row VALUES. Inside a transaction the COPY runs under a savepoint, so its failure leaves the
 * transaction usable. Rows are validated before anything is written. Chunks are separate statements:
 * a batch that fails midway may be partly written; retrying it is safe because inserts are idempotent
 * on (sensor_id, time).
 */
import type { Queryable, Store } from './store.ts';
import { CopyBinaryWriter } from './copy-binary.ts';

export type SensorKind = 'official' | 'amateur';

export interface ReadingRow {
  sensorId: string;
  /** Observation time [epoch ms, UTC]. */
  timeMs: number;
  kind: SensorKind;
  /** Latitude [degrees, -90..90]. */
  lat: number;
  /** Longitude [degrees, -180..180]. */
  lon: number;
  /** Elevation above sea level [m]. */
  elevationM: number | null;
  /** H3 cell of lat/lon at the pipeline's resolution. */
  cell: string;
  /** Air temperature [°C]. */
  tempC: number;
  /** Relative humidity [%]. */
  humidityPct: number | null;
  /** Air pressure [hPa]. */
  pressureHpa: number | null;
}

export interface SensorRow {
  sensorId: string;
  kind: SensorKind;
  /** Latitude [degrees]. */
  lat: number;
  /** Longitude [degrees]. */
  lon: number;
  /** Elevation above sea level [m]. */
  elevationM: number | null;
  /** Time of the sensor's latest reading [epoch ms, UTC]. */
  lastSeenMs: number;
}

export class InvalidRowError extends Error {
  override readonly name = 'InvalidRowError';
  readonly code = 'ROW_INVALID';
  constructor(
    /** Index of the offending row in the batch passed in. */
    readonly index: number,
    /** Name of the offending field. */
    readonly field: string,
    reason: string,
  ) {
    super(`rows[${index}].${field}: ${reason}`);
  }
}

/** Rows per statement (bounds the size of one message and of PGlite's buffers). */
export const DEFAULT_CHUNK_ROWS = 10_000;

export interface WriteOptions {
  /** Rows per statement (default DEFAULT_CHUNK_ROWS). */
  chunkRows?: number;
}

export interface ReadingWriteOptions extends WriteOptions {
  /**
   * Append with a plain COPY first where the adapter can (default true). A writer that just met
   * readings already stored (a redelivered batch) passes false until a batch is all new again, so a
   * run of duplicates does not pay for a failed COPY every time.
   */
  copy?: boolean;
}

export interface ReadingsWritten {
  /** Readings stored by this call. */
  inserted: number;
  /** Readings of the call after dropping its own duplicates (same sensor and time). */
  unique: number;
  /** Whether a plain COPY met readings already stored and the idempotent write took over. */
  conflicted: boolean;
}

// ---- validation -------------------------------------------------------------------------------

const KINDS: ReadonlySet<string> = new Set(['official', 'amateur']);
/** Epoch ms range accepted: years 1970..2200 (catches seconds-for-ms and garbage). */
const MIN_TIME_MS = 0;
const MAX_TIME_MS = 7_258_118_400_000;

function text(i: number, field: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0) throw new InvalidRowError(i, field, `expected a non-empty string, got ${JSON.stringify(v)}`);
}
function finite(i: number, field: string, v: unknown, min = -Infinity, max = Infinity): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidRowError(i, field, `expected a finite number, got ${String(v)}`);
  if (v < min || v > max) throw new InvalidRowError(i, field, `expected a number in [${min}, ${max}], got ${v}`);
}
function finiteOrNull(i: number, field: string, v: unknown): void {
  if (v !== null) finite(i, field, v);
}
function isObject(i: number, v: unknown): void {
  if (typeof v !== 'object' || v === null) throw new InvalidRowError(i, '(row)', `expected an object, got ${String(v)}`);
}
function kind(i: number, v: unknown): void {
  if (typeof v !== 'string' || !KINDS.has(v)) throw new InvalidRowError(i, 'kind', `expected "official" or "amateur", got ${JSON.stringify(v)}`);
}
function time(i: number, field: string, v: unknown): void {
  finite(i, field, v, MIN_TIME_MS, MAX_TIME_MS);
}

/** Times are stored to the millisecond: fractions (float noise from seconds × 1000) are rounded. */
const wholeMs = (t: number): number => Math.round(t);

/** Throws InvalidRowError (field and row index) for the first malformed reading. */
export function validateReadings(rows: readonly ReadingRow[]): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    isObject(i, r);
    text(i, 'sensorId', r.sensorId);
    time(i, 'timeMs', r.timeMs);
    kind(i, r.kind);
    finite(i, 'lat', r.lat, -90, 90);
    finite(i, 'lon', r.lon, -180, 180);
    finiteOrNull(i, 'elevationM', r.elevationM);
    text(i, 'cell', r.cell);
    finite(i, 'tempC', r.tempC);
    finiteOrNull(i, 'humidityPct', r.humidityPct);
    finiteOrNull(i, 'pressureHpa', r.pressureHpa);
  }
}

/** Throws InvalidRowError (field and row index) for the first malformed sensor. */
export function validateSensors(rows: readonly SensorRow[]): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    isObject(i, r);
    text(i, 'sensorId', r.sensorId);
    kind(i, r.kind);
    finite(i, 'lat', r.lat, -90, 90);
    finite(i, 'lon', r.lon, -180, 180);
    finiteOrNull(i, 'elevationM', r.elevationM);
    time(i, 'lastSeenMs', r.lastSeenMs);
  }
}

// ---- readings ---------------------------------------------------------------------------------

/** The rows with the first of each (sensorId, timeMs) pair kept, in their original order. */
export function dedupeReadings(rows: readonly ReadingRow[]): ReadingRow[] {
  const seen = new Set<string>();
  const out: ReadingRow[] = [];
  for (const r of rows) {
    const key = `${wholeMs(r.timeMs)}|${r.sensorId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/**
 * The rows in the order of the primary key (sensor id, then time; a stable sort). Written in that
 * order, consecutive rows land on the same pages of the key's index instead of one page per sensor
 * of a batch that interleaves many sensors: ~18 % less of the embedded engine's CPU per row.
 */
export function inKeyOrder(rows: readonly ReadingRow[]): ReadingRow[] {
  return rows.slice().sort((a, b) => (a.sensorId < b.sensorId ? -1 : a.sensorId > b.sensorId ? 1 : wholeMs(a.timeMs) - wholeMs(b.timeMs)));
}

const INSERT_READINGS = `
INSERT INTO readings (sensor_id, time, kind, lat, lon, elevation_m, cell, temp_c, humidity_pct, pressure_hpa)
SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::float8[], $5::float8[], $6::float8[],
                     $7::text[], $8::float8[], $9::float8[], $10::float8[])
ON CONFLICT (sensor_id, time) DO NOTHING`;

function chunks<T>(rows: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

function chunkSize(options: WriteOptions): number {
  const n = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`chunkRows must be a positive integer, got ${n}`);
  return n;
}

/** The columns of readings a write fills, in the order of the bulk load's tuples. */
export const READING_COLUMNS = ['sensor_id', 'time', 'kind', 'lat', 'lon', 'elevation_m', 'cell', 'temp_c', 'humidity_pct', 'pressure_hpa'] as const;

/** Valid rows as a binary COPY of READING_COLUMNS (times to the whole millisecond). Pure. */
export function readingsCopyData(rows: readonly ReadingRow[]): Uint8Array {
  const w = new CopyBinaryWriter(READING_COLUMNS.length, 64 + rows.length * 160);
  for (const r of rows) {
    w.tuple().text(r.sensorId).timestamptzMs(wholeMs(r.timeMs)).text(r.kind).float8(r.lat).float8(r.lon).float8(r.elevationM)
      .text(r.cell).float8(r.tempC).float8(r.humidityPct).float8(r.pressureHpa);
  }
  return w.finish();
}

const UNIQUE_VIOLATION = '23505';
const SAVEPOINT = 'readings_copy';

const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;

/**
 * Appends a chunk with one plain COPY; resolves null (and writes nothing) when a reading of it is
 * already stored. In a transaction (a Queryable that is not a Store) under a savepoint.
 */
async function copyChunk(q: Queryable & Required<Pick<Queryable, 'copyFrom'>>, chunk: readonly ReadingRow[]): Promise<number | null> {
  const rows = { table: 'readings', columns: READING_COLUMNS, data: readingsCopyData(chunk) };
  const autocommit = typeof (q as Partial<Store>).transaction === 'function';
  if (autocommit) {
    try {
      return await q.copyFrom(rows);
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }
  await q.query(`SAVEPOINT ${SAVEPOINT}`);
  try {
    const n = await q.copyFrom(rows);
    await q.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    return n;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    await q.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    await q.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    return null;
  }
}

/** Inserts readings idempotently (ON CONFLICT (sensor_id, time) DO NOTHING); returns how many were new. */
export async function insertReadings(q: Queryable, rows: readonly ReadingRow[], options: ReadingWriteOptions = {}): Promise<number> {
  return (await writeReadings(q, rows, options)).inserted;
}

/**
 * Inserts readings idempotently, by a plain COPY first where the adapter has one (see the top of
 * this file), and says how it went.
 */
export async function writeReadings(q: Queryable, rows: readonly ReadingRow[], options: ReadingWriteOptions = {}): Promise<ReadingsWritten> {
  validateReadings(rows);
  const size = chunkSize(options);
  const unique = inKeyOrder(dedupeReadings(rows));
  let copy = options.copy !== false && typeof q.copyFrom === 'function';
  let conflicted = false;
  let inserted = 0;
  for (const chunk of chunks(unique, size)) {
    if (copy) {
      const n = await copyChunk(q as Queryable & Required<Pick<Queryable, 'copyFrom'>>, chunk);
      if (n !== null) {
        inserted += n;
        continue;
      }
      // Readings already stored: most likely a redelivered batch, so its other chunks are too.
      conflicted = true;
      copy = false;
    }
    inserted += await unnestChunk(q, chunk);
  }
  return { inserted, unique: unique.length, conflicted };
}

async function unnestChunk(q: Queryable, chunk: readonly ReadingRow[]): Promise<number> {
  const n = chunk.length;
  const sensorId = new Array<string>(n);
  const time = new Array<string>(n);
  const kind = new Array<string>(n);
  const lat = new Array<number>(n);
  const lon = new Array<number>(n);
  const elevation = new Array<number | null>(n);
  const cell = new Array<string>(n);
  const temp = new Array<number>(n);
  const humidity = new Array<number | null>(n);
  const pressure = new Array<number | null>(n);
  for (let i = 0; i < n; i++) {
    const r = chunk[i]!;
    sensorId[i] = r.sensorId;
    time[i] = new Date(wholeMs(r.timeMs)).toISOString();
    kind[i] = r.kind;
    lat[i] = r.lat;
    lon[i] = r.lon;
    elevation[i] = r.elevationM;
    cell[i] = r.cell;
    temp[i] = r.tempC;
    humidity[i] = r.humidityPct;
    pressure[i] = r.pressureHpa;
  }
  const res = await q.query(INSERT_READINGS, [sensorId, time, kind, lat, lon, elevation, cell, temp, humidity, pressure]);
  return res.rowCount;
}

// ---- sensors ----------------------------------------------------------------------------------

/**
 * One row per sensor: the position of its latest sighting, and the earliest sighting of the
 * batch as the first_seen candidate.
 */
function mergeSensors(rows: readonly SensorRow[]): Array<SensorRow & { firstSeenMs: number }> {
  const by = new Map<string, SensorRow & { firstSeenMs: number }>();
  for (const r of rows) {
    const prev = by.get(r.sensorId);
    if (!prev) by.set(r.sensorId, { ...r, firstSeenMs: r.lastSeenMs });
    else {
      const firstSeenMs = Math.min(prev.firstSeenMs, r.lastSeenMs);
      by.set(r.sensorId, r.lastSeenMs >= prev.lastSeenMs ? { ...r, firstSeenMs } : { ...prev, firstSeenMs });
    }
  }
  return [...by.values()];
}

// A sighting older than the stored one moves neither the position nor last_seen backwards; a
// registered station's position is the registry's (migration 005), never the bus's.
const UPSERT_SENSORS = `
INSERT INTO sensors AS s (sensor_id, kind, lat, lon, elevation_m, first_seen, last_seen)
SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::float8[], $6::timestamptz[], $7::timestamptz[])
ON CONFLICT (sensor_id) DO UPDATE SET
  lat         = CASE WHEN s.registered_at IS NULL AND EXCLUDED.last_seen >= s.last_seen THEN EXCLUDED.lat ELSE s.lat END,
  lon         = CASE WHEN s.registered_at IS NULL AND EXCLUDED.last_seen >= s.last_seen THEN EXCLUDED.lon ELSE s.lon END,
  elevation_m = CASE WHEN s.registered_at IS NULL AND EXCLUDED.last_seen >= s.last_seen THEN EXCLUDED.elevation_m ELSE s.elevation_m END,
  first_seen  = LEAST(s.first_seen, EXCLUDED.first_seen),
  last_seen   = GREATEST(s.last_seen, EXCLUDED.last_seen)`;

/** Registers sensors seen on the bus (insert or update position/last_seen; never touches key_hash). */
export async function upsertSensors(q: Queryable, rows: readonly SensorRow[], options: WriteOptions = {}): Promise<void> {
  validateSensors(rows);
  const size = chunkSize(options);
  for (const chunk of chunks(mergeSensors(rows), size)) {
    await q.query(UPSERT_SENSORS, [
      chunk.map((r) => r.sensorId),
      chunk.map((r) => r.kind),
      chunk.map((r) => r.lat),
      chunk.map((r) => r.lon),
      chunk.map((r) => r.elevationM),
      chunk.map((r) => new Date(wholeMs(r.firstSeenMs)).toISOString()),
      chunk.map((r) => new Date(wholeMs(r.lastSeenMs)).toISOString()),
    ]);
  }
}
