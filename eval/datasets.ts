/**
 * The real data sets the evaluators read, recognised by their files' header columns (not by folder
 * names, so another city's data in the same formats works unchanged), and their loaders.
 *
 *   crowd-netatmo    obs: p_id,time,ta               + stations.csv: p_id,lon,lat[,z]
 *   official-dwd     obs: time,station_id,ta[,qn_9,rh]  (position given separately: DWD files carry none)
 *   official-uco     obs: time,station,ta            + stations.csv: station,lat,lon[,...]
 *   background-era5  obs: time,lat,lon,t2m_c[,...]
 *   amateur-pywws    obs: time,delay_min,ta[,rh,abs_pressure_hpa,...]  (one station; position given separately)
 *
 * A data set is a folder: its data files are every `*.csv.gz` / `*.csv` other than `stations.csv(.gz)`,
 * and all of them must have the same kind of header. Empty fields are missing values and are skipped.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { forEachCsvRow, parseNumber, parseUtcMs, readHeader } from './csv.ts';
import type { BackgroundSample } from '../pipeline/index.ts';
import { UsageError } from './evaluator.ts';

export { HOUR_MS } from '../infra/time.ts';
import { HOUR_MS } from '../infra/time.ts';

/**
 * Sites of the formats whose files carry no position (the defaults of the tools' position options):
 * DWD 433 Berlin-Tempelhof (dwd_berlin_tempelhof_hourly/SOURCE.md), and Falkensee's town centre for
 * the pywws station (falkensee_pws/SOURCE.md: its exact site is not published).
 */
export const TEMPELHOF: Readonly<{ lat: number; lon: number }> = Object.freeze({ lat: 52.4675, lon: 13.4021 });
export const FALKENSEE: Readonly<{ lat: number; lon: number }> = Object.freeze({ lat: 52.56, lon: 13.08 });

/** pywws status bit: the console lost contact with the outdoor sensor (its outdoor values are stale). */
const PYWWS_LOST_CONTACT = 0x40;

export type DatasetKind = 'crowd-netatmo' | 'official-dwd' | 'official-uco' | 'background-era5' | 'amateur-pywws';

export interface Dataset {
  kind: DatasetKind;
  dir: string;
  /** Data files, sorted by name. */
  dataFiles: string[];
  stationsFile?: string;
}

export interface UnrecognisedFolder {
  kind: 'unknown';
  dir: string;
  reason: string;
}

function has(header: readonly string[], ...names: string[]): boolean {
  return names.every((n) => header.includes(n));
}

/** The kind a data header (and the folder's stations.csv header, if any) stands for. Pure. */
export function classifyHeaders(dataHeader: readonly string[], stationsHeader?: readonly string[]): DatasetKind | undefined {
  if (has(dataHeader, 'p_id', 'time', 'ta') && stationsHeader && has(stationsHeader, 'p_id', 'lat', 'lon')) return 'crowd-netatmo';
  if (has(dataHeader, 'time', 'station_id', 'ta')) return 'official-dwd';
  if (has(dataHeader, 'time', 'station', 'ta') && stationsHeader && has(stationsHeader, 'station', 'lat', 'lon')) return 'official-uco';
  if (has(dataHeader, 'time', 'lat', 'lon', 't2m_c')) return 'background-era5';
  if (has(dataHeader, 'time', 'delay_min', 'ta')) return 'amateur-pywws';
  return undefined;
}

const STATIONS_RE = /^stations\.csv(\.gz)?$/i;
const DATA_RE = /\.csv(\.gz)?$/i;

