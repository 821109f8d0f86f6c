/**
 * The data sets of the next-hour evaluation and training, found by their columns:
 *   station-pws   a logging amateur station (pywws export): time,delay_min,ta[,rh,...,status]
 * plus the official hourly series, the background (datasets.ts) and their loading onto the
 * smoother's 5-minute grid. The PWS files carry no position: it is given (default: Falkensee's
 * town centre, approximate, from its SOURCE.md).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { forEachCsvRow, parseNumber, parseUtcMs, readHeader } from './csv.ts';
import { detectDatasets, loadDwdTruth, loadEra5Background, loadUcoTruth, type Dataset, type TimeRange } from './datasets.ts';
import { UsageError } from './evaluator.ts';
import { buildBackgroundField } from '../pipeline/index.ts';
import { backgroundOnGrid, resampleToGrid, stampedToGrid, type GridSeries } from '../models/index.ts';
import type { LatLon } from '../infra/geo/index.ts';
import { HOUR_MS } from '../infra/time.ts';

/** Falkensee town centre (falkensee_pws/SOURCE.md: the exact position is not published). */
export const FALKENSEE: LatLon = { lat: 52.56, lon: 13.08 };
/** DWD 433 Berlin-Tempelhof (dwd_berlin_tempelhof_hourly/SOURCE.md). */
export const TEMPELHOF: LatLon = { lat: 52.4675, lon: 13.4021 };
/** pywws status bit: lost contact with the outdoor sensor. */
const STATUS_LOST_CONTACT = 0x40;

export interface PwsDataset {
  kind: 'station-pws';
  dir: string;
  dataFiles: string[];
}

const DATA_RE = /\.csv(\.gz)?$/i;
const STATIONS_RE = /^stations\.csv(\.gz)?$/i;

export function isPwsHeader(h: readonly string[]): boolean {
  return ['time', 'delay_min', 'ta'].every((c) => h.includes(c));
}

/** A folder whose every data file has the pywws header. */
export function detectPws(dir: string): PwsDataset | undefined {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) return undefined;
  const files = readdirSync(abs).filter((n) => DATA_RE.test(n) && !STATIONS_RE.test(n) && !n.startsWith('.')).sort().map((n) => join(abs, n));
  if (files.length === 0) return undefined;
  for (const f of files) {
    try {
      if (!isPwsHeader(readHeader(f))) return undefined;
    } catch {
      return undefined;
    }
  }
  return { kind: 'station-pws', dir: abs, dataFiles: files };
}

/** PWS folders in root and its immediate sub-folders. */
export function detectPwsDatasets(root: string): PwsDataset[] {
  const abs = resolve(root);
  const out: PwsDataset[] = [];
  const self = detectPws(abs);
  if (self) out.push(self);
  for (const name of readdirSync(abs).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(abs, name);
    if (statSync(p).isDirectory()) {
      const d = detectPws(p);
      if (d) out.push(d);
    }
  }
  return out;
}

/** Readings with an outdoor temperature (rows that lost the outdoor sensor are left out). */
export async function loadPwsReadings(ds: PwsDataset, range?: TimeRange): Promise<{ timeMs: Float64Array; tempC: Float64Array; rows: number; missing: number }> {
  const t: number[] = [], v: number[] = [];
  let rows = 0, missing = 0;
  for (const file of ds.dataFiles) {
    const r = await forEachCsvRow(file, (h) => {
      const iT = h.indexOf('time'), iTa = h.indexOf('ta'), iS = h.indexOf('status');
      return (f) => {
        const ms = parseUtcMs(f[iT]);
        const ta = parseNumber(f[iTa]);
        const status = iS >= 0 ? parseNumber(f[iS]) : 0;
        if (Number.isNaN(ms) || Number.isNaN(ta) || (Number.isFinite(status) && (status & STATUS_LOST_CONTACT) !== 0)) { missing++; return; }
        if (range && (ms < range.fromMs || ms >= range.toMs)) return;
        t.push(ms);
        v.push(ta);
      };
    });
    rows += r.rows;
  }
  return { timeMs: Float64Array.from(t), tempC: Float64Array.from(v), rows, missing };
}

export interface StationSeriesSet {
  /** Every station series on the 5-minute grid, with its background on the same slots (or null). */
  stations: { series: GridSeries; background: Float64Array | null; source: string }[];
  background?: string;
  found: string[];
}

