/**
 * Localised optimal interpolation (OI) of observation increments onto target points, with gridpp's
 * semantics (`gridpp::optimal_interpolation`): for each target, the observations within the
 * localisation distance with positive correlation, at most `maxPoints` of them (highest correlation
 * first), give
 *   increment = ρ_tᵀ (P + R)⁻¹ (obs − background_at_obs)
 *   analysis variance / background variance = 1 − ρ_tᵀ (P + R)⁻¹ ρ_t
 * where P is the observations' mutual correlation and R = diag(σo²/σb²). Unit background variance:
 * callers scale the variance ratio by their own σb². Pure.
 */
import { choleskyInPlace, choleskySolve, NotPositiveDefiniteError } from './cholesky.ts';
import { luInPlace, luSolve, SingularMatrixError } from './lu.ts';
import { barnesRho, type BarnesStructure } from './structure.ts';
import { bucketSizeFor, PointIndex } from '../space/point-index.ts';

export interface PlanePoints {
  /** East [m] on the domain's local plane. */
  x: Float64Array;
  /** North [m]. */
  y: Float64Array;
  /** Elevation [m]; NaN where unknown (no vertical term then). */
  z: Float64Array;
}

export interface OiObservations extends PlanePoints {
  /** Observation minus background at the observation [K]. */
  innovation: Float64Array;
  /** Observation-error variance over background-error variance (σo²/σb²), > 0. */
  ratio: Float64Array;
}

export interface OiOptions {
  structure: BarnesStructure;
  /** Observations per target at most (the most correlated); gridpp's max_points. */
  maxPoints: number;
  /**
   * false: each increment is kept within the range of the increments observed around it (gridpp's
   * allow_extrapolation = false), so sparse data never produce a correction larger than any observed.
   */
  allowExtrapolation: boolean;
}

export interface OiResult {
  /** Per target, the largest `track` value among the observations used (NaN where none, or no `track`). */
  trackMax: Float64Array;
  /** Analysis minus background at each target [K] (0 where no observation is in reach). */
  increment: Float64Array;
  /** Analysis-error variance over background-error variance at each target (1 where no observation is in reach). */
  varianceRatio: Float64Array;
  /** Observations used at each target. */
  used: Int32Array;
}

function checkLengths(what: string, p: PlanePoints, extra: Record<string, ArrayLike<number>> = {}): number {
  const n = p.x.length;
  for (const [name, col] of Object.entries({ y: p.y, z: p.z, ...extra })) {
    if (col.length !== n) throw new RangeError(`${what}: x has ${n} entries, ${name} has ${col.length}`);
  }
  return n;
}

/**
 * `track`: an optional value per observation (e.g. its time) whose maximum over the observations used
 * at each target is returned in `trackMax`.
 */
export function optimalInterpolation(targets: PlanePoints, obs: OiObservations, o: OiOptions, track?: Float64Array): OiResult {
  const nt = checkLengths('targets', targets);
  const no = checkLengths('observations', obs, { innovation: obs.innovation, ratio: obs.ratio });
  if (!(o.maxPoints >= 1)) throw new RangeError(`maxPoints must be >= 1, got ${o.maxPoints}`);
  const s = o.structure;
  const increment = new Float64Array(nt);
  const varianceRatio = new Float64Array(nt).fill(1);
  const used = new Int32Array(nt);
  const trackMax = new Float64Array(nt).fill(NaN);
  if (no === 0 || nt === 0) return { increment, varianceRatio, used, trackMax };
  const usable = (i: number) => Number.isFinite(obs.innovation[i]!) && obs.ratio[i]! > 0;
  const index = new PointIndex(obs.x, obs.y, Math.min(s.localizationM, bucketSizeFor(obs.x, obs.y)), usable);

  const maxK = o.maxPoints;
  const m = new Float64Array(maxK * maxK);
  const g = new Float64Array(maxK);
  const w = new Float64Array(maxK);
  const pivot = new Int32Array(maxK);
  const cand: { i: number; rho: number }[] = [];
  for (let t = 0; t < nt; t++) {
    const tx = targets.x[t]!, ty = targets.y[t]!, tz = targets.z[t]!;
    if (!Number.isFinite(tx) || !Number.isFinite(ty)) continue;
    cand.length = 0;
    // Without a vertical term correlation falls with distance alone: the most correlated are the
    // nearest, found without visiting every observation in reach (same choice, ties by index).
    const horizontalOnly = s.verticalScaleM === 0 || !Number.isFinite(tz);
    const reach = horizontalOnly ? index.nearest(tx, ty, maxK, s.localizationM) : index.within(tx, ty, s.localizationM);
    for (const nb of reach) {
      const rho = barnesRho(s, nb.distanceM, tz - obs.z[nb.index]!);
      if (rho > 0) cand.push({ i: nb.index, rho });
    }
    if (cand.length === 0) continue;
    cand.sort((a, b) => b.rho - a.rho || a.i - b.i);
    const k = Math.min(maxK, cand.length);
    const fill = () => {
      for (let a = 0; a < k; a++) {
        const ia = cand[a]!.i;
        g[a] = cand[a]!.rho;
        for (let b = 0; b < a; b++) {
          const ib = cand[b]!.i;
          const dx = obs.x[ia]! - obs.x[ib]!, dy = obs.y[ia]! - obs.y[ib]!;
          const rho = barnesRho(s, Math.sqrt(dx * dx + dy * dy), obs.z[ia]! - obs.z[ib]!);
          m[a * k + b] = rho;
          m[b * k + a] = rho;
        }
        m[a * k + a] = 1 + obs.ratio[ia]!;
      }
    };
    fill();
    // w = (P + R)⁻¹ ρ_t, so increment = wᵀ d and the reduction is wᵀ ρ_t. P + R is positive definite
    // as a rule, but not always: the localisation cut-off, and a vertical term only between points of
    // known elevation, can make P indefinite. gridpp inverts whatever is not singular; so do we.
    try {
      choleskyInPlace(m, k);
      choleskySolve(m, k, g, w);
    } catch (err) {
      if (!(err instanceof NotPositiveDefiniteError)) throw err;
      fill();
      try {
        luInPlace(m, k, pivot);
      } catch (e) {
        if (e instanceof SingularMatrixError) continue; // no analysis from a singular system: the background stays
        throw e;
      }
      luSolve(m, k, pivot, g, w);
    }
    let inc = 0, red = 0, lo = Infinity, hi = -Infinity;
    for (let a = 0; a < k; a++) {
      const d = obs.innovation[cand[a]!.i]!;
      inc += w[a]! * d;
      red += w[a]! * g[a]!;
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
    if (!o.allowExtrapolation) inc = boundIncrement(inc, lo, hi);
    increment[t] = inc;
    varianceRatio[t] = 1 - red;
    used[t] = k;
    if (track) {
      let mx = NaN;
      for (let a = 0; a < k; a++) {
        const v = track[cand[a]!.i]!;
        if (!(v <= mx)) mx = v;
      }
      trackMax[t] = mx;
    }
  }
  return { increment, varianceRatio, used, trackMax };
}

/**
 * gridpp's bound on an increment given the smallest and largest observed increments around it:
 * never beyond them on their side of zero, and never of the opposite sign to all of them.
 */
export function boundIncrement(inc: number, minInc: number, maxInc: number): number {
  if (maxInc > 0 && inc > maxInc) return maxInc;
  if (maxInc < 0 && inc > 0) return maxInc;
  if (minInc < 0 && inc < minInc) return minInc;
  if (minInc > 0 && inc < 0) return minInc;
  return inc;
}
