/**
 * Whole hours of a crowd data set (Netatmo format) as station sets for the reference comparisons:
 * one value per station (its median in the hour), stations of known elevation only (titanlib never
 * uses a station without one), positions in degrees and on the local plane of the hour's mean
 * latitude.
 */
import { localPlane } from '../../infra/geo/index.ts';
import { HOUR_MS } from '../../infra/time.ts';
import type { PlanePoints } from '../../pipeline/analysis/oi.ts';
import { median } from '../../pipeline/mean-bias.ts';
import { parseUtcMs } from '../csv.ts';
import { detectDataset, hourOf, loadCrowdByHour, loadCrowdStations } from '../datasets.ts';
import { UsageError } from '../evaluator.ts';

export interface CrowdHour {
  /** ISO 8601 time of the hour (its readings lie in (hour − 1 h, hour]). */
  hour: string;
  ids: string[];
  lat: number[];
  lon: number[];
  z: number[];
  tempC: number[];
  plane: PlanePoints;
}

export async function crowdHours(dir: string, hours: readonly string[]): Promise<CrowdHour[]> {
  const ds = detectDataset(dir);
  if (ds.kind !== 'crowd-netatmo') throw new UsageError(`${dir} is not a crowd data set in Netatmo format (${ds.kind === 'unknown' ? ds.reason : ds.kind})`);
  const wanted = hours.map((h) => {
    const t = parseUtcMs(h);
    if (!Number.isFinite(t)) throw new UsageError(`"${h}" is not a time`);
    return hourOf(t);
  });
  const stations = await loadCrowdStations(ds.stationsFile!);
  const { byHour } = await loadCrowdByHour(ds, stations, { keepHour: (h) => wanted.includes(h) });
  return wanted.map((h) => {
    const r = byHour.get(h);
    if (!r) throw new UsageError(`no crowd readings in the hour ending ${new Date(h).toISOString()}`);
    const values = new Map<number, number[]>();
    for (let i = 0; i < r.station.length; i++) {
      const s = r.station[i]!;
      if (!Number.isFinite(stations.z[s]!) || !(r.timeMs[i]! > h - HOUR_MS)) continue;
      const list = values.get(s);
      if (list) list.push(r.tempC[i]!);
      else values.set(s, [r.tempC[i]!]);
    }
    const order = [...values.keys()].sort((a, b) => a - b);
    const lat = order.map((s) => stations.lat[s]!), lon = order.map((s) => stations.lon[s]!), z = order.map((s) => stations.z[s]!);
    const plane = localPlane(lat.reduce((a, v) => a + v, 0) / lat.length);
    return {
      hour: new Date(h).toISOString(), ids: order.map((s) => stations.ids[s]!), lat, lon, z,
      tempC: order.map((s) => median(values.get(s)!)),
      plane: { x: Float64Array.from(lon, (v) => plane.x(v)), y: Float64Array.from(lat, (v) => plane.y(v)), z: Float64Array.from(z) },
    };
  });
}