export interface StationSeriesOptions {
  /** Position of PWS-format stations (their files carry none). */
  pwsPosition?: LatLon;
  /** Position of a DWD-format station (its files carry none). */
  dwdPosition?: LatLon;
  /** Leave these out (e.g. the crowd is not used). */
  include?: { pws?: boolean; official?: boolean };
  range?: TimeRange;
  progress?: (message: string) => void;
}

/**
 * Every station series in a data folder, found by columns: PWS loggers resampled to 5 minutes,
 * official hourly series (DWD, UCO formats) stamped on the grid, and the background (ERA5 format)
 * at each station where it covers. The crowd (hourly snapshots of unscreened sensors) is not used.
 */
export async function loadStationSeries(root: string, o: StationSeriesOptions = {}): Promise<StationSeriesSet> {
  const progress = o.progress ?? (() => undefined);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`--data ${root}: no such folder`);
  const { datasets } = detectDatasets(root);
  const pws = o.include?.pws === false ? [] : detectPwsDatasets(root);
  const found = [...pws.map((d) => `${d.kind} ${d.dir}`), ...datasets.map((d) => `${d.kind} ${d.dir}`)];
  const backgrounds = datasets.filter((d) => d.kind === 'background-era5');
  if (backgrounds.length > 1) throw new UsageError(`several background data sets in ${root} (${backgrounds.map((d) => d.dir).join(', ')})`);
  let at: ((p: LatLon, t: number) => number) | undefined;
  let covered: TimeRange | undefined;
  if (backgrounds[0]) {
    const bg = await loadEra5Background(backgrounds[0], o.range ? { range: { fromMs: o.range.fromMs - 3 * HOUR_MS, toMs: o.range.toMs + 3 * HOUR_MS } } : {});
    if (bg.samples.length > 0) {
      const field = buildBackgroundField(bg.samples);
      at = (p, t) => field.at(p, t);
      let lo = Infinity, hi = -Infinity;
      for (const s of bg.samples) { lo = Math.min(lo, s.validTimeMs); hi = Math.max(hi, s.validTimeMs); }
      covered = { fromMs: lo - HOUR_MS, toMs: hi + HOUR_MS };
      progress(`background ${backgrounds[0].dir}: ${bg.samples.length} rows, ${field.points} points`);
    }
  }
  const stations: StationSeriesSet['stations'] = [];
  const add = (series: GridSeries, source: string) => {
    if (series.values.length === 0) return;
    const bgv = at && covered ? backgroundOnGrid(series, (t) => at!({ lat: series.lat, lon: series.lon }, t), covered) : null;
    stations.push({ series, background: bgv && bgv.some((x) => !Number.isNaN(x)) ? bgv : null, source });
  };
  for (const d of pws) {
    const pos = o.pwsPosition ?? FALKENSEE;
    const r = await loadPwsReadings(d, o.range);
    add(resampleToGrid(r.timeMs, r.tempC, { id: `pws:${d.dir.split('/').pop()}`, lat: pos.lat, lon: pos.lon, sampling: 'sub-hourly' }), d.dir);
    progress(`pws ${d.dir}: ${r.timeMs.length} readings (${r.missing} without an outdoor value)`);
  }
  if (o.include?.official !== false) {
    for (const d of datasets as Dataset[]) {
      if (d.kind === 'official-dwd') {
        const pos = o.dwdPosition ?? TEMPELHOF;
        const r = await loadDwdTruth(d, { lat: pos.lat, lon: pos.lon, ...(o.range ? { range: o.range } : {}) });
        add(stampedToGrid(r.station.series, { id: `dwd:${r.station.id}`, lat: pos.lat, lon: pos.lon, sampling: 'hourly' }), d.dir);
        progress(`official ${d.dir}: station ${r.station.id}, ${r.station.series.size} hours`);
      } else if (d.kind === 'official-uco') {
        const r = await loadUcoTruth(d, o.range ? { range: o.range } : {});
        for (const s of r.stations) add(stampedToGrid(s.series, { id: `uco:${s.id}`, lat: s.lat, lon: s.lon, sampling: 'hourly' }), d.dir);
        progress(`official ${d.dir}: ${r.stations.length} stations`);
      }
    }
  }
  return { stations, ...(backgrounds[0] ? { background: backgrounds[0].dir } : {}), found };
}
