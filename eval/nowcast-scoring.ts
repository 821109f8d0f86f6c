/**
 * Scoring next-hour forecasts at stations (pure): MAE and RMSE per lead on the cases every method
 * forecasts, and jumpiness — the mean absolute change between consecutive issues' forecasts for
 * the same target time (issues of one series, at most an hour apart, compared on the targets both
 * cover).
 */
import type { IssueSet } from '../models/index.ts';

export interface LeadScore {
  n: number;
  maeK: number;
  rmseK: number;
}

/** Per method, per lead step: scores on the (issue, lead) cases where the target and every method's forecast exist and `use(i)` holds. */
export function scoreLeads(issues: IssueSet, methods: Record<string, Float64Array | Float32Array>, leadSteps: readonly number[], use: (i: number) => boolean = () => true): Record<string, Record<number, LeadScore>> {
  const K = issues.trajectorySteps;
  const names = Object.keys(methods);
  const out: Record<string, Record<number, LeadScore>> = {};
  for (const m of names) out[m] = {};
  for (const k of leadSteps) {
    const abs = new Float64Array(names.length), sq = new Float64Array(names.length);
    let n = 0;
    for (let i = 0; i < issues.n; i++) {
      if (!use(i)) continue;
      const y = issues.target[i * K + k]!;
      if (Number.isNaN(y)) continue;
      let ok = true;
      for (const m of names) if (Number.isNaN(methods[m]![i * K + k]!)) { ok = false; break; }
      if (!ok) continue;
      n++;
      names.forEach((m, j) => {
        const e = methods[m]![i * K + k]! - y;
        abs[j] = abs[j]! + Math.abs(e);
        sq[j] = sq[j]! + e * e;
      });
    }
    names.forEach((m, j) => { out[m]![k] = { n, maeK: n ? abs[j]! / n : NaN, rmseK: n ? Math.sqrt(sq[j]! / n) : NaN }; });
  }
  return out;
}

/**
 * Jumpiness per method: for issues i < j of the same series with slot gap g = slot_j − slot_i in
 * 1..K−1 and no issue between them, |F_j[k − g] − F_i[k]| over k = g … K−1 where every method has
 * both values; the mean of all of them. Also the number of pairs and comparisons, the same by gap
 * (a series sampled every 5 minutes has gap 1; a 20-minute logger's issues on the 5-minute grid gap 4),
 * and within a gap by the later issue's lead (where along the hour the revisions fall).
 *
 * The floor under it: the compared revisions of one target time by a chain of issues, each the
 * next of the one before at the same gap, add up to at least the change from the chain's first
 * forecast to its last (the triangle inequality). Summed over every chain and divided by the same
 * comparisons, that is the least jumpiness a method with these first and last forecasts could have,
 * whatever it did in between; jumpiness over floor is how far a method's revisions are from going one
 * way. At a 5-minute series a full chain runs from the +60 min forecast to lead 0 (the analysis), so
 * the floor is about the +60 min MAE over 12 for any method whose lead 0 is the analysis.
 */
export interface Jumpiness {
  byMethod: Record<string, number>;
  /** The floor under byMethod (see above). */
  floorByMethod: Record<string, number>;
  pairs: number;
  comparisons: number;
  byGap: Record<number, {
    byMethod: Record<string, number>;
    floorByMethod: Record<string, number>;
    comparisons: number;
    /** The gap's by the later issue's lead step k − g (0: its lead 0 against the earlier issue's forecast for that time). */
    byLead: Record<number, { byMethod: Record<string, number>; comparisons: number }>;
  }>;
}

export function jumpiness(issues: IssueSet, methods: Record<string, Float64Array | Float32Array>, use: (i: number) => boolean = () => true): Jumpiness {
  const K = issues.trajectorySteps;
  const names = Object.keys(methods);
  const sums = new Float64Array(names.length), floorSums = new Float64Array(names.length);
  type Sums = { sums: Float64Array; comparisons: number };
  const newSums = (): Sums => ({ sums: new Float64Array(names.length), comparisons: 0 });
  const gapSums = new Map<number, Sums & { leads: Sums[]; floor: Float64Array }>();
  // open chains by target slot: the first forecast of each method, the last, the last issue's row and the gap
  type Chain = { first: Float64Array; last: Float64Array; lastRow: number; gap: number };
  const chains = new Map<number, Chain>();
  const closeChain = (c: Chain) => {
    const f = gapSums.get(c.gap)!.floor;
    for (let q = 0; q < names.length; q++) {
      const d = Math.abs(c.last[q]! - c.first[q]!);
      f[q] = f[q]! + d;
      floorSums[q] = floorSums[q]! + d;
    }
  };
  let pairs = 0, comparisons = 0;
  // issues are grouped by series in ascending slots (extractIssues' order); consecutive rows are candidates
  for (let j = 1; j < issues.n; j++) {
    const i = j - 1;
    if (issues.series[i] !== issues.series[j] || !use(i) || !use(j)) continue;
    const g = issues.slot[j]! - issues.slot[i]!;
    if (g < 1 || g >= K) continue;
    let any = false;
    let gs = gapSums.get(g);
    if (!gs) gapSums.set(g, (gs = { ...newSums(), leads: Array.from({ length: K }, newSums), floor: new Float64Array(names.length) }));
    for (let k = g; k < K; k++) {
      let ok = true;
      for (const m of names) {
        const a = methods[m]![i * K + k]!, b = methods[m]![j * K + k - g]!;
        if (Number.isNaN(a) || Number.isNaN(b)) { ok = false; break; }
      }
      if (!ok) continue;
      any = true;
      comparisons++;
      gs.comparisons++;
      const ls = gs.leads[k - g]!;
      ls.comparisons++;
      names.forEach((m, q) => {
        const d = Math.abs(methods[m]![j * K + k - g]! - methods[m]![i * K + k]!);
        sums[q] = sums[q]! + d;
        gs.sums[q] = gs.sums[q]! + d;
        ls.sums[q] = ls.sums[q]! + d;
      });
      const target = issues.slot[i]! + k;
      let c = chains.get(target);
      if (!c || c.lastRow !== i || c.gap !== g) {
        if (c) closeChain(c);
        c = { first: Float64Array.from(names, (m) => methods[m]![i * K + k]!), last: new Float64Array(names.length), lastRow: j, gap: g };
        chains.set(target, c);
      }
      names.forEach((m, q) => { c!.last[q] = methods[m]![j * K + k - g]!; });
      c.lastRow = j;
    }
    if (any) pairs++;
    // a chain that issue j did not extend is over
    for (const [t, c] of chains) if (c.lastRow !== j) { closeChain(c); chains.delete(t); }
  }
  for (const c of chains.values()) closeChain(c);
  const mean = (t: Float64Array, n: number) => Object.fromEntries(names.map((m, q) => [m, n ? t[q]! / n : NaN]));
  const byGap: Jumpiness['byGap'] = {};
  for (const [g, v] of [...gapSums].sort((a, b) => a[0] - b[0])) {
    if (v.comparisons === 0) continue;
    const byLead: Jumpiness['byGap'][number]['byLead'] = {};
    v.leads.forEach((l, k) => { if (l.comparisons > 0) byLead[k] = { byMethod: mean(l.sums, l.comparisons), comparisons: l.comparisons }; });
    byGap[g] = { byMethod: mean(v.sums, v.comparisons), floorByMethod: mean(v.floor, v.comparisons), comparisons: v.comparisons, byLead };
  }
  return { byMethod: mean(sums, comparisons), floorByMethod: mean(floorSums, comparisons), pairs, comparisons, byGap };
}
