/**
 * From station series to the training set (pure): issue slots per station, the split by time,
 * a deterministic thinning to the budget of each kind of issue, then inputs and targets.
 *
 * Budgets are per station and per kind — with a background / without, sub-hourly / hourly — so the
 * rare kinds (the year with a background) are not drowned by the long series without one.
 */
import { concatIssues, extractIssues, issueSlots, type IssueSet } from '../series/issues.ts';
import { coldStartCopies, sparseHistoryCopies } from '../series/cold-start.ts';
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

/**
 * Sized so that a full run stays well within 15 minutes on two cores: about 97,000 training issues,
 * 4.6 min of training on the quiet machine. Half of these budgets gave a model worse at every lead
 * (+60 min MAE 0.609 against 0.586 on the validation weeks); twice these, 9 min for a little more
 * (0.579), too close to the limit on a busy machine (README, "The next hour on real data").
 */
export const DEFAULT_BUDGETS: Budgets = { subHourlyWithBackground: 24_000, subHourlyWithout: 60_000, hourlyWithBackground: 6_000, hourlyWithout: 2_000 };

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
  /** 1 for the issues chosen (a pass visits them); 0 for those there only as a partner. */
  unit: Uint8Array;
  /** Per issue: the next issue at the same station within MAX_PARTNER_GAP steps (sub-hourly series), or −1. */
  partner: Int32Array;
  /** Per issue: how many steps later that partner is (0 where none). */
  partnerGap: Int32Array;
  summary: SourceSummary[];
}

/** Every k-th element so that at most `max` remain (k = ceil(len / max)). */
export function thin(a: readonly number[], max: number): number[] {
  if (a.length <= max) return [...a];
  const k = Math.ceil(a.length / max);
  return a.filter((_, i) => i % k === 0);
}

/** The farthest next issue (in 5-minute steps) paired for the revision penalty: half the next hour. */
export const MAX_PARTNER_GAP = 6;

export function selectTrainingSet(stations: readonly StationInput[], budgets: Budgets = DEFAULT_BUDGETS, o: { partners?: boolean; filterRetention?: ArrayLike<number> } = {}): TrainingSet {
  const opts = { historySteps: HISTORY_STEPS, trajectorySteps: TRAJECTORY_STEPS, ...(o.filterRetention ? { filterRetention: o.filterRetention } : {}) };
  const chosen: { series: GridSeries; background: Float64Array | null; slots: number[]; parts: number[]; units: number[]; partnerOf: number[]; gapOf: number[] }[] = [];
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
    const primary = [...a, ...b].sort((x, y) => x - y);
    const isPrimary = new Set(primary);
    const partOf = (slot: number) => splitOf(slotTime(s, slot));
    // the next issue at the station, for the revision penalty: the next reading within MAX_PARTNER_GAP
    // steps (a 5-minute series' next slot, a 20-minute one's fourth), same part
    const withPartner = new Set<number>();
    const nextOf = new Map<number, number>();
    if ((o.partners ?? true) && !hourly) {
      for (const slot of primary) {
        for (let g = 1; g <= MAX_PARTNER_GAP && slot + g < s.values.length; g++) {
          if (Number.isNaN(s.values[slot + g]!)) continue;
          if (partOf(slot + g) === partOf(slot)) { withPartner.add(slot + g); nextOf.set(slot, slot + g); }
          break;
        }
      }
    }
    const slots = [...new Set([...primary, ...withPartner])].sort((x, y) => x - y);
    const rowOf = new Map(slots.map((slot, i) => [slot, i]));
    const parts = slots.map((slot) => (partOf(slot) === 'validation' ? 1 : 0));
    const units = slots.map((slot) => (isPrimary.has(slot) ? 1 : 0));
    const partnerOf = slots.map((slot) => (isPrimary.has(slot) && nextOf.has(slot) ? rowOf.get(nextOf.get(slot)!)! : -1));
    const gapOf = slots.map((slot) => (isPrimary.has(slot) && nextOf.has(slot) ? nextOf.get(slot)! - slot : 0));
    chosen.push({ series: s, background: st.background, slots, parts, units, partnerOf, gapOf });
    const trainTimes = primary.filter((slot) => partOf(slot) === 'train').map((slot) => slotTime(s, slot));
    summary.push({
      id: s.id, source: st.source, sampling: s.sampling,
      train: trainTimes.length, validation: primary.length - trainTimes.length, withBackground: a.length,
      fromIso: trainTimes.length ? new Date(trainTimes[0]!).toISOString() : null,
      toIso: trainTimes.length ? new Date(trainTimes[trainTimes.length - 1]!).toISOString() : null,
    });
  }
  const issues = extractIssues(chosen.map((c) => ({ series: c.series, background: c.background, slots: c.slots })), opts);
  const part = Uint8Array.from(chosen.flatMap((c) => c.parts));
  const unit = Uint8Array.from(chosen.flatMap((c) => c.units));
  const partner = new Int32Array(issues.n);
  const partnerGap = Int32Array.from(chosen.flatMap((c) => c.gapOf));
  let offset = 0;
  for (const c of chosen) {
    c.partnerOf.forEach((p, i) => { partner[offset + i] = p < 0 ? -1 : offset + p; });
    offset += c.slots.length;
  }
  return { issues, part, unit, partner, partnerGap, summary };
}

