/**
 * `nowcast`: the next hour at stations, for persistence, the autoregressive baseline, the filter's
 * trajectory and the BiLSTM smoother (as served: blended with the previous issue's served trajectory;
 * and raw, the network's own output).
 *
 * Data, found in --data by columns: logging stations (pywws format) resampled to 5 minutes score
 * every lead (5, 15, 30, 60 min); official hourly series (DWD, UCO formats) score lead 60; the
 * background (ERA5 format), where it covers a station, makes the filter's trajectory (background +
 * the decaying analysis-minus-background). An issue is every slot with a reading (the analysis at
 * lead 0 at a station is its reading); its inputs are what the batch would hand the smoother there.
 *
 * Models: the served artifacts (--models, default models/artifacts): bilstm.onnx through the
 * registry and the ONNX smoother, the AR coefficients from the ar-5min and ar-hourly cards (fitted
 * on the training period only, by `npm run train -- ar`).
 *
 * Figures: MAE and RMSE per lead on the cases every method forecasts; lead 60 over every series,
 * leads 5–30 over the 5-minute series; jumpiness over consecutive issues of the 5-minute series.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BLEND_SHAPES, blendWeights, createOnnxSmoother, extractIssues, issueSlots, keepLastHistory, subsetIssues, ModelRegistry, slotTime, splitOf, HISTORY_STEPS, SERVED_BLEND, SMOOTHER_STEP_MIN, thinHistory, TRAJECTORY_STEPS, type ArModel, type BlendShape, type IssueBlend, type IssueSet, type OnnxSmoother } from '../models/index.ts';
import { parseUtcMs } from './csv.ts';
import { stationFilterRetention } from '../pipeline/index.ts';
import { UsageError, type Evaluator } from './evaluator.ts';
import { loadStationSeries, type StationSeriesSet } from './nowcast-datasets.ts';
import { arForecasts, filterForecasts, persistenceForecasts, servedForecasts, smootherForecasts } from './nowcast-methods.ts';
import { jumpiness, scoreLeads, type LeadScore } from './nowcast-scoring.ts';
import { maeChartSvg } from './nowcast-chart.ts';

export const LEAD_STEPS = [1, 3, 6, 12] as const;
export const METHODS = ['persistence', 'ar', 'filter', 'bilstm', 'bilstm_raw'] as const;
export type Method = (typeof METHODS)[number];

export interface ArModels {
  fiveMinute: ArModel;
  hourly?: ArModel;
}

/** The AR models stored in their cards (field `ar`). */
export function loadArModels(modelsDir: string): ArModels {
  const read = (name: string): ArModel | undefined => {
    const f = join(modelsDir, `${name}.card.json`);
    if (!existsSync(f)) return undefined;
    const card = JSON.parse(readFileSync(f, 'utf8')) as { ar?: ArModel };
    if (!card.ar) throw new UsageError(`${f} holds no AR coefficients`);
    return card.ar;
  };
  const fiveMinute = read('ar-5min');
  if (!fiveMinute) throw new UsageError(`${modelsDir}: no ar-5min.card.json (run npm run train -- ar --data <training data>)`);
  const hourly = read('ar-hourly');
  return { fiveMinute, ...(hourly ? { hourly } : {}) };
}

export interface IssueFigures {
  issues: number;
  /** Per method and lead [min]. */
  subHourly: Record<Method, Record<number, LeadScore>>;
  lead60All: Record<Method, LeadScore>;
  lead60Hourly: Record<Method, LeadScore>;
  /** Lead 60 by station series (the index into the list the issues came from). */
  lead60BySeries: Record<number, Record<Method, LeadScore>>;
  jumpiness: Record<Method, number>;
  /** The least jumpiness each method's first and last forecasts of every target time allow (nowcast-scoring's floor). */
  jumpinessFloor: Record<Method, number>;
  jumpinessPairs: number;
  /** The same by the pairs' gap [min] (5: consecutive 5-minute issues, the batch's cadence). */
  jumpinessByGapMin: Record<number, { comparisons: number; byMethod: Record<Method, number>; floorByMethod: Record<Method, number>; byLeadMin: Record<number, { comparisons: number; byMethod: Record<Method, number> }> }>;
  arFallback: { hourly: number; persistence: number };
}

