/**
 * The autoregressive baseline (the ARIMA-class model of the literature, in its direct multi-step
 * form): for each lead L, by least squares on the training period,
 *
 *   ŷ(t0 + L) = y0 + c_L + Σ_j a_{L,j} (y0 − y(t0 − lag_j))
 *
 * i.e. an AR model on levels whose coefficients sum to one (so a constant series is forecast as
 * itself). Pure; the normal equations are solved with ml-matrix. Exported to ONNX as one MatMul
 * and an Add over the levels [y(t0 − lag_p), …, y(t0 − lag_1), y0].
 */
import { Matrix, solve } from 'ml-matrix';
import { encodeModel } from '../onnx/onnx-model.ts';
import type { GridSeries } from '../series/grid-series.ts';

export interface ArModel {
  /** Lags in grid steps, ascending (e.g. 1…6 = 5…30 min for the 5-minute model, 12, 24 for the hourly one). */
  lagSteps: number[];
  /** Leads in grid steps (1…12 = 5…60 min). */
  leadSteps: number[];
  /** a[leadIndex][lagIndex]. */
  coef: number[][];
  intercept: number[];
  /** Rows each lead was fitted on. */
  rows: number[];
}

/** Least-squares fit on the issue slots of the series that `keep` admits (the training split). */
export function fitAr(series: readonly GridSeries[], o: { lagSteps: number[]; leadSteps: number[]; keep: (s: GridSeries, slot: number) => boolean; ridge?: number }): ArModel {
  const p = o.lagSteps.length;
  const m = p + 1;
  const coef: number[][] = [], intercept: number[] = [], rows: number[] = [];
  const maxLag = Math.max(...o.lagSteps);
  for (const lead of o.leadSteps) {
    const xtx = new Float64Array(m * m), xty = new Float64Array(m);
    const x = new Float64Array(m);
    let n = 0;
    for (const s of series) {
      const v = s.values;
      for (let k = maxLag; k + lead < v.length; k++) {
        const y0 = v[k]!, y = v[k + lead]!;
        if (Number.isNaN(y0) || Number.isNaN(y)) continue;
        let ok = true;
        for (let j = 0; j < p; j++) {
          const l = v[k - o.lagSteps[j]!]!;
          if (Number.isNaN(l)) { ok = false; break; }
          x[j] = y0 - l;
        }
        if (!ok || !o.keep(s, k)) continue;
        x[p] = 1;
        const r = y - y0;
        for (let a = 0; a < m; a++) {
          xty[a] = xty[a]! + x[a]! * r;
          for (let b = 0; b < m; b++) xtx[a * m + b] = xtx[a * m + b]! + x[a]! * x[b]!;
        }
        n++;
      }
    }
    if (n < 10 * m) throw new Error(`AR fit for lead ${lead}: only ${n} complete rows`);
    const A = new Matrix(m, m);
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) A.set(a, b, xtx[a * m + b]! / n + (a === b && a < p ? (o.ridge ?? 1e-9) : 0));
    const beta = solve(A, Matrix.columnVector(Array.from(xty, (v) => v / n)));
    coef.push(Array.from({ length: p }, (_, j) => beta.get(j, 0)));
    intercept.push(beta.get(p, 0));
    rows.push(n);
  }
  return { lagSteps: [...o.lagSteps], leadSteps: [...o.leadSteps], coef, intercept, rows };
}

/** The forecast at every lead for one issue, or NaN where a lag (or y0) is missing. */
export function predictAr(model: ArModel, values: ArrayLike<number>, slot: number, out: Float64Array): boolean {
  const y0 = values[slot]!;
  const p = model.lagSteps.length;
  let ok = !Number.isNaN(y0);
  const d = new Float64Array(p);
  for (let j = 0; ok && j < p; j++) {
    const k = slot - model.lagSteps[j]!;
    const l = k >= 0 ? values[k]! : NaN;
    if (Number.isNaN(l)) ok = false;
    d[j] = y0 - l;
  }
  for (let i = 0; i < model.leadSteps.length; i++) {
    if (!ok) { out[i] = NaN; continue; }
    let y = y0 + model.intercept[i]!;
    for (let j = 0; j < p; j++) y += model.coef[i]![j]! * d[j]!;
    out[i] = y;
  }
  return ok;
}

/** Weights on the levels [y(t0 − lag_p), …, y(t0 − lag_1), y0] → one column per lead. */
export function arLevelWeights(model: ArModel): Float32Array {
  const p = model.lagSteps.length, L = model.leadSteps.length;
  const w = new Float32Array((p + 1) * L);
  for (let i = 0; i < L; i++) {
    let sum = 0;
    for (let j = 0; j < p; j++) {
      const a = model.coef[i]![j]!;
      sum += a;
      w[(p - 1 - j) * L + i] = -a; // row p-1-j holds lag j (oldest first)
    }
    w[p * L + i] = 1 + sum;
  }
  return w;
}

export function arToOnnx(model: ArModel, metadata: Record<string, string>): Uint8Array {
  const p = model.lagSteps.length, L = model.leadSteps.length;
  return encodeModel({
    graphName: 'ar_direct',
    inputs: [{ name: 'lags', dims: ['N', p + 1], doc: `levels [°C] at t0 − ${[...model.lagSteps].reverse().join(', ')} steps and t0 (oldest first)` }],
    outputs: [{ name: 'y', dims: ['N', L], doc: `forecast [°C] at leads ${model.leadSteps.join(', ')} steps` }],
    initializers: [
      { name: 'W', dims: [p + 1, L], values: arLevelWeights(model) },
      { name: 'c', dims: [L], values: Float32Array.from(model.intercept) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['lags', 'W'], outputs: ['wy'] },
      { op: 'Add', inputs: ['wy', 'c'], outputs: ['y'] },
    ],
    metadata,
    producerVersion: metadata['version'] ?? '1',
  });
}
