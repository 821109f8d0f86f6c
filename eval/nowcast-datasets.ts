/**
 * The station series of the next-hour evaluation and training: the data sets (datasets.ts, found by
 * their columns) of the amateur pywws station, the official hourly series and the background, loaded
 * onto the smoother's 5-minute grid. The pywws files carry no position: it is given (default:
 * Falkensee's town centre, approximate, from its SOURCE.md).
 */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { detectDatasets, FALKENSEE, loadDwdTruth, loadEra5Background, loadPywwsSeries, loadUcoTruth, TEMPELHOF, type TimeRange } from './datasets.ts';
import { UsageError } from './evaluator.ts';
import { buildBackgroundField } from '../pipeline/index.ts';
import { backgroundOnGrid, resampleToGrid, stampedToGrid, type GridSeries } from '../models/index.ts';
import type { LatLon } from '../infra/geo/index.ts';
import { HOUR_MS } from '../infra/time.ts';

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
  const pws = o.include?.pws === false ? [] : datasets.filter((d) => d.kind === 'amateur-pywws');
  const found = datasets.filter((d) => d.kind !== 'amateur-pywws' || o.include?.pws !== false).map((d) => `${d.kind} ${d.dir}`);
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
    const id = `pws:${basename(d.dir)}`;
    const { series, stats } = await loadPywwsSeries(d, { id, lat: pos.lat, lon: pos.lon, ...(o.range ? { range: o.range } : {}) });
    add(resampleToGrid(series.timeMs, series.tempC, { id, lat: pos.lat, lon: pos.lon, sampling: 'sub-hourly' }), d.dir);
    progress(`pws ${d.dir}: ${series.timeMs.length} readings (${stats.missing} without an outdoor value)`);
  }
  if (o.include?.official !== false) {
    for (const d of datasets) {
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
