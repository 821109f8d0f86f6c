/**
 * `npm run qc`: the QC chain over a CSV of readings, or the export of the standard columns from a
 * data folder. The IO around the pure pieces (readings-table.ts, window-qc.ts, export.ts).
 *
 *   npm run qc -- --readings <csv[.gz]> --out <csv> [--window <minutes>] [--background <dir>]
 *   npm run qc -- --export-from <dataDir> --from <time> --to <time> --out <csv> [--station-lat <deg> --station-lon <deg>]
 *
 * Bad arguments or input: a message naming the line and field, exit code 2.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Logger } from '../../infra/log.ts';
import { MINUTE_MS } from '../../infra/time.ts';
import { DEFAULT_QC } from '../../pipeline/qc/defaults.ts';
import { QC_REASONS, reasonName } from '../../pipeline/qc/reasons.ts';
import { parseUtcMs } from '../csv.ts';
import { UsageError } from '../evaluator.ts';
import { exportReadings } from './export.ts';
import { loadBackground, readReadingsFile, writeLines } from './readings-file.ts';
import { READING_COLUMNS, ReadingsInputError, readingLine } from './readings-table.ts';
import { qcByWindow } from './window-qc.ts';

export const QC_USAGE = `usage:
  npm run qc -- --readings <csv[.gz]> --out <csv> [--window <minutes>] [--background <dir>]
      input columns ${READING_COLUMNS.join(',')} (time ISO 8601 UTC, kind official|amateur,
      elevation_m may be empty); output: the same rows plus flag (0/1) and reason.
      --window    window length in minutes (default 5; windows start on multiples of it)
      --background a folder holding an ERA5-format background (time,lat,lon,t2m_c), found by columns;
                  without it each window's background is the median of its readings (a flat field)
  npm run qc -- --export-from <dataDir> --from <time> --to <time> --out <csv> [--station-lat <deg> --station-lon <deg>]
      writes the standard columns for [from, to) from the data sets found in dataDir
      (crowd in Netatmo format as amateur, UCO networks as official, a DWD station where its position is given)
`;

export interface CommandIo {
  log: Logger;
  /** Error messages for people (the usage, a bad line). */
  stderr: (text: string) => void;
}

function timeArg(name: string, v: string | undefined): number {
  if (v === undefined) throw new UsageError(`--${name} is required`);
  const t = parseUtcMs(v);
  if (!Number.isFinite(t)) throw new UsageError(`--${name} "${v}" is not an ISO 8601 time`);
  return t;
}

function numberArg(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < min || x > max) throw new UsageError(`--${name} "${v}" must be a number in ${min}..${max}`);
  return x;
}

async function runQc(v: Record<string, string | undefined>, io: CommandIo): Promise<void> {
  if (!v.readings) throw new UsageError('--readings is required');
  if (!v.out) throw new UsageError('--out is required');
  const windowMin = numberArg('window', v.window, 1e-3, 7 * 24 * 60) ?? 5;
  const windowMs = windowMin * MINUTE_MS;
  const t0 = performance.now();
  const table = await readReadingsFile(v.readings);
  io.log.info({ file: v.readings, readings: table.timeMs.length, ms: Math.round(performance.now() - t0) }, 'readings read');
  let background: ((p: { lat: number; lon: number }, t: number) => number) | undefined;
  if (v.background) {
    const bg = await loadBackground(v.background, table.timeMs);
    background = bg.at;
    io.log.info({ background: bg.dirs, samples: bg.samples, points: bg.points }, 'background: ERA5 format, interpolated in space and time');
  } else {
    io.log.info({ background: 'window median' }, "background: none given, so each window's background is the median of that window's readings (a flat field)");
  }
  const t1 = performance.now();
  let lastLog = 0;
  const result = qcByWindow(table, {
    windowMs, qc: DEFAULT_QC, ...(background ? { background } : {}),
    progress: (done, total) => {
      const now = performance.now();
      if (now - lastLog > 5000 || done === total) {
        lastLog = now;
        io.log.info({ windows: done, of: total }, 'qc progress');
      }
    },
  });
  const qcMs = performance.now() - t1;
  const counts: Record<string, number> = {};
  for (const code of result.reason) counts[reasonName(code)] = (counts[reasonName(code)] ?? 0) + 1;
  await writeLines(v.out, (function* () {
    yield `${table.headerLine},flag,reason`;
    for (let i = 0; i < table.lines.length; i++) {
      const code = result.reason[i]!;
      yield `${table.lines[i]},${code === 0 ? 0 : 1},${QC_REASONS[code]}`;
    }
  })());
  io.log.info({
    out: v.out, readings: table.timeMs.length, sensors: result.sensors, windows: result.windows, window_min: windowMin,
    windows_without_background: result.windowsWithoutBackground, flagged: table.timeMs.length - (counts.ok ?? 0), reasons: counts, qc_seconds: +(qcMs / 1000).toFixed(3),
  }, 'qc done');
}