/**
 * Every method on a set of issues; `hourlyRow(i)` tells which issues come from hourly series. `raw`:
 * the smoother's forecasts of these issues when the caller already has them (else computed here).
 */
export async function evaluateIssues(issues: IssueSet, o: { smoother: OnnxSmoother; ar: ArModels; hourlyRow: (i: number) => boolean; blend?: IssueBlend; raw?: Float64Array; progress?: (m: string) => void }): Promise<IssueFigures> {
  const ar = arForecasts(issues, o.ar);
  const raw = o.raw ?? await smootherForecasts(issues, o.smoother, o.progress);
  const methods: Record<Method, Float64Array> = {
    persistence: persistenceForecasts(issues),
    ar: ar.values,
    filter: filterForecasts(issues),
    bilstm: servedForecasts(issues, raw, o.blend ?? SERVED_BLEND),
    bilstm_raw: raw,
  };
  const sub = scoreLeads(issues, methods, LEAD_STEPS, (i) => !o.hourlyRow(i));
  const all = scoreLeads(issues, methods, [12]);
  const hourly = scoreLeads(issues, methods, [12], o.hourlyRow);
  const lead60BySeries: IssueFigures['lead60BySeries'] = {};
  for (const s of new Set(issues.series)) {
    const r = scoreLeads(issues, methods, [12], (i) => issues.series[i] === s);
    lead60BySeries[s] = Object.fromEntries(METHODS.map((m) => [m, r[m]![12]!])) as Record<Method, LeadScore>;
  }
  const j = jumpiness(issues, methods, (i) => !o.hourlyRow(i));
  const byLeadMin = (r: Record<number, LeadScore>) => Object.fromEntries(LEAD_STEPS.map((k) => [k * 5, r[k]!]));
  return {
    issues: issues.n,
    subHourly: Object.fromEntries(METHODS.map((m) => [m, byLeadMin(sub[m]!)])) as IssueFigures['subHourly'],
    lead60All: Object.fromEntries(METHODS.map((m) => [m, all[m]![12]!])) as IssueFigures['lead60All'],
    lead60Hourly: Object.fromEntries(METHODS.map((m) => [m, hourly[m]![12]!])) as IssueFigures['lead60Hourly'],
    lead60BySeries,
    jumpiness: j.byMethod as Record<Method, number>,
    jumpinessFloor: j.floorByMethod as Record<Method, number>,
    jumpinessPairs: j.pairs,
    jumpinessByGapMin: Object.fromEntries(Object.entries(j.byGap).map(([g, v]) => [Number(g) * SMOOTHER_STEP_MIN, {
      comparisons: v.comparisons, byMethod: v.byMethod as Record<Method, number>, floorByMethod: v.floorByMethod as Record<Method, number>,
      byLeadMin: Object.fromEntries(Object.entries(v.byLead).map(([k, l]) => [Number(k) * SMOOTHER_STEP_MIN, { comparisons: l.comparisons, byMethod: l.byMethod as Record<Method, number> }])),
    }])),
    arFallback: { hourly: ar.hourly, persistence: ar.persistence },
  };
}

/** History steps at which the cold start is scored: none (the batch's first window), 30 min, 1 h. */
export const COLD_START_STEPS = [0, 6, 12] as const;

/**
 * The network (raw) at a cold start: the 5-minute series' issues as if the batch had started `m`
 * steps before each (only the last m steps of history), MAE by lead; with the full history (`raw`:
 * the smoother's forecasts of all `issues`) and persistence on the same cases for comparison.
 */