/** What kind of data set a folder holds, from its files' headers. */
export function detectDataset(dir: string): Dataset | UnrecognisedFolder {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) return { kind: 'unknown', dir: abs, reason: 'not a folder' };
  const names = readdirSync(abs).filter((n) => !n.startsWith('.')).sort();
  const stationsName = names.find((n) => STATIONS_RE.test(n));
  const dataFiles = names.filter((n) => DATA_RE.test(n) && !STATIONS_RE.test(n) && statSync(join(abs, n)).isFile()).map((n) => join(abs, n));
  if (dataFiles.length === 0) return { kind: 'unknown', dir: abs, reason: 'no *.csv.gz / *.csv data files' };
  const stationsFile = stationsName ? join(abs, stationsName) : undefined;
  let stationsHeader: string[] | undefined;
  try {
    stationsHeader = stationsFile ? readHeader(stationsFile) : undefined;
  } catch (err) {
    return { kind: 'unknown', dir: abs, reason: `unreadable ${stationsName}: ${(err as Error).message}` };
  }
  const kinds = new Set<string>();
  for (const f of dataFiles) {
    let header: string[];
    try {
      header = readHeader(f);
    } catch (err) {
      return { kind: 'unknown', dir: abs, reason: `unreadable ${basename(f)}: ${(err as Error).message}` };
    }
    kinds.add(classifyHeaders(header, stationsHeader) ?? `unrecognised header "${header.join(',')}"`);
  }
  if (kinds.size > 1) return { kind: 'unknown', dir: abs, reason: `data files of different kinds: ${[...kinds].join('; ')}` };
  const kind = [...kinds][0]!;
  if (!['crowd-netatmo', 'official-dwd', 'official-uco', 'background-era5', 'amateur-pywws'].includes(kind)) return { kind: 'unknown', dir: abs, reason: kind };
  return { kind: kind as DatasetKind, dir: abs, dataFiles, ...(stationsFile ? { stationsFile } : {}) };
}

/** The data sets in `root` itself and in its immediate sub-folders, plus the folders not recognised. */
export function detectDatasets(root: string): { datasets: Dataset[]; unrecognised: UnrecognisedFolder[] } {
  const abs = resolve(root);
  const datasets: Dataset[] = [];
  const unrecognised: UnrecognisedFolder[] = [];
  const self = detectDataset(abs);
  if (self.kind !== 'unknown') datasets.push(self);
  for (const name of readdirSync(abs).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(abs, name);
    if (!statSync(p).isDirectory()) continue;
    const d = detectDataset(p);
    if (d.kind === 'unknown') unrecognised.push(d);
    else datasets.push(d);
  }
  return { datasets, unrecognised };
}

/** An inclusive-exclusive time range [fromMs, toMs) for filtering rows while reading. */
export interface TimeRange {
  fromMs: number;
  toMs: number;
}

export const ALL_TIME: TimeRange = { fromMs: -Infinity, toMs: Infinity };

function col(header: readonly string[], name: string, file: string): number {
  const i = header.indexOf(name);
  if (i < 0) throw new Error(`${file}: no column "${name}" in header ${header.join(',')}`);
  return i;
}

/** Caches the last time string: rows are mostly sorted by time, so parsing is rare. */
function timeParser(): (s: string) => number {
  let last = '';
  let lastMs = NaN;
  return (s) => {
    if (s !== last) { last = s; lastMs = parseUtcMs(s); }
    return lastMs;
  };
}

export interface LoadStats {
  rows: number;
  malformed: number;
  /** Rows with an empty/non-numeric value or time. */
  missing: number;
  /** Rows outside the requested time range or otherwise not wanted. */
  skipped: number;
}

function emptyStats(): LoadStats {
  return { rows: 0, malformed: 0, missing: 0, skipped: 0 };
}

function addStats(a: LoadStats, r: { rows: number; malformed: number }): void {
  a.rows += r.rows;
  a.malformed += r.malformed;
}

// ---------------------------------------------------------------- crowd (Netatmo format)

export interface CrowdStations {
  ids: string[];
  lat: Float64Array;
  lon: Float64Array;
  /** Elevation [m] from the optional `z` column; NaN where unknown. */
  z: Float64Array;
  /** p_id -> index into ids/lat/lon. */
  index: Map<string, number>;
}

