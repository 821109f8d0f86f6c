/**
 * What the batch remembers about each sensor between windows: the track of its series (for the
 * temporal tests), its reliability (how often its readings pass), and slowly learned statistics of
 * how it differs from its neighbours (its offset, its daytime warm excess, and how its temperature
 * moves with theirs). Updated once per window by the pure `updateRecord`; persisted by the batch.
 *
 * Averages are exponentially weighted in time (α = 1 − exp(−Δt/τ) per window of length Δt), with a
 * weight that starts at 0, so a new sensor's first values count fully and the record forgets at the
 * same rate whatever the window length.
 */
import { EMPTY_TRACK, type SensorTrack } from './temporal-checks.ts';

export interface SensorRecord extends SensorTrack {
  /** Windows in which the sensor reported. */
  windows: number;
  /** Exponentially weighted fraction of its readings that passed QC (starts at 1). */
  reliability: number;
  /** Its innovation minus its neighbours' median innovation [K], and that average's weight (0..1). */
  offsetK: number;
  offsetWeight: number;
  /** Its deviation from its neighbours in daytime and at night [K], with weights. */
  dayDevK: number;
  dayWeight: number;
  nightDevK: number;
  nightWeight: number;
  /** Moments of its temperature (S) and its neighbours' median temperature (M) [°C, K²]. */
  momentWeight: number;
  meanS: number;
  meanM: number;
  varS: number;
  varM: number;
  covSM: number;
}

export const NEW_RECORD: Readonly<SensorRecord> = Object.freeze({
  ...EMPTY_TRACK,
  windows: 0,
  reliability: 1,
  offsetK: 0,
  offsetWeight: 0,
  dayDevK: 0,
  dayWeight: 0,
  nightDevK: 0,
  nightWeight: 0,
  momentWeight: 0,
  meanS: 0,
  meanM: 0,
  varS: 0,
  varM: 0,
  covSM: 0,
});

export const RECORD_FIELDS = Object.keys(NEW_RECORD) as (keyof SensorRecord)[];

export interface RecordTimescales {
  /** e-folding times [ms] of each average. */
  reliabilityTauMs: number;
  offsetTauMs: number;
  radiationTauMs: number;
  indoorTauMs: number;
  /** Sine of the sun's elevation above which it is day, and below which it is night, for the radiation statistics. */
  sinElevDay: number;
  sinElevNight: number;
}

/** One window's facts about a sensor, from the QC chain. */
export interface WindowFacts {
  /** Length of the window [ms]. */
  windowMs: number;
  track: SensorTrack;
  /** Its readings in the window, and how many passed. */
  readings: number;
  passed: number;
  /** Present when the sensor passed and had enough neighbours: its innovation and temperature against their medians. */
  versusNeighbours?: { innovationK: number; neighbourInnovationK: number; tempC: number; neighbourTempC: number; sinSolarElevation: number };
}

const alphaOf = (dtMs: number, tauMs: number) => 1 - Math.exp(-dtMs / tauMs);

/** Weighted running mean: returns [mean, weight] after one more sample `x` with smoothing α. */
function ewm(mean: number, weight: number, x: number, alpha: number): [number, number] {
  const w = (1 - alpha) * weight + alpha;
  return [mean + (alpha / w) * (x - mean), w];
}

export function updateRecord(r: Readonly<SensorRecord>, f: WindowFacts, t: RecordTimescales): SensorRecord {
  const out: SensorRecord = { ...r, ...f.track, windows: r.windows + 1 };
  if (f.readings > 0) out.reliability = r.reliability + alphaOf(f.windowMs, t.reliabilityTauMs) * (f.passed / f.readings - r.reliability);
  const v = f.versusNeighbours;
  if (!v) return out;
  const dev = v.innovationK - v.neighbourInnovationK;
  [out.offsetK, out.offsetWeight] = ewm(r.offsetK, r.offsetWeight, dev, alphaOf(f.windowMs, t.offsetTauMs));
  const aRad = alphaOf(f.windowMs, t.radiationTauMs);
  if (v.sinSolarElevation > t.sinElevDay) [out.dayDevK, out.dayWeight] = ewm(r.dayDevK, r.dayWeight, dev, aRad);
  else if (v.sinSolarElevation < t.sinElevNight) [out.nightDevK, out.nightWeight] = ewm(r.nightDevK, r.nightWeight, dev, aRad);
  // Exponentially weighted mean, variances and covariance (West's incremental form).
  const a = alphaOf(f.windowMs, t.indoorTauMs);
  const w = (1 - a) * r.momentWeight + a;
  const g = a / w;
  const dS = v.tempC - r.meanS, dM = v.neighbourTempC - r.meanM;
  out.momentWeight = w;
  out.meanS = r.meanS + g * dS;
  out.meanM = r.meanM + g * dM;
  out.varS = (1 - g) * (r.varS + g * dS * dS);
  out.varM = (1 - g) * (r.varM + g * dM * dM);
  out.covSM = (1 - g) * (r.covSM + g * dS * dM);
  return out;
}

export interface RadiationOptions {
  /** Flag daytime readings of a sensor whose daytime deviation exceeds its night-time one by more than this [K]. */
  excessK: number;
  /** Both averages need at least this weight. */
  minWeight: number;
}

/** The sensor's learned daytime warm excess [K], or NaN while too little is known. */
export function radiationExcessK(r: Readonly<SensorRecord>, o: RadiationOptions): number {
  return r.dayWeight >= o.minWeight && r.nightWeight >= o.minWeight ? r.dayDevK - r.nightDevK : NaN;
}

export interface IndoorOptions {
  /** The moments need at least this weight (≈ one e-folding time of data). */
  minWeight: number;
  /** Neighbours must vary at least this much for the test to mean anything [K²]. */
  minNeighbourVarK2: number;
  /** Indoor when the correlation with the neighbours is below this … */
  minCorrelation: number;
  /** … or its variance is below this fraction of theirs (too small a diurnal range). */
  minVarianceRatio: number;
}

/** true when the record shows an indoor sensor; false when it does not or too little is known. */
export function looksIndoor(r: Readonly<SensorRecord>, o: IndoorOptions): boolean {
  if (r.momentWeight < o.minWeight || r.varM < o.minNeighbourVarK2) return false;
  if (r.varS < o.minVarianceRatio * r.varM) return true;
  return r.covSM / Math.sqrt(r.varS * r.varM) < o.minCorrelation;
}
