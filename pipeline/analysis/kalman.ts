/**
 * A scalar Kalman filter in time for one cell's background bias b (truth − background), as a
 * first-order autoregressive (Gauss-Markov) process that relaxes toward zero:
 *   predict over Δt:  φ = exp(−Δt/τ),  b ← φ b,  P ← φ² P + (1 − φ²) σ²
 *   update with z (variance r):  K = P / (P + r),  b ← b + K (z − b),  P ← (1 − K) P
 * The process noise (1 − φ²) σ² scales with the time step and keeps the stationary variance at σ²,
 * so a cell with no observations returns to the background with its climatological uncertainty. Pure.
 */

export interface BiasState {
  /** Bias estimate [K]. */
  biasK: number;
  /** Its error variance [K²]. */
  varK2: number;
}

export interface BiasProcess {
  /** e-folding time of the bias [ms]. */
  tauMs: number;
  /** Stationary standard deviation of the bias [K] (the background's error). */
  sigmaK: number;
}

/** The state `dtMs` later with no observation. */
export function predictBias(s: BiasState, dtMs: number, p: BiasProcess): BiasState {
  if (!(dtMs >= 0)) throw new RangeError(`dtMs must be >= 0, got ${dtMs}`);
  const phi = Math.exp(-dtMs / p.tauMs);
  return { biasK: phi * s.biasK, varK2: phi * phi * s.varK2 + (1 - phi * phi) * p.sigmaK * p.sigmaK };
}

/** The state after observing the bias as `zK` with error variance `rK2` (Infinity: no information). */
export function updateBias(s: BiasState, zK: number, rK2: number): BiasState {
  if (!(rK2 > 0)) throw new RangeError(`rK2 must be > 0, got ${rK2}`);
  if (!Number.isFinite(rK2) || !Number.isFinite(zK)) return s;
  const k = s.varK2 / (s.varK2 + rK2);
  return { biasK: s.biasK + k * (zK - s.biasK), varK2: (1 - k) * s.varK2 };
}

/**
 * The steady-state gain of the filter observed every `dtMs` with variance `rK2`: the forecast
 * variance solves P = φ² P r / (P + r) + q with q = (1 − φ²) σ², i.e.
 *   P = (−(r(1 − φ²) − q) + sqrt((r(1 − φ²) − q)² + 4 q r)) / 2,  K = P / (P + r).
 */
export function steadyStateGain(dtMs: number, rK2: number, p: BiasProcess): number {
  const phi2 = Math.exp(-2 * dtMs / p.tauMs);
  const q = (1 - phi2) * p.sigmaK * p.sigmaK;
  const b = rK2 * (1 - phi2) - q;
  const pf = (-b + Math.sqrt(b * b + 4 * q * rK2)) / 2;
  return pf / (pf + rK2);
}

/**
 * The bias as a sum of independent Gauss-Markov parts, each seen through its own regressor:
 *   b(t) = Σ_i h_i(t) x_i,  x_i relaxing toward 0 with its own τ_i and σ_i,
 * with h = 1 for a level and h = cos ωt, sin ωt (ω = 2π / 1 day) for the two coefficients of a
 * diurnal cycle. Each part belongs to a scale: the area's (the background's error over the whole
 * domain, observed by the window's large-scale estimate) or the place's (its own offset from the
 * background's grid box, observed by the local increment). The batch's default (defaults.ts): the
 * area's error in a fast and a slow level, the place's offset as a slow level and its diurnal cycle
 * (heat island by night, sun by day: the harmonic correction of Homleid, 1995, Wea. Forecasting 10,
 * 689–707, as a Kalman state). An observation sees the sum of the parts it reaches (H = h(t)ᵀ with the
 * other scale's regressors 0); the filter splits each innovation among them by their covariances, so a
 * lasting offset settles in a slow part, one that comes back at the same hour each day in the diurnal
 * parts, and a passing error decays with the fast part.
 * Predict: x_i ← φ_i x_i, P_ij ← φ_i φ_j P_ij + δ_ij (1 − φ_i²) σ_i², φ_i = e^(−Δt/τ_i).
 */
export type Regressor = 'level' | 'day-cos' | 'day-sin';

export type BiasScale = 'area' | 'place';

export interface BiasPart extends BiasProcess {
  /** What the part stands for (the persisted state names parts by position, not name). */
  name: string;
  regressor: Regressor;
  scale: BiasScale;
}

export type BiasModel = readonly BiasPart[];

/**
 * One place's parts: their means [K] and error covariance [K²], packed as the lower triangle row by row
 * (cov(i, j) at i(i + 1)/2 + j for j ≤ i).
 */
export interface PartsState {
  meanK: Float64Array;
  covK2: Float64Array;
}

/** Where cov(i, j) sits in a packed covariance. */
export function packedIndex(i: number, j: number): number {
  return i >= j ? (i * (i + 1)) / 2 + j : (j * (j + 1)) / 2 + i;
}

/** Packed covariance entries of `n` parts. */
export const packedSize = (n: number): number => (n * (n + 1)) / 2;

const DAY_RAD_PER_MS = (2 * Math.PI) / 86_400_000;