export async function coldStartFigures(issues: IssueSet, o: { smoother: OnnxSmoother; raw: Float64Array; use: (i: number) => boolean; progress?: (m: string) => void }): Promise<Record<string, Record<number, LeadScore>>> {
  const K = issues.trajectorySteps;
  const rows: number[] = [];
  for (let i = 0; i < issues.n; i++) if (o.use(i)) rows.push(i);
  const sub = subsetIssues(issues, rows);
  const full = new Float64Array(rows.length * K);
  rows.forEach((r, q) => full.set(o.raw.subarray(r * K, (r + 1) * K), q * K));
  const methods: Record<string, Float64Array> = { persistence: persistenceForecasts(sub), full };
  for (const m of COLD_START_STEPS) {
    o.progress?.(`cold start: history of ${m} steps`);
    methods[String(m)] = await smootherForecasts(keepLastHistory(sub, m), o.smoother);
  }
  return scoreLeads(sub, methods, LEAD_STEPS);
}

/** Which issues: all of them (held-back data), or only those of the training run's validation or training weeks. */
export type IssueSplit = 'all' | 'validation' | 'train';

/** The issues of every station series (all slots with a reading), restricted by split and time. */
export function stationIssues(set: StationSeriesSet, o: { split: IssueSplit; fromMs: number; toMs: number }): { issues: IssueSet; hourlyRow: (i: number) => boolean; perStation: { id: string; issues: number }[] } {
  const list = set.stations.map((st) => {
    const slots = Array.from(issueSlots(st.series, { historySteps: HISTORY_STEPS, trajectorySteps: TRAJECTORY_STEPS, needTarget: false })).filter((slot) => {
      const t = slotTime(st.series, slot);
      return t >= o.fromMs && t < o.toMs && (o.split === 'all' || splitOf(t) === o.split);
    });
    return { series: st.series, background: st.background, slots };
  });
  // The filter's trajectory by the batch's own rule (see stationFilterRetention).
  const issues = extractIssues(list, { historySteps: HISTORY_STEPS, trajectorySteps: TRAJECTORY_STEPS, filterRetention: stationFilterRetention(SMOOTHER_STEP_MIN, TRAJECTORY_STEPS - 1) });
  const hourlyIdx = new Set(set.stations.map((s, i) => (s.series.sampling === 'hourly' ? i : -1)).filter((i) => i >= 0));
  return { issues, hourlyRow: (i) => hourlyIdx.has(issues.series[i]!), perStation: list.map((l) => ({ id: l.series.id, issues: l.slots.length })) };
}

const r3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);

