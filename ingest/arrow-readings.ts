/**
 * Bulk readings as an Arrow IPC stream (`application/vnd.apache.arrow.stream`), parsed into
 * submitted values per station: bytes in, rows or a problem out, read in slices with a pause
 * between them that the caller gives (pure but for the pause).
 *
 * Columns (by name; others are ignored):
 *   station_id            Utf8                          required
 *   time                  Timestamp (any unit, UTC), or Int64/Float64 epoch ms, or Utf8 ISO 8601
 *   temperature_2m        Float32/Float64 [°C]           required, no nulls
 *   relative_humidity_2m  Float [%]                      optional, nullable
 *   surface_pressure      Float [hPa]                    optional, nullable
 */
import { tableFromIPC, type Table, type Vector } from 'apache-arrow';
import type { SubmittedValue, ValueProblem } from './submission.ts';

export const ARROW_STREAM_TYPE = 'application/vnd.apache.arrow.stream';

export interface StationValue {
  stationId: string;
  value: SubmittedValue;
}

export type ArrowParsed = { ok: true; rows: StationValue[] } | { ok: false; problem: ValueProblem; tooLarge?: boolean };

function timeOf(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(v)) return Date.parse(v);
  if (v instanceof Date) return v.getTime();
  return NaN;
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : NaN;
}

interface ArrowColumns {
  numRows: number;
  ids: Vector;
  times: Vector;
  temps: Vector;
  hums: Vector | null;
  press: Vector | null;
}

/** The body's table, its columns checked by name and its rows counted against the limit. */
function openArrowReadings(bytes: Uint8Array, maxRows: number): { ok: true; cols: ArrowColumns } | { ok: false; problem: ValueProblem; tooLarge?: boolean } {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (err) {
    return { ok: false, problem: { field: '(body)', reason: 'malformed', message: `not an Arrow IPC stream: ${err instanceof Error ? err.message : String(err)}` } };
  }
  const names = table.schema.fields.map((f) => f.name);
  for (const required of ['station_id', 'time', 'temperature_2m']) {
    if (!names.includes(required)) return { ok: false, problem: { field: required, reason: 'malformed', message: `missing column (columns present: ${names.join(', ') || 'none'})` } };
  }
  if (table.numRows > maxRows) return { ok: false, tooLarge: true, problem: { field: '(body)', reason: 'too_large', message: `${table.numRows} rows, more than the limit of ${maxRows}` } };
  const col = (name: string): Vector | null => (names.includes(name) ? table.getChild(name) : null);
  return { ok: true, cols: { numRows: table.numRows, ids: col('station_id')!, times: col('time')!, temps: col('temperature_2m')!, hums: col('relative_humidity_2m'), press: col('surface_pressure') } };
}

/** Rows [from, to) into `rows`; the first problem, or null. */
function readRows(c: ArrowColumns, from: number, to: number, rows: StationValue[]): ValueProblem | null {
  for (let i = from; i < to; i++) {
    const id = c.ids.get(i);
    if (typeof id !== 'string' || id === '') return { field: `station_id[${i}]`, reason: 'malformed', message: 'expected a station id (Utf8)' };
    const timeMs = timeOf(c.times.get(i));
    if (!Number.isFinite(timeMs)) return { field: `time[${i}]`, reason: 'malformed', message: 'expected a timestamp, epoch ms or ISO 8601 with a zone' };
    const tempC = num(c.temps.get(i));
    if (tempC === null || Number.isNaN(tempC)) return { field: `temperature_2m[${i}]`, reason: tempC === null ? 'missing_temperature' : 'malformed', message: 'expected a number [°C]' };
    const humidityPct = c.hums ? num(c.hums.get(i)) : null;
    const pressureHpa = c.press ? num(c.press.get(i)) : null;
    rows[i] = { stationId: id, value: { timeMs, tempC, humidityPct, pressureHpa } };
  }
  return null;
}

/**
 * The body's rows, or the first problem, read in slices of `sliceRows` rows with `pause()` awaited
 * between them (a server passes a turn of its event loop, so a bulk body holds up no other request for
 * long). The result does not depend on the slices.
 */
export async function parseArrowReadings(bytes: Uint8Array, maxRows: number, pause: () => Promise<unknown>, sliceRows = 5000): Promise<ArrowParsed> {
  const opened = openArrowReadings(bytes, maxRows);
  if (!opened.ok) return opened;
  const n = opened.cols.numRows;
  const rows: StationValue[] = new Array(n);
  for (let from = 0; from < n; from += sliceRows) {
    if (from > 0) await pause();
    const problem = readRows(opened.cols, from, Math.min(n, from + sliceRows), rows);
    if (problem) return { ok: false, problem };
  }
  return { ok: true, rows };
}
