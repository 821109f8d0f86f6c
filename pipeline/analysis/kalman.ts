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
