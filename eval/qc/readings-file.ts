/**
 * The QC tools' files: a readings CSV (plain or gzip) read line by line into a ReadingsTable, lines
 * written with back-pressure, and an ERA5-format background found by columns under a folder.
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { Readable, Writable } from 'node:stream';
import type { LatLon } from '../../infra/geo/index.ts';
import { HOUR_MS } from '../../infra/time.ts';
import { buildBackgroundField, type BackgroundSample } from '../../pipeline/index.ts';
import { detectDatasets, loadEra5Background } from '../datasets.ts';
import { UsageError } from '../evaluator.ts';
import { ReadingsParser, type ReadingsTable } from './readings-table.ts';

/** Lines of a (gzip) text file with their 1-based numbers. */
export async function forEachLine(path: string, onLine: (line: string, lineNo: number) => void): Promise<void> {
  const file = createReadStream(path);
  const input: Readable = path.toLowerCase().endsWith('.gz') ? file.pipe(createGunzip()) : file;
  const failed = new Promise<never>((_, reject) => {
    file.on('error', reject);
    input.on('error', reject);
  });
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let error: unknown;
  rl.on('line', (line) => {
    if (error !== undefined) return;
    lineNo++;
    try {
      onLine(line, lineNo);
    } catch (err) {
      error = err;
      rl.close();
      file.destroy();
    }
  });
  await Promise.race([once(rl, 'close'), failed]);
  if (error !== undefined) throw error;
}

export async function writeLines(path: string, lines: Iterable<string>): Promise<void> {
  const out: Writable = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.on('error', reject));
  for (const line of lines) {
    if (!out.write(`${line}\n`)) await Promise.race([once(out, 'drain'), failed]);
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
}

/** A readings CSV as a table; a bad line is a ReadingsInputError, a missing file a UsageError. */
export async function readReadingsFile(path: string): Promise<ReadingsTable> {
  if (!existsSync(path)) throw new UsageError(`--readings ${path}: no such file`);
  const parser = new ReadingsParser();
  await forEachLine(path, (line, lineNo) => parser.add(line, lineNo));
  return parser.table();
}

/** The ERA5-format background under `dir` as a field over the readings' times (± 3 h). */
export async function loadBackground(dir: string, timesMs: ArrayLike<number>): Promise<{ at: (p: LatLon, timeMs: number) => number; dirs: string[]; samples: number; points: number }> {
  const { datasets } = existsSync(dir) ? detectDatasets(dir) : { datasets: [] };
  const era5 = datasets.filter((d) => d.kind === 'background-era5');
  if (era5.length === 0) throw new UsageError(`--background ${dir}: no ERA5-format data set (columns time,lat,lon,t2m_c) in it or its sub-folders`);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < timesMs.length; i++) {
    const t = timesMs[i]!;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const samples: BackgroundSample[] = [];
  for (const ds of era5) samples.push(...(await loadEra5Background(ds, { range: { fromMs: lo - 3 * HOUR_MS, toMs: hi + 3 * HOUR_MS } })).samples);
  const field = buildBackgroundField(samples);
  return { at: (p, t) => field.at(p, t), dirs: era5.map((d) => d.dir), samples: samples.length, points: field.points };
}
