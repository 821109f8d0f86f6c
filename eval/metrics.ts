/**
 * Verification figures. Error e = forecast - truth [K]:
 *   bias = mean(e), MAE = mean(|e|), RMSE = sqrt(mean(e^2)), n = number of pairs.
 * Spread-skill: the fraction of truths within forecast ± 1 sigma, which is erf(1/sqrt 2) ≈ 0.683 for
 * calibrated Gaussian sigmas; and RMSE / RMS(sigma), which is ≈ 1 when sigmas are calibrated.
 * With n = 0 every figure is NaN (null in JSON). Pure.
 */

export interface ErrorStats {
  biasK: number;
  maeK: number;
  rmseK: number;
  n: number;
}

export interface SpreadSkill {
  /** Fraction of pairs with |forecast - truth| <= sigma. */
  withinOneSigma: number;
  /** sqrt(mean(sigma^2)) [K]. */
  rmsSigmaK: number;
  /** RMSE / rmsSigma: > 1 means sigmas too small (overconfident). */
  rmseToSigma: number;
  n: number;
}

/** What a calibrated Gaussian gives for withinOneSigma: erf(1/sqrt(2)). */
export const GAUSSIAN_ONE_SIGMA = 0.6826894921370859;

export class ErrorAccumulator {
  private sum = 0;
  private sumAbs = 0;
  private sumSq = 0;
  private count = 0;

  /** Adds a pair; pairs with a non-finite member are ignored (returns false). */
  add(forecast: number, truth: number): boolean {
    const e = forecast - truth;
    if (!Number.isFinite(e)) return false;
    this.sum += e;
    this.sumAbs += Math.abs(e);
    this.sumSq += e * e;
    this.count++;
    return true;
  }

  result(): ErrorStats {
    const n = this.count;
    if (n === 0) return { biasK: NaN, maeK: NaN, rmseK: NaN, n: 0 };
    return { biasK: this.sum / n, maeK: this.sumAbs / n, rmseK: Math.sqrt(this.sumSq / n), n };
  }
}

export function errorStats(forecasts: readonly number[], truths: readonly number[]): ErrorStats {
  if (forecasts.length !== truths.length) throw new RangeError(`forecasts (${forecasts.length}) and truths (${truths.length}) differ in length`);
  const a = new ErrorAccumulator();
  for (let i = 0; i < forecasts.length; i++) a.add(forecasts[i]!, truths[i]!);
  return a.result();
}

export class SpreadSkillAccumulator {
  private within = 0;
  private sumSigmaSq = 0;
  private sumSq = 0;
  private count = 0;

  add(forecast: number, sigma: number, truth: number): boolean {
    const e = forecast - truth;
    if (!Number.isFinite(e) || !Number.isFinite(sigma) || sigma < 0) return false;
    if (Math.abs(e) <= sigma) this.within++;
    this.sumSigmaSq += sigma * sigma;
    this.sumSq += e * e;
    this.count++;
    return true;
  }

  result(): SpreadSkill {
    const n = this.count;
    if (n === 0) return { withinOneSigma: NaN, rmsSigmaK: NaN, rmseToSigma: NaN, n: 0 };
    const rmsSigma = Math.sqrt(this.sumSigmaSq / n);
    return { withinOneSigma: this.within / n, rmsSigmaK: rmsSigma, rmseToSigma: Math.sqrt(this.sumSq / n) / rmsSigma, n };
  }
}

export function spreadSkill(forecasts: readonly number[], sigmas: readonly number[], truths: readonly number[]): SpreadSkill {
  if (forecasts.length !== truths.length || sigmas.length !== truths.length) throw new RangeError('forecasts, sigmas and truths differ in length');
  const a = new SpreadSkillAccumulator();
  for (let i = 0; i < truths.length; i++) a.add(forecasts[i]!, sigmas[i]!, truths[i]!);
  return a.result();
}

/** 1 - rmse / rmseReference: > 0 means better than the reference. */
export function rmseSkill(rmse: number, rmseReference: number): number {
  return 1 - rmse / rmseReference;
}

/** Rounds every number in a JSON-like value (NaN stays NaN, counts stay exact). */
export function roundFigures<T>(value: T, digits = 4): T {
  const f = 10 ** digits;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'number') return Number.isInteger(v) || !Number.isFinite(v) ? v : Math.round(v * f) / f;
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
