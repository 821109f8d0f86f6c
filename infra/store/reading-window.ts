/** A batch window's readings, read back as columns (the map stage's input). */
import { CopyBinaryReader, CopyFormatError } from './copy-binary.ts';
import type { Queryable } from './store.ts';

export interface WindowReadings {
  sensorId: string[];
  kind: ('official' | 'amateur')[];
  timeMs: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  cell: string[];
  tempC: Float64Array;
}

/** Readings observed in [startMs, endMs), ordered by sensor and time. */
export async function readingsInWindow(q: Queryable, startMs: number, endMs: number): Promise<WindowReadings> {
  const res = await q.query<{ sensor_id: string; kind: 'official' | 'amateur'; time: Date; lat: number; lon: number; cell: string; temp_c: number }>(
    `SELECT sensor_id, kind, time, lat, lon, cell, temp_c FROM readings
     WHERE time >= $1 AND time < $2 ORDER BY sensor_id, time`,
    [new Date(startMs), new Date(endMs)],
  );
  const n = res.rows.length;
  const w: WindowReadings = { sensorId: new Array(n), kind: new Array(n), timeMs: new Float64Array(n), lat: new Float64Array(n), lon: new Float64Array(n), cell: new Array(n), tempC: new Float64Array(n) };
  res.rows.forEach((r, i) => {
    w.sensorId[i] = r.sensor_id;
    w.kind[i] = r.kind;
    w.timeMs[i] = r.time.getTime();
    w.lat[i] = r.lat;
    w.lon[i] = r.lon;
    w.cell[i] = r.cell;
    w.tempC[i] = r.temp_c;
  });
  return w;
}

/** A window's readings as typed columns, ordered by sensor then time (the batch's input). */
export interface ReadingColumns {
  sensorId: string[];
  /** 1 for official stations. */
  official: Uint8Array;
  timeMs: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  /** NaN where unknown. */
  elevationM: Float64Array;
  tempC: Float64Array;
  /** When the store received each reading [epoch ms]. */
  receivedMs: Float64Array;
}

/**
 * Readings with time in [startMs, endMs), optionally within a latitude/longitude box, as columns.
 * The rows travel as one text value (one line per reading) rather than one protocol row each: on the
 * embedded engine that is several times faster for a million readings, and it works the same on a server.
 * Floats print with the shortest exact representation (PostgreSQL ≥ 12), so they round-trip.
 */
export async function readingColumns(q: Queryable, startMs: number, endMs: number, box?: { south: number; west: number; north: number; east: number }): Promise<ReadingColumns> {
  if (q.copyOut) return parseReadingCopy(await q.copyOut(readingCopyQuery(startMs, endMs, box)));
  const params: unknown[] = [new Date(startMs), new Date(endMs)];
  let where = 'time >= $1 AND time < $2';
  if (box) {
    params.push(box.south, box.north, box.west, box.east);
    where += ' AND lat BETWEEN $3 AND $4 AND lon BETWEEN $5 AND $6';
  }
  const res = await q.query<{ t: string | null }>(
    `SELECT string_agg(sensor_id || ',' || CASE WHEN kind = 'official' THEN '1' ELSE '0' END || ',' ||
              (extract(epoch FROM time) * 1000)::bigint::text || ',' || lat::text || ',' || lon::text || ',' ||
              coalesce(elevation_m::text, '') || ',' || temp_c::text || ',' || (extract(epoch FROM received_at) * 1000)::bigint::text,
              E'\\n' ORDER BY sensor_id, time) AS t
     FROM readings WHERE ${where}`,
    params,
  );
  return parseReadingLines(res.rows[0]?.t ?? '');
}

/** Parses the lines of readingColumns (exported for tests). */
export function parseReadingLines(text: string): ReadingColumns {
  const lines = text === '' ? [] : text.split('\n');
  const n = lines.length;
  const out: ReadingColumns = {
    sensorId: new Array(n), official: new Uint8Array(n), timeMs: new Float64Array(n), lat: new Float64Array(n), lon: new Float64Array(n),
    elevationM: new Float64Array(n), tempC: new Float64Array(n), receivedMs: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const f = lines[i]!.split(',');
    if (f.length !== 8) throw new Error(`reading line ${i} has ${f.length} fields, expected 8`);
    out.sensorId[i] = f[0]!;
    out.official[i] = f[1] === '1' ? 1 : 0;
    out.timeMs[i] = Number(f[2]);
    out.lat[i] = Number(f[3]);
    out.lon[i] = Number(f[4]);
    out.elevationM[i] = f[5] === '' ? NaN : Number(f[5]);
    out.tempC[i] = Number(f[6]);
    out.receivedMs[i] = Number(f[7]);
  }
  return out;
}

/** A number as an SQL literal: only finite numbers (COPY takes no parameters). */
function literal(x: number, what: string): string {
  if (!Number.isFinite(x)) throw new RangeError(`${what} must be a finite number, got ${x}`);
  return String(x);
}

/** The window's query for a binary COPY: the same rows and order as readingColumns' text path. */
function readingCopyQuery(startMs: number, endMs: number, box?: { south: number; west: number; north: number; east: number }): string {
  const at = (ms: number, what: string) => `(TIMESTAMPTZ 'epoch' + ${literal(ms, what)} * INTERVAL '1 millisecond')`;
  let where = `time >= ${at(startMs, 'startMs')} AND time < ${at(endMs, 'endMs')}`;
  if (box) {
    where += ` AND lat BETWEEN ${literal(box.south, 'south')} AND ${literal(box.north, 'north')} AND lon BETWEEN ${literal(box.west, 'west')} AND ${literal(box.east, 'east')}`;
  }
  return `SELECT sensor_id, kind = 'official', time, lat, lon, elevation_m, temp_c, received_at FROM readings WHERE ${where} ORDER BY sensor_id, time`;
}

/** Parses the binary COPY of readingCopyQuery (exported for tests). */
export function parseReadingCopy(bytes: Uint8Array): ReadingColumns {
  // Two passes: count the tuples, then fill columns of that length.
  let n = 0;
  for (const r = new CopyBinaryReader(bytes); ; n++) {
    const fields = r.next();
    if (fields === -1) break;
    if (fields !== 8) throw new CopyFormatError(`a reading tuple has ${fields} fields, expected 8`);
    r.text(); r.bool(); r.timestampMs(); r.float8(); r.float8(); r.float8(); r.float8(); r.timestampMs();
  }
  const out: ReadingColumns = {
    sensorId: new Array(n), official: new Uint8Array(n), timeMs: new Float64Array(n), lat: new Float64Array(n), lon: new Float64Array(n),
    elevationM: new Float64Array(n), tempC: new Float64Array(n), receivedMs: new Float64Array(n),
  };
  const r = new CopyBinaryReader(bytes);
  for (let i = 0; i < n; i++) {
    r.next();
    const id = r.text();
    if (id === null) throw new CopyFormatError(`reading ${i} has no sensor id`);
    out.sensorId[i] = id;
    out.official[i] = r.bool() ? 1 : 0;
    out.timeMs[i] = r.timestampMs();
    out.lat[i] = r.float8();
    out.lon[i] = r.float8();
    out.elevationM[i] = r.float8();
    out.tempC[i] = r.float8();
    out.receivedMs[i] = r.timestampMs();
  }
  return out;
}