export async function loadCrowdStations(file: string): Promise<CrowdStations> {
  const ids: string[] = [];
  const lat: number[] = [];
  const lon: number[] = [];
  const z: number[] = [];
  await forEachCsvRow(file, (h) => {
    const iId = col(h, 'p_id', file), iLat = col(h, 'lat', file), iLon = col(h, 'lon', file), iZ = h.indexOf('z');
    return (f) => {
      const id = f[iId]!.trim();
      const la = parseNumber(f[iLat]), lo = parseNumber(f[iLon]);
      if (id === '' || !(Math.abs(la) <= 90) || !(Math.abs(lo) <= 180)) return;
      ids.push(id);
      lat.push(la);
      lon.push(lo);
      z.push(iZ >= 0 ? parseNumber(f[iZ]) : NaN);
    };
  });
  const index = new Map<string, number>();
  ids.forEach((id, i) => index.set(id, i));
  return { ids, lat: Float64Array.from(lat), lon: Float64Array.from(lon), z: Float64Array.from(z), index };
}

/** One hour's crowd readings, as indices into the station table. */
export interface HourReadings {
  station: Int32Array;
  timeMs: Float64Array;
  tempC: Float64Array;
}

export interface CrowdLoadOptions {
  /** Keep only readings whose hour (see hourOf) passes; default all. */
  keepHour?: (hourMs: number) => boolean;
  progress?: (message: string) => void;
}

/**
 * The hour a reading belongs to: the window (h - 1 h, h] i.e. [h - 1 h + 1 ms, h], so a reading
 * stamped exactly h (the Netatmo snapshots) belongs to hour h.
 */
export function hourOf(timeMs: number): number {
  return Math.ceil(timeMs / HOUR_MS) * HOUR_MS;
}

/** Crowd readings grouped by hour (pre-grouped once, so each hour's window is a lookup). */
export async function loadCrowdByHour(ds: Dataset, stations: CrowdStations, o: CrowdLoadOptions = {}): Promise<{ byHour: Map<number, HourReadings>; stats: LoadStats & { unknownStation: number; used: number } }> {
  const acc = new Map<number, { station: number[]; timeMs: number[]; tempC: number[] }>();
  const stats = { ...emptyStats(), unknownStation: 0, used: 0 };
  const keep = o.keepHour ?? (() => true);
  let k = 0;
  for (const file of ds.dataFiles) {
    k++;
    const t0 = Date.now();
    const toMs = timeParser();
    const r = await forEachCsvRow(file, (h) => {
      const iId = col(h, 'p_id', file), iTime = col(h, 'time', file), iTa = col(h, 'ta', file);
      return (f) => {
        const t = toMs(f[iTime]!);
        if (Number.isNaN(t)) { stats.missing++; return; }
        const hour = hourOf(t);
        if (!keep(hour)) { stats.skipped++; return; }
        const ta = parseNumber(f[iTa]);
        if (Number.isNaN(ta)) { stats.missing++; return; }
        const s = stations.index.get(f[iId]!.trim());
        if (s === undefined) { stats.unknownStation++; return; }
        let a = acc.get(hour);
        if (!a) { a = { station: [], timeMs: [], tempC: [] }; acc.set(hour, a); }
        a.station.push(s);
        a.timeMs.push(t);
        a.tempC.push(ta);
        stats.used++;
      };
    });
    addStats(stats, r);
    o.progress?.(`crowd ${k}/${ds.dataFiles.length} ${basename(file)}: ${r.rows} rows in ${Date.now() - t0} ms (${stats.used} readings kept so far)`);
  }
  const byHour = new Map<number, HourReadings>();
  for (const [hour, a] of acc) byHour.set(hour, { station: Int32Array.from(a.station), timeMs: Float64Array.from(a.timeMs), tempC: Float64Array.from(a.tempC) });
  return { byHour, stats };
}

// ---------------------------------------------------------------- official truth (DWD / UCO)

export interface TruthStation {
  id: string;
  lat: number;
  lon: number;
  /** Valid values by time [ms] -> °C. */
  series: Map<number, number>;
}

export interface DwdOptions {
  /** Station position (DWD files carry none). */
  lat: number;
  lon: number;
  /** Which station_id to use when the files hold several. */
  stationId?: string;
  range?: TimeRange;
}

function sameId(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a), y = Number(b);
  return a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y) && x === y; // "00433" is 433
}

