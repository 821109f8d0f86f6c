/**
 * The standard QC columns from a data folder, for a time range: every crowd data set (Netatmo format)
 * as amateur sensors, every UCO-format network as official stations, and a DWD-format station as an
 * official one where its position is given (DWD files carry none). Data sets are found by their
 * columns, as `eval` finds them. Rows come sorted by time, then sensor id.
 */
import { detectDatasets, loadCrowdByHour, loadCrowdStations, loadDwdTruth, loadUcoTruth, type TimeRange } from '../datasets.ts';
import { HOUR_MS } from '../../infra/time.ts';
import type { LatLon } from '../../infra/geo/index.ts';
import { UsageError } from '../evaluator.ts';

export interface StandardReadings {
  sensorId: string[];
  timeMs: number[];
  lat: number[];
  lon: number[];
  /** NaN where unknown. */
  elevationM: number[];
  tempC: number[];
  official: boolean[];
}

export interface ExportOptions {
  range: TimeRange;
  /** The position of a DWD-format station; without it such data sets are left out (and reported). */
  dwdPosition?: LatLon;
  progress?: (message: string) => void;
}

export interface ExportResult {
  readings: StandardReadings;
  /** What was read: one line per data set used or left out. */
  sources: string[];
}

export async function exportReadings(dataDir: string, o: ExportOptions): Promise<ExportResult> {
  const { datasets, unrecognised } = detectDatasets(dataDir);
  const rows: { sensorId: string; timeMs: number; lat: number; lon: number; elevationM: number; tempC: number; official: boolean }[] = [];
  const sources: string[] = [];
  const inRange = (t: number) => t >= o.range.fromMs && t < o.range.toMs;
  for (const ds of datasets) {
    const before = rows.length;
    if (ds.kind === 'crowd-netatmo') {
      const st = await loadCrowdStations(ds.stationsFile!);
      // A reading at t belongs to the hour ceil(t); keep the hours that can hold a time in range.
      const { byHour } = await loadCrowdByHour(ds, st, { keepHour: (h) => h >= o.range.fromMs && h - HOUR_MS < o.range.toMs, ...(o.progress ? { progress: o.progress } : {}) });
      for (const hr of byHour.values()) {
        for (let i = 0; i < hr.station.length; i++) {
          const t = hr.timeMs[i]!, s = hr.station[i]!;
          if (inRange(t)) rows.push({ sensorId: st.ids[s]!, timeMs: t, lat: st.lat[s]!, lon: st.lon[s]!, elevationM: st.z[s]!, tempC: hr.tempC[i]!, official: false });
        }
      }
    } else if (ds.kind === 'official-uco') {
      const { stations } = await loadUcoTruth(ds, { range: o.range });
      for (const s of stations) for (const [t, v] of s.series) rows.push({ sensorId: s.id, timeMs: t, lat: s.lat, lon: s.lon, elevationM: NaN, tempC: v, official: true });
    } else if (ds.kind === 'official-dwd') {
      if (!o.dwdPosition) {
        sources.push(`${ds.dir}: DWD format, left out (its files carry no position: give --station-lat and --station-lon)`);
        continue;
      }
      const { station } = await loadDwdTruth(ds, { lat: o.dwdPosition.lat, lon: o.dwdPosition.lon, range: o.range });
      for (const [t, v] of station.series) rows.push({ sensorId: `dwd-${station.id}`, timeMs: t, lat: o.dwdPosition.lat, lon: o.dwdPosition.lon, elevationM: NaN, tempC: v, official: true });
    } else {
      sources.push(`${ds.dir}: ${ds.kind}, not readings (left out)`);
      continue;
    }
    sources.push(`${ds.dir}: ${ds.kind}, ${rows.length - before} readings`);
  }
  for (const u of unrecognised) sources.push(`${u.dir}: not a data set (${u.reason})`);
  if (rows.length === 0) throw new UsageError(`no readings in ${dataDir} between ${new Date(o.range.fromMs).toISOString()} and ${new Date(o.range.toMs).toISOString()}`);
  rows.sort((a, b) => a.timeMs - b.timeMs || (a.sensorId < b.sensorId ? -1 : a.sensorId > b.sensorId ? 1 : 0));
  return {
    readings: {
      sensorId: rows.map((r) => r.sensorId), timeMs: rows.map((r) => r.timeMs), lat: rows.map((r) => r.lat), lon: rows.map((r) => r.lon),
      elevationM: rows.map((r) => r.elevationM), tempC: rows.map((r) => r.tempC), official: rows.map((r) => r.official),
    },
    sources,
  };
}
