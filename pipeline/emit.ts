/**
 * EMIT: from each cell's analysed bias to what the API serves: the next hour at 5-minute steps and
 * hourly steps as far as the background reaches, each with a 1-sigma uncertainty. The bias relaxes
 * toward zero with the filter's own process (e-folding τ) and its variance toward the climatological
 * one; the published sigma adds the scatter of a point around its cell's value. Pure.
 */
import type { LatLon } from '../infra/geo/index.ts';
import { HOUR_MS, MINUTE_MS } from '../infra/time.ts';
import type { BackgroundField } from './background-field.ts';
import { biasAtLead } from './analysis/cell-analysis.ts';
import type { BiasProcess } from './analysis/kalman.ts';

export interface EmitOptions {
  stepMin: number;
  /** Steps after lead 0 (12: the next hour). */
  steps: number;
  /** Hourly steps at most. */
  hourlyMaxSteps: number;
  process: BiasProcess;
  /** Variance of a point's temperature around its cell's value [K²]. */
  pointVarK2: number;
}

export interface EmittedCell {
  tempsC: number[];
  sigmasC: number[];
  hourlyStartMs: number | null;
  hourlyTempsC: number[] | null;
  hourlySigmasC: number[] | null;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * One cell's forecast. `field` gives the background of the next hour (with any fallback; NaN there:
 * null, no forecast); `hourlyField` the real background only, whose reach ends the hourly steps.
 */
export function emitCell(centre: LatLon, biasK: number, varK2: number, runTimeMs: number, field: BackgroundField, hourlyField: BackgroundField | null, o: EmitOptions): EmittedCell | null {
  const tempsC: number[] = [];
  const sigmasC: number[] = [];
  for (let k = 0; k <= o.steps; k++) {
    const leadMs = k * o.stepMin * MINUTE_MS;
    const bg = field.at(centre, runTimeMs + leadMs);
    const b = biasAtLead(biasK, varK2, leadMs, o.process);
    const t = bg + b.biasK, s = Math.sqrt(b.varK2 + o.pointVarK2);
    if (!Number.isFinite(t) || !Number.isFinite(s)) return null;
    tempsC.push(round2(t));
    sigmasC.push(round2(s));
  }
  const hourlyStartMs = Math.ceil(runTimeMs / HOUR_MS) * HOUR_MS;
  const hourlyTempsC: number[] = [];
  const hourlySigmasC: number[] = [];
  for (let h = 0; hourlyField && h < o.hourlyMaxSteps; h++) {
    const t = hourlyStartMs + h * HOUR_MS;
    const bg = hourlyField.at(centre, t);
    if (!Number.isFinite(bg)) break;
    const b = biasAtLead(biasK, varK2, t - runTimeMs, o.process);
    hourlyTempsC.push(round2(bg + b.biasK));
    hourlySigmasC.push(round2(Math.sqrt(b.varK2 + o.pointVarK2)));
  }
  return hourlyTempsC.length > 0
    ? { tempsC, sigmasC, hourlyStartMs, hourlyTempsC, hourlySigmasC }
    : { tempsC, sigmasC, hourlyStartMs: null, hourlyTempsC: null, hourlySigmasC: null };
}

/** A field that is `primary` where it has a value and `fallbackC` elsewhere (NaN fallback: none). */
export function withFallback(primary: BackgroundField | null, fallbackC: number): BackgroundField & { covers(p: LatLon, t: number): boolean } {
  return {
    points: primary?.points ?? 0,
    at(p, t, z) {
      const v = primary ? primary.at(p, t, z) : NaN;
      return Number.isFinite(v) ? v : fallbackC;
    },
    covers(p, t) {
      return primary !== null && Number.isFinite(primary.at(p, t));
    },
  };
}
