/**
 * The in-memory snapshot the API serves from: one finished batch run as columns, indexed by cell,
 * with the lead-0 values of earlier runs (the recent past) and the cells' geometry for tiles.
 * Immutable once built: a new run builds a new snapshot, and the holder swaps the reference.
 * Pure: no IO, no clock.
 */
import type { LeadZero, RunColumns } from '../infra/store/index.ts';
import { cellBoundary, cellCenter } from '../infra/geo/index.ts';
import { HOUR_MS, MINUTE_MS } from '../infra/time.ts';

/** Knots further apart than this are not interpolated between [ms]. */
const MAX_GAP_MS = HOUR_MS;

/** Cell centres and outlines in Web Mercator (x, y in [0, 1] at zoom 0), built once per grid. */
export interface CellGeometry {
  cells: readonly string[];
  centreLat: Float64Array;
  centreLon: Float64Array;
  /** Outline vertices of cell i: x/y[offset[i] .. offset[i+1]). */
  offset: Int32Array;
  x: Float64Array;
  y: Float64Array;
  /** Bounding box of each outline (Mercator units). */
  minX: Float64Array;
  maxX: Float64Array;
  minY: Float64Array;
  maxY: Float64Array;
}

/** Web Mercator at zoom 0: longitude → x in [0, 1]. */
export function mercatorX(lon: number): number {
  return (lon + 180) / 360;
}

/** Web Mercator at zoom 0: latitude → y in [0, 1] (0 at the top). */
export function mercatorY(lat: number): number {
  const r = (lat * Math.PI) / 180;
  return (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2;
}

export function cellGeometry(cells: readonly string[]): CellGeometry {
  const n = cells.length;
  const centreLat = new Float64Array(n);
  const centreLon = new Float64Array(n);
  const offset = new Int32Array(n + 1);
  const xs: number[] = [];
  const ys: number[] = [];
  const minX = new Float64Array(n);
  const maxX = new Float64Array(n);
  const minY = new Float64Array(n);
  const maxY = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = cellCenter(cells[i]!);
    centreLat[i] = c.lat;
    centreLon[i] = c.lon;
    offset[i] = xs.length;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const v of cellBoundary(cells[i]!)) {
      const x = mercatorX(v.lon);
      const y = mercatorY(v.lat);
      xs.push(x);
      ys.push(y);
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    minX[i] = x0; maxX[i] = x1; minY[i] = y0; maxY[i] = y1;
  }
  offset[n] = xs.length;
  return { cells, centreLat, centreLon, offset, x: Float64Array.from(xs), y: Float64Array.from(ys), minX, maxX, minY, maxY };
}

