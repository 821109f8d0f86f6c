/**
 * The spatial consistency test (SCT), after titanlib's `sct` (Lussana et al. 2010): each observation
 * is compared with an optimal interpolation of its neighbours (a leave-one-out cross-validation).
 * In a box of the nearest `numMax` unflagged observations within `outerRadiusM`, with the box mean
 * as background and a Gaussian correlation whose length scale is the mean over the box of each
 * member's 10th-percentile distance to the others (at least `minHorizontalScaleM`):
 *   S = exp(−½(dh/Dh)² − ½(dz/v)²) + diag(ε²),  x = S⁻¹ d,  d = value − box mean
 *   obs − cv analysis = x_c / (S⁻¹)_cc,   residual of the full analysis = −ε²_c x_c
 *   σo² = max(0.01, mean_i(d_i ε²_i x_i)),  score = ε²_c x_c² / ((S⁻¹)_cc σo²)
 * and the observation is flagged when its score exceeds `pos` where it is warmer than the
 * cross-validation analysis, or `neg` where it is colder. Asymmetric thresholds (pos < neg) judge
 * warm errors more strictly (sun on the case, heat sources). Flagged observations leave the boxes of
 * the next iteration.
 *
 * Deliberate difference from titanlib: every observation is tested in its own box (titanlib's
 * inner_radius = 0) and an iteration sees only the flags of the previous one, so the result does not
 * depend on the order of the observations (or on how a domain is sharded). Pure.
 */
import { bucketSizeFor, PointIndex } from '../space/point-index.ts';
import type { NeighbourLists } from '../space/neighbour-lists.ts';
import { choleskyInPlace, choleskySolve, NotPositiveDefiniteError } from '../analysis/cholesky.ts';
import { luInPlace, luSolve, SingularMatrixError } from '../analysis/lu.ts';
import type { PlanePoints } from '../analysis/oi.ts';
import { FLAG_BAD, FLAG_OK } from './reasons.ts';

export interface SctOptions {
  /** Fewer observations in the box (itself included): not tested. titanlib's num_min (>= 2). */
  numMin: number;
  /** At most this many nearest observations in a box (itself included). */
  numMax: number;
  /** The box: observations within this distance [m]. */
  outerRadiusM: number;
  numIterations: number;
  /** Floor of the horizontal length scale [m]. */
  minHorizontalScaleM: number;
  /** Vertical length scale [m]. */
  verticalScaleM: number;
  /** Score thresholds for warm (pos) and cold (neg) deviations, per observation or one for all. */
  pos: number | ArrayLike<number>;
  neg: number | ArrayLike<number>;
  /** Observation-error variance over background-error variance, per observation or one for all (> 0). */
  eps2: number | ArrayLike<number>;
  /** Only these observations are tested (all by default); the others still serve as neighbours. */
  check?: (i: number) => boolean;
  /**
   * Precomputed nearest-neighbour lists of these points (self included; k >= numMax, radius >=
   * outerRadiusM): a box is then taken from the list, with a search only when flagged members leave it short.
   */
  neighbours?: NeighbourLists;
  /** Points already rejected (1): neither tested nor in any box, as if absent. */
  initialFlags?: Uint8Array;
}

export interface SctResult {
  flags: Uint8Array;
  /** The last score computed for each observation (NaN where never tested). */
  score: Float64Array;
  /** Observation minus its cross-validation analysis [K] (NaN where never tested). */
  cvDeviation: Float64Array;
}

/** A per-observation parameter as one array (a constant repeated). */
const perPoint = (v: number | ArrayLike<number>, n: number): Float64Array => (typeof v === 'number' ? new Float64Array(n).fill(v) : Float64Array.from(v));

