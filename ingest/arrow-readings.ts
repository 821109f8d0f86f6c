/**
 * Bulk readings as an Arrow IPC stream (`application/vnd.apache.arrow.stream`), parsed into
 * submitted values per station. Pure: bytes in, rows or a problem out.
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

export function parseArrowReadings(bytes: Uint8Array, maxRows: number): ArrowParsed {
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
  const ids = col('station_id')!;
  const times = col('time')!;
  const temps = col('temperature_2m')!;
  const hums = col('relative_humidity_2m');
  const press = col('surface_pressure');
  const rows: StationValue[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const id = ids.get(i);
    if (typeof id !== 'string' || id === '') return { ok: false, problem: { field: `station_id[${i}]`, reason: 'malformed', message: 'expected a station id (Utf8)' } };
    const timeMs = timeOf(times.get(i));
    if (!Number.isFinite(timeMs)) return { ok: false, problem: { field: `time[${i}]`, reason: 'malformed', message: 'expected a timestamp, epoch ms or ISO 8601 with a zone' } };
    const tempC = num(temps.get(i));
    if (tempC === null || Number.isNaN(tempC)) return { ok: false, problem: { field: `temperature_2m[${i}]`, reason: tempC === null ? 'missing_temperature' : 'malformed', message: 'expected a number [°C]' } };
    const humidityPct = hums ? num(hums.get(i)) : null;
    const pressureHpa = press ? num(press.get(i)) : null;
    rows[i] = { stationId: id, value: { timeMs, tempC, humidityPct, pressureHpa } };
  }
  return { ok: true, rows };
}