/** The DWD hourly format: one station (pick with stationId when there are several). */
export async function loadDwdTruth(ds: Dataset, o: DwdOptions): Promise<{ station: TruthStation; stats: LoadStats; stationIds: string[] }> {
  const range = o.range ?? ALL_TIME;
  const byId = new Map<string, Map<number, number>>();
  const stats = emptyStats();
  for (const file of ds.dataFiles) {
    const toMs = timeParser();
    const r = await forEachCsvRow(file, (h) => {
      const iTime = col(h, 'time', file), iId = col(h, 'station_id', file), iTa = col(h, 'ta', file);
      return (f) => {
        const t = toMs(f[iTime]!);
        const ta = parseNumber(f[iTa]);
        if (Number.isNaN(t) || Number.isNaN(ta)) { stats.missing++; return; }
        const id = f[iId]!.trim();
        if (o.stationId !== undefined && !sameId(id, o.stationId)) { stats.skipped++; return; }
        if (t < range.fromMs || t >= range.toMs) { stats.skipped++; return; }
        let m = byId.get(id);
        if (!m) { m = new Map(); byId.set(id, m); }
        m.set(t, ta);
      };
    });
    addStats(stats, r);
  }
  const stationIds = [...byId.keys()].sort();
  if (stationIds.length > 1) throw new UsageError(`${ds.dir} holds several DWD stations (${stationIds.join(', ')}): choose one with --station-id (and give its position with --station-lat/--station-lon)`);
  const id = stationIds[0] ?? o.stationId ?? '?';
  return { station: { id, lat: o.lat, lon: o.lon, series: byId.get(id) ?? new Map() }, stats, stationIds };
}

/** The UCO/LCZ format: every station in stations.csv is a truth point (restrict with stationIds). */
export async function loadUcoTruth(ds: Dataset, o: { stationIds?: readonly string[]; range?: TimeRange } = {}): Promise<{ stations: TruthStation[]; stats: LoadStats }> {
  const range = o.range ?? ALL_TIME;
  if (!ds.stationsFile) throw new Error(`${ds.dir}: no stations.csv`);
  const stations = new Map<string, TruthStation>();
  const sf = ds.stationsFile;
  await forEachCsvRow(sf, (h) => {
    const iId = col(h, 'station', sf), iLat = col(h, 'lat', sf), iLon = col(h, 'lon', sf);
    return (f) => {
      const id = f[iId]!.trim();
      const lat = parseNumber(f[iLat]), lon = parseNumber(f[iLon]);
      if (id === '' || !(Math.abs(lat) <= 90) || !(Math.abs(lon) <= 180)) return;
      if (o.stationIds && !o.stationIds.includes(id)) return;
      stations.set(id, { id, lat, lon, series: new Map() });
    };
  });
  const stats = emptyStats();
  for (const file of ds.dataFiles) {
    const toMs = timeParser();
    const r = await forEachCsvRow(file, (h) => {
      const iTime = col(h, 'time', file), iId = col(h, 'station', file), iTa = col(h, 'ta', file);
      return (f) => {
        const t = toMs(f[iTime]!);
        const ta = parseNumber(f[iTa]);
        if (Number.isNaN(t) || Number.isNaN(ta)) { stats.missing++; return; }
        const s = stations.get(f[iId]!.trim());
        if (!s || t < range.fromMs || t >= range.toMs) { stats.skipped++; return; }
        s.series.set(t, ta);
      };
    });
    addStats(stats, r);
  }
  return { stations: [...stations.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), stats };
}

// ---------------------------------------------------------------- background (ERA5 format)