export function sct(points: PlanePoints, values: ArrayLike<number>, o: SctOptions): SctResult {
  const n = points.x.length;
  if (values.length !== n) throw new RangeError(`points has ${n} entries, values has ${values.length}`);
  for (const [name, v] of [['pos', o.pos], ['neg', o.neg], ['eps2', o.eps2]] as const) {
    if (typeof v !== 'number' && v.length !== n) throw new RangeError(`points has ${n} entries, ${name} has ${v.length}`);
  }
  if (!(o.numMin >= 2)) throw new RangeError(`numMin must be >= 2, got ${o.numMin}`);
  if (!(o.numMax >= o.numMin)) throw new RangeError(`numMax must be >= numMin, got ${o.numMax} < ${o.numMin}`);
  const eps2 = perPoint(o.eps2, n), pos = perPoint(o.pos, n), neg = perPoint(o.neg, n);
  const z = points.z;
  const flags = new Uint8Array(n);
  const score = new Float64Array(n).fill(NaN);
  const cvDeviation = new Float64Array(n).fill(NaN);
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i]!) || (o.initialFlags && o.initialFlags[i] !== FLAG_OK)) flags[i] = FLAG_BAD;
  const k = o.numMax;
  const s = new Float64Array(k * k);
  const dist = new Float64Array(k * k);
  const d = new Float64Array(k);
  const x = new Float64Array(k);
  const e = new Float64Array(k);
  const col = new Float64Array(k);
  const pivot = new Int32Array(k);
  // Each observation's last box, flat: boxStore[c * k + j] for j < boxLen[c] (0: never boxed).
  const boxStore = new Int32Array(n * k);
  const boxLen = new Int32Array(n);
  // The box's members' coordinates, values and ε², gathered once per box.
  const bx = new Float64Array(k), by = new Float64Array(k), bz = new Float64Array(k), bv = new Float64Array(k), be = new Float64Array(k);
  // A member's 10th percentile over its m distances to the box's members, its own zero included (as
  // titanlib: its vector of distances has m entries, the m − 1 to the others and a 0), lies between
  // these order statistics (titanlib's quantile: linear between floor and ceil of q (m − 1)).
  const quantile = Array.from({ length: k + 1 }, (_, m) => {
    const p = 0.1 * (m - 1);
    return { lo: Math.floor(p), hi: Math.ceil(p), f: p - Math.floor(p) };
  });
  const smallest = new Float64Array(k);

  const nl = o.neighbours;
  if (nl && (nl.k < k || nl.radiusM < o.outerRadiusM || nl.lists.length !== n)) throw new RangeError(`neighbour lists (k ${nl.k}, radius ${nl.radiusM} m, ${nl.lists.length} points) cannot serve boxes of ${k} within ${o.outerRadiusM} m over ${n} points`);
  /** Writes the box into boxStore at c · k and answers its size: the nearest `k` unflagged points within the outer radius, the point itself included. */
  const boxOf = (c: number, prev: Uint8Array, index: PointIndex): number => {
    const base = c * k;
    if (nl) {
      const list = nl.lists[c]!, dist = nl.distancesM[c]!;
      let m = 0;
      for (let j = 0; j < list.length && m < k; j++) {
        if (dist[j]! > o.outerRadiusM) break;
        if (prev[list[j]!] === FLAG_OK) m++;
      }
      // Enough, or nothing more within the radius: the list decides; else search past the flagged.
      if (m === k || nl.complete[c] || dist[dist.length - 1]! > o.outerRadiusM) {
        for (let j = 0, q = 0; q < m; j++) if (prev[list[j]!] === FLAG_OK) boxStore[base + q++] = list[j]!;
        return m;
      }
    }
    const found = index.nearest(points.x[c]!, points.y[c]!, k, o.outerRadiusM);
    for (let q = 0; q < found.length; q++) boxStore[base + q] = found[q]!.index;
    return found.length;
  };
  /** S = correlation + diag(ε²) of the gathered box, and d = values − their mean (the box mean as background). */
  const fillS = (m: number, inv2dh2: number, mean: number) => {
    const invV = 1 / o.verticalScaleM;
    for (let a = 0; a < m; a++) {
      const za = bz[a]!;
      d[a] = bv[a]! - mean;
      const row = a * m;
      for (let b = 0; b < a; b++) {
        const dz = za - bz[b]!;
        const v = dz === dz ? dz * invV : 0; // NaN (an unknown elevation): no vertical term
        const rho = Math.exp(-dist[row + b]! * inv2dh2 - 0.5 * v * v);
        s[row + b] = rho;
        s[b * m + a] = rho;
      }
      s[row + a] = 1 + be[a]!;
    }
  };
  let retest: Uint8Array | null = null; // after the first pass, only boxes that lost a member change
  for (let it = 0; it < o.numIterations; it++) {
    const prev = flags.slice();
    const index = new PointIndex(points.x, points.y, bucketSizeFor(points.x, points.y), (i) => prev[i] === FLAG_OK);
    let added = 0;
    for (let c = 0; c < n; c++) {
      if (prev[c] !== FLAG_OK || (o.check && !o.check(c)) || (retest && !retest[c])) continue;
      const m = boxOf(c, prev, index);
      boxLen[c] = m;
      if (m < o.numMin) continue;
      const base = c * k;
      // The observation itself goes last: then (S⁻¹)_cc = 1 / L_cc² comes with the Cholesky factor.
      const self = m - 1;
      let at = -1;
      for (let a = 0; a < m; a++) if (boxStore[base + a] === c) { at = a; break; }
      // (Absent only behind more than numMax others on its very coordinates: it takes the last place.)
      if (at < 0) boxStore[base + self] = c;
      else if (at !== self) { boxStore[base + at] = boxStore[base + self]!; boxStore[base + self] = c; }
      let mean = 0;
      for (let a = 0; a < m; a++) {
        const i = boxStore[base + a]!;
        bx[a] = points.x[i]!; by[a] = points.y[i]!; bz[a] = z[i]!; bv[a] = values[i]!; be[a] = eps2[i]!;
        mean += bv[a]!;
      }
      mean /= m;
      // Squared distances: ordering needs no square root, the correlation uses d² directly.
      for (let a = 0; a < m; a++) {
        const row = a * m, xa = bx[a]!, ya = by[a]!;
        dist[row + a] = 0;
        for (let b = 0; b < a; b++) {
          const dx = xa - bx[b]!, dy = ya - by[b]!;
          const v = dx * dx + dy * dy;
          dist[row + b] = v;
          dist[b * m + a] = v;
        }
      }
      // Length scale: mean over members of the 10th percentile of their distances to the others.
      const q = quantile[m]!;
      let dhSum = 0;
      for (let a = 0; a < m; a++) {
        const row = a * m;
        let lo: number, hi: number;
        if (q.hi <= 2) {
          // The sorted distances start 0 (itself), then its two nearest others: track those two.
          let m1 = Infinity, m2 = Infinity;
          for (let b = 0; b < m; b++) {
            if (b === a) continue;
            const v = dist[row + b]!;
            if (v < m1) { m2 = m1; m1 = v; } else if (v < m2) m2 = v;
          }
          lo = q.lo === 0 ? 0 : Math.sqrt(q.lo === 1 ? m1 : m2);
          hi = q.hi === 0 ? 0 : Math.sqrt(q.hi === 1 ? m1 : m2);
        } else {
          // The (q.hi + 1) smallest distances to the members (itself at 0 included), by insertion.
          let filled = 0;
          for (let b = 0; b < m; b++) {
            const v = dist[row + b]!;
            if (filled <= q.hi) smallest[filled++] = v;
            else if (v < smallest[q.hi]!) smallest[q.hi] = v;
            else continue;
            for (let j = filled - 1; j > 0 && smallest[j]! < smallest[j - 1]!; j--) {
              const t = smallest[j]!;
              smallest[j] = smallest[j - 1]!;
              smallest[j - 1] = t;
            }
          }
          lo = Math.sqrt(smallest[q.lo]!);
          hi = Math.sqrt(smallest[q.hi]!);
        }
        dhSum += lo + (hi - lo) * q.f;
      }
      const dh = Math.max(o.minHorizontalScaleM, dhSum / m);
      const inv2dh2 = 0.5 / (dh * dh);
      fillS(m, inv2dh2, mean);
      let sinvCC: number;
      // S is positive definite as a rule, but not where some elevations are unknown: the vertical
      // term then applies only between some pairs, and in hilly terrain S can be indefinite.
      // titanlib inverts any non-singular S and skips the observation where S is singular; so do we.
      try {
        choleskyInPlace(s, m);
        choleskySolve(s, m, d, x);
        const lcc = s[self * m + self]!;
        sinvCC = 1 / (lcc * lcc);
      } catch (err) {
        if (!(err instanceof NotPositiveDefiniteError)) throw err;
        fillS(m, inv2dh2, mean);
        try {
          luInPlace(s, m, pivot);
        } catch (e2) {
          if (e2 instanceof SingularMatrixError) continue;
          throw e2;
        }
        luSolve(s, m, pivot, d, x);
        e.fill(0);
        e[self] = 1;
        luSolve(s, m, pivot, e, col);
        sinvCC = col[self]!;
      }
      let sig2o = 0;
      for (let a = 0; a < m; a++) sig2o += d[a]! * be[a]! * x[a]!;
      sig2o = Math.max(0.01, sig2o / m);
      const xc = x[self]!;
      const sc = (eps2[c]! * xc * xc) / (sinvCC * sig2o);
      score[c] = sc;
      cvDeviation[c] = xc / sinvCC;
      if ((xc > 0 && sc > pos[c]!) || (xc <= 0 && sc > neg[c]!)) {
        flags[c] = FLAG_BAD;
        added++;
      }
    }
    if (added === 0) break;
    // Next pass: only observations whose box lost a member to this pass's flags can change.
    retest = new Uint8Array(n);
    for (let c = 0; c < n; c++) {
      if (boxLen[c] === 0 || flags[c] !== FLAG_OK) continue;
      for (let a = c * k, end = a + boxLen[c]!; a < end; a++) {
        const j = boxStore[a]!;
        if (flags[j] !== FLAG_OK && prev[j] === FLAG_OK) { retest[c] = 1; break; }
      }
    }
  }
  return { flags, score, cvDeviation };
}