function sameCells(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A value and its 1-sigma uncertainty [°C]. */
export interface Valued {
  tempC: number;
  sigmaC: number;
}

export class Snapshot {
  readonly run: RunColumns;
  readonly index: Map<string, number>;
  readonly geometry: CellGeometry;
  /** Past lead-0 values aligned to run.cells, ascending by time (NaN: the cell had none). */
  readonly pastTimesMs: readonly number[];
  readonly pastTempsC: readonly Float32Array[];
  readonly pastSigmasC: readonly Float32Array[];

  private constructor(run: RunColumns, geometry: CellGeometry, index: Map<string, number>, past: { timesMs: number[]; temps: Float32Array[]; sigmas: Float32Array[] }) {
    this.run = run;
    this.geometry = geometry;
    this.index = index;
    this.pastTimesMs = past.timesMs;
    this.pastTempsC = past.temps;
    this.pastSigmasC = past.sigmas;
  }

  /**
   * Builds a snapshot of `run`. `past` holds lead-0 values of earlier runs (any cell order; runs at
   * or after `run` are ignored); `previous`, when given, lends its geometry (same grid) and its past.
   * Past values are kept on `pastEveryMs` boundaries (default 15 minutes) for `keepPastMs`.
   */
  static build(run: RunColumns, o: { past?: readonly LeadZero[]; previous?: Snapshot | null; keepPastMs: number; pastEveryMs?: number }): Snapshot {
    const every = o.pastEveryMs ?? 15 * MINUTE_MS;
    const prev = o.previous ?? null;
    const sameGrid = prev !== null && sameCells(prev.geometry.cells, run.cells);
    // The grid rarely changes: its geometry and index then carry over (both immutable).
    const geometry = sameGrid ? prev.geometry : cellGeometry(run.cells);
    const index = sameGrid ? prev.index : new Map(run.cells.map((c, i) => [c, i]));
    const entries = new Map<number, { t: Float32Array; s: Float32Array }>();
    const align = (cells: readonly string[], t: Float32Array, s: Float32Array) => {
      // Same cells: share the (immutable) arrays; else copy into this run's order.
      if (sameCells(cells, run.cells)) return { t, s };
      const at = new Float32Array(run.cells.length).fill(NaN);
      const as = new Float32Array(run.cells.length).fill(NaN);
      for (let j = 0; j < cells.length; j++) {
        const i = index.get(cells[j]!);
        if (i !== undefined) {
          at[i] = t[j]!;
          as[i] = s[j]!;
        }
      }
      return { t: at, s: as };
    };
    if (prev) {
      prev.pastTimesMs.forEach((time, k) => entries.set(time, align(prev.run.cells, prev.pastTempsC[k]!, prev.pastSigmasC[k]!)));
      const pr = prev.run;
      const t0 = new Float32Array(pr.cells.length);
      const s0 = new Float32Array(pr.cells.length);
      for (let i = 0; i < pr.cells.length; i++) {
        t0[i] = pr.tempsC[i * pr.stepsPerCell]!;
        s0[i] = pr.sigmasC[i * pr.stepsPerCell]!;
      }
      entries.set(pr.runTimeMs, align(pr.cells, t0, s0));
    }
    for (const lz of o.past ?? []) entries.set(lz.runTimeMs, align(lz.cells, lz.tempC, lz.sigmaC));
    const timesMs = [...entries.keys()].filter((t) => t % every === 0 && t < run.runTimeMs && t >= run.runTimeMs - o.keepPastMs).sort((a, b) => a - b);
    return new Snapshot(run, geometry, index, { timesMs, temps: timesMs.map((t) => entries.get(t)!.t), sigmas: timesMs.map((t) => entries.get(t)!.s) });
  }

  get runTimeMs(): number {
    return this.run.runTimeMs;
  }

  get size(): number {
    return this.run.cells.length;
  }

  /** The time of the last minutely step [ms]. */
  get minutelyEndMs(): number {
    return this.run.runTimeMs + (this.run.stepsPerCell - 1) * this.run.stepMin * MINUTE_MS;
  }

  /** The value of cell i at lead step k of the minutely series (NaN when missing). */
  minutely(i: number, k: number): Valued {
    const j = i * this.run.stepsPerCell + k;
    return { tempC: this.run.tempsC[j]!, sigmaC: this.run.sigmasC[j]! };
  }

  /**
   * Cell i at time t [ms]: before the run, an earlier run's lead 0 at exactly t; within the
   * next hour, the minutely series interpolated linearly; beyond it, the hourly steps (linear
   * between knots at most an hour apart). Null where nothing is known.
   */
  at(i: number, t: number): Valued | null {
    const r = this.run;
    if (t < r.runTimeMs) {
      const k = binarySearch(this.pastTimesMs, t);
      if (k < 0) return null;
      const v = this.pastTempsC[k]![i]!;
      return Number.isNaN(v) ? null : { tempC: v, sigmaC: this.pastSigmasC[k]![i]! };
    }
    const stepMs = r.stepMin * MINUTE_MS;
    const base = i * r.stepsPerCell;
    const lastK = r.stepsPerCell - 1;
    if (t <= this.minutelyEndMs) {
      const f = (t - r.runTimeMs) / stepMs;
      const k = Math.min(Math.floor(f), lastK);
      const w = f - k;
      const a = r.tempsC[base + k]!;
      if (w === 0) return Number.isNaN(a) ? null : { tempC: a, sigmaC: r.sigmasC[base + k]! };
      const b = r.tempsC[base + k + 1]!;
      if (Number.isNaN(a) || Number.isNaN(b)) return null;
      return { tempC: a + w * (b - a), sigmaC: r.sigmasC[base + k]! + w * (r.sigmasC[base + k + 1]! - r.sigmasC[base + k]!) };
    }
    // Beyond the hour: knots are the last minutely step, then the hourly steps after it.
    const hs = r.hourlyStartMs[i]!;
    if (Number.isNaN(hs) || r.hourlyLength === 0) return null;
    const hb = i * r.hourlyLength;
    let prevT = this.minutelyEndMs;
    let prevV = r.tempsC[base + lastK]!;
    let prevS = r.sigmasC[base + lastK]!;
    const first = Math.max(0, Math.ceil((prevT - hs) / HOUR_MS));
    for (let h = first; h < r.hourlyLength; h++) {
      const ht = hs + h * HOUR_MS;
      if (ht <= prevT) continue;
      const v = r.hourlyTempsC[hb + h]!;
      const s = r.hourlySigmasC[hb + h]!;
      if (t <= ht) {
        if (t === ht) return Number.isNaN(v) ? null : { tempC: v, sigmaC: s };
        if (ht - prevT > MAX_GAP_MS || Number.isNaN(v) || Number.isNaN(prevV)) return null;
        const w = (t - prevT) / (ht - prevT);
        return { tempC: prevV + w * (v - prevV), sigmaC: prevS + w * (s - prevS) };
      }
      prevT = ht;
      prevV = v;
      prevS = s;
    }
    return null;
  }

  /** Provenance of cell i. */
  provenance(i: number): { method: string; nObs: number; newestObsMs: number | null } {
    const r = this.run;
    const newest = r.newestObsMs[i]!;
    return { method: r.methods[r.methodIndex[i]!] ?? 'unknown', nObs: r.nObs[i]!, newestObsMs: Number.isNaN(newest) ? null : newest };
  }
}

function binarySearch(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = a[mid]!;
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
