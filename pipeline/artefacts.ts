/**
 * The batch's artefacts as Arrow IPC streams: what a map task hands to reduce tasks (possibly in other
 * processes), and the state carried from one window to the next. Columnar both ways; encode/decode are
 * exact inverses (Float64 for values, so a rerun reads back exactly what was written). Pure.
 */
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import { columnStrings, tableOf } from './arrow-strings.ts';
import { emptyCellStates, type AnalysisObservations, type CellStates } from './analysis/cell-analysis.ts';
import { packedIndex, packedSize } from './analysis/kalman.ts';
import type { ReadingColumns } from '../infra/store/index.ts';
import { HISTOGRAM_BINS, ValueHistogram } from './analysis/histogram.ts';
import type { MapSummary } from './map-stage.ts';
import { NEW_RECORD, RECORD_FIELDS, type SensorRecord } from './qc/sensor-record.ts';

function f64(t: Table, name: string): Float64Array {
  const c = t.getChild(name);
  if (!c) throw new Error(`artefact has no column "${name}"`);
  return c.toArray() as Float64Array;
}
function strings(t: Table, name: string): string[] {
  const c = t.getChild(name);
  if (!c) throw new Error(`artefact has no column "${name}"`);
  return columnStrings(c);
}
function u8(t: Table, name: string): Uint8Array {
  const c = t.getChild(name);
  if (!c) throw new Error(`artefact has no column "${name}"`);
  return c.toArray() as Uint8Array;
}

export type ShardObservations = AnalysisObservations & { sensorId: string[] };

export function encodeObservations(o: ShardObservations): Uint8Array {
  return tableToIPC(tableOf({
    sensor_id: o.sensorId, x: o.x, y: o.y, z: o.z, innovation_k: o.innovationK, official: o.official,
    offset_k: o.offsetK, offset_weight: o.offsetWeight, reliability: o.reliability, newest_ms: o.newestMs,
  }), 'stream');
}

export function decodeObservations(bytes: Uint8Array): ShardObservations {
  const t = tableFromIPC(bytes);
  return {
    sensorId: t.numRows ? strings(t, 'sensor_id') : [], x: f64(t, 'x'), y: f64(t, 'y'), z: f64(t, 'z'), innovationK: f64(t, 'innovation_k'),
    official: u8(t, 'official'), offsetK: f64(t, 'offset_k'), offsetWeight: f64(t, 'offset_weight'), reliability: f64(t, 'reliability'), newestMs: f64(t, 'newest_ms'),
  };
}

/** Observations of several shards as one set, in the given order. */
export function concatObservations(parts: readonly ShardObservations[]): ShardObservations {
  const cat = (k: Exclude<keyof ShardObservations, 'sensorId' | 'official'>) => {
    const out = new Float64Array(parts.reduce((n, p) => n + p[k].length, 0));
    let i = 0;
    for (const p of parts) { out.set(p[k], i); i += p[k].length; }
    return out;
  };
  const official = new Uint8Array(parts.reduce((n, p) => n + p.official.length, 0));
  let i = 0;
  for (const p of parts) { official.set(p.official, i); i += p.official.length; }
  return {
    sensorId: parts.flatMap((p) => p.sensorId), x: cat('x'), y: cat('y'), z: cat('z'), innovationK: cat('innovationK'), official,
    offsetK: cat('offsetK'), offsetWeight: cat('offsetWeight'), reliability: cat('reliability'), newestMs: cat('newestMs'),
  };
}

/** Sensor records with the time each sensor was last seen (for pruning), sorted by sensor id. */
export function encodeRecords(records: ReadonlyMap<string, SensorRecord>, lastSeenMs: ReadonlyMap<string, number>): Uint8Array {
  const ids = [...records.keys()].sort();
  const cols: Record<string, unknown> = { sensor_id: ids, last_seen_ms: Float64Array.from(ids, (id) => lastSeenMs.get(id) ?? NaN) };
  for (const f of RECORD_FIELDS) cols[f] = Float64Array.from(ids, (id) => records.get(id)![f]);
  return tableToIPC(tableOf(cols as Record<string, Float64Array | string[]>), 'stream');
}