export async function loadEra5Background(ds: Dataset, o: { range?: TimeRange } = {}): Promise<{ samples: BackgroundSample[]; stats: LoadStats }> {
  const range = o.range ?? ALL_TIME;
  const samples: BackgroundSample[] = [];
  const stats = emptyStats();
  for (const file of ds.dataFiles) {
    const toMs = timeParser();
    const r = await forEachCsvRow(file, (h) => {
      const iTime = col(h, 'time', file), iLat = col(h, 'lat', file), iLon = col(h, 'lon', file), iT = col(h, 't2m_c', file);
      return (f) => {
        const t = toMs(f[iTime]!);
        const lat = parseNumber(f[iLat]), lon = parseNumber(f[iLon]), tempC = parseNumber(f[iT]);
        if (Number.isNaN(t) || Number.isNaN(lat) || Number.isNaN(lon) || Number.isNaN(tempC)) { stats.missing++; return; }
        if (t < range.fromMs || t >= range.toMs) { stats.skipped++; return; }
        samples.push({ pointId: `${lat}/${lon}`, lat, lon, validTimeMs: t, tempC });
      };
    });
    addStats(stats, r);
  }
  return { samples, stats };
}

// ---------------------------------------------------------------- one amateur station (pywws format)

/** A single station's series: pywws "raw" logs (e.g. a WH1080 console) as time,delay_min,ta[,rh,abs_pressure_hpa]. */
export interface StationSeries {
  id: string;
  lat: number;
  lon: number;
  timeMs: Float64Array;
  tempC: Float64Array;
  /** Relative humidity [%], NaN where missing or the file has none. */
  humidityPct: Float64Array;
  /** Station-level pressure [hPa], NaN where missing or the file has none. */
  pressureHpa: Float64Array;
}

/**
 * The pywws format: one station, readings every few minutes, outdoor values empty (or the status's
 * lost-contact bit set) while the console had lost its sensor. Its files carry no position: give it (lat/lon) and an id.
 */
export async function loadPywwsSeries(ds: Dataset, o: { id: string; lat: number; lon: number; range?: TimeRange }): Promise<{ series: StationSeries; stats: LoadStats }> {
  const range = o.range ?? ALL_TIME;
  const t: number[] = [], ta: number[] = [], rh: number[] = [], p: number[] = [];
  const stats = emptyStats();
  for (const file of ds.dataFiles) {
    const toMs = timeParser();
    const r = await forEachCsvRow(file, (h) => {
      const iTime = col(h, 'time', file), iTa = col(h, 'ta', file);
      const iRh = h.indexOf('rh'), iP = h.indexOf('abs_pressure_hpa'), iStatus = h.indexOf('status');
      return (f) => {
        const time = toMs(f[iTime]!);
        const temp = parseNumber(f[iTa]);
        const status = iStatus >= 0 ? parseNumber(f[iStatus]) : NaN;
        const lost = Number.isFinite(status) && (status & PYWWS_LOST_CONTACT) !== 0;
        if (Number.isNaN(time) || Number.isNaN(temp) || lost) { stats.missing++; return; }
        if (time < range.fromMs || time >= range.toMs) { stats.skipped++; return; }
        t.push(time);
        ta.push(temp);
        rh.push(iRh >= 0 ? parseNumber(f[iRh]) : NaN);
        p.push(iP >= 0 ? parseNumber(f[iP]) : NaN);
      };
    });
    addStats(stats, r);
  }
  return { series: { id: o.id, lat: o.lat, lon: o.lon, timeMs: Float64Array.from(t), tempC: Float64Array.from(ta), humidityPct: Float64Array.from(rh), pressureHpa: Float64Array.from(p) }, stats };
}

/** The reading nearest each full hour, within `maxOffsetMs` of it: hour [ms] -> °C (earlier wins a tie). */
export function hourlyNearest(series: Pick<StationSeries, 'timeMs' | 'tempC'>, maxOffsetMs: number): Map<number, number> {
  const best = new Map<number, { d: number; t: number; v: number }>();
  for (let i = 0; i < series.timeMs.length; i++) {
    const t = series.timeMs[i]!, v = series.tempC[i]!;
    const hour = Math.round(t / HOUR_MS) * HOUR_MS;
    const d = Math.abs(t - hour);
    if (d > maxOffsetMs) continue;
    const b = best.get(hour);
    if (!b || d < b.d || (d === b.d && t < b.t)) best.set(hour, { d, t, v });
  }
  return new Map([...best].map(([h, b]) => [h, b.v]));
}
