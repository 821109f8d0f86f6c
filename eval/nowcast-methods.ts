/**
 * The next-hour methods compared on a set of issues, each an n × 13 array of forecasts [°C]:
 *   persistence  the analysis at lead 0 held for the hour
 *   filter       the filter's trajectory (background + decaying bias); persistence where no
 *                background covers the station (what the batch would produce)
 *   ar           the autoregressive baseline: the 5-minute model where its lags are all there,
 *                else the hourly model at lead 60 where its lags are, else persistence
 *   bilstm_raw   the smoother's own trajectory (any NextHourSmoother, here the ONNX BiLSTM)
 *   bilstm       what is served: the smoother's trajectory blended with the previous issue's served
 *                one (blendIssueSequence), issue after issue of each series, as the batch does from
 *                one window to the next
 */
import { blendIssueSequence, buildFeatures, predictAr, TRAJECTORY_STEPS, type ArModel, type IssueBlend, type IssueSet, type OnnxSmoother } from '../models/index.ts';

export function persistenceForecasts(issues: IssueSet): Float64Array {
  const K = issues.trajectorySteps;
  const out = new Float64Array(issues.n * K);
  for (let i = 0; i < issues.n; i++) out.fill(issues.filter[i * K]!, i * K, (i + 1) * K);
  return out;
}

export function filterForecasts(issues: IssueSet): Float64Array {
  return buildFeatures({ ...issues, runTimeMs: issues.runTimeMs }, 'batch-first', 'float32').base;
}

/** AR forecasts and how many issues fell back (to the hourly model, to persistence). */
export function arForecasts(issues: IssueSet, models: { fiveMinute: ArModel; hourly?: ArModel }): { values: Float64Array; hourly: number; persistence: number } {
  const K = issues.trajectorySteps, H = issues.historySteps;
  const values = new Float64Array(issues.n * K);
  const lags = new Float64Array(H + 1);
  const out5 = new Float64Array(models.fiveMinute.leadSteps.length);
  const outH = new Float64Array(models.hourly?.leadSteps.length ?? 0);
  let hourly = 0, persistence = 0;
  for (let i = 0; i < issues.n; i++) {
    for (let k = 0; k < H; k++) lags[k] = issues.history[i * H + k]!;
    const y0 = issues.filter[i * K]!;
    lags[H] = y0;
    values.fill(y0, i * K, (i + 1) * K);
    if (predictAr(models.fiveMinute, lags, H, out5)) {
      models.fiveMinute.leadSteps.forEach((s, q) => { if (s < K) values[i * K + s] = out5[q]!; });
    } else if (models.hourly && predictAr(models.hourly, lags, H, outH)) {
      models.hourly.leadSteps.forEach((s, q) => { if (s < K) values[i * K + s] = outH[q]!; });
      hourly++;
    } else {
      persistence++;
    }
  }
  return { values, hourly, persistence };
}

/** The smoother over every issue, in blocks, each row with its own lead-0 time. */
export async function smootherForecasts(issues: IssueSet, smoother: OnnxSmoother, progress?: (m: string) => void): Promise<Float64Array> {
  const K = TRAJECTORY_STEPS, H = issues.historySteps;
  const out = new Float64Array(issues.n * K);
  const block = 65_536;
  for (let from = 0; from < issues.n; from += block) {
    const n = Math.min(block, issues.n - from);
    const y = await smoother.smooth({
      runTimeMs: issues.runTimeMs[from]!, rowRunTimeMs: issues.runTimeMs.subarray(from, from + n), n, historySteps: H,
      history: Float32Array.from(issues.history.subarray(from * H, (from + n) * H)), trajectorySteps: K,
      filter: Float32Array.from(issues.filter.subarray(from * K, (from + n) * K)), filterSigma: new Float32Array(n * K),
      lat: Float32Array.from(issues.lat.subarray(from, from + n)), lon: Float32Array.from(issues.lon.subarray(from, from + n)),
    });
    out.set(y, from * K);
    progress?.(`smoother ${from + n}/${issues.n} issues`);
  }
  return out;
}

/** The served trajectories: each issue's smoother output blended with the previous issue's served one (issues grouped by series, ascending slots). */
export function servedForecasts(issues: IssueSet, raw: Float64Array, blend: IssueBlend): Float64Array {
  return blendIssueSequence({ nn: raw, n: issues.n, steps: issues.trajectorySteps, series: issues.series, slot: issues.slot, blend });
}
