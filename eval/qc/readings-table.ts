/**
 * The QC command's table of readings: one row per reading with the standard columns
 *   sensor_id, time (ISO 8601, UTC), lat, lon [degrees], elevation_m [m, empty when unknown],
 *   temp_c [°C], kind (official | amateur)
 * in any order, other columns kept as they are. Parsing is pure (lines in, columns out) and stops at
 * the first bad line with a typed error naming the line number and the field.
 */
import { normaliseHeader, parseCsvLine, parseUtcMs } from '../csv.ts';

export const READING_COLUMNS = ['sensor_id', 'time', 'lat', 'lon', 'elevation_m', 'temp_c', 'kind'] as const;
export type ReadingColumn = (typeof READING_COLUMNS)[number];

export type ReadingsInputErrorCode = 'EMPTY_INPUT' | 'MISSING_COLUMN' | 'RESERVED_COLUMN' | 'FIELD_COUNT' | 'BAD_VALUE';

/** Bad input: where (1-based line number, the header being line 1) and which field. */
export class ReadingsInputError extends Error {
  override readonly name = 'ReadingsInputError';
  constructor(readonly code: ReadingsInputErrorCode, readonly line: number, message: string, readonly field?: string) {
    super(`line ${line}${field ? `, field ${field}` : ''}: ${message}`);
  }
}

export interface ReadingsTable {
  /** The header line as given, and each row's line as given (the output repeats them). */
  headerLine: string;
  lines: string[];
  sensorId: string[];
  timeMs: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  /** NaN where unknown (an empty field). */
  elevationM: Float64Array;
  tempC: Float64Array;
  /** 1 for official stations, 0 for amateur sensors. */
  official: Uint8Array;
}

/** Collects rows line by line (so a large file can be streamed); `table()` gives the columns. */
export class ReadingsParser {
  #col: Record<ReadingColumn, number> | undefined;
  #width = 0;
  #headerLine = '';
  readonly #lines: string[] = [];
  readonly #sensorId: string[] = [];
  readonly #num: Record<'timeMs' | 'lat' | 'lon' | 'elevationM' | 'tempC' | 'official', number[]> = { timeMs: [], lat: [], lon: [], elevationM: [], tempC: [], official: [] };

  /** One line of the file; `lineNo` is 1-based (the header is the first non-blank line). */
  add(line: string, lineNo: number): void {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') return;
    if (!this.#col) {
      const header = normaliseHeader(parseCsvLine(line));
      const missing = READING_COLUMNS.filter((c) => !header.includes(c));
      if (missing.length > 0) throw new ReadingsInputError('MISSING_COLUMN', lineNo, `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the header must name ${READING_COLUMNS.join(', ')})`);
      const reserved = ['flag', 'reason'].filter((c) => header.includes(c));
      if (reserved.length > 0) throw new ReadingsInputError('RESERVED_COLUMN', lineNo, `the input already has ${reserved.map((c) => `a "${c}" column`).join(' and ')} (the output adds flag and reason)`);
      this.#col = Object.fromEntries(READING_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<ReadingColumn, number>;
      this.#width = header.length;
      this.#headerLine = line;
      return;
    }
    const f = parseCsvLine(line);
    if (f.length !== this.#width) throw new ReadingsInputError('FIELD_COUNT', lineNo, `${f.length} fields, the header has ${this.#width}`);
    const c = this.#col;
    const get = (name: ReadingColumn) => f[c[name]]!.trim();
    const bad = (name: ReadingColumn, why: string): never => {
      throw new ReadingsInputError('BAD_VALUE', lineNo, `${JSON.stringify(get(name))} ${why}`, name);
    };
    const id = get('sensor_id');
    if (id === '') bad('sensor_id', 'is empty');
    const t = parseUtcMs(get('time'));
    if (!Number.isFinite(t)) bad('time', 'is not an ISO 8601 time (e.g. 2017-06-01T12:00:00Z)');
    const number = (name: ReadingColumn, min: number, max: number, unit: string) => {
      const s = get(name);
      const v = s === '' ? NaN : Number(s);
      if (!Number.isFinite(v)) bad(name, 'is not a number');
      if (v < min || v > max) bad(name, `is outside ${min}..${max} ${unit}`);
      return v;
    };
    const lat = number('lat', -90, 90, 'degrees');
    const lon = number('lon', -180, 180, 'degrees');
    const elevationM = get('elevation_m') === '' ? NaN : number('elevation_m', -500, 9000, 'm');
    const tempC = number('temp_c', -273.15, 1000, '°C');
    const kind = get('kind').toLowerCase();
    if (kind !== 'official' && kind !== 'amateur') bad('kind', 'is neither official nor amateur');
    this.#lines.push(line);
    this.#sensorId.push(id);
    const n = this.#num;
    n.timeMs.push(t);
    n.lat.push(lat);
    n.lon.push(lon);
    n.elevationM.push(elevationM);
    n.tempC.push(tempC);
    n.official.push(kind === 'official' ? 1 : 0);
  }

  table(): ReadingsTable {
    if (!this.#col) throw new ReadingsInputError('EMPTY_INPUT', 1, `no header line (expected ${READING_COLUMNS.join(',')})`);
    const n = this.#num;
    return {
      headerLine: this.#headerLine, lines: this.#lines, sensorId: this.#sensorId,
      timeMs: Float64Array.from(n.timeMs), lat: Float64Array.from(n.lat), lon: Float64Array.from(n.lon),
      elevationM: Float64Array.from(n.elevationM), tempC: Float64Array.from(n.tempC), official: Uint8Array.from(n.official),
    };
  }
}

/** Parses a whole text (tests, small inputs). */
export function parseReadings(text: string): ReadingsTable {
  const p = new ReadingsParser();
  text.split('\n').forEach((line, i) => p.add(line, i + 1));
  return p.table();
}

/** The value of a CSV field, quoted when it needs to be (RFC 4180). */
export function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A row of the standard columns (the export's output). */
export function readingLine(r: { sensorId: string; timeMs: number; lat: number; lon: number; elevationM: number; tempC: number; official: boolean }): string {
  return [csvField(r.sensorId), new Date(r.timeMs).toISOString(), r.lat, r.lon, Number.isFinite(r.elevationM) ? r.elevationM : '', r.tempC, r.official ? 'official' : 'amateur'].join(',');
}