async function runExport(v: Record<string, string | undefined>, io: CommandIo): Promise<void> {
  if (!v.out) throw new UsageError('--out is required');
  const dir = v['export-from']!;
  if (!existsSync(dir)) throw new UsageError(`--export-from ${dir}: no such folder`);
  const fromMs = timeArg('from', v.from), toMs = timeArg('to', v.to);
  if (!(toMs > fromMs)) throw new UsageError('--to must be after --from');
  const lat = numberArg('station-lat', v['station-lat'], -90, 90), lon = numberArg('station-lon', v['station-lon'], -180, 180);
  if ((lat === undefined) !== (lon === undefined)) throw new UsageError('--station-lat and --station-lon go together');
  const { readings: r, sources } = await exportReadings(dir, {
    range: { fromMs, toMs }, ...(lat !== undefined && lon !== undefined ? { dwdPosition: { lat, lon } } : {}),
    progress: (message) => io.log.info(message),
  });
  for (const s of sources) io.log.info({ source: s }, 'data set');
  await writeLines(v.out, (function* () {
    yield READING_COLUMNS.join(',');
    for (let i = 0; i < r.timeMs.length; i++) {
      yield readingLine({ sensorId: r.sensorId[i]!, timeMs: r.timeMs[i]!, lat: r.lat[i]!, lon: r.lon[i]!, elevationM: r.elevationM[i]!, tempC: r.tempC[i]!, official: r.official[i]! });
    }
  })());
  io.log.info({ out: v.out, readings: r.timeMs.length, sensors: new Set(r.sensorId).size }, 'export done');
}

/** Runs the command; returns the process exit code (0 done, 2 bad arguments or input). */
export async function qcCommand(args: readonly string[], io: CommandIo): Promise<number> {
  let v: Record<string, string | undefined>;
  try {
    v = parseArgs({
      args: [...args], strict: true, allowPositionals: false,
      options: {
        readings: { type: 'string' }, out: { type: 'string' }, window: { type: 'string' }, background: { type: 'string' },
        'export-from': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, 'station-lat': { type: 'string' }, 'station-lon': { type: 'string' },
      },
    }).values as Record<string, string | undefined>;
  } catch (err) {
    io.stderr(`qc: ${(err as Error).message}\n${QC_USAGE}`);
    return 2;
  }
  try {
    if (v['export-from'] !== undefined) {
      if (v.readings !== undefined) throw new UsageError('--export-from and --readings are two different commands: give one');
      await runExport(v, io);
    } else {
      await runQc(v, io);
    }
    return 0;
  } catch (err) {
    if (err instanceof ReadingsInputError) {
      io.stderr(`qc: ${v.readings}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      io.stderr(`qc: ${err.message}\n${QC_USAGE}`);
      return 2;
    }
    throw err;
  }
}