/**
 * The parts' regressors at `tMs` (epoch ms, UTC: the diurnal phase is learned, so no local time is
 * needed); with `scale`, those of the other scale's parts are 0 (what an observation of that scale sees).
 */
export function regressorsAt(model: BiasModel, tMs: number, out: Float64Array = new Float64Array(model.length), scale?: BiasScale): Float64Array {
  for (let i = 0; i < model.length; i++) {
    const p = model[i]!;
    out[i] = scale !== undefined && p.scale !== scale ? 0 : p.regressor === 'level' ? 1 : p.regressor === 'day-cos' ? Math.cos(DAY_RAD_PER_MS * tMs) : Math.sin(DAY_RAD_PER_MS * tMs);
  }
  return out;
}

/** The stationary state: every part 0 with its climatological variance, uncorrelated. */
export function partsPrior(model: BiasModel): PartsState {
  const covK2 = new Float64Array(packedSize(model.length));
  model.forEach((p, i) => { covK2[packedIndex(i, i)] = p.sigmaK * p.sigmaK; });
  return { meanK: new Float64Array(model.length), covK2 };
}

/** The state `dtMs` later with no observation. */
export function predictParts(s: PartsState, dtMs: number, model: BiasModel): PartsState {
  if (!(dtMs >= 0)) throw new RangeError(`dtMs must be >= 0, got ${dtMs}`);
  const n = model.length;
  const phi = model.map((p) => Math.exp(-dtMs / p.tauMs));
  const meanK = Float64Array.from(s.meanK, (x, i) => phi[i]! * x);
  const covK2 = new Float64Array(s.covK2.length);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) covK2[packedIndex(i, j)] = phi[i]! * phi[j]! * s.covK2[packedIndex(i, j)]!;
    const ii = packedIndex(i, i);
    covK2[ii] = covK2[ii]! + (1 - phi[i]! * phi[i]!) * model[i]!.sigmaK * model[i]!.sigmaK;
  }
  return { meanK, covK2 };
}

/** P h for regressors `h`. */
function covTimes(s: PartsState, h: ArrayLike<number>): Float64Array {
  const n = s.meanK.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let j = 0; j < n; j++) v += s.covK2[packedIndex(i, j)]! * h[j]!;
    out[i] = v;
  }
  return out;
}

/**
 * The state after observing hᵀx as `zK` with error variance `rK2` (Infinity: no information):
 *   S = hᵀPh + r,  K = Ph / S,  x ← x + K (z − hᵀx),  P ← P − K (Ph)ᵀ.
 */
export function updateParts(s: PartsState, h: ArrayLike<number>, zK: number, rK2: number): PartsState {
  if (!(rK2 > 0)) throw new RangeError(`rK2 must be > 0, got ${rK2}`);
  if (!Number.isFinite(rK2) || !Number.isFinite(zK)) return s;
  const n = s.meanK.length;
  const ph = covTimes(s, h);
  let S = rK2, e = zK;
  for (let i = 0; i < n; i++) { S += h[i]! * ph[i]!; e -= h[i]! * s.meanK[i]!; }
  const meanK = Float64Array.from(s.meanK, (x, i) => x + (ph[i]! / S) * e);
  const covK2 = new Float64Array(s.covK2.length);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) covK2[packedIndex(i, j)] = s.covK2[packedIndex(i, j)]! - (ph[i]! * ph[j]!) / S;
  return { meanK, covK2 };
}

/** The bias hᵀx and its variance hᵀPh for regressors `h`. */
export function partsTotal(s: PartsState, h: ArrayLike<number>): BiasState {
  const n = s.meanK.length;
  let biasK = 0, varK2 = 0;
  for (let i = 0; i < n; i++) {
    biasK += h[i]! * s.meanK[i]!;
    for (let j = 0; j < n; j++) varK2 += h[i]! * s.covK2[packedIndex(i, j)]! * h[j]!;
  }
  return { biasK, varK2 };
}

/**
 * The share of a lasting bias that the filter's forecast keeps at each lead: the filter observes a
 * constant bias every `dtMs` (variance `rK2`) until its state no longer changes, and the forecast at
 * lead L is divided by the estimate at lead 0, all of `model`'s level parts seeing it as one sum (a
 * constant has no diurnal cycle: the other parts take no part). The forecast rule at a place observed
 * for long, as a curve (1 at lead 0); with one level part it is e^(−L/τ).
 */
export function steadyRetention(model: BiasModel, dtMs: number, rK2: number, leadsMs: readonly number[]): Float64Array {
  const levels = model.filter((p) => p.regressor === 'level');
  const h = new Float64Array(levels.length).fill(1);
  let s = partsPrior(levels);
  for (let i = 0; i < 1_000_000; i++) {
    const next = updateParts(predictParts(s, dtMs, levels), h, 1, rK2);
    let change = 0;
    for (let j = 0; j < levels.length; j++) change += Math.abs(next.meanK[j]! - s.meanK[j]!);
    s = next;
    if (change < 1e-15) break;
  }
  const at0 = partsTotal(s, h).biasK;
  return Float64Array.from(leadsMs, (l) => partsTotal(predictParts(s, l, levels), h).biasK / at0);
}