function usageArgs(args: string[]) {
  try {
    return parseArgs({
      args, allowPositionals: false, strict: true,
      options: {
        data: { type: 'string' }, models: { type: 'string' }, split: { type: 'string' }, chart: { type: 'string' },
        from: { type: 'string' }, to: { type: 'string' }, 'pws-lat': { type: 'string' }, 'pws-lon': { type: 'string' },
        'station-lat': { type: 'string' }, 'station-lon': { type: 'string' }, 'blend-w': { type: 'string' }, 'blend-shape': { type: 'string' }, 'history-every': { type: 'string' }, 'history-hold': { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} expects a number, got "${v}"`);
  return n;
}

function time(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const t = parseUtcMs(v);
  if (Number.isNaN(t)) throw new UsageError(`${flag} expects an ISO-8601 UTC time, got "${v}"`);
  return t;
}

export const nowcastEvaluator: Evaluator = {
  description: 'the next hour at stations: persistence, AR, the filter trajectory and the BiLSTM (MAE/RMSE by lead, jumpiness, a chart)',
  usage: [
    '--data <dir>            folders of logging stations (pywws), official hourly series (DWD/UCO), optional background (ERA5)',
    '--models <dir>          the served artifacts (default models/artifacts)',
    '--split all|validation|train  all issues (held-back data), or only the training run\'s validation weeks, or its training weeks (default all)',
    '--chart <file.svg>      where the chart goes (default data/eval/nowcast.svg)',
    '--from/--to <iso>       lead-0 times, to exclusive',
    '--pws-lat/--pws-lon     position of the logging station (default Falkensee, approximate)',
    '--station-lat/--station-lon  position of a DWD-format station (default Berlin-Tempelhof)',
    '--history-every <n>     keep only every n-th step of each issue\'s history, counting back from lead 0 (12: hourly; default 1, all)',
    '--history-hold          with --history-every: hold each kept step through the steps after it (the batch\'s analyses where readings are that rare) instead of leaving them missing',
    `--blend-w <w> --blend-shape ${BLEND_SHAPES.join('|')}  the served blend with the previous issue (default the served one: ${SERVED_BLEND.shape}, ${SERVED_BLEND.wMin}; 1 = none)`,
  ].join('\n'),
  async run({ args, progress }) {
    const started = Date.now();
    const v = usageArgs(args);
    if (v.data === undefined) throw new UsageError('--data <dir> is required');
    const split = v.split ?? 'all';
    if (split !== 'all' && split !== 'validation' && split !== 'train') throw new UsageError(`--split expects all, validation or train, got "${split}"`);
    const modelsDir = resolve(v.models ?? 'models/artifacts');
    const pwsLat = num('--pws-lat', v['pws-lat']), pwsLon = num('--pws-lon', v['pws-lon']);
    const stLat = num('--station-lat', v['station-lat']), stLon = num('--station-lon', v['station-lon']);
    const fromMs = time('--from', v.from, -Infinity), toMs = time('--to', v.to, Infinity);
    const blend: IssueBlend = { wMin: num('--blend-w', v['blend-w']) ?? SERVED_BLEND.wMin, shape: (v['blend-shape'] ?? SERVED_BLEND.shape) as BlendShape };
    try {
      blendWeights(blend, TRAJECTORY_STEPS);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const historyEvery = num('--history-every', v['history-every']) ?? 1;
    if (!Number.isInteger(historyEvery) || historyEvery < 1) throw new UsageError(`--history-every expects a positive integer, got "${v['history-every']}"`);
    const set = await loadStationSeries(resolve(v.data), {
      progress,
      ...(pwsLat !== undefined && pwsLon !== undefined ? { pwsPosition: { lat: pwsLat, lon: pwsLon } } : {}),
      ...(stLat !== undefined && stLon !== undefined ? { dwdPosition: { lat: stLat, lon: stLon } } : {}),
    });
    if (set.stations.length === 0) throw new UsageError(`no station series in ${resolve(v.data)} (found: ${set.found.join('; ') || 'nothing'})`);
    const all = stationIssues(set, { split, fromMs, toMs });
    const { hourlyRow, perStation } = all;
    const historyHold = v['history-hold'] === true;
    if (historyHold && historyEvery === 1) throw new UsageError('--history-hold needs --history-every <n> with n > 1');
    const issues = historyEvery > 1 ? thinHistory(all.issues, historyEvery, { hold: historyHold }) : all.issues;
    if (issues.n === 0) throw new UsageError('no issue in the period');
    progress(`${issues.n} issues at ${set.stations.length} station series`);
    const ar = loadArModels(modelsDir);
    const registry = await ModelRegistry.open(modelsDir, { expected: ['bilstm'] });
    try {
      if (!registry.card('bilstm')) throw new UsageError(`${modelsDir}: no loadable bilstm model (${JSON.stringify(registry.health().models)})`);
      const smoother = createOnnxSmoother(registry, 'bilstm');
      const raw = await smootherForecasts(issues, smoother, progress);
      const f = await evaluateIssues(issues, { smoother, ar, hourlyRow, blend, raw, progress });
      const cold = await coldStartFigures(issues, { smoother, raw, use: (i) => !hourlyRow(i), progress });
      const chart = resolve(v.chart ?? 'data/eval/nowcast.svg');
      mkdirSync(dirname(chart), { recursive: true });
      writeFileSync(chart, maeChartSvg(`Next-hour MAE at 5-minute stations (${split === 'all' ? 'all issues' : `${split === 'train' ? 'training' : 'validation'} weeks`})`,
        METHODS.map((m) => ({ name: `${m}${m.startsWith('bilstm') ? `@${smoother.version}` : ''}`, points: [[0, 0], ...LEAD_STEPS.map((k): [number, number] => [k * 5, f.subHourly[m][k * 5]!.maeK])] })),
        `${f.subHourly.persistence[60]!.n} cases at lead 60 (5-minute series); data ${resolve(v.data)}`));
      progress(`chart ${chart}`);
      const out: Record<string, unknown> = {
        n: f.lead60All.persistence.n,
        mae_60_persistence: r3(f.lead60All.persistence.maeK), mae_60_ar: r3(f.lead60All.ar.maeK), mae_60_filter: r3(f.lead60All.filter.maeK), mae_60_bilstm: r3(f.lead60All.bilstm.maeK),
        rmse_60_persistence: r3(f.lead60All.persistence.rmseK), rmse_60_ar: r3(f.lead60All.ar.rmseK), rmse_60_filter: r3(f.lead60All.filter.rmseK), rmse_60_bilstm: r3(f.lead60All.bilstm.rmseK),
        jumpiness_persistence: r3(f.jumpiness.persistence), jumpiness_ar: r3(f.jumpiness.ar), jumpiness_filter: r3(f.jumpiness.filter), jumpiness_bilstm: r3(f.jumpiness.bilstm),
        mae_60_bilstm_raw: r3(f.lead60All.bilstm_raw.maeK), rmse_60_bilstm_raw: r3(f.lead60All.bilstm_raw.rmseK), jumpiness_bilstm_raw: r3(f.jumpiness.bilstm_raw),
        blend: { w_min: blend.wMin, shape: blend.shape, weights: Array.from(blendWeights(blend, TRAJECTORY_STEPS), r3) },
      };
      for (const lead of [5, 15, 30, 60]) for (const m of METHODS) {
        out[`mae_${lead}_${m}_5min`] = r3(f.subHourly[m][lead]!.maeK);
        out[`rmse_${lead}_${m}_5min`] = r3(f.subHourly[m][lead]!.rmseK);
      }
      for (const m of METHODS) out[`mae_60_${m}_hourly`] = r3(f.lead60Hourly[m].maeK);
      Object.assign(out, {
        n_5min_lead60: f.subHourly.persistence[60]!.n, n_hourly_lead60: f.lead60Hourly.persistence.n, issues: f.issues,
        jumpiness_floor: Object.fromEntries(METHODS.map((m) => [m, r3(f.jumpinessFloor[m])])),
        jumpiness_pairs: f.jumpinessPairs,
        jumpiness_by_gap_min: Object.fromEntries(Object.entries(f.jumpinessByGapMin).map(([g, v]) => [g, {
          comparisons: v.comparisons, ...Object.fromEntries(METHODS.map((m) => [m, r3(v.byMethod[m])])), bilstm_vs_filter: r3(v.byMethod.bilstm / v.byMethod.filter),
          floor: Object.fromEntries(METHODS.map((m) => [m, r3(v.floorByMethod[m])])),
          by_lead_min: Object.fromEntries(Object.entries(v.byLeadMin).map(([k, l]) => [k, {
            comparisons: l.comparisons, ...Object.fromEntries(METHODS.map((m) => [m, r3(l.byMethod[m])])),
          }])),
        }])),
        cold_start: Object.fromEntries(Object.entries(cold).map(([m, byLead]) => [m === 'full' || m === 'persistence' ? m : `history_${m}`, Object.fromEntries(LEAD_STEPS.map((k) => [`mae_${k * 5}`, r3(byLead[k]!.maeK)]))])),
        ar_fallback: f.arFallback, split, history_every: historyEvery, history_hold: historyHold, bilstm_version: smoother.version,
        skill: { bilstm_vs_persistence_mae60: r3(f.lead60All.bilstm.maeK / f.lead60All.persistence.maeK), bilstm_vs_ar_mae60: r3(f.lead60All.bilstm.maeK / f.lead60All.ar.maeK), jumpiness_bilstm_vs_filter: r3(f.jumpiness.bilstm / f.jumpiness.filter), jumpiness_bilstm_raw_vs_filter: r3(f.jumpiness.bilstm_raw / f.jumpiness.filter) },
        stations: perStation.map((p, s) => {
          const r = f.lead60BySeries[s];
          return { ...p, n_60: r?.persistence.n ?? 0, mae_60: Object.fromEntries(METHODS.map((m) => [m, r ? r3(r[m].maeK) : null])) };
        }),
        background: set.background ?? null, chart, elapsed_ms: Date.now() - started,
      });
      return out;
    } finally {
      await registry.close();
    }
  },
};
