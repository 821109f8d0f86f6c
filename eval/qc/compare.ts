/**
 * `npm run qc:compare`: our buddy check and SCT against titanlib's `buddy_check` and `sct` on the same
 * input, window by window, with the QC chain's settings (DEFAULT_QC) mapped onto titanlib's arguments.
 * Reports the agreement of flags (share and confusion counts) and both wall times of the checks
 * themselves (no file reading, no process start-up, no JSON). titanlib runs in the reference venv
 * (infra/reference/venv.sh), with one OpenMP thread unless --threads says otherwise: ours is
 * single-threaded.
 *
 *   npm run qc:compare -- --readings <csv[.gz]> [--window <minutes>] [--background <dir>] [--threads <n>] [--json]
 *
 * Three comparisons: `buddy` (ours as the chain runs it, the nearest 50 buddies), `buddy_all`
 * (ours with every buddy in the radius: titanlib's semantics), `sct` (on each sensor's innovation
 * when a background is given, else on its temperature; the box mean is the background in both).
 */
import { parseArgs } from 'node:util';
import { referencePython, runReference, ReferenceError, type ReferenceCase } from '../../infra/reference/index.ts';
import { MINUTE_MS } from '../../infra/time.ts';
import { buddyCheck } from '../../pipeline/qc/buddy-check.ts';
import { DEFAULT_QC } from '../../pipeline/qc/defaults.ts';
import { sct } from '../../pipeline/qc/sct.ts';
import { UsageError } from '../evaluator.ts';
import { addConfusion, agreementOf, buddyCase, checkWindows, EMPTY_CONFUSION, sctCase, type Confusion } from './check-comparison.ts';
import { loadBackground, readReadingsFile } from './readings-file.ts';
import { ReadingsInputError } from './readings-table.ts';

export const COMPARE_USAGE = `usage: npm run qc:compare -- --readings <csv[.gz]> [--window <minutes>] [--background <dir>] [--threads <n>] [--json]
    input: the QC command's columns (sensor_id,time,lat,lon,elevation_m,temp_c,kind)
    --window     window length in minutes (default 5)
    --background an ERA5-format folder: the SCT then checks innovations (reading − background)
    --threads    titanlib's OpenMP threads (default 1; ours is single-threaded)
    --json       the last stdout line is one JSON object with the figures
`;

