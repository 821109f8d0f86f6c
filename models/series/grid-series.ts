/**
 * A station's temperature on the smoother's 5-minute grid (pure): every slot holds the reading
 * nearest to the slot's time within half a step, or NaN. No interpolation: a 3-minute logger fills
 * every slot, a 20- or 30-minute logger one slot in four or six, an hourly series one in twelve.
 */
import { MINUTE_MS } from '../../infra/time.ts';
import { SMOOTHER_STEP_MIN } from '../smoother.ts';

export const STEP_MS = SMOOTHER_STEP_MIN * MINUTE_MS;

export interface GridSeries {
  id: string;
  lat: number;
  lon: number;
  /** Time of slot 0 [epoch ms], a multiple of STEP_MS. */
  startMs: number;
  /** °C per slot, NaN where there is no reading. */
  values: Float64Array;
  /** How the series was sampled: 'sub-hourly' (a logger) or 'hourly' (official hourly values). */
  sampling: 'sub-hourly' | 'hourly';
}

export function slotTime(s: GridSeries, slot: number): number {
  return s.startMs + slot * STEP_MS;
}

/**
 * Readings (sorted by time or not) to the grid: each slot takes the reading nearest in time within
 * ±STEP_MS/2 (a reading exactly between two slots goes to the earlier one).
 */
export function resampleToGrid(timeMs: ArrayLike<number>, tempC: ArrayLike<number>, meta: Omit<GridSeries, 'startMs' | 'values'>): GridSeries {
  if (timeMs.length !== tempC.length) throw new RangeError(`timeMs has ${timeMs.length} values, tempC ${tempC.length}`);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < timeMs.length; i++) {
    if (Number.isNaN(tempC[i]!) || !Number.isFinite(timeMs[i]!)) continue;
    lo = Math.min(lo, timeMs[i]!);
    hi = Math.max(hi, timeMs[i]!);
  }
  if (lo > hi) return { ...meta, startMs: 0, values: new Float64Array(0) };
  // nearest slot, a reading exactly half-way between two going to the earlier one
  const slotOf = (t: number) => Math.ceil(t / STEP_MS - 0.5);
  const startMs = slotOf(lo) * STEP_MS;
  const n = slotOf(hi) - startMs / STEP_MS + 1;
  const values = new Float64Array(n).fill(NaN);
  const at = new Float64Array(n).fill(NaN);
  for (let i = 0; i < timeMs.length; i++) {
    const t = timeMs[i]!, v = tempC[i]!;
    if (Number.isNaN(v) || !Number.isFinite(t)) continue;
    const slot = slotOf(t) - startMs / STEP_MS;
    const centre = startMs + slot * STEP_MS;
    const held = at[slot]!;
    // two readings for one slot: the nearer, then the earlier
    if (Number.isNaN(held) || Math.abs(t - centre) < Math.abs(held - centre) || (Math.abs(t - centre) === Math.abs(held - centre) && t < held)) {
      values[slot] = v;
      at[slot] = t;
    }
  }
  return { ...meta, startMs, values };
}

/** Values stamped on the grid (hourly official series): off-grid times are left out. */
export function stampedToGrid(series: ReadonlyMap<number, number>, meta: Omit<GridSeries, 'startMs' | 'values'>): GridSeries {
  let lo = Infinity, hi = -Infinity;
  for (const t of series.keys()) {
    if (t % STEP_MS !== 0) continue;
    lo = Math.min(lo, t);
    hi = Math.max(hi, t);
  }
  if (lo > hi) return { ...meta, startMs: 0, values: new Float64Array(0) };
  const n = (hi - lo) / STEP_MS + 1;
  const values = new Float64Array(n).fill(NaN);
  for (const [t, v] of series) if (t % STEP_MS === 0 && Number.isFinite(v)) values[(t - lo) / STEP_MS] = v;
  return { ...meta, startMs: lo, values };
}

/** A background evaluated at the series' place on its slots; NaN where it has no value. */
export function backgroundOnGrid(s: GridSeries, at: (timeMs: number) => number, coveredMs?: { fromMs: number; toMs: number }): Float64Array {
  const out = new Float64Array(s.values.length).fill(NaN);
  const from = coveredMs ? Math.max(0, Math.floor((coveredMs.fromMs - s.startMs) / STEP_MS)) : 0;
  const to = coveredMs ? Math.min(out.length, Math.ceil((coveredMs.toMs - s.startMs) / STEP_MS) + 1) : out.length;
  for (let k = from; k < to; k++) out[k] = at(s.startMs + k * STEP_MS);
  return out;
}