export function decodeRecords(bytes: Uint8Array): { records: Map<string, SensorRecord>; lastSeenMs: Map<string, number> } {
  const t = tableFromIPC(bytes);
  const records = new Map<string, SensorRecord>();
  const lastSeenMs = new Map<string, number>();
  if (t.numRows === 0) return { records, lastSeenMs };
  const ids = strings(t, 'sensor_id');
  const seen = f64(t, 'last_seen_ms');
  const cols = RECORD_FIELDS.map((f) => [f, f64(t, f)] as const);
  ids.forEach((id, i) => {
    const r: SensorRecord = { ...NEW_RECORD };
    for (const [f, c] of cols) r[f] = c[i]!;
    records.set(id, r);
    lastSeenMs.set(id, seen[i]!);
  });
  return { records, lastSeenMs };
}

/** Steps of analysis history a cell state keeps (2 h at 5 minutes: what the smoother reads). */
export const HISTORY_STEPS = 24;

/** The filter state of a shard's cells (see CellStates) and their analysis history. */
export interface CellStateSet extends CellStates {
  cell: string[];
  /** cell-major: history[i * HISTORY_STEPS + k], oldest first, the last one the newest analysis [°C]; NaN gaps. */
  history: Float32Array;
  /**
   * The smoothed trajectory served for each cell, cell-major: served[i * SERVED_STEPS + k] at lead 5k min [°C]
   * (the next window blends with it); a row of NaN where the smoother's was not served. Absent: none at all
   * (no smoother, or a blob written before these columns existed).
   */
  served?: Float32Array;
}

/** Leads of a served trajectory a cell state keeps (0 … 60 min at 5 minutes). */
export const SERVED_STEPS = 13;

export function encodeCellStates(s: CellStateSet): Uint8Array {
  const n = s.cell.length;
  // Part i's mean as x{i}_k, covariance entry (i, j ≤ i) as p{i}_{j}_k2.
  const cols: Record<string, unknown> = { cell: s.cell, valid_ms: s.validMs };
  s.meanK.forEach((col, i) => {
    cols[`x${i}_k`] = col;
    for (let j = 0; j <= i; j++) cols[`p${i}_${j}_k2`] = s.covK2[packedIndex(i, j)];
  });
  for (let k = 0; k < HISTORY_STEPS; k++) cols[`h${k}`] = Float32Array.from({ length: n }, (_, i) => s.history[i * HISTORY_STEPS + k]!);
  if (s.served) for (let k = 0; k < SERVED_STEPS; k++) cols[`f${k}`] = Float32Array.from({ length: n }, (_, i) => s.served![i * SERVED_STEPS + k]!);
  return tableToIPC(tableOf(cols as Record<string, Float64Array | Float32Array | string[]>), 'stream');
}

export function decodeCellStates(bytes: Uint8Array): CellStateSet {
  const t = tableFromIPC(bytes);
  const n = t.numRows;
  const history = new Float32Array(n * HISTORY_STEPS);
  if (n === 0) return { cell: [], ...emptyCellStates(0, 0), history };
  for (let k = 0; k < HISTORY_STEPS; k++) {
    const c = t.getChild(`h${k}`)!.toArray() as Float32Array;
    for (let i = 0; i < n; i++) history[i * HISTORY_STEPS + k] = c[i]!;
  }
  const cell = strings(t, 'cell'), validMs = f64(t, 'valid_ms');
  let out: CellStateSet;
  if (t.getChild('x0_k')) {
    let parts = 0;
    while (t.getChild(`x${parts}_k`)) parts++;
    const meanK = Array.from({ length: parts }, (_, i) => f64(t, `x${i}_k`));
    const covK2 = new Array<Float64Array>(packedSize(parts));
    for (let i = 0; i < parts; i++) for (let j = 0; j <= i; j++) covK2[packedIndex(i, j)] = f64(t, `p${i}_${j}_k2`);
    out = { cell, meanK, covK2, validMs, history };
  } else if (t.getChild('fast_k')) {
    // Written when the bias had two parts (fast, slow): they are the first two; later parts start at their priors.
    out = { cell, meanK: [f64(t, 'fast_k'), f64(t, 'slow_k')], covK2: [f64(t, 'fast_var_k2'), f64(t, 'cross_var_k2'), f64(t, 'slow_var_k2')], validMs, history };
  } else {
    // Written when the bias had one part: the whole bias is taken as the fast part.
    out = { cell, meanK: [f64(t, 'bias_k')], covK2: [f64(t, 'var_k2')], validMs, history };
  }
  if (t.getChild('f0')) {
    const served = new Float32Array(n * SERVED_STEPS);
    for (let k = 0; k < SERVED_STEPS; k++) {
      const c = t.getChild(`f${k}`);
      if (!c) throw new Error(`artefact has no column "f${k}"`);
      const a = c.toArray() as Float32Array;
      for (let i = 0; i < n; i++) served[i * SERVED_STEPS + k] = a[i]!;
    }
    out.served = served;
  }
  return out;
}

