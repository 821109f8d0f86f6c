/**
 * The analysis's default error model, each value with where it comes from. Physical scales and
 * published error sizes, not values fitted to one city's data.
 */
import { HOUR_MS, MINUTE_MS } from '../../infra/time.ts';
import type { AnalysisOptions } from './cell-analysis.ts';
import { barnes } from './structure.ts';
import { steadyRetention, type BiasModel } from './kalman.ts';

const BACKGROUND_SIGMA_K = 1; // 2 m temperature error of a reanalysis / short-range NWP over land: ~1 K
const LOCAL_SIGMA_K = 1; // intra-urban variability around the background's grid box (heat island, parks): ~1 K
const DIURNAL_SIGMA_K = 1; // each coefficient of the offset's diurnal cycle: the cycle's variance at any hour is 1 K²

export const DEFAULT_ANALYSIS: Readonly<AnalysisOptions> = Object.freeze({
  backgroundSigmaK: BACKGROUND_SIGMA_K,
  // Citizen stations read ~1 K warm against reference screens on average (siting, radiation, housing).
  crowdSharedSigmaK: 1,
  localSigmaK: LOCAL_SIGMA_K,
  // A single crowd sensor's own scatter once its learned offset is removed (σo²/σS² = 0.5, titanlib's eps2).
  amateurSigmaK: Math.SQRT1_2 * LOCAL_SIGMA_K,
  // A ventilated screen to WMO standards: ±0.2 K.
  officialSigmaK: 0.2,
  // Street-to-neighbourhood scale of urban temperature contrasts: 500 m; 100 m in elevation;
  // no influence beyond 3 length scales (a cell 1.5 km from the crowd keeps the large-scale value).
  structure: barnes(500, 100, 1500),
  maxPoints: 20,
  process: Object.freeze<BiasModel>([
    // The background's error over the area. Mesoscale errors (fronts, cloud and boundary-layer timing)
    // decorrelate over a few hours; what lasts (the background's systematic error over a city, the
    // crowd's shared warmth that the large-scale estimate keeps) comes back with each day's weather.
    { name: 'fast', scale: 'area', regressor: 'level', tauMs: 3 * HOUR_MS, sigmaK: BACKGROUND_SIGMA_K },
    // A place's own offset from the background's grid box (heat island, land use, siting), over about a day.
    { name: 'slow', scale: 'place', regressor: 'level', tauMs: 24 * HOUR_MS, sigmaK: LOCAL_SIGMA_K },
    // That offset's diurnal cycle: a heat island is strongest at night, an unshaded sensor's error by
    // day, and a street canyon warms and cools later than the open country a background's grid box
    // mostly is. Its amplitude (a city's day-night contrast of the heat island, ~2 K, i.e. ~1 K around
    // the mean) depends on cloud and wind, which change with the weather regime: over about three days.
    { name: 'diurnal-cos', scale: 'place', regressor: 'day-cos', tauMs: 72 * HOUR_MS, sigmaK: DIURNAL_SIGMA_K },
    { name: 'diurnal-sin', scale: 'place', regressor: 'day-sin', tauMs: 72 * HOUR_MS, sigmaK: DIURNAL_SIGMA_K },
    // Last, so that a state written before it existed resumes with it at its prior.
    { name: 'area-slow', scale: 'area', regressor: 'level', tauMs: 24 * HOUR_MS, sigmaK: BACKGROUND_SIGMA_K },
  ]),
  // A learned offset counts fully once its weight (≈ fraction of an e-folding time of data) is well above 0.2.
  offsetPriorWeight: 0.2,
  minReliability: 0.1,
});

/**
 * The forecast rule the smoother's training and the next-hour evaluation use at a station observed for
 * long: steadyRetention of the default model's fast and slow levels, a window every `stepMin`, an
 * official station's error. The area's slow level and the diurnal parts are left out, as they were when
 * the shipped smoother was trained. The share of the present bias kept at leads 0, stepMin, … (steps + 1
 * values); insensitive to the error assumed: 0.898 at 60 min for 0.05–2 K² with the defaults.
 */
export function stationFilterRetention(stepMin: number, steps: number): Float64Array {
  const leadsMs = Array.from({ length: steps + 1 }, (_, k) => k * stepMin * MINUTE_MS);
  const levels = DEFAULT_ANALYSIS.process.filter((p) => p.name === 'fast' || p.name === 'slow');
  return steadyRetention(levels, stepMin * MINUTE_MS, DEFAULT_ANALYSIS.officialSigmaK ** 2, leadsMs);
}
