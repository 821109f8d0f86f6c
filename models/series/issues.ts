/**
 * Issues at a station (pure): what the batch would hand the smoother at a place with a sensor,
 * and what then happened. For an issue at slot s (lead 0 at the slot's time):
 *
 *   history[k]  the reading at slot s − HISTORY + k (k = 0 … HISTORY − 1), NaN where none: at a
 *               station the batch's past analyses are close to its observations
 *   filter[k]   the filter's trajectory at lead 5k min: background(s + k) plus the current
 *               analysis-minus-background × retention[k] (the batch's own rule, given by the
 *               caller; by default e^(−lead/τ) of the bias-persistence baseline); where no background covers the slots, the analysis at lead 0
 *               and NaN after (the smoother then persists the analysis, with its mask 0)
 *   target[k]   the reading at slot s + k (NaN where none)
 *
 * The analysis at lead 0 is the station's reading at slot s: an issue needs one.
 */
import { biasAtLead, type BiasPersistenceOptions } from '../baselines/bias-persistence.ts';
import { SMOOTHER_STEP_MIN } from '../smoother.ts';
import { slotTime, type GridSeries } from './grid-series.ts';

export interface IssueSet {
  n: number;
  historySteps: number;
  trajectorySteps: number;
  /** Lead-0 time of each issue [epoch ms]. */
  runTimeMs: Float64Array;
  lat: Float64Array;
  lon: Float64Array;
  history: Float64Array;
  filter: Float64Array;
  target: Float64Array;
  /** Which series (index into the list given) and slot each issue comes from. */
  series: Int32Array;
  slot: Int32Array;
}

export interface IssueOptions {
  historySteps: number;
  trajectorySteps: number;
  persistence?: BiasPersistenceOptions;
  /** Share of the lead-0 bias the filter keeps at each lead (trajectorySteps values); default: biasAtLead's decay with `persistence`. */
  filterRetention?: ArrayLike<number>;
}

/** Slots that can be issued: a reading at the slot, a full history window before it and at least one target after it (when `needTarget`). */
export function issueSlots(s: GridSeries, o: IssueOptions & { needTarget?: boolean }): Int32Array {
  const v = s.values;
  const out: number[] = [];
  for (let k = o.historySteps; k < v.length; k++) {
    if (Number.isNaN(v[k]!)) continue;
    if (o.needTarget ?? true) {
      let any = false;
      for (let j = 1; j < o.trajectorySteps && k + j < v.length; j++) if (!Number.isNaN(v[k + j]!)) { any = true; break; }
      if (!any) continue;
    }
    out.push(k);
  }
  return Int32Array.from(out);
}

export function extractIssues(list: readonly { series: GridSeries; background: Float64Array | null; slots: ArrayLike<number> }[], o: IssueOptions): IssueSet {
  const H = o.historySteps, K = o.trajectorySteps;
  const n = list.reduce((a, e) => a + e.slots.length, 0);
  const out: IssueSet = {
    n, historySteps: H, trajectorySteps: K,
    runTimeMs: new Float64Array(n), lat: new Float64Array(n), lon: new Float64Array(n),
    history: new Float64Array(n * H), filter: new Float64Array(n * K), target: new Float64Array(n * K),
    series: new Int32Array(n), slot: new Int32Array(n),
  };
  if (o.filterRetention && o.filterRetention.length !== K) throw new RangeError(`filterRetention has ${o.filterRetention.length} values, expected ${K}`);
  const decay = Float64Array.from({ length: K }, (_, k) => o.filterRetention ? o.filterRetention[k]! : biasAtLead(1, 0, k * SMOOTHER_STEP_MIN, o.persistence).biasK);
  let i = 0;
  list.forEach(({ series: s, background: bg, slots }, si) => {
    if (bg && bg.length !== s.values.length) throw new RangeError(`series ${s.id}: background has ${bg.length} slots, the series ${s.values.length}`);
    const v = s.values;
    for (let q = 0; q < slots.length; q++, i++) {
      const slot = slots[q]!;
      const y0 = v[slot]!;
      if (Number.isNaN(y0)) throw new RangeError(`series ${s.id}: no reading at issue slot ${slot}`);
      out.runTimeMs[i] = slotTime(s, slot);
      out.lat[i] = s.lat;
      out.lon[i] = s.lon;
      out.series[i] = si;
      out.slot[i] = slot;
      for (let k = 0; k < H; k++) {
        const j = slot - H + k;
        out.history[i * H + k] = j >= 0 ? v[j]! : NaN;
      }
      const b0 = bg ? bg[slot]! : NaN;
      for (let k = 0; k < K; k++) {
        const j = slot + k;
        out.target[i * K + k] = j < v.length ? v[j]! : NaN;
        const bk = bg && j < bg.length ? bg[j]! : NaN;
        out.filter[i * K + k] = k === 0 ? y0 : Number.isNaN(b0) || Number.isNaN(bk) ? NaN : bk + (y0 - b0) * decay[k]!;
      }
    }
  });
  return out;
}

