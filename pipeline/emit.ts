/**
 * EMIT: from each cell's analysed bias to what the API serves: the next hour at 5-minute steps and
 * hourly steps as far as the background reaches, each with a 1-sigma uncertainty. The bias evolves
 * with the filter's own model (its fast part relaxing within hours, its slow part over most of a day,
 * its diurnal part following the hour of day) and its variance toward the climatological one; the published sigma is at least the network's scatter of a point around its neighbours. Pure.
 */
import type { LatLon } from '../infra/geo/index.ts';
import { HOUR_MS, MINUTE_MS } from '../infra/time.ts';
import type { BackgroundField } from './background-field.ts';
import { LeadForecaster, publishedVarK2, type CellStates } from './analysis/cell-analysis.ts';
import type { BiasModel } from './analysis/kalman.ts';

export interface EmitOptions {
  stepMin: number;
  /** Steps after lead 0 (12: the next hour). */
  steps: number;
  /** Hourly steps at most. */
  hourlyMaxSteps: number;
  process: BiasModel;
  /** The network's cross-validation variance of a point [K²] (the floor of the published variance). */
  pointVarK2: number;
}

export interface EmittedCell {
  tempsC: number[];
  sigmasC: number[];
  hourlyStartMs: number | null;
  hourlyTempsC: number[] | null;
  hourlySigmasC: number[] | null;
}

/** The background at a set of places, per time (see BackgroundField.sampler). */
export type PlaceSampler = (timeMs: number) => Float64Array;

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Every cell's forecast. `next` samples the background of the next hour at the cells (with any
 * fallback; a cell with NaN there gets null: no forecast); `hourly` the real background only (null:
 * none), whose reach ends each cell's hourly steps.
 */
export function emitCells(states: CellStates, runTimeMs: number, next: PlaceSampler, hourly: PlaceSampler | null, o: EmitOptions): (EmittedCell | null)[] {
  const n = states.validMs.length;
  const lead = new LeadForecaster(o.process);
  const out: (EmittedCell | null)[] = Array.from({ length: n }, () => ({ tempsC: [], sigmasC: [], hourlyStartMs: null, hourlyTempsC: null, hourlySigmasC: null }));
  for (let k = 0; k <= o.steps; k++) {
    const leadMs = k * o.stepMin * MINUTE_MS;
    const bg = next(runTimeMs + leadMs);
    lead.at(runTimeMs, leadMs);
    for (let i = 0; i < n; i++) {
      const e = out[i];
      if (!e) continue;
      const b = lead.bias(states, i);
      const t = bg[i]! + b.biasK, s = Math.sqrt(publishedVarK2(b.varK2, o.pointVarK2));
      if (!Number.isFinite(t) || !Number.isFinite(s)) { out[i] = null; continue; }
      e.tempsC.push(round2(t));
      e.sigmasC.push(round2(s));
    }
  }
  if (!hourly) return out;
  const hourlyStartMs = Math.ceil(runTimeMs / HOUR_MS) * HOUR_MS;
  const open = new Uint8Array(n).fill(1);
  for (let h = 0; h < o.hourlyMaxSteps; h++) {
    const t = hourlyStartMs + h * HOUR_MS;
    const bg = hourly(t);
    lead.at(runTimeMs, t - runTimeMs);
    let any = false;
    for (let i = 0; i < n; i++) {
      const e = out[i];
      if (!e || !open[i]) continue;
      if (!Number.isFinite(bg[i]!)) { open[i] = 0; continue; }
      const b = lead.bias(states, i);
      if (e.hourlyTempsC === null) { e.hourlyStartMs = hourlyStartMs; e.hourlyTempsC = []; e.hourlySigmasC = []; }
      e.hourlyTempsC.push(round2(bg[i]! + b.biasK));
      e.hourlySigmasC!.push(round2(Math.sqrt(publishedVarK2(b.varK2, o.pointVarK2))));
      any = true;
    }
    if (!any) break;
  }
  return out;
}

/** A sampler that is `primary`'s value where it has one and `fallbackC` elsewhere (NaN fallback: none). */
export function withFallback(primary: PlaceSampler | null, n: number, fallbackC: number): PlaceSampler {
  return (t) => {
    const v = primary ? primary(t) : new Float64Array(n).fill(NaN);
    for (let i = 0; i < n; i++) if (!Number.isFinite(v[i]!)) v[i] = fallbackC;
    return v;
  };
}

/** The background at a point, or the fallback where the field has none (for readings). */
export function valueOrFallback(field: BackgroundField | null, fallbackC: number, p: LatLon, t: number, z?: number): number {
  const v = field ? field.at(p, t, z) : NaN;
  return Number.isFinite(v) ? v : fallbackC;
}
