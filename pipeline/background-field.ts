/**
 * The background forecast as a continuous field: linear in time between a point's valid times,
 * inverse-distance weighted (Shepard, power 2) in space over the grid points. Pure.
 *
 * IDW rather than bilinear so any set of points works (regular model grids, ERA5's 0.25°, or an
 * irregular set of model stations); at a grid point it returns that point's value exactly.
 * Elevation: where a point's model elevation and the target's elevation are both known, the point's
 * value is first moved to the target's elevation with the standard lapse rate (−0.0065 K/m).
 */
import { distanceM, type LatLon } from '../infra/geo/index.ts';
import { HOUR_MS } from '../infra/time.ts';

export interface BackgroundSample {
  /** The model the value comes from; points of different sources are separate series. */
  source?: string;
  pointId: string;
  lat: number;
  lon: number;
  validTimeMs: number;
  tempC: number;
  /** The model's elevation at the point [m], when known. */
  elevationM?: number | null;
}

/** The standard atmosphere's lapse rate [K/m]. */
export const LAPSE_RATE_K_PER_M = -0.0065;

export interface BackgroundFieldOptions {
  /** IDW exponent (2: Shepard's classic choice). */
  power?: number;
  /** How far beyond a point's first/last valid time, or into a hole in its series, its value may be held [ms];
   *  valid times more than twice this apart are not interpolated across. */
  holdMs?: number;
}

export interface BackgroundField {
  /** Temperature [°C] at a place and time (at `elevationM` when given), or NaN where no point has a value then. */
  at(p: LatLon, timeMs: number, elevationM?: number): number;
  /**
   * The field at fixed places for any time: the inverse-distance weights are computed once, so
   * evaluating many places at many times is cheap. Gives exactly what `at` gives (without elevation).
   */
  sampler(places: readonly LatLon[], elevationsM?: ArrayLike<number>): (timeMs: number) => Float64Array;
  /**
   * true when no point's value has a knot strictly inside (t0, t1) (a valid time, or the edge of a
   * hold): there the field is linear in time at every place, so values at t0 and t1 give all between.
   */
  linearBetween(t0: number, t1: number): boolean;
  readonly points: number;
}

interface Series {
  position: LatLon;
  /** NaN when unknown. */
  elevationM: number;
  times: Float64Array;
  temps: Float64Array;
}

export function buildBackgroundField(samples: readonly BackgroundSample[], options: BackgroundFieldOptions = {}): BackgroundField {
  const power = options.power ?? 2;
  const holdMs = options.holdMs ?? HOUR_MS;
  const byPoint = new Map<string, BackgroundSample[]>();
  for (const s of samples) {
    if (!Number.isFinite(s.tempC) || !Number.isFinite(s.validTimeMs)) continue;
    const key = `${s.source ?? ''}\u0000${s.pointId}`;
    const list = byPoint.get(key);
    if (list) list.push(s);
    else byPoint.set(key, [s]);
  }
  const series: Series[] = [...byPoint.values()].map((list) => {
    list.sort((a, b) => a.validTimeMs - b.validTimeMs);
    const first = list[0]!;
    return { position: { lat: first.lat, lon: first.lon }, elevationM: first.elevationM ?? NaN, times: Float64Array.from(list, (s) => s.validTimeMs), temps: Float64Array.from(list, (s) => s.tempC) };
  });

  function valueInTime(s: Series, t: number): number {
    const { times, temps } = s;
    const n = times.length;
    if (t <= times[0]!) return t >= times[0]! - holdMs ? temps[0]! : NaN;
    if (t >= times[n - 1]!) return t <= times[n - 1]! + holdMs ? temps[n - 1]! : NaN;
    let lo = 0, hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! <= t) lo = mid;
      else hi = mid;
    }
    const gap = times[hi]! - times[lo]!;
    if (gap > 2 * holdMs) {
      // A hole in the series (a missing issue): hold each side's value near it, nothing across it.
      if (t - times[lo]! <= holdMs) return temps[lo]!;
      if (times[hi]! - t <= holdMs) return temps[hi]!;
      return NaN;
    }
    const f = (t - times[lo]!) / gap;
    return temps[lo]! + f * (temps[hi]! - temps[lo]!);
  }

  return {
    points: series.length,
    linearBetween(t0, t1) {
      for (const se of series) {
        const { times } = se;
        // Knots: every valid time, a hold's ends around the first and last, and the ends of holes' holds.
        const knots = [times[0]! - holdMs, times[times.length - 1]! + holdMs];
        for (let j = 0; j < times.length; j++) {
          knots.push(times[j]!);
          if (j > 0 && times[j]! - times[j - 1]! > 2 * holdMs) knots.push(times[j - 1]! + holdMs, times[j]! - holdMs);
        }
        if (knots.some((k) => k > t0 && k < t1)) return false;
      }
      return true;
    },
    sampler(places, elevationsM) {
      const ns = series.length, np = places.length;
      // Weight 0 marks a place within 1 m of a point (which then gives its own value, as `at` does).
      const weights = new Float64Array(np * ns);
      places.forEach((p, i) => {
        for (let k = 0; k < ns; k++) {
          const d = distanceM(p, series[k]!.position);
          weights[i * ns + k] = d < 1 ? 0 : 1 / d ** power;
        }
      });
      return (t) => {
        const values = Float64Array.from(series, (s) => valueInTime(s, t));
        const out = new Float64Array(np);
        for (let i = 0; i < np; i++) {
          let wSum = 0, vSum = 0, done = false;
          const z = elevationsM ? elevationsM[i]! : NaN;
          for (let k = 0; k < ns; k++) {
            let v = values[k]!;
            if (Number.isNaN(v)) continue;
            if (Number.isFinite(z) && Number.isFinite(series[k]!.elevationM)) v += LAPSE_RATE_K_PER_M * (z - series[k]!.elevationM);
            // As `at`: the first valid series within 1 m gives its own value.
            if (weights[i * ns + k] === 0) { out[i] = v; done = true; break; }
            const w = weights[i * ns + k]!;
            wSum += w;
            vSum += w * v;
          }
          if (!done) out[i] = wSum > 0 ? vSum / wSum : NaN;
        }
        return out;
      };
    },
    at(p, t, elevationM) {
      let wSum = 0, vSum = 0;
      for (const s of series) {
        let v = valueInTime(s, t);
        if (Number.isNaN(v)) continue;
        if (elevationM !== undefined && Number.isFinite(elevationM) && Number.isFinite(s.elevationM)) v += LAPSE_RATE_K_PER_M * (elevationM - s.elevationM);
        const d = distanceM(p, s.position);
        if (d < 1) return v; // on a grid point: its own value
        const w = 1 / d ** power;
        wSum += w;
        vSum += w * v;
      }
      return wSum > 0 ? vSum / wSum : NaN;
    },
  };
}
