/**
 * From a window's readings, the background field and the grid to a nowcast per cell. Pure.
 *   map:    each reading -> innovation against the background at its place and time
 *   reduce: per cell -> bias (the baseline mean; see mean-bias.ts)
 *   emit:   per cell and lead -> background + decaying bias, with sigma
 */
import type { LatLon } from '../infra/geo/index.ts';
import type { BackgroundField } from './background-field.ts';
import { meanBiasByCell, type Innovation, type MeanBiasOptions, type MeanBiasResult } from './mean-bias.ts';
import { biasAtLead, type BiasPersistenceOptions } from '../models/index.ts';

/** The product's horizon: now and the next hour in 5-minute steps. */
export const STEP_MIN = 5;
export const STEPS = 12;

export interface WindowColumns {
  sensorId: readonly string[];
  cell: readonly string[];
  timeMs: ArrayLike<number>;
  lat: ArrayLike<number>;
  lon: ArrayLike<number>;
  tempC: ArrayLike<number>;
}

export interface GridCell {
  cell: string;
  centre: LatLon;
}

export interface NowcastOptions {
  runTimeMs: number;
  /** Minutes between steps and how many steps after "now" (5 and 12: the next hour). */
  stepMin?: number;
  steps?: number;
  bias?: MeanBiasOptions;
  persistence?: BiasPersistenceOptions;
}

export interface CellNowcast {
  cell: string;
  tempsC: number[];
  sigmasC: number[];
  nObs: number;
}

/** MAP: innovations y = T_obs - T_background; readings where the background is unknown are left out. */
export function innovationsOf(w: WindowColumns, field: BackgroundField): Innovation[] {
  const n = w.sensorId.length;
  for (const [name, col] of [['cell', w.cell], ['timeMs', w.timeMs], ['lat', w.lat], ['lon', w.lon], ['tempC', w.tempC]] as const) {
    if (col.length !== n) throw new RangeError(`window columns differ in length: sensorId has ${n}, ${name} has ${col.length}`);
  }
  const out: Innovation[] = [];
  for (let i = 0; i < n; i++) {
    const bg = field.at({ lat: w.lat[i]!, lon: w.lon[i]! }, w.timeMs[i]!);
    if (Number.isNaN(bg)) continue;
    out.push({ sensorId: w.sensorId[i]!, cell: w.cell[i]!, innovationK: w.tempC[i]! - bg });
  }
  return out;
}

/** REDUCE + EMIT for every grid cell. Cells where the background is unknown are left out. */
export function nowcastCells(grid: readonly GridCell[], field: BackgroundField, biases: MeanBiasResult, o: NowcastOptions): CellNowcast[] {
  const stepMin = o.stepMin ?? STEP_MIN;
  const steps = o.steps ?? STEPS;
  const out: CellNowcast[] = [];
  for (const g of grid) {
    const b = biases.cells.get(g.cell) ?? biases.domain;
    const tempsC: number[] = [];
    const sigmasC: number[] = [];
    let known = true;
    for (let k = 0; k <= steps; k++) {
      const lead = k * stepMin;
      const bg = field.at(g.centre, o.runTimeMs + lead * 60_000);
      if (Number.isNaN(bg)) { known = false; break; }
      const f = biasAtLead(b.biasK, b.sigmaK, lead, o.persistence);
      tempsC.push(round2(bg + f.biasK));
      sigmasC.push(round2(f.sigmaK));
    }
    if (known) out.push({ cell: g.cell, tempsC, sigmasC, nObs: biases.cells.get(g.cell)?.nSensors ?? 0 });
  }
  return out;
}

/** The whole pure batch: window + background + grid -> nowcasts and the bias summary. */
export function nowcastWindow(w: WindowColumns, field: BackgroundField, grid: readonly GridCell[], o: NowcastOptions): { cells: CellNowcast[]; biases: MeanBiasResult; nInnovations: number } {
  const innovations = innovationsOf(w, field);
  const biases = meanBiasByCell(innovations, o.bias);
  return { cells: nowcastCells(grid, field, biases, o), biases, nInnovations: innovations.length };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
