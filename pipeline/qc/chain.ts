/**
 * The QC chain of one window: pure functions in a fixed order, each reading ending with one flag
 * and one reason (the first check that rejected it). Nothing is dropped here: the analysis selects
 * the sensors whose reason is `ok` (the one place where readings are left out).
 *
 *   per reading   range → gross error against the background → no background → step / spike / flat line
 *   per sensor    (its passing readings: median innovation and temperature)
 *   amateurs      shared position → isolation → buddy check (lapse-rate adjusted) → SCT (warm errors
 *                 judged more strictly) → daytime radiation excess → indoor behaviour
 * Official stations go through the per-reading (gross) checks only, and serve as neighbours.
 * Afterwards each sensor's record is updated (track, reliability, statistics against its neighbours).
 */
import { sinSolarElevation } from '../../infra/geo/index.ts';
import type { PlanePoints } from '../analysis/oi.ts';
import { bucketSizeFor, PointIndex } from '../space/point-index.ts';
import { neighbourLists } from '../space/neighbour-lists.ts';
import { buddyCheck, type BuddyCheckOptions } from './buddy-check.ts';
import { isolationCheck, sharedPositionCheck } from './position-checks.ts';
import { FLAG_OK, REASON_CODE } from './reasons.ts';
import { grossErrorCheck, rangeCheck } from './range-check.ts';
import { sct, type SctOptions } from './sct.ts';
import { looksIndoor, NEW_RECORD, radiationExcessK, updateRecord, type IndoorOptions, type RadiationOptions, type RecordTimescales, type SensorRecord } from './sensor-record.ts';
import { temporalChecks, type TemporalOptions } from './temporal-checks.ts';

export interface QcOptions {
  /** Plausible range of a 2 m air temperature [°C]. */
  rangeMinC: number;
  rangeMaxC: number;
  /** Largest plausible |reading − background| [K]. */
  grossK: number;
  temporal: TemporalOptions;
  /** Coordinates closer than this are one position [m]. */
  positionToleranceM: number;
  /** An amateur sensor needs at least `numMin` other sensors within `radiusM` [m] to be verified. */
  isolation: { numMin: number; radiusM: number };
  buddy: Omit<BuddyCheckOptions, 'check'>;
  sct: Omit<SctOptions, 'check'>;
  /** Neighbours for the record's statistics: up to `max` passing sensors within `radiusM` [m], at least `min`. */
  neighbours: { radiusM: number; max: number; min: number };
  radiation: RadiationOptions;
  indoor: IndoorOptions;
  timescales: RecordTimescales;
}

export interface QcSensors {
  id: readonly string[];
  /** 1 for official stations. */
  official: Uint8Array;
  /** Position on the domain's local plane [m] and elevation [m] (NaN unknown). */
  x: Float64Array;
  y: Float64Array;
  z: Float64Array;
  /** Position [degrees] (for the sun). */
  lat: Float64Array;
  lon: Float64Array;
}

export interface QcReadings {
  /** Index into the sensors; readings sorted by sensor, then time. */
  sensor: Int32Array;
  timeMs: Float64Array;
  tempC: Float64Array;
  /** The background at the reading's place and time [°C]; NaN where unknown. */
  backgroundC: Float64Array;
}

export interface QcInput {
  /** The window [start, end) [epoch ms]. */
  windowStartMs: number;
  windowEndMs: number;
  sensors: QcSensors;
  readings: QcReadings;
  /** Each sensor's record before this window (undefined: a new sensor). */
  records: readonly (SensorRecord | undefined)[];
  /**
   * 1 for the sensors whose records this window updates (all by default). The others (a shard's halo,
   * whose records another shard keeps) take part in every check but keep their record as it was.
   */
  updateRecords?: Uint8Array;
}

export interface QcOutput {
  /** Per reading: its reason code (0 = ok). */
  reason: Uint8Array;
  /** Per sensor: 0 when it passed; else the reason that rejected it (its readings' first reason when none passed the per-reading checks). */
  sensorReason: Uint8Array;
  /** Per sensor: median innovation [K] and temperature [°C] of its readings that passed the per-reading checks; NaN when none did. */
  innovationK: Float64Array;
  tempC: Float64Array;
  /** Per sensor: time of its newest reading that passed the per-reading checks [epoch ms]; NaN when none did. */
  newestMs: Float64Array;
  /** Per sensor: the SCT's observation-minus-cross-validation deviation [K] (NaN where not tested). */
  cvDeviationK: Float64Array;
  /** Per sensor: its record after this window (as it was, where `updateRecords` excludes it). */
  records: SensorRecord[];
}

