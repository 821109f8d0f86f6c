/**
 * The BiLSTM's input features, built from what the batch hands the smoother (pure).
 *
 * One sequence per cell: HISTORY_STEPS past steps (2 h at 5 min, oldest first, the last 5 min before
 * lead 0) followed by the TRAJECTORY_STEPS of the next hour (leads 0, 5, …, 60 min), so the
 * bidirectional layer runs over a sequence that already holds the future trajectory.
 *
 * Anchor a: the trajectory at lead 0 (the current analysis) when known, else the last known history
 * value; every temperature enters as (T − a) / TEMP_SCALE_K. Base trajectory: the filter's value
 * where the filter has one, else a (persistence); the network predicts (y − base) / TEMP_SCALE_K.
 * A cell with no anchor (no history, no trajectory) gets all-zero features and a NaN base, so its
 * output is NaN.
 *
 * Features per step (FEATURE_NAMES):
 *   0 history     (T − a)/s at a history step with a value, else 0
 *   1 historyMask 1 where the history step has a value
 *   2 trajectory  (base − a)/s at a trajectory step, 0 in the history
 *   3 trajectoryMask 1 where the filter has a value at that lead (a background covers the cell)
 *   4 future      1 on the trajectory steps
 *   5 leadH       the step's offset from lead 0 [h] (−2 … 1)
 *   6,7 sin, cos of local solar time of day at the step (UTC + lon/15 h)
 *   8,9 sin, cos of the time of year (epoch days modulo 365.2425)
 * Gaps are never interpolated: a missing value is a 0 with its mask 0.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../infra/time.ts';
import { SMOOTHER_STEP_MIN } from '../smoother.ts';

export const HISTORY_STEPS = 24;
export const TRAJECTORY_STEPS = 13;
export const SEQUENCE_STEPS = HISTORY_STEPS + TRAJECTORY_STEPS;
export const FEATURE_NAMES = ['history', 'historyMask', 'trajectory', 'trajectoryMask', 'future', 'leadH', 'sinTimeOfDay', 'cosTimeOfDay', 'sinTimeOfYear', 'cosTimeOfYear'] as const;
export const FEATURES = FEATURE_NAMES.length;
/** Temperatures are divided by this [K] (differences within 3 h are mostly within ±4 K). */
export const TEMP_SCALE_K = 2;
export const TROPICAL_YEAR_DAYS = 365.2425;

export type FeatureLayout = 'batch-first' | 'time-major';

export interface FeatureInput {
  n: number;
  historySteps: number;
  history: ArrayLike<number>;
  trajectorySteps: number;
  filter: ArrayLike<number>;
  /** Lead-0 time [epoch ms]: one for all rows, or one per row. */
  runTimeMs: number | ArrayLike<number>;
  lon: ArrayLike<number>;
}

export interface Features {
  n: number;
  /** batch-first: x[(i·T + t)·F + j]; time-major: x[(t·n + i)·F + j] (the ONNX LSTM's input order). */
  x: Float32Array | Float64Array;
  layout: FeatureLayout;
  /** Base trajectory [°C], n × TRAJECTORY_STEPS; NaN for rows without an anchor. */
  base: Float64Array;
}

export class FeatureShapeError extends RangeError {
  readonly code = 'FEATURE_SHAPE';
}

/** Checks the input's sizes against each other; names both sizes in the error. */
export function checkFeatureInput(o: FeatureInput): void {
  if (!Number.isInteger(o.n) || o.n < 0) throw new FeatureShapeError(`n must be a non-negative integer, got ${o.n}`);
  if (o.trajectorySteps !== TRAJECTORY_STEPS) throw new FeatureShapeError(`trajectorySteps must be ${TRAJECTORY_STEPS} (leads 0..60 min at ${SMOOTHER_STEP_MIN} min), got ${o.trajectorySteps}`);
  if (!Number.isInteger(o.historySteps) || o.historySteps < 0) throw new FeatureShapeError(`historySteps must be a non-negative integer, got ${o.historySteps}`);
  const want: [string, number, number][] = [
    ['history', o.history.length, o.n * o.historySteps],
    ['filter', o.filter.length, o.n * o.trajectorySteps],
    ['lon', o.lon.length, o.n],
  ];
  if (typeof o.runTimeMs !== 'number') want.push(['runTimeMs', o.runTimeMs.length, o.n]);
  for (const [name, got, expected] of want) if (got !== expected) throw new FeatureShapeError(`${name} has ${got} values, expected ${expected} (n ${o.n})`);
}

