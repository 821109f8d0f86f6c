/**
 * The QC chain over a table of readings, window by window in time order, as the batch runs it:
 * windows aligned to multiples of `windowMs` (epoch-aligned, so 5-minute windows start on wall-clock
 * five minutes), each sensor's record carried from one window to the next, every reading ending with
 * one reason (0 = ok). Positions go on the local plane of the readings' mean latitude. Pure.
 *
 * Background: a field (a place and time to °C) when given; otherwise each window's median reading,
 * a flat field, so the gross-error test compares with the window's typical value.
 */
import { localPlane, type LatLon } from '../../infra/geo/index.ts';
import { runQcChain, type QcOptions } from '../../pipeline/qc/chain.ts';
import { median } from '../../pipeline/mean-bias.ts';
import type { SensorRecord } from '../../pipeline/qc/sensor-record.ts';

/** The columns the chain needs (a ReadingsTable has them). */
export interface QcReadingsColumns {
  sensorId: readonly string[];
  timeMs: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  /** NaN where unknown. */
  elevationM: Float64Array;
  tempC: Float64Array;
  /** 1 official, 0 amateur. */
  official: Uint8Array;
}

export interface WindowQcOptions {
  windowMs: number;
  qc: QcOptions;
  /** The background [°C] at a place and time (NaN where it has none); absent: each window's median reading. */
  background?: (p: LatLon, timeMs: number) => number;
  /** Called after each window with the number done and the total. */
  progress?: (done: number, total: number) => void;
}

export interface WindowQcResult {
  /** Per row of the input: the reason code (0 = ok). */
  reason: Uint8Array;
  windows: number;
  /** Windows in which the background had no value at any reading (all their readings get `no_background`). */
  windowsWithoutBackground: number;
  /** Distinct sensors. */
  sensors: number;
}

export function qcByWindow(t: QcReadingsColumns, o: WindowQcOptions): WindowQcResult {
  const n = t.timeMs.length;
  for (const [name, col] of Object.entries({ sensorId: t.sensorId, lat: t.lat, lon: t.lon, elevationM: t.elevationM, tempC: t.tempC, official: t.official })) {
    if (col.length !== n) throw new RangeError(`timeMs has ${n} entries, ${name} has ${col.length}`);
  }
  if (!(o.windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${o.windowMs}`);
  const reason = new Uint8Array(n);
  if (n === 0) return { reason, windows: 0, windowsWithoutBackground: 0, sensors: 0 };
  let latSum = 0;
  for (let i = 0; i < n; i++) latSum += t.lat[i]!;
  const plane = localPlane(latSum / n);

  // Rows by window, then sensor id, then time: each window's slice is already sorted for the chain.
  const windowOf = Float64Array.from(t.timeMs, (ms) => Math.floor(ms / o.windowMs) * o.windowMs);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    windowOf[a]! - windowOf[b]! || (t.sensorId[a]! < t.sensorId[b]! ? -1 : t.sensorId[a]! > t.sensorId[b]! ? 1 : 0) || t.timeMs[a]! - t.timeMs[b]! || a - b);
  let total = 0;
  for (let k = 0; k < n; k++) if (k === 0 || windowOf[order[k]!] !== windowOf[order[k - 1]!]) total++;

  const records = new Map<string, SensorRecord>();
  const allSensors = new Set<string>();
  let done = 0, withoutBackground = 0;
  for (let start = 0; start < n;) {
    const w = windowOf[order[start]!]!;
    let end = start;
    while (end < n && windowOf[order[end]!] === w) end++;
    const rows = order.slice(start, end);
    // Sensors in id order; each placed where its first reading of the window says.
    const ids: string[] = [];
    const first: number[] = [];
    const sensorOfRow = new Int32Array(rows.length);
    rows.forEach((row, k) => {
      if (ids.length === 0 || ids[ids.length - 1] !== t.sensorId[row]) {
        ids.push(t.sensorId[row]!);
        first.push(row);
        allSensors.add(t.sensorId[row]!);
      }
      sensorOfRow[k] = ids.length - 1;
    });
    const flat = o.background ? NaN : median(rows.map((row) => t.tempC[row]!));
    const backgroundC = Float64Array.from(rows, (row) => (o.background ? o.background({ lat: t.lat[row]!, lon: t.lon[row]! }, t.timeMs[row]!) : flat));
    if (!backgroundC.some((v) => Number.isFinite(v))) withoutBackground++;
    const out = runQcChain({
      windowStartMs: w,
      windowEndMs: w + o.windowMs,
      sensors: {
        id: ids,
        official: Uint8Array.from(first, (row) => t.official[row]!),
        x: Float64Array.from(first, (row) => plane.x(t.lon[row]!)),
        y: Float64Array.from(first, (row) => plane.y(t.lat[row]!)),
        z: Float64Array.from(first, (row) => t.elevationM[row]!),
        lat: Float64Array.from(first, (row) => t.lat[row]!),
        lon: Float64Array.from(first, (row) => t.lon[row]!),
      },
      readings: { sensor: sensorOfRow, timeMs: Float64Array.from(rows, (row) => t.timeMs[row]!), tempC: Float64Array.from(rows, (row) => t.tempC[row]!), backgroundC },
      records: ids.map((id) => records.get(id)),
    }, o.qc);
    ids.forEach((id, si) => records.set(id, out.records[si]!));
    rows.forEach((row, k) => (reason[row] = out.reason[k]!));
    done++;
    o.progress?.(done, total);
    start = end;
  }
  return { reason, windows: total, windowsWithoutBackground: withoutBackground, sensors: allSensors.size };
}