/** The median of `v[0..n)`, sorting that part of `v` in place (numerically, natively). */
function sortedMedian(v: Float64Array, n: number): number {
  if (n === 0) return NaN;
  const w = n === v.length ? v : v.subarray(0, n);
  w.sort();
  const m = n >> 1;
  return n % 2 ? w[m]! : (w[m - 1]! + w[m]!) / 2;
}

/** The median of `of[idx[0..n)]`, gathered into `scratch` (length >= n) and taken there. */
function medianOf(of: Float64Array, idx: ArrayLike<number>, n: number, scratch: Float64Array): number {
  for (let j = 0; j < n; j++) scratch[j] = of[idx[j]!]!;
  return sortedMedian(scratch, n);
}

function checkInput(input: QcInput): void {
  const s = input.sensors;
  const ns = s.id.length;
  for (const [name, col] of Object.entries({ official: s.official, x: s.x, y: s.y, z: s.z, lat: s.lat, lon: s.lon, records: input.records, ...(input.updateRecords ? { updateRecords: input.updateRecords } : {}) })) {
    if (col.length !== ns) throw new RangeError(`sensors.id has ${ns} entries, ${name} has ${col.length}`);
  }
  const r = input.readings;
  const nr = r.sensor.length;
  for (const [name, col] of Object.entries({ timeMs: r.timeMs, tempC: r.tempC, backgroundC: r.backgroundC })) {
    if (col.length !== nr) throw new RangeError(`readings.sensor has ${nr} entries, ${name} has ${col.length}`);
  }
  for (let i = 1; i < nr; i++) {
    if (r.sensor[i]! < r.sensor[i - 1]! || (r.sensor[i] === r.sensor[i - 1] && r.timeMs[i]! < r.timeMs[i - 1]!)) throw new RangeError(`readings must be sorted by sensor, then time (index ${i})`);
  }
}

/**
 * `stageMs`, when given, accumulates the time of each stage [ms] (per reading, per sensor, positions,
 * neighbours, buddy, sct, records).
 */
