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
 * The bias as the sum of two independent Gauss-Markov processes, b = f + s: a fast part (the
 * background's mesoscale error, e-folding in hours) and a slow part (the place's own offset from the
 * background's grid box: heat island, land use, siting; e-folding over most of a day). Both relax
 * toward zero, each with its own τ and σ, so the stationary variance of b is σ_f² + σ_s². One
 * observation sees their sum (H = [1 1]); the filter splits each innovation between them by their
 * covariances, so a lasting offset settles into the slow part and the forecast keeps it, while a
 * passing error decays with the fast part.
 */
export interface TwoScaleProcess {
  fast: BiasProcess;
  slow: BiasProcess;
}

export interface TwoScaleState {
  fastK: number;
  slowK: number;
  /** Error covariance [K²]: var(f), var(s) and cov(f, s). */
  fastVarK2: number;
  slowVarK2: number;
  crossVarK2: number;
}

/** The stationary state: both parts 0 with their climatological variances. */
export function twoScalePrior(p: TwoScaleProcess): TwoScaleState {
  return { fastK: 0, slowK: 0, fastVarK2: p.fast.sigmaK * p.fast.sigmaK, slowVarK2: p.slow.sigmaK * p.slow.sigmaK, crossVarK2: 0 };
}

/** The sum b = f + s and its variance var(f) + var(s) + 2 cov(f, s). */
export function twoScaleTotal(s: TwoScaleState): BiasState {
  return { biasK: s.fastK + s.slowK, varK2: s.fastVarK2 + s.slowVarK2 + 2 * s.crossVarK2 };
}

/** The state `dtMs` later with no observation: each part as `predictBias`, their covariance × φ_f φ_s. */
export function predictTwoScale(s: TwoScaleState, dtMs: number, p: TwoScaleProcess): TwoScaleState {
  const f = predictBias({ biasK: s.fastK, varK2: s.fastVarK2 }, dtMs, p.fast);
  const g = predictBias({ biasK: s.slowK, varK2: s.slowVarK2 }, dtMs, p.slow);
  const phi = Math.exp(-dtMs / p.fast.tauMs - dtMs / p.slow.tauMs);
  return { fastK: f.biasK, slowK: g.biasK, fastVarK2: f.varK2, slowVarK2: g.varK2, crossVarK2: phi * s.crossVarK2 };
}

/**
 * The state after observing f + s as `zK` with error variance `rK2` (Infinity: no information):
 *   S = 1ᵀP1 + r,  K = P1 / S,  x ← x + K (z − 1ᵀx),  P ← P − K 1ᵀP.
 */
export function updateTwoScale(s: TwoScaleState, zK: number, rK2: number): TwoScaleState {
  if (!(rK2 > 0)) throw new RangeError(`rK2 must be > 0, got ${rK2}`);
  if (!Number.isFinite(rK2) || !Number.isFinite(zK)) return s;
  const pf = s.fastVarK2 + s.crossVarK2, ps = s.crossVarK2 + s.slowVarK2; // P·1
  const S = pf + ps + rK2;
  const kf = pf / S, ks = ps / S;
  const e = zK - s.fastK - s.slowK;
  return {
    fastK: s.fastK + kf * e,
    slowK: s.slowK + ks * e,
    fastVarK2: s.fastVarK2 - kf * pf,
    slowVarK2: s.slowVarK2 - ks * ps,
    crossVarK2: s.crossVarK2 - kf * ps,
  };
}

/**
 * The share of a lasting bias that the two-scale filter's forecast keeps at each lead: the filter
 * observes a constant bias every `dtMs` (variance `rK2`) until its state no longer changes, and the
 * forecast at lead L is divided by the estimate at lead 0. This is the batch's forecast rule at a
 * place it has observed for long, as a curve (1 at lead 0); with no slow part it is e^(−L/τ_fast).
 */
export function steadyRetention(p: TwoScaleProcess, dtMs: number, rK2: number, leadsMs: readonly number[]): Float64Array {
  let s = twoScalePrior(p);
  for (let i = 0; i < 1_000_000; i++) {
    const next = updateTwoScale(predictTwoScale(s, dtMs, p), 1, rK2);
    const done = Math.abs(next.fastK - s.fastK) + Math.abs(next.slowK - s.slowK) < 1e-15;
    s = next;
    if (done) break;
  }
  const at0 = twoScaleTotal(s).biasK;
  return Float64Array.from(leadsMs, (l) => twoScaleTotal(predictTwoScale(s, l, p)).biasK / at0);
}
