/**
 * From station series to the training set (pure): issue slots per station, the split by time,
 * a deterministic thinning to the budget of each kind of issue, then inputs and targets.
 *
 * Budgets are per station and per kind — with a background / without, sub-hourly / hourly — so the
 * rare kinds (the year with a background) are not drowned by the long series without one.
 */
import { extractIssues, issueSlots, type IssueSet } from '../series/issues.ts';
import { slotTime, type GridSeries } from '../series/grid-series.ts';
import { splitOf } from '../series/time-split.ts';
import { buildFeatures, FEATURES, HISTORY_STEPS, SEQUENCE_STEPS, TEMP_SCALE_K, TRAJECTORY_STEPS } from '../bilstm/features.ts';
import { sharedFloat32, sharedFloat64 } from './pool.ts';

export interface StationInput {
  series: GridSeries;
  background: Float64Array | null;
  source: string;
}

export interface Budgets {
  /** Most issues per station with / without a background, for sub-hourly and hourly series. */
  subHourlyWithBackground: number;
  subHourlyWithout: number;
  hourlyWithBackground: number;
  hourlyWithout: number;
}

export const DEFAULT_BUDGETS: Budgets = { subHourlyWithBackground: 40_000, subHourlyWithout: 110_000, hourlyWithBackground: 8_000, hourlyWithout: 3_500 };

export interface SourceSummary {
  id: string;
  source: string;
  sampling: GridSeries['sampling'];
  train: number;
  validation: number;
  withBackground: number;
  fromIso: string | null;
  toIso: string | null;
}

export interface TrainingSet {
  issues: IssueSet;
  /** 0 training, 1 validation. */
  part: Uint8Array;
  summary: SourceSummary[];
}

/** Every k-th element so that at most `max` remain (k = ceil(len / max)). */
export function thin(a: readonly number[], max: number): number[] {
  if (a.length <= max) return [...a];
  const k = Math.ceil(a.length / max);
  return a.filter((_, i) => i % k === 0);
}

export function selectTrainingSet(stations: readonly StationInput[], budgets: Budgets = DEFAULT_BUDGETS): TrainingSet {
  const opts = { historySteps: HISTORY_STEPS, trajectorySteps: TRAJECTORY_STEPS };
  const chosen: { series: GridSeries; background: Float64Array | null; slots: number[]; parts: number[] }[] = [];
  const summary: SourceSummary[] = [];
  for (const st of stations) {
    const s = st.series;
    const withBg: number[] = [], without: number[] = [];
    for (const slot of issueSlots(s, opts)) {
      if (splitOf(slotTime(s, slot)) === 'guard') continue;
      if (st.background && !Number.isNaN(st.background[slot]!)) withBg.push(slot);
      else without.push(slot);
    }
    const hourly = s.sampling === 'hourly';
    const a = thin(withBg, hourly ? budgets.hourlyWithBackground : budgets.subHourlyWithBackground);
    const b = thin(without, hourly ? budgets.hourlyWithout : budgets.subHourlyWithout);
    const slots = [...a, ...b].sort((x, y) => x - y);
    const parts = slots.map((slot) => (splitOf(slotTime(s, slot)) === 'validation' ? 1 : 0));
    chosen.push({ series: s, background: st.background, slots, parts });
    const trainTimes = slots.filter((_, i) => parts[i] === 0).map((slot) => slotTime(s, slot));
    summary.push({
      id: s.id, source: st.source, sampling: s.sampling,
      train: trainTimes.length, validation: parts.filter((p) => p === 1).length, withBackground: a.length,
      fromIso: trainTimes.length ? new Date(trainTimes[0]!).toISOString() : null,
      toIso: trainTimes.length ? new Date(trainTimes[trainTimes.length - 1]!).toISOString() : null,
    });
  }
  const issues = extractIssues(chosen.map((c) => ({ series: c.series, background: c.background, slots: c.slots })), opts);
  const part = Uint8Array.from(chosen.flatMap((c) => c.parts));
  return { issues, part, summary };
}

/**
 * Features (batch-first, float32) and normalised residual targets (y − base) / TEMP_SCALE_K in
 * SharedArrayBuffers for the worker threads; built in blocks to bound the transient memory.
 */
export function tensorsOf(issues: IssueSet): { x: Float32Array; y: Float64Array } {
  const K = TRAJECTORY_STEPS, H = HISTORY_STEPS, rowX = SEQUENCE_STEPS * FEATURES;
  const x = sharedFloat32(issues.n * rowX);
  const y = sharedFloat64(issues.n * K);
  const block = 20_000;
  for (let from = 0; from < issues.n; from += block) {
    const n = Math.min(block, issues.n - from);
    const f = buildFeatures({
      n, historySteps: H, history: issues.history.subarray(from * H, (from + n) * H), trajectorySteps: K,
      filter: issues.filter.subarray(from * K, (from + n) * K), runTimeMs: issues.runTimeMs.subarray(from, from + n), lon: issues.lon.subarray(from, from + n),
    }, 'batch-first', 'float32');
    x.set(f.x as Float32Array, from * rowX);
    for (let q = 0; q < n * K; q++) y[from * K + q] = (issues.target[from * K + q]! - f.base[q]!) / TEMP_SCALE_K;
  }
  return { x, y };
}