/**
 * The set with a cold-start copy of every `every`-th chosen issue appended (its history's last 0 …
 * maxSteps steps only; same part; no partner). The rows before are unchanged.
 */
export function withColdStartCopies(ts: TrainingSet, o: { every: number; maxSteps: number }): TrainingSet {
  return withCopies(ts, o.every, (rows) => coldStartCopies(ts.issues, rows, o.maxSteps));
}

/**
 * The set with a sparse-history copy of every `every`-th chosen issue appended (readings every e steps
 * only, held between; e from `everyChoices`; same part; no partner). `offset` shifts which issues are
 * chosen, so that these and the cold-start copies come from different issues (those, appended after,
 * may also copy some of these: a cold start at a sparse place). The rows before are unchanged.
 */
export function withSparseHistoryCopies(ts: TrainingSet, o: { every: number; everyChoices: readonly number[]; offset?: number }): TrainingSet {
  return withCopies(ts, o.every, (rows) => sparseHistoryCopies(ts.issues, rows, o.everyChoices), o.offset ?? 0);
}

function withCopies(ts: TrainingSet, every: number, copy: (rows: number[]) => IssueSet, offset = 0): TrainingSet {
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`every must be a positive integer, got ${every}`);
  const rows: number[] = [];
  let k = 0;
  for (let i = 0; i < ts.issues.n; i++) if (ts.unit[i] === 1 && (k++ + offset) % every === 0) rows.push(i);
  const copies = copy(rows);
  const n = ts.issues.n, m = rows.length;
  const grow = <T extends Uint8Array | Int32Array>(a: T, make: (n: number) => T, tail: (q: number) => number): T => {
    const out = make(n + m);
    out.set(a);
    for (let q = 0; q < m; q++) out[n + q] = tail(q);
    return out;
  };
  return {
    issues: concatIssues(ts.issues, copies),
    part: grow(ts.part, (x) => new Uint8Array(x), (q) => ts.part[rows[q]!]!),
    unit: grow(ts.unit, (x) => new Uint8Array(x), () => 1),
    partner: grow(ts.partner, (x) => new Int32Array(x), () => -1),
    partnerGap: grow(ts.partnerGap, (x) => new Int32Array(x), () => 0),
    summary: ts.summary,
  };
}

/**
 * Features (batch-first, float32) and normalised residual targets (y − base) / TEMP_SCALE_K in
 * SharedArrayBuffers for the worker threads; built in blocks to bound the transient memory.
 */
export function tensorsOf(issues: IssueSet): { x: Float32Array; y: Float64Array; baseN: Float64Array } {
  const K = TRAJECTORY_STEPS, H = HISTORY_STEPS, rowX = SEQUENCE_STEPS * FEATURES;
  const x = sharedFloat32(issues.n * rowX);
  const y = sharedFloat64(issues.n * K);
  const baseN = sharedFloat64(issues.n * K);
  const block = 20_000;
  for (let from = 0; from < issues.n; from += block) {
    const n = Math.min(block, issues.n - from);
    const f = buildFeatures({
      n, historySteps: H, history: issues.history.subarray(from * H, (from + n) * H), trajectorySteps: K,
      filter: issues.filter.subarray(from * K, (from + n) * K), runTimeMs: issues.runTimeMs.subarray(from, from + n), lon: issues.lon.subarray(from, from + n),
    }, 'batch-first', 'float32');
    x.set(f.x as Float32Array, from * rowX);
    for (let q = 0; q < n * K; q++) {
      y[from * K + q] = (issues.target[from * K + q]! - f.base[q]!) / TEMP_SCALE_K;
      baseN[from * K + q] = f.base[q]! / TEMP_SCALE_K;
    }
  }
  return { x, y, baseN };
}