export function runQcChain(input: QcInput, o: QcOptions, stageMs?: Record<string, number>): QcOutput {
  let t0 = performance.now();
  const lap = (stage: string) => {
    if (!stageMs) return;
    const t = performance.now();
    stageMs[stage] = (stageMs[stage] ?? 0) + (t - t0);
    t0 = t;
  };
  checkInput(input);
  const { sensors: s, readings: r } = input;
  const ns = s.id.length, nr = r.sensor.length;
  const windowMs = input.windowEndMs - input.windowStartMs;
  const midMs = input.windowStartMs + windowMs / 2;
  const reason = new Uint8Array(nr);

  // ---- per reading: range, gross error, no background
  const range = rangeCheck(r.tempC, o.rangeMinC, o.rangeMaxC);
  const gross = grossErrorCheck(r.tempC, r.backgroundC, o.grossK);
  for (let i = 0; i < nr; i++) {
    if (range[i] !== FLAG_OK) reason[i] = REASON_CODE.range;
    else if (gross[i] !== FLAG_OK) reason[i] = REASON_CODE.gross;
    else if (!Number.isFinite(r.backgroundC[i]!)) reason[i] = REASON_CODE.no_background;
  }

  lap('readings');
  // ---- per sensor: temporal checks over its passing readings, then the window's summary
  const records: SensorRecord[] = input.records.map((rec) => ({ ...(rec ?? NEW_RECORD) }));
  const innovationK = new Float64Array(ns).fill(NaN);
  const tempC = new Float64Array(ns).fill(NaN);
  const newestMs = new Float64Array(ns).fill(NaN);
  const firstReason = new Uint8Array(ns);
  const readingsOf = new Int32Array(ns);
  const tracks = records.map((rec) => ({ lastTimeMs: rec.lastTimeMs, lastTempC: rec.lastTempC, flatValueC: rec.flatValueC, flatSinceMs: rec.flatSinceMs, flatCount: rec.flatCount }));
  // Scratch for one sensor's readings at a time, grown to the longest run (no arrays per sensor: with
  // 100,000 sensors those were most of the window's garbage).
  let cap = 16;
  let scrIdx = new Int32Array(cap), scrTime = new Float64Array(cap), scrTemp = new Float64Array(cap), scrInn = new Float64Array(cap), scrReason = new Uint8Array(cap);
  for (let start = 0; start < nr;) {
    const si = r.sensor[start]!;
    let end = start;
    while (end < nr && r.sensor[end] === si) end++;
    readingsOf[si] = end - start;
    if (end - start > cap) {
      cap = Math.max(end - start, 2 * cap);
      scrIdx = new Int32Array(cap); scrTime = new Float64Array(cap); scrTemp = new Float64Array(cap); scrInn = new Float64Array(cap); scrReason = new Uint8Array(cap);
    }
    let m = 0;
    for (let i = start; i < end; i++) {
      if (reason[i] !== 0) continue;
      scrIdx[m] = i; scrTime[m] = r.timeMs[i]!; scrTemp[m] = r.tempC[i]!; scrReason[m] = 0;
      m++;
    }
    tracks[si] = temporalChecks(scrTime.subarray(0, m), scrTemp.subarray(0, m), tracks[si]!, o.temporal, scrReason.subarray(0, m));
    for (let k = 0; k < m; k++) reason[scrIdx[k]!] = scrReason[k]!;
    let kept = 0;
    for (let i = start; i < end; i++) {
      if (reason[i] === 0) {
        scrInn[kept] = r.tempC[i]! - r.backgroundC[i]!;
        scrTemp[kept] = r.tempC[i]!;
        kept++;
        newestMs[si] = r.timeMs[i]!;
      } else if (firstReason[si] === 0) firstReason[si] = reason[i]!;
    }
    innovationK[si] = sortedMedian(scrInn, kept);
    tempC[si] = sortedMedian(scrTemp, kept);
    start = end;
  }

  lap('temporal');
  // ---- per sensor: spatial and record-based checks (amateurs), among sensors with a passing reading
  const sensorReason = new Uint8Array(ns);
  const live: number[] = [];
  for (let si = 0; si < ns; si++) {
    if (Number.isFinite(innovationK[si]!)) live.push(si);
    else sensorReason[si] = firstReason[si] || REASON_CODE.no_background;
  }
  const sub = (idx: readonly number[]): PlanePoints => ({ x: Float64Array.from(idx, (i) => s.x[i]!), y: Float64Array.from(idx, (i) => s.y[i]!), z: Float64Array.from(idx, (i) => s.z[i]!) });
  const amateur = (si: number) => s.official[si] === 0;
  const stage = (code: number, flags: Uint8Array, idx: readonly number[]) => {
    idx.forEach((si, k) => {
      if (flags[k] !== FLAG_OK && amateur(si) && sensorReason[si] === 0) sensorReason[si] = code;
    });
  };
  const still = () => live.filter((si) => sensorReason[si] === 0);

  let idx = still();
  stage(REASON_CODE.duplicate_position, sharedPositionCheck(sub(idx), idx.map((si) => s.id[si]!), o.positionToleranceM), idx);
  idx = still();
  stage(REASON_CODE.isolated, isolationCheck(sub(idx), o.isolation.numMin, o.isolation.radiusM), idx);
  lap('positions');
  // The buddy check, the SCT and the records' statistics share one search for each sensor's neighbours.
  idx = still();
  const points = sub(idx);
  const k = Math.max(o.buddy.maxBuddies ?? 0, o.neighbours.max) + 1;
  const lists = Number.isFinite(k) && k >= o.sct.numMax
    ? neighbourLists(points.x, points.y, k, Math.max(o.buddy.radiusM, o.sct.outerRadiusM, o.neighbours.radiusM))
    : undefined;
  lap('neighbours');
  const buddyFlags = buddyCheck(points, idx.map((si) => tempC[si]!), { ...o.buddy, check: (j) => amateur(idx[j]!), ...(lists ? { neighbours: lists } : {}) });
  stage(REASON_CODE.buddy, buddyFlags, idx);
  lap('buddy');
  const cvDeviationK = new Float64Array(ns).fill(NaN);
  // The SCT over the same points, those the buddy check rejected counting as absent.
  const sctResult = sct(points, idx.map((si) => innovationK[si]!), { ...o.sct, check: (j) => amateur(idx[j]!), initialFlags: Uint8Array.from(idx, (si) => (sensorReason[si] === 0 ? FLAG_OK : 1)), ...(lists ? { neighbours: lists } : {}) });
  stage(REASON_CODE.sct, sctResult.flags, idx);
  idx.forEach((si, j) => (cvDeviationK[si] = sctResult.cvDeviation[j]!));
  lap('sct');
  for (const si of still()) {
    if (!amateur(si)) continue;
    const rec = records[si]!;
    const sinElev = sinSolarElevation({ lat: s.lat[si]!, lon: s.lon[si]! }, midMs);
    if (sinElev > o.timescales.sinElevDay && radiationExcessK(rec, o.radiation) > o.radiation.excessK) sensorReason[si] = REASON_CODE.radiation;
    else if (looksIndoor(rec, o.indoor)) sensorReason[si] = REASON_CODE.indoor;
  }

  // The sensor's verdict reaches its readings that passed the per-reading checks.
  for (let i = 0; i < nr; i++) if (reason[i] === 0) reason[i] = sensorReason[r.sensor[i]!]!;

  // ---- records: each sensor against the median of its passing neighbours (those that pass among its
  // `neighbours.max` nearest within `neighbours.radiusM`: the shared lists hold exactly these)
  const listOf = new Int32Array(ns).fill(-1);
  idx.forEach((si, j) => (listOf[si] = j));
  const passedCount = new Int32Array(ns);
  for (let i = 0; i < nr; i++) if (reason[i] === 0) passedCount[r.sensor[i]!] = passedCount[r.sensor[i]!]! + 1;
  let index: PointIndex | undefined; // only where no shared lists were built
  const nearestOf = (j: number): { list: ArrayLike<number>; dist: ArrayLike<number> } => {
    if (lists) return { list: lists.lists[j]!, dist: lists.distancesM[j]! };
    index ??= new PointIndex(points.x, points.y, bucketSizeFor(points.x, points.y));
    const found = index.nearest(points.x[j]!, points.y[j]!, o.neighbours.max + 1, o.neighbours.radiusM);
    return { list: found.map((n) => n.index), dist: found.map((n) => n.distanceM) };
  };
  const nb: number[] = [];
  const passingNeighbours = (si: number): number[] => {
    nb.length = 0;
    const j = listOf[si]!;
    if (j < 0) return nb;
    const { list, dist } = nearestOf(j);
    for (let q = 0, seen = 0; q < list.length && seen < o.neighbours.max; q++) {
      if (dist[q]! > o.neighbours.radiusM) break;
      const other = idx[list[q]!]!;
      if (other === si) continue;
      seen++;
      if (sensorReason[other] === 0) nb.push(other);
    }
    return nb;
  };
  const scratch = new Float64Array(o.neighbours.max + 1);
  const update = input.updateRecords;
  for (let si = 0; si < ns; si++) {
    if (readingsOf[si] === 0 || (update && !update[si])) continue;
    let versusNeighbours;
    if (sensorReason[si] === 0) {
      passingNeighbours(si);
      if (nb.length >= o.neighbours.min) {
        versusNeighbours = {
          innovationK: innovationK[si]!, neighbourInnovationK: medianOf(innovationK, nb, nb.length, scratch),
          tempC: tempC[si]!, neighbourTempC: medianOf(tempC, nb, nb.length, scratch),
          sinSolarElevation: sinSolarElevation({ lat: s.lat[si]!, lon: s.lon[si]! }, midMs),
        };
      }
    }
    records[si] = updateRecord(records[si]!, { windowMs, track: tracks[si]!, readings: readingsOf[si]!, passed: passedCount[si]!, ...(versusNeighbours ? { versusNeighbours } : {}) }, o.timescales);
  }
  lap('records');
  return { reason, sensorReason, innovationK, tempC, newestMs, cvDeviationK, records };
}
