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

/**
 * The error split into each group's own constant offset and what varies around it (the centred RMSE of
 * a Taylor diagram, pooled over groups): with e_gi the i-th error of group g and ē_g its mean,
 *   crmse² = Σ_g Σ_i (e_gi − ē_g)² / N,   rmsOffset² = Σ_g n_g ē_g² / N,   rmse² = crmse² + rmsOffset².
 * For a station whose truth is a sensor's reading, ē_g holds the sensor's own offset (siting, sun,
 * housing) as much as the method's, so crmse is what a method gets right of the sensor's changes.
 */
export interface CentredErrorStats {
  crmseK: number;
  rmsOffsetK: number;
  rmseK: number;
  n: number;
  groups: number;
}

export class CentredErrorAccumulator {
  private readonly groups = new Map<string | number, { n: number; sum: number; sumSq: number }>();

  /** Adds a pair to a group; pairs with a non-finite member are ignored (returns false). */
  add(group: string | number, forecast: number, truth: number): boolean {
    const e = forecast - truth;
    if (!Number.isFinite(e)) return false;
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = { n: 0, sum: 0, sumSq: 0 }));
    g.n++;
    g.sum += e;
    g.sumSq += e * e;
    return true;
  }

  result(): CentredErrorStats {
    let n = 0, within = 0, offset = 0;
    for (const g of this.groups.values()) {
      const mean = g.sum / g.n;
      n += g.n;
      // Σ (e − ē)² = Σ e² − n ē², summed per group (each group's errors are a few kelvin, so no cancellation worth a two-pass sum).
      within += Math.max(0, g.sumSq - g.n * mean * mean);
      offset += g.n * mean * mean;
    }
    if (n === 0) return { crmseK: NaN, rmsOffsetK: NaN, rmseK: NaN, n: 0, groups: 0 };
    return { crmseK: Math.sqrt(within / n), rmsOffsetK: Math.sqrt(offset / n), rmseK: Math.sqrt((within + offset) / n), n, groups: this.groups.size };
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