export interface ReadingFlags {
  sensorId: string[];
  timeMs: Float64Array;
  reason: Uint8Array;
}

export function encodeFlags(f: ReadingFlags): Uint8Array {
  return tableToIPC(tableOf({ sensor_id: f.sensorId, time_ms: f.timeMs, reason: f.reason }), 'stream');
}

export function decodeFlags(bytes: Uint8Array): ReadingFlags {
  const t = tableFromIPC(bytes);
  if (t.numRows === 0) return { sensorId: [], timeMs: new Float64Array(0), reason: new Uint8Array(0) };
  return { sensorId: strings(t, 'sensor_id'), timeMs: f64(t, 'time_ms'), reason: u8(t, 'reason') };
}

/** The summary's histograms, sparse: (histogram, bin, count) rows. */
export function encodeSummary(s: MapSummary): Uint8Array {
  const which: number[] = [], bin: number[] = [], count: number[] = [];
  [s.crowd, s.official, s.cvDeviation].forEach((h, w) => h.counts.forEach((c, b) => { if (c) { which.push(w); bin.push(b); count.push(c); } }));
  return tableToIPC(tableOf({ which: Uint8Array.from(which), bin: Int32Array.from(bin), count: Int32Array.from(count) }), 'stream');
}

export function decodeSummary(bytes: Uint8Array): MapSummary {
  const t = tableFromIPC(bytes);
  const counts = [0, 1, 2].map(() => new Int32Array(HISTOGRAM_BINS));
  if (t.numRows > 0) {
    const which = t.getChild('which')!.toArray() as Uint8Array, bin = t.getChild('bin')!.toArray() as Int32Array, count = t.getChild('count')!.toArray() as Int32Array;
    for (let i = 0; i < which.length; i++) counts[which[i]!]![bin[i]!] = count[i]!;
  }
  return { crowd: new ValueHistogram(counts[0]), official: new ValueHistogram(counts[1]), cvDeviation: new ValueHistogram(counts[2]) };
}

/** A window's readings as one Arrow record batch (the map stage's input, sliced per shard). */
export function windowTable(c: ReadingColumns): Table {
  return tableOf({
    sensor_id: c.sensorId, official: c.official, time_ms: c.timeMs, lat: c.lat, lon: c.lon, elevation_m: c.elevationM, temp_c: c.tempC, received_ms: c.receivedMs,
  });
}

/** The columns of a window table (numeric columns are views of the table's buffers, not copies). */
export function windowColumns(t: Table): ReadingColumns {
  if (t.numRows === 0) return { sensorId: [], official: new Uint8Array(0), timeMs: new Float64Array(0), lat: new Float64Array(0), lon: new Float64Array(0), elevationM: new Float64Array(0), tempC: new Float64Array(0), receivedMs: new Float64Array(0) };
  return {
    sensorId: strings(t, 'sensor_id'), official: u8(t, 'official'), timeMs: f64(t, 'time_ms'), lat: f64(t, 'lat'), lon: f64(t, 'lon'),
    elevationM: f64(t, 'elevation_m'), tempC: f64(t, 'temp_c'), receivedMs: f64(t, 'received_ms'),
  };
}
