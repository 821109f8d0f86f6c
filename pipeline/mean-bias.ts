/**
 * The BASELINE correction of the background: a plain per-cell mean of the background's error.
 * No quality control, no Kalman filter, no spatial spreading: it is what the real correction
 * (QC + Kalman in time + localised OI in space) must beat. Pure.
 *
 * 1. Each sensor's innovations in the window (y = T_obs - T_background) are averaged, so a sensor
 *    reporting every minute counts as much as one reporting every ten.
 * 2. A cell's bias is the mean of its sensors' mean innovations.
 * 3. Cells without sensors take the domain's median sensor innovation (the median resists the
 *    indoor and sun-exposed sensors that the baseline does not filter).
 */

export interface Innovation {
  sensorId: string;
  cell: string;
  /** T_obs - T_background [K]. */
  innovationK: number;
}

export interface CellBias {
  /** Bias estimate [K] to add to the background. */
  biasK: number;
  /** 1-sigma uncertainty of biasK [K]. */
  sigmaK: number;
  /** Sensors that contributed. */
  nSensors: number;
}

export interface MeanBiasResult {
  cells: Map<string, CellBias>;
  /** For cells without sensors. */
  domain: CellBias;
  nSensors: number;
}

export interface MeanBiasOptions {
  /** Floor on a cell's sigma [K]: what a mean of few sensors cannot resolve. */
  sigmaFloorK?: number;
  /** Sigma when the window has no sensors at all [K]: the background's typical error. */
  noDataSigmaK?: number;
}

/** Normal-consistent scale of the median absolute deviation (1 / Phi^-1(3/4)). */
const MAD_TO_SIGMA = 1.482602218505602;

export function meanBiasByCell(innovations: readonly Innovation[], options: MeanBiasOptions = {}): MeanBiasResult {
  const floor = options.sigmaFloorK ?? 0.3;
  const noData = options.noDataSigmaK ?? 2.0;
  const perSensor = new Map<string, { cell: string; sum: number; n: number }>();
  for (const x of innovations) {
    if (!Number.isFinite(x.innovationK)) continue;
    const s = perSensor.get(x.sensorId);
    if (s) { s.sum += x.innovationK; s.n++; s.cell = x.cell; }
    else perSensor.set(x.sensorId, { cell: x.cell, sum: x.innovationK, n: 1 });
  }
  const sensorMeans: number[] = [];
  const byCell = new Map<string, number[]>();
  for (const s of perSensor.values()) {
    const m = s.sum / s.n;
    sensorMeans.push(m);
    const list = byCell.get(s.cell);
    if (list) list.push(m);
    else byCell.set(s.cell, [m]);
  }
  if (sensorMeans.length === 0) {
    return { cells: new Map(), domain: { biasK: 0, sigmaK: noData, nSensors: 0 }, nSensors: 0 };
  }
  const med = median(sensorMeans);
  const spread = Math.max(floor, MAD_TO_SIGMA * median(sensorMeans.map((m) => Math.abs(m - med))));
  const cells = new Map<string, CellBias>();
  for (const [cell, ms] of byCell) {
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    cells.set(cell, { biasK: mean, sigmaK: Math.hypot(floor, spread / Math.sqrt(ms.length)), nSensors: ms.length });
  }
  // The domain value stands for a cell with no sensor: its error is the spread between sensors.
  return { cells, domain: { biasK: med, sigmaK: Math.hypot(floor, spread), nSensors: sensorMeans.length }, nSensors: sensorMeans.length };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
