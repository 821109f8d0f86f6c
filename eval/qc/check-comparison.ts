/**
 * What the comparison with titanlib needs, pure: each window's station set (one value per sensor,
 * its median reading in the window, as the QC chain takes it), our buddy check and SCT with the
 * chain's settings (DEFAULT_QC) mapped onto titanlib's arguments, and the agreement of two flag
 * vectors.
 *
 * Sensors without an elevation are left out of both sides: titanlib's sct flags every one of them and
 * its buddy_check never uses one, where ours uses them (documented differences, not of interest here).
 */
import { localPlane } from '../../infra/geo/index.ts';
import type { LatLon } from '../../infra/geo/index.ts';
import type { PlanePoints } from '../../pipeline/analysis/oi.ts';
import { median } from '../../pipeline/mean-bias.ts';
import type { BuddyCheckOptions } from '../../pipeline/qc/buddy-check.ts';
import type { SctOptions } from '../../pipeline/qc/sct.ts';
import type { BuddyCheckCase, SctCase } from '../../infra/reference/index.ts';
import type { QcReadingsColumns } from './window-qc.ts';

export interface CheckWindow {
  startMs: number;
  ids: string[];
  lat: number[];
  lon: number[];
  z: number[];
  /** Each sensor's median reading in the window [°C] (the buddy check's values). */
  tempC: number[];
  /** The same minus the background there and then (the SCT's values); the temperatures when no background. */
  sctValue: number[];
  plane: PlanePoints;
}

export interface CheckWindows {
  windows: CheckWindow[];
  /** Sensor-windows left out for want of an elevation, or of a background value. */
  withoutElevation: number;
  withoutBackground: number;
}

export function checkWindows(t: QcReadingsColumns, o: { windowMs: number; background?: (p: LatLon, timeMs: number) => number }): CheckWindows {
  const n = t.timeMs.length;
  const out: CheckWindows = { windows: [], withoutElevation: 0, withoutBackground: 0 };
  if (n === 0) return out;
  let latSum = 0;
  for (let i = 0; i < n; i++) latSum += t.lat[i]!;
  const plane = localPlane(latSum / n);
  const byWindow = new Map<number, Map<string, number[]>>();
  for (let i = 0; i < n; i++) {
    const w = Math.floor(t.timeMs[i]! / o.windowMs) * o.windowMs;
    let sensors = byWindow.get(w);
    if (!sensors) byWindow.set(w, (sensors = new Map()));
    const rows = sensors.get(t.sensorId[i]!);
    if (rows) rows.push(i);
    else sensors.set(t.sensorId[i]!, [i]);
  }
  for (const w of [...byWindow.keys()].sort((a, b) => a - b)) {
    const win: CheckWindow = { startMs: w, ids: [], lat: [], lon: [], z: [], tempC: [], sctValue: [], plane: { x: new Float64Array(), y: new Float64Array(), z: new Float64Array() } };
    const sensors = byWindow.get(w)!;
    for (const id of [...sensors.keys()].sort()) {
      const rows = sensors.get(id)!;
      const first = rows[0]!;
      if (!Number.isFinite(t.elevationM[first]!)) { out.withoutElevation++; continue; }
      const temp = median(rows.map((i) => t.tempC[i]!));
      // The innovation over the readings where the background has a value.
      const innovations = o.background ? rows.map((i) => t.tempC[i]! - o.background!({ lat: t.lat[i]!, lon: t.lon[i]! }, t.timeMs[i]!)).filter((v) => Number.isFinite(v)) : [temp];
      if (innovations.length === 0) { out.withoutBackground++; continue; }
      const innovation = median(innovations);
      win.ids.push(id);
      win.lat.push(t.lat[first]!);
      win.lon.push(t.lon[first]!);
      win.z.push(t.elevationM[first]!);
      win.tempC.push(temp);
      win.sctValue.push(innovation);
    }
    win.plane = { x: Float64Array.from(win.lon, (v) => plane.x(v)), y: Float64Array.from(win.lat, (v) => plane.y(v)), z: Float64Array.from(win.z) };
    if (win.ids.length > 0) out.windows.push(win);
  }
  return out;
}

/** Our buddy-check settings as titanlib's buddy_check arguments (titanlib has no cap on buddies). */
export function buddyCase(w: CheckWindow, o: BuddyCheckOptions): BuddyCheckCase {
  return {
    op: 'buddy_check', points: { lat: w.lat, lon: w.lon, z: w.z }, values: w.tempC, radius: o.radiusM, num_min: o.numMin,
    threshold: o.threshold, max_elev_diff: o.maxElevDiffM, elev_gradient: o.elevGradientKPerM, min_std: o.minStdK, num_iterations: o.numIterations,
  };
}

/**
 * Our SCT settings as titanlib's sct arguments: inner_radius 0 (each observation in its own box, as
 * ours), num_min_prof −1 (the box mean as background, as ours; min_elev_diff is then unused).
 */
export function sctCase(w: CheckWindow, o: Omit<SctOptions, 'check'>): SctCase {
  const arr = (v: number | ArrayLike<number>) => (typeof v === 'number' ? v : Array.from(v));
  return {
    op: 'sct', points: { lat: w.lat, lon: w.lon, z: w.z }, values: w.sctValue, num_min: o.numMin, num_max: o.numMax,
    inner_radius: 0, outer_radius: o.outerRadiusM, num_iterations: o.numIterations, num_min_prof: -1, min_elev_diff: 100,
    min_horizontal_scale: o.minHorizontalScaleM, vertical_scale: o.verticalScaleM, pos: arr(o.pos), neg: arr(o.neg), eps2: arr(o.eps2),
  };
}

export interface Confusion {
  /** Observations compared. */
  n: number;
  bothOk: number;
  bothFlagged: number;
  oursOnly: number;
  titanlibOnly: number;
}

export const EMPTY_CONFUSION: Readonly<Confusion> = Object.freeze({ n: 0, bothOk: 0, bothFlagged: 0, oursOnly: 0, titanlibOnly: 0 });

/** Adds the comparison of two flag vectors (non-zero = flagged) to `into`. */
export function addConfusion(into: Confusion, ours: ArrayLike<number>, titanlib: ArrayLike<number>): Confusion {
  if (ours.length !== titanlib.length) throw new RangeError(`ours has ${ours.length} flags, titanlib ${titanlib.length}`);
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i] !== 0, b = titanlib[i] !== 0;
    into.n++;
    if (a && b) into.bothFlagged++;
    else if (a) into.oursOnly++;
    else if (b) into.titanlibOnly++;
    else into.bothOk++;
  }
  return into;
}

/** Share of observations with the same flag (NaN for none). */
export function agreementOf(c: Confusion): number {
  return c.n === 0 ? NaN : (c.bothOk + c.bothFlagged) / c.n;
}
