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
  if (q.copyOut) return inSensorOrder(parseReadingCopy(await q.copyOut(readingCopyQuery(startMs, endMs, box))));
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
  return inSensorOrder(parseReadingLines(res.rows[0]?.t ?? ''));
}

/**
 * The columns ordered by sensor id (code-unit order: byte order for ASCII ids, as the C collation),
 * then time; the same columns when they already are (as a server's ordered text answer). Ordering here
 * rather than in SQL spares the engine an external sort of the window (on the embedded engine a
 * million readings spilled ~70 MB to a merge that took a second or two), and it gives both adapters
 * one order whatever a database's collation. Linear apart from sorting the distinct ids.
 */
export function inSensorOrder(c: ReadingColumns): ReadingColumns {
  const n = c.sensorId.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) {
    const a = c.sensorId[i - 1]!, b = c.sensorId[i]!;
    sorted = a < b || (a === b && c.timeMs[i - 1]! <= c.timeMs[i]!);
  }
  if (sorted) return c;
  // Each row's sensor as a code; the codes ranked in id order; a counting sort by rank.
  const codeOf = new Map<string, number>();
  const ids: string[] = [];
  const code = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const id = c.sensorId[i]!;
    let k = codeOf.get(id);
    if (k === undefined) {
      k = ids.length;
      codeOf.set(id, k);
      ids.push(id);
    }
    code[i] = k;
  }
  const byId = Int32Array.from(ids.keys()).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
  const rank = new Int32Array(ids.length);
  byId.forEach((k, r) => (rank[k] = r));
  const start = new Int32Array(ids.length + 1);
  for (let i = 0; i < n; i++) start[rank[code[i]!]! + 1]!++;
  for (let r = 0; r < ids.length; r++) start[r + 1]! += start[r]!;
  const fill = start.slice(0, ids.length);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[fill[rank[code[i]!]!]!++] = i;
  // Within a sensor, by time (a sensor has a few readings in a window: insertion sort).
  for (let r = 0; r < ids.length; r++) {
    for (let j = start[r]! + 1; j < start[r + 1]!; j++) {
      const v = perm[j]!, t = c.timeMs[v]!;
      let q = j - 1;
      while (q >= start[r]! && c.timeMs[perm[q]!]! > t) { perm[q + 1] = perm[q]!; q--; }
      perm[q + 1] = v;
    }
  }
  const take = <T extends Float64Array | Uint8Array>(col: T): T => {
    const out = new (col.constructor as new (n: number) => T)(n);
    for (let i = 0; i < n; i++) out[i] = col[perm[i]!]!;
    return out;
  };
  const sensorId: string[] = new Array(n);
  for (let i = 0; i < n; i++) sensorId[i] = c.sensorId[perm[i]!]!;
  return {
    sensorId, official: take(c.official), timeMs: take(c.timeMs), lat: take(c.lat), lon: take(c.lon),
    elevationM: take(c.elevationM), tempC: take(c.tempC), receivedMs: take(c.receivedMs),
  };
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

/** The window's query for a binary COPY: the same rows as readingColumns' text path, unordered (see inSensorOrder). */
function readingCopyQuery(startMs: number, endMs: number, box?: { south: number; west: number; north: number; east: number }): string {
  const at = (ms: number, what: string) => `(TIMESTAMPTZ 'epoch' + ${literal(ms, what)} * INTERVAL '1 millisecond')`;
  let where = `time >= ${at(startMs, 'startMs')} AND time < ${at(endMs, 'endMs')}`;
  if (box) {
    where += ` AND lat BETWEEN ${literal(box.south, 'south')} AND ${literal(box.north, 'north')} AND lon BETWEEN ${literal(box.west, 'west')} AND ${literal(box.east, 'east')}`;
  }
  return `SELECT sensor_id, kind = 'official', time, lat, lon, elevation_m, temp_c, received_at FROM readings WHERE ${where}`;
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