export interface CompareIo {
  progress: (message: string) => void;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const CHECKS = ['buddy', 'buddy_all', 'sct'] as const;
type Check = (typeof CHECKS)[number];

function figures(c: Confusion, oursMs: number, titanlibS: number): Record<string, number> {
  return {
    n: c.n, agreement: +agreementOf(c).toFixed(5), both_ok: c.bothOk, both_flagged: c.bothFlagged, ours_only: c.oursOnly, titanlib_only: c.titanlibOnly,
    ours_seconds: +(oursMs / 1000).toFixed(4), titanlib_seconds: +titanlibS.toFixed(4),
  };
}

export async function compareFlags(v: Record<string, string | boolean | undefined>, io: CompareIo): Promise<Record<string, unknown>> {
  if (typeof v.readings !== 'string') throw new UsageError('--readings is required');
  const windowMin = v.window === undefined ? 5 : Number(v.window);
  if (!(windowMin > 0 && windowMin <= 7 * 24 * 60)) throw new UsageError(`--window "${String(v.window)}" must be a number of minutes in (0, 10080]`);
  const threads = v.threads === undefined ? 1 : Number(v.threads);
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= 64)) throw new UsageError(`--threads "${String(v.threads)}" must be an integer in 1..64`);
  const table = await readReadingsFile(v.readings);
  const bg = typeof v.background === 'string' ? await loadBackground(v.background, table.timeMs) : undefined;
  const { windows, withoutElevation, withoutBackground } = checkWindows(table, { windowMs: windowMin * MINUTE_MS, ...(bg ? { background: bg.at } : {}) });
  if (windows.length === 0) throw new UsageError('no window with a sensor of known elevation to compare');
  io.progress(`${table.timeMs.length} readings, ${windows.length} windows of ${windowMin} min; ${withoutElevation} sensor-windows without elevation left out`);

  let python: string;
  try {
    python = await referencePython();
  } catch (err) {
    if (err instanceof ReferenceError) throw new UsageError(err.message);
    throw err;
  }
  const buddyAll = { ...DEFAULT_QC.buddy, maxBuddies: Infinity };
  const confusion: Record<Check, Confusion> = { buddy: { ...EMPTY_CONFUSION }, buddy_all: { ...EMPTY_CONFUSION }, sct: { ...EMPTY_CONFUSION } };
  const oursMs: Record<Check, number> = { buddy: 0, buddy_all: 0, sct: 0 };
  let titanlibBuddyS = 0, titanlibSctS = 0;
  let versions: Record<string, unknown> = {};
  // Reference runs in chunks of windows, so memory stays bounded and progress shows.
  const chunk = 24;
  for (let start = 0; start < windows.length; start += chunk) {
    const part = windows.slice(start, start + chunk);
    const cases: ReferenceCase[] = part.flatMap((w) => [buddyCase(w, DEFAULT_QC.buddy), sctCase(w, DEFAULT_QC.sct)]);
    const ref = await runReference(python, cases, { threads });
    versions = { ...ref.versions };
    part.forEach((w, k) => {
      const rb = ref.results[2 * k] as { flags: number[]; seconds: number };
      const rs = ref.results[2 * k + 1] as { flags: number[]; seconds: number };
      titanlibBuddyS += rb.seconds;
      titanlibSctS += rs.seconds;
      let t0 = performance.now();
      const b = buddyCheck(w.plane, w.tempC, DEFAULT_QC.buddy);
      oursMs.buddy += performance.now() - t0;
      t0 = performance.now();
      const ba = buddyCheck(w.plane, w.tempC, buddyAll);
      oursMs.buddy_all += performance.now() - t0;
      t0 = performance.now();
      const s = sct(w.plane, w.sctValue, DEFAULT_QC.sct);
      oursMs.sct += performance.now() - t0;
      addConfusion(confusion.buddy, b, rb.flags);
      addConfusion(confusion.buddy_all, ba, rb.flags);
      addConfusion(confusion.sct, s.flags, rs.flags);
    });
    io.progress(`windows ${Math.min(start + chunk, windows.length)}/${windows.length}`);
  }
  return {
    readings: table.timeMs.length, windows: windows.length, window_min: windowMin, sensor_windows: confusion.sct.n,
    left_out_without_elevation: withoutElevation, left_out_without_background: withoutBackground,
    sct_values: bg ? 'innovation (reading − ERA5 background)' : 'temperature', reference: versions,
    buddy: figures(confusion.buddy, oursMs.buddy, titanlibBuddyS),
    buddy_all: figures(confusion.buddy_all, oursMs.buddy_all, titanlibBuddyS),
    sct: figures(confusion.sct, oursMs.sct, titanlibSctS),
  };
}

function table(r: Record<string, unknown>): string {
  const lines = [
    `${r.readings} readings, ${r.windows} windows of ${r.window_min} min, ${r.sensor_windows} sensor-windows compared (${r.left_out_without_elevation} without elevation left out); SCT on ${r.sct_values}; reference ${JSON.stringify(r.reference)}`,
    'check      agreement  both ok  both flagged  ours only  titanlib only  ours [s]  titanlib [s]',
  ];
  for (const c of CHECKS) {
    const f = r[c] as Record<string, number>;
    lines.push(`${c.padEnd(10)} ${(100 * f.agreement!).toFixed(2).padStart(8)} %${String(f.both_ok).padStart(9)}${String(f.both_flagged).padStart(14)}${String(f.ours_only).padStart(11)}${String(f.titanlib_only).padStart(15)}${f.ours_seconds!.toFixed(3).padStart(10)}${f.titanlib_seconds!.toFixed(3).padStart(14)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the comparison; returns the exit code (0 done, 2 bad arguments, input or missing reference tools). */
export async function qcCompareCommand(args: readonly string[], io: CompareIo): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args: [...args], strict: true, allowPositionals: false,
      options: { readings: { type: 'string' }, window: { type: 'string' }, background: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' } },
    }).values;
  } catch (err) {
    io.stderr(`qc:compare: ${(err as Error).message}\n${COMPARE_USAGE}`);
    return 2;
  }
  try {
    const r = await compareFlags(v, io);
    io.stdout(v.json ? `${JSON.stringify({ compare: 'qc', ...r })}\n` : table(r));
    return 0;
  } catch (err) {
    if (err instanceof ReadingsInputError) {
      io.stderr(`qc:compare: ${String(v.readings)}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError) {
      io.stderr(`qc:compare: ${err.message}\n${COMPARE_USAGE}`);
      return 2;
    }
    throw err;
  }
}
