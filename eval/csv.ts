/**
 * Reading the data sets' CSV files: gzip (or plain) CSV with a header row, comma-separated, where an
 * empty field means missing. Streaming (node:zlib + readline), so a large file never sits in memory.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/**
 * One CSV line to fields. Fast path for lines without quotes; otherwise RFC 4180 quoting
 * ("a, b" is one field, "" inside quotes is a quote). A trailing \r is dropped.
 */
export function parseCsvLine(line: string): string[] {
  if (line.endsWith('\r')) line = line.slice(0, -1);
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') { field += '"'; i++; }
        else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(field); field = ''; }
    else field += c;
  }
  out.push(field);
  return out;
}

/** Header names as compared everywhere: BOM, blanks and quotes removed, lower case. */
export function normaliseHeader(fields: readonly string[]): string[] {
  return fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, '') : f).trim().replace(/^"(.*)"$/, '$1').toLowerCase());
}

/** A number, or NaN for an empty, blank or non-numeric field (never 0 for '' as Number('') would give). */
export function parseNumber(s: string | undefined): number {
  if (s === undefined) return NaN;
  const t = s.trim();
  if (t === '') return NaN;
  const x = Number(t);
  return Number.isFinite(x) ? x : NaN;
}

/**
 * An ISO-8601 time to epoch ms, read as UTC when it carries no zone (`2017-01-01` and
 * `2017-01-01T05:00` are UTC midnight and 05:00). NaN when it is not a time.
 */
export function parseUtcMs(s: string | undefined): number {
  if (s === undefined) return NaN;
  let t = s.trim();
  if (t === '') return NaN;
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) t += 'T00:00:00Z';
  else if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(t)) t += 'Z';
  if (!/^\d{4}-\d{2}-\d{2}T/.test(t)) return NaN;
  return Date.parse(t);
}

function isGzip(path: string): boolean {
  return path.toLowerCase().endsWith('.gz');
}

/** The header row of a (gzip) CSV file, normalised; reads only the first few kB. */
export function readHeader(path: string): string[] {
  const fd = openSync(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    head = buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
  // Z_SYNC_FLUSH: decompress what is there without demanding the end of the stream.
  const text = (isGzip(path) ? gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH }) : head).toString('utf8');
  const nl = text.indexOf('\n');
  const first = nl >= 0 ? text.slice(0, nl) : text;
  return first.trim() === '' ? [] : normaliseHeader(parseCsvLine(first));
}

export interface CsvReadStats {
  /** Data rows seen (header excluded, blank lines excluded). */
  rows: number;
  /** Rows whose field count differs from the header's. */
  malformed: number;
}

/**
 * Streams a (gzip) CSV file: `onHeader` once with the normalised header (it returns the row handler,
 * so column indices are resolved once), then the handler for every row with the header's field count.
 * Uses readline's 'line' events rather than its async iterator: one promise per line is slow, much
 * more so under async context tracking (node:test).
 */
export function forEachCsvRow(path: string, onHeader: (header: string[]) => (fields: string[]) => void): Promise<CsvReadStats> {
  return new Promise<CsvReadStats>((resolvePromise, reject) => {
    const file = createReadStream(path);
    const input: Readable = isGzip(path) ? file.pipe(createGunzip()) : file;
    const rl = createInterface({ input, crlfDelay: Infinity });
    const stats: CsvReadStats = { rows: 0, malformed: 0 };
    let onRow: ((fields: string[]) => void) | undefined;
    let width = 0;
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      rl.close();
      file.destroy();
      reject(err);
    };
    file.on('error', fail);
    input.on('error', fail);
    rl.on('error', fail); // readline re-emits its input's errors
    rl.on('line', (line) => {
      if (settled) return;
      try {
        if (onRow === undefined) {
          const header = normaliseHeader(parseCsvLine(line));
          width = header.length;
          onRow = onHeader(header);
          return;
        }
        if (line === '' || line === '\r') return;
        stats.rows++;
        const fields = parseCsvLine(line);
        if (fields.length !== width) { stats.malformed++; return; }
        onRow(fields);
      } catch (err) {
        fail(err);
      }
    });
    rl.on('close', () => {
      if (settled) return;
      // readline closes at the end of the input; an input error may arrive just before or after
      setImmediate(() => {
        if (settled) return;
        settled = true;
        resolvePromise(stats);
      });
    });
  });
}