/** Builds the features of every row into a new array (Float32 for onnxruntime, Float64 for training). */
export function buildFeatures(o: FeatureInput, layout: FeatureLayout, precision: 'float32' | 'float64' = 'float32'): Features {
  checkFeatureInput(o);
  const { n } = o;
  const T = SEQUENCE_STEPS, F = FEATURES, K = TRAJECTORY_STEPS;
  const x = precision === 'float32' ? new Float32Array(n * T * F) : new Float64Array(n * T * F);
  const base = new Float64Array(n * K);
  const sN = layout === 'batch-first' ? T * F : F;
  const sT = layout === 'batch-first' ? F : n * F;
  const stepAngle = (2 * Math.PI * SMOOTHER_STEP_MIN * MINUTE_MS) / DAY_MS;
  const cosStep = Math.cos(stepAngle), sinStep = Math.sin(stepAngle);
  const hs = o.historySteps;
  const use = Math.min(hs, HISTORY_STEPS);
  for (let i = 0; i < n; i++) {
    const hAt = i * hs, fAt = i * K;
    let anchor = o.filter[fAt]!;
    if (Number.isNaN(anchor)) for (let k = hs - 1; k >= 0; k--) { const v = o.history[hAt + k]!; if (!Number.isNaN(v)) { anchor = v; break; } }
    const bAt = i * K;
    if (Number.isNaN(anchor)) {
      for (let k = 0; k < K; k++) base[bAt + k] = NaN;
      continue; // features stay 0
    }
    const t0 = typeof o.runTimeMs === 'number' ? o.runTimeMs : o.runTimeMs[i]!;
    // time of day at the first step, then rotated one step at a time
    const firstMs = t0 - HISTORY_STEPS * SMOOTHER_STEP_MIN * MINUTE_MS;
    const solarMs = firstMs + (o.lon[i]! / 15) * HOUR_MS;
    const a0 = (2 * Math.PI * (((solarMs % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS;
    let s = Math.sin(a0), c = Math.cos(a0);
    const days = t0 / DAY_MS;
    const yearAngle = (2 * Math.PI * (((days % TROPICAL_YEAR_DAYS) + TROPICAL_YEAR_DAYS) % TROPICAL_YEAR_DAYS)) / TROPICAL_YEAR_DAYS;
    const sy = Math.sin(yearAngle), cy = Math.cos(yearAngle);
    const row = i * sN;
    for (let t = 0; t < T; t++) {
      const at = row + t * sT;
      if (t < HISTORY_STEPS) {
        const k = t - (HISTORY_STEPS - use); // index into the last `use` history values
        if (k >= 0) {
          const v = o.history[hAt + hs - use + k]!;
          if (!Number.isNaN(v)) {
            x[at] = (v - anchor) / TEMP_SCALE_K;
            x[at + 1] = 1;
          }
        }
      } else {
        const k = t - HISTORY_STEPS;
        const f = o.filter[fAt + k]!;
        const b = Number.isNaN(f) ? anchor : f;
        base[bAt + k] = b;
        x[at + 2] = (b - anchor) / TEMP_SCALE_K;
        x[at + 3] = Number.isNaN(f) ? 0 : 1;
        x[at + 4] = 1;
      }
      x[at + 5] = ((t - HISTORY_STEPS) * SMOOTHER_STEP_MIN) / 60;
      x[at + 6] = s;
      x[at + 7] = c;
      x[at + 8] = sy;
      x[at + 9] = cy;
      const s2 = s * cosStep + c * sinStep;
      c = c * cosStep - s * sinStep;
      s = s2;
    }
  }
  return { n, x, layout, base };
}
