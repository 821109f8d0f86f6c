/**
 * The QC chain's default settings, each with where it comes from. None is fitted to a particular
 * city's data: they are physical limits or the values of the reference systems (titanlib's tests and
 * MET Norway's use for crowdsourced temperature, CrowdQC's design).
 */
import { DAY_MS, HOUR_MS } from '../../infra/time.ts';
import { STANDARD_LAPSE_RATE_K_PER_M } from './buddy-check.ts';
import type { QcOptions } from './chain.ts';
import { DEFAULT_TEMPORAL } from './temporal-checks.ts';

export const DEFAULT_QC: Readonly<QcOptions> = Object.freeze({
  // Beyond the records of 2 m air temperature on Earth (−89.2 °C, +56.7 °C) with a margin.
  rangeMinC: -60,
  rangeMaxC: 60,
  // A numerical model's 2 m temperature is rarely off by more than ~10 K; 15 K leaves room for fronts.
  grossK: 15,
  temporal: DEFAULT_TEMPORAL,
  positionToleranceM: 1,
  // The buddy check's radius; fewer than 3 others there and a crowd sensor cannot be verified.
  isolation: { numMin: 3, radiusM: 3000 },
  buddy: {
    radiusM: 3000,
    numMin: 3,
    threshold: 3,
    maxElevDiffM: 200,
    elevGradientKPerM: STANDARD_LAPSE_RATE_K_PER_M,
    // Crowd sensors around one place scatter by ~1 K (siting); a tighter spread is not evidence.
    minStdK: 1,
    numIterations: 2,
    maxBuddies: 50,
  },
  sct: {
    numMin: 5,
    // The 20 nearest: in a dense crowd they lie within a few hundred metres (the scale the test
    // judges); the cost of a box grows with the cube of its size.
    numMax: 20,
    outerRadiusM: 3000,
    numIterations: 2,
    minHorizontalScaleM: 500,
    verticalScaleM: 200,
    // Warm deviations judged twice as strictly as cold ones (MET Norway's crowd settings: 4 and 8).
    pos: 4,
    neg: 8,
    eps2: 0.5,
  },
  neighbours: { radiusM: 3000, max: 50, min: 3 },
  // An unshielded sensor in the sun reads 1–3 K too warm (Netatmo radiation studies); flag 1.5 K of excess.
  radiation: { excessK: 1.5, minWeight: 0.5 },
  // Indoors the diurnal cycle shrinks to a fraction of outdoors' and follows the heating, not the air.
  indoor: { minWeight: 0.6, minNeighbourVarK2: 0.5, minCorrelation: 0.5, minVarianceRatio: 0.1 },
  timescales: {
    reliabilityTauMs: 12 * HOUR_MS,
    offsetTauMs: DAY_MS,
    radiationTauMs: 3 * DAY_MS,
    indoorTauMs: DAY_MS,
    sinElevDay: Math.sin((10 * Math.PI) / 180), // sun above 10°
    sinElevNight: Math.sin((-6 * Math.PI) / 180), // after civil dusk
  },
});
