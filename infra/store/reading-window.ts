/** A batch window's readings, read back as columns (the map stage's input). */
import type { Queryable } from './store.ts';

export interface WindowReadings {
  sensorId: string[];
  kind: ('official' | 'amateur')[];
  timeMs: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  cell: string[];
  tempC: Float64Array;
}

/** Readings observed in [startMs, endMs), ordered by sensor and time. */
export async function readingsInWindow(q: Queryable, startMs: number, endMs: number): Promise<WindowReadings> {
  const res = await q.query<{ sensor_id: string; kind: 'official' | 'amateur'; time: Date; lat: number; lon: number; cell: string; temp_c: number }>(
    `SELECT sensor_id, kind, time, lat, lon, cell, temp_c FROM readings
     WHERE time >= $1 AND time < $2 ORDER BY sensor_id, time`,
    [new Date(startMs), new Date(endMs)],
  );
  const n = res.rows.length;
  const w: WindowReadings = { sensorId: new Array(n), kind: new Array(n), timeMs: new Float64Array(n), lat: new Float64Array(n), lon: new Float64Array(n), cell: new Array(n), tempC: new Float64Array(n) };
  res.rows.forEach((r, i) => {
    w.sensorId[i] = r.sensor_id;
    w.kind[i] = r.kind;
    w.timeMs[i] = r.time.getTime();
    w.lat[i] = r.lat;
    w.lon[i] = r.lon;
    w.cell[i] = r.cell;
    w.tempC[i] = r.temp_c;
  });
  return w;
}