/** The rows of an issue set, as a new set (in the given order). */
export function subsetIssues(s: IssueSet, rows: readonly number[]): IssueSet {
  const H = s.historySteps, K = s.trajectorySteps, n = rows.length;
  const pick = (a: Float64Array, w: number) => { const o = new Float64Array(n * w); rows.forEach((r, i) => o.set(a.subarray(r * w, (r + 1) * w), i * w)); return o; };
  return {
    n, historySteps: H, trajectorySteps: K,
    runTimeMs: pick(s.runTimeMs, 1), lat: pick(s.lat, 1), lon: pick(s.lon, 1),
    history: pick(s.history, H), filter: pick(s.filter, K), target: pick(s.target, K),
    series: Int32Array.from(rows, (r) => s.series[r]!), slot: Int32Array.from(rows, (r) => s.slot[r]!),
  };
}

/**
 * The issues with a sparser history: only the steps `every` × 5 minutes apart counting back from lead 0
 * are kept (12: the readings 1 and 2 hours before, as an hourly series has), the others NaN; with
 * `hold`, each kept step's value is held through the steps after it instead (what the batch's analyses
 * of a place with readings that rare look like without a background: its filter holds the bias), the
 * steps before the first kept one NaN. `every` may differ by issue (a function of the row).
 */
export function thinHistory(s: IssueSet, every: number | ((row: number) => number), o: { hold?: boolean } = {}): IssueSet {
  const everyOf = typeof every === 'number' ? () => every : every;
  const H = s.historySteps;
  const history = s.history.slice();
  for (let i = 0; i < s.n; i++) {
    const e = everyOf(i);
    if (!Number.isInteger(e) || e < 1) throw new RangeError(`every must be a positive integer, got ${e}`);
    let held = NaN;
    for (let k = 0; k < H; k++) {
      const at = i * H + k;
      const kept = (H - k) % e === 0;
      if (kept) held = history[at]!;
      else history[at] = o.hold ? held : NaN;
    }
  }
  return { ...s, history };
}

/** Two issue sets of the same shape as one (a's rows, then b's). */
export function concatIssues(a: IssueSet, b: IssueSet): IssueSet {
  if (a.historySteps !== b.historySteps || a.trajectorySteps !== b.trajectorySteps) throw new RangeError(`issue sets of different shapes: ${a.historySteps}/${a.trajectorySteps} and ${b.historySteps}/${b.trajectorySteps} steps`);
  const cat = <T extends Float64Array | Int32Array>(x: T, y: T, make: (n: number) => T): T => { const o = make(x.length + y.length); o.set(x); o.set(y, x.length); return o; };
  const f = (n: number) => new Float64Array(n), i = (n: number) => new Int32Array(n);
  return {
    n: a.n + b.n, historySteps: a.historySteps, trajectorySteps: a.trajectorySteps,
    runTimeMs: cat(a.runTimeMs, b.runTimeMs, f), lat: cat(a.lat, b.lat, f), lon: cat(a.lon, b.lon, f),
    history: cat(a.history, b.history, f), filter: cat(a.filter, b.filter, f), target: cat(a.target, b.target, f),
    series: cat(a.series, b.series, i), slot: cat(a.slot, b.slot, i),
  };
}
