/**
 * `analysis`: the batch's numerical core (QC chain, large-scale + local OI, Kalman in time) replayed
 * hour by hour on real data, scored at places it never saw.
 *
 * Withheld from the filter:
 *   - every amateur (crowd) station whose id hashes to 0 mod 10 (FNV-1a 32-bit of the id string):
 *     its readings go through QC with everyone else's (so they get flags), never into the analysis;
 *   - every official station, and the amateur station log (pywws format): used only as truth.
 * For every hour h of the crowd data where the background covers h, the window is the crowd readings
 * in (h − 1 h, h] (hourly snapshots stamped h belong to h), and the analysis is valid at h. At each
 * truth place, the product's answer is its H3 cell's: background at the cell centre + the cell's bias.
 * Scored (RMSE, MAE, bias [K]):
 *   background    the background at the cell centre at h
 *   nearest       the temperature of the nearest non-withheld crowd sensor that passed QC at h
 *   analysis      lead 0
 *   forecast_60   issued at h − 1 h for h: background(h) + the bias decayed over 60 min
 *   persistence_60  the truth at h − 1 h for h (an oracle at withheld places: the product never has it)
 *   analysis_persistence_60  the analysis at h − 1 h held for h: the persistence forecast the product
 *                   itself could issue, from the same information as forecast_60
 *   served_60     issued at h − 1 h for h by the BiLSTM smoother (--models, the served artifacts) as the
 *                 batch runs it: history = the cell's analyses (here hourly, at h − 2 h and h − 3 h),
 *                 trajectory = the filter's next hour at 5-minute leads (pipeline/emit.ts); lead 60 is
 *                 never blended with an earlier issue, so it is what the product serves
 * At withheld amateur stations on all their readings and on those that passed QC; at official
 * stations and the station log separately. Spread-skill: truths within the analysis ± 1 sigma.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cellCenter, cellOf, localPlane, type LatLon } from '../infra/geo/index.ts';
import { HOUR_MS, MINUTE_MS } from '../infra/time.ts';
import { buildBackgroundField, stationFilterRetention } from '../pipeline/index.ts';
import { emitCells } from '../pipeline/emit.ts';
import { median } from '../pipeline/mean-bias.ts';
import { createOnnxSmoother, HISTORY_STEPS, ModelRegistry, TRAJECTORY_STEPS, SMOOTHER_STEP_MIN, type NextHourSmoother } from '../models/index.ts';
import { analyseCells, biasAtLead, cellState, emptyCellStates, largeScaleBias, publishedVarK2, type AnalysisOptions, type CellAnalysis, type CellStates } from '../pipeline/analysis/cell-analysis.ts';
import { DEFAULT_ANALYSIS } from '../pipeline/analysis/defaults.ts';
import type { BiasModel, BiasPart } from '../pipeline/analysis/kalman.ts';
import { largeScaleInputOf, mapShard } from '../pipeline/map-stage.ts';
import { DEFAULT_QC } from '../pipeline/qc/defaults.ts';
import { QC_REASONS } from '../pipeline/qc/reasons.ts';
import type { SensorRecord } from '../pipeline/qc/sensor-record.ts';
import { parseUtcMs } from './csv.ts';
import {
  detectDatasets, FALKENSEE, hourlyNearest, TEMPELHOF, loadCrowdByHour, loadCrowdStations, loadDwdTruth, loadEra5Background, loadPywwsSeries, loadUcoTruth,
  type Dataset, type TimeRange,
} from './datasets.ts';
import { CentredErrorAccumulator, ErrorAccumulator, roundFigures, SpreadSkillAccumulator, type ErrorStats } from './metrics.ts';
import { UsageError, type Evaluator } from './evaluator.ts';
import { barChartSvg } from './bar-chart.ts';

/** FNV-1a, 32 bit, over the UTF-16 code units of the id: the stated withholding hash. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export const isWithheld = (id: string): boolean => fnv1a32(id) % 10 === 0;


const LEAD_60_MS = 60 * MINUTE_MS;

class Scores {
  readonly background = new ErrorAccumulator();
  readonly nearest = new ErrorAccumulator();
  readonly analysis = new ErrorAccumulator();
  readonly forecast60 = new ErrorAccumulator();
  readonly persistence60 = new ErrorAccumulator();
  readonly analysisPersistence60 = new ErrorAccumulator();
  readonly backgroundAt60 = new ErrorAccumulator();
  readonly heldBias60 = new ErrorAccumulator();
  readonly served60 = new ErrorAccumulator();
  readonly spread = new SpreadSkillAccumulator();
  /** The same errors with each truth station's own mean error taken out (see CentredErrorAccumulator). */
  readonly centred = {
    analysis: new CentredErrorAccumulator(), forecast60: new CentredErrorAccumulator(), persistence60: new CentredErrorAccumulator(),
    analysisPersistence60: new CentredErrorAccumulator(), served60: new CentredErrorAccumulator(),
  };
  centredResult(): Record<keyof Scores['centred'], ReturnType<CentredErrorAccumulator['result']>> {
    const c = this.centred;
    return { analysis: c.analysis.result(), forecast60: c.forecast60.result(), persistence60: c.persistence60.result(), analysisPersistence60: c.analysisPersistence60.result(), served60: c.served60.result() };
  }
  result(): Record<string, ErrorStats | ReturnType<SpreadSkillAccumulator['result']>> {
    return {
      background: this.background.result(), nearest: this.nearest.result(), analysis: this.analysis.result(),
      forecast60: this.forecast60.result(), persistence60: this.persistence60.result(), analysisPersistence60: this.analysisPersistence60.result(), backgroundAt60: this.backgroundAt60.result(), heldBias60: this.heldBias60.result(), served60: this.served60.result(), spread: this.spread.result(),
    };
  }
}

interface Truth {
  id: string;
  kind: 'official' | 'pws';
  position: LatLon;
  byHour: Map<number, number>;
}

export interface AnalysisEvalOptions {
  crowd: Dataset;
  background: Dataset;
  officials: Dataset[];
  pws: Dataset[];
  dwdPosition: LatLon;
  pwsPosition: LatLon;
  range: TimeRange;
  resolution: number;
  /** e-folding time of the slow part of the bias [h] (default: the batch's). */
  slowTauH?: number;
  /** σ of each diurnal coefficient [K] (0: no diurnal parts) and their e-folding time [h] (default: the batch's). */
  diurnalSigmaK?: number;
  diurnalTauH?: number;
  /** σ of the area's slow level [K] (0: none; default: the batch's). */
  areaSlowSigmaK?: number;
  /** The next-hour smoother the batch serves (none: no served_60 figures). */
  smoother?: NextHourSmoother;
  /**
   * The trajectory handed to the smoother: the filter's next hour as the batch hands it ('five-part',
   * default), or the form the network was trained on at stations ('steady': the background + the
   * lead-0 bias × the share a lasting bias keeps, stationFilterRetention), for comparison.
   */
  smootherTrajectory?: 'five-part' | 'steady';
  /**
   * The history handed to the smoother: the 5-minute analyses the batch would have made from these
   * hourly readings ('filled', default: each hour's readings, then the filter's forecast in the windows
   * without any, which are the emitted trajectories of the two hours before), or only the two hourly
   * analyses, the other steps missing ('hourly'), for comparison.
   */
  smootherHistory?: 'filled' | 'hourly';
  chart?: string;
  progress: (m: string) => void;
}

/**
 * The smoother's history at issue time h from the trajectories emitted at earlier issues (pure):
 * `earlier[q]` holds n × K values (lead 0 first, 5-minute steps) emitted q + 1 hours before h, or null.
 * history[t · H + k] is valid at h − (H − k) · 5 min; it takes the earlier trajectory that covers that
 * time at lead 0 … 55 min, so with `filled` every step has a value (the analysis on the hour, the
 * filter's forecast between), and without it only the hourly analyses (lead 0) do; the rest is NaN.
 */
export function historyFromTrajectories(earlier: readonly (Float32Array | null)[], n: number, H: number, K: number, filled: boolean): Float32Array {
  const perHour = 60 / SMOOTHER_STEP_MIN;
  const history = new Float32Array(n * H).fill(NaN);
  for (let k = 0; k < H; k++) {
    const back = H - k; // steps before h
    const q = Math.ceil(back / perHour) - 1; // which earlier issue
    const lead = (q + 1) * perHour - back;
    const tr = earlier[q];
    if (!tr || lead >= K || (!filled && lead !== 0)) continue;
    for (let t = 0; t < n; t++) history[t * H + k] = tr[t * K + lead]!;
  }
  return history;
}

/**
 * Replaces each row of a trajectory (n × K, lead 0 first) by the background at each lead plus the
 * lead-0 bias times the share of a lasting bias that the batch's filter keeps (the form the network
 * was trained on at stations); a row without a lead-0 value stays as it is. Pure.
 */
export function steadyTrajectory(trajectory: Float32Array, K: number, backgroundAt: (k: number) => ArrayLike<number>): void {
  const keep = stationFilterRetention(SMOOTHER_STEP_MIN, K - 1);
  const bg = Array.from({ length: K }, (_, k) => backgroundAt(k));
  const n = trajectory.length / K;
  for (let t = 0; t < n; t++) {
    const a = trajectory[t * K]!;
    if (!Number.isFinite(a)) continue;
    for (let k = 0; k < K; k++) trajectory[t * K + k] = bg[k]![t]! + (a - bg[0]![t]!) * keep[k]!;
  }
}

export async function evaluateAnalysis(o: AnalysisEvalOptions): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  const stations = await loadCrowdStations(o.crowd.stationsFile!);
  const hourOk = (h: number) => h >= o.range.fromMs && h < o.range.toMs;
  const { byHour, stats: crowdStats } = await loadCrowdByHour(o.crowd, stations, { keepHour: hourOk, progress: o.progress });
  const { samples } = await loadEra5Background(o.background, { range: { fromMs: o.range.fromMs - 3 * HOUR_MS, toMs: o.range.toMs + 3 * HOUR_MS } });
  const field = buildBackgroundField(samples);
  const truths: Truth[] = [];
  for (const ds of o.officials) {
    if (ds.kind === 'official-dwd') {
      const { station } = await loadDwdTruth(ds, { lat: o.dwdPosition.lat, lon: o.dwdPosition.lon, range: o.range });
      truths.push({ id: station.id, kind: 'official', position: o.dwdPosition, byHour: station.series });
    } else {
      const { stations: uco } = await loadUcoTruth(ds, { range: o.range });
      for (const s of uco) truths.push({ id: s.id, kind: 'official', position: { lat: s.lat, lon: s.lon }, byHour: s.series });
    }
  }
  for (const ds of o.pws) {
    const id = ds.dir.split('/').pop() ?? 'pws';
    const { series } = await loadPywwsSeries(ds, { id, lat: o.pwsPosition.lat, lon: o.pwsPosition.lon, range: { fromMs: o.range.fromMs - HOUR_MS, toMs: o.range.toMs + HOUR_MS } });
    truths.push({ id, kind: 'pws', position: o.pwsPosition, byHour: hourlyNearest(series, 5 * MINUTE_MS) });
  }

  const hours = [...byHour.keys()].filter((h) => Number.isFinite(field.at({ lat: middleOf(stations.lat), lon: middleOf(stations.lon) }, h))).sort((a, b) => a - b);
  if (hours.length === 0) throw new UsageError('no hour where both the crowd data and the background have values');
  const plane = localPlane(middleOf(stations.lat));
  const ns = stations.ids.length;
  const sx = Float64Array.from(stations.lon, (lon) => plane.x(lon));
  const sy = Float64Array.from(stations.lat, (lat) => plane.y(lat));
  const withheld = Uint8Array.from(stations.ids, (id) => (isWithheld(id) ? 1 : 0));

  // Targets: the cells of the withheld crowd stations and of the truth stations (the product's answer there).
  const cellIndex = new Map<string, number>();
  const targetCell = (p: LatLon): number => {
    const c = cellOf(p, o.resolution);
    let i = cellIndex.get(c);
    if (i === undefined) { i = cellIndex.size; cellIndex.set(c, i); }
    return i;
  };
  const stationTarget = new Int32Array(ns).fill(-1);
  for (let i = 0; i < ns; i++) if (withheld[i]) stationTarget[i] = targetCell({ lat: stations.lat[i]!, lon: stations.lon[i]! });
  const truthTarget = truths.map((t) => targetCell(t.position));
  const nt = cellIndex.size;
  const centres = [...cellIndex.keys()].map((c) => cellCenter(c));
  const targets = { x: Float64Array.from(centres, (c) => plane.x(c.lon)), y: Float64Array.from(centres, (c) => plane.y(c.lat)), z: new Float64Array(nt).fill(NaN) };
  const analysis: AnalysisOptions = { ...DEFAULT_ANALYSIS, process: modelWith(DEFAULT_ANALYSIS.process, o) };
  let states: CellStates = emptyCellStates(nt, analysis.process.length);

  const records = new Map<string, SensorRecord>();
  const amateurAll = new Scores(), amateur = new Scores(), official = new Scores(), pws = new Scores();
  const byMonth = new Map<string, { amateur: Scores; official: Scores }>();
  const reasonCounts = new Array<number>(QC_REASONS.length).fill(0);
  let withheldReadings = 0, withheldKept = 0;
  const withheldSeen = new Set<number>();
  const prevTemp = new Map<number, number>(); // crowd station -> temperature in the previous hour
  let prevHour = NaN;
  let prevStates: CellAnalysis | undefined;
  let pointVarK2 = 0;
  // The smoother's inputs and output by target: the trajectories emitted at the hours before, and its +60 min issued an hour before.
  const historyHours = Math.ceil(HISTORY_STEPS / (60 / SMOOTHER_STEP_MIN));
  let emittedBefore: (Float32Array | null)[] = new Array(historyHours).fill(null);
  let served60: Float64Array | null = null;
  const centreLat = Float32Array.from(centres, (c) => c.lat), centreLon = Float32Array.from(centres, (c) => c.lon);
  const centreSampler = field.sampler(centres);

  /** The smoother's +60 min at every target, issued at h; keeps the emitted trajectory for the next issues (`consecutive`: h − 1 h was the hour before). */
  const smoothAt = async (h: number, cells: CellAnalysis, consecutive: boolean): Promise<Float64Array> => {
    const H = HISTORY_STEPS, K = TRAJECTORY_STEPS;
    if (!consecutive) emittedBefore = emittedBefore.map(() => null);
    const history = historyFromTrajectories(emittedBefore, nt, H, K, (o.smootherHistory ?? 'filled') === 'filled');
    const emitted = emitCells(cells, h, centreSampler, null, { stepMin: SMOOTHER_STEP_MIN, steps: K - 1, hourlyMaxSteps: 0, process: analysis.process, pointVarK2 });
    const filter = new Float32Array(nt * K).fill(NaN), sigma = new Float32Array(nt * K).fill(NaN);
    emitted.forEach((e, t) => { if (e) for (let k = 0; k < K; k++) { filter[t * K + k] = e.tempsC[k]!; sigma[t * K + k] = e.sigmasC[k]!; } });
    // the batch's own trajectory (before any change below) is what its windows until the next hour analyse
    emittedBefore = [Float32Array.from(filter), ...emittedBefore.slice(0, -1)];
    if (o.smootherTrajectory === 'steady') steadyTrajectory(filter, K, (k) => centreSampler(h + k * SMOOTHER_STEP_MIN * MINUTE_MS));
    const out = await o.smoother!.smooth({ runTimeMs: h, n: nt, historySteps: H, history, trajectorySteps: K, filter, filterSigma: sigma, lat: centreLat, lon: centreLon });
    return Float64Array.from({ length: nt }, (_, t) => out[t * K + K - 1]!);
  };

  for (let k = 0; k < hours.length; k++) {
    const h = hours[k]!;
    const hr = byHour.get(h)!;
    // The window's sensors: the stations reporting this hour, sorted by station (one or more readings each).
    const order = Array.from(hr.station.keys()).sort((a, b) => hr.station[a]! - hr.station[b]! || hr.timeMs[a]! - hr.timeMs[b]!);
    const present: number[] = [];
    const sensorOfReading = new Int32Array(order.length);
    order.forEach((j, r) => {
      const st = hr.station[j]!;
      if (present.length === 0 || present[present.length - 1] !== st) present.push(st);
      sensorOfReading[r] = present.length - 1;
    });
    const timeMs = Float64Array.from(order, (j) => hr.timeMs[j]!);
    const tempC = Float64Array.from(order, (j) => hr.tempC[j]!);
    const backgroundC = Float64Array.from(order, (j) => field.at({ lat: stations.lat[hr.station[j]!]!, lon: stations.lon[hr.station[j]!]! }, hr.timeMs[j]!));
    const ids = present.map((st) => stations.ids[st]!);
    // Each sensor's raw temperature this hour (median of its readings, before QC).
    const rawTemp = new Float64Array(present.length);
    for (let r0 = 0; r0 < order.length;) {
      let r1 = r0;
      while (r1 < order.length && sensorOfReading[r1] === sensorOfReading[r0]) r1++;
      rawTemp[sensorOfReading[r0]!] = median(Array.from(tempC.subarray(r0, r1)).filter(Number.isFinite));
      r0 = r1;
    }
    const out = mapShard({
      windowStartMs: h - HOUR_MS, windowEndMs: h,
      sensors: {
        id: ids, official: new Uint8Array(present.length),
        x: Float64Array.from(present, (st) => sx[st]!), y: Float64Array.from(present, (st) => sy[st]!), z: Float64Array.from(present, (st) => stations.z[st]!),
        lat: Float64Array.from(present, (st) => stations.lat[st]!), lon: Float64Array.from(present, (st) => stations.lon[st]!),
      },
      readings: { sensor: sensorOfReading, timeMs, tempC, backgroundC },
      records: ids.map((id) => records.get(id)),
      own: new Uint8Array(present.length).fill(1),
      useInAnalysis: Uint8Array.from(present, (st) => 1 - withheld[st]!),
    }, DEFAULT_QC, analysis);
    for (const [id, rec] of out.records) records.set(id, rec);
    for (const code of out.qc.reason) reasonCounts[code]!++;
    const large = largeScaleBias(largeScaleInputOf(out.summary), analysis);
    const cells = analyseCells(targets, states, out.observations, large, h, analysis);
    // The network's scatter of a point around its neighbours: the SCT's cross-validation spread.
    const cvSigma = 1.482602218505602 * out.summary.cvDeviation.mad();
    if (Number.isFinite(cvSigma)) pointVarK2 = cvSigma * cvSigma;

    const month = new Date(h).toISOString().slice(0, 7);
    let m = byMonth.get(month);
    if (!m) byMonth.set(month, (m = { amateur: new Scores(), official: new Scores() }));
    const hasPrev = prevHour === h - HOUR_MS && prevStates !== undefined;
    const score = (sets: Scores[], station: string | number, t: number, truth: number, prevTruth: number | undefined, nearest: number) => {
      const centre = centres[t]!;
      const bg = field.at(centre, h);
      const ana = bg + cells.biasK[t]!;
      for (const s of sets) {
        s.background.add(bg, truth);
        s.analysis.add(ana, truth);
        s.centred.analysis.add(station, ana, truth);
        s.spread.add(ana, Math.sqrt(publishedVarK2(cells.varK2[t]!, pointVarK2)), truth);
        if (Number.isFinite(nearest)) s.nearest.add(nearest, truth);
        if (hasPrev) {
          const f = biasAtLead(cellState(prevStates!, t, analysis.process), h - HOUR_MS, LEAD_60_MS, analysis.process);
          s.forecast60.add(bg + f.biasK, truth);
          s.centred.forecast60.add(station, bg + f.biasK, truth);
          const held = field.at(centre, h - HOUR_MS) + prevStates!.biasK[t]!;
          s.analysisPersistence60.add(held, truth);
          s.centred.analysisPersistence60.add(station, held, truth);
          s.backgroundAt60.add(bg, truth);
          // Diagnostic: the background's hourly change with the bias held (no decay at all).
          s.heldBias60.add(bg + prevStates!.biasK[t]!, truth);
          if (prevTruth !== undefined) {
            s.persistence60.add(prevTruth, truth);
            s.centred.persistence60.add(station, prevTruth, truth);
          }
          if (served60 && Number.isFinite(served60[t]!)) {
            s.served60.add(served60[t]!, truth);
            s.centred.served60.add(station, served60[t]!, truth);
          }
        }
      }
    };
    // Nearest non-withheld crowd sensor that passed QC, for each truth place.
    const usable = present.map((st, si) => (out.qc.sensorReason[si] === 0 && !withheld[st] ? si : -1)).filter((si) => si >= 0);
    const nearestTemp = (p: { x: number; y: number }): number => {
      let best = -1, bd = Infinity;
      for (const si of usable) {
        const d = (sx[present[si]!]! - p.x) ** 2 + (sy[present[si]!]! - p.y) ** 2;
        if (d < bd) { bd = d; best = si; }
      }
      return best >= 0 ? out.qc.tempC[best]! : NaN;
    };
    present.forEach((st, si) => {
      if (!withheld[st]) return;
      const truth = out.qc.tempC[si]!;
      const raw = rawTemp[si]!;
      const t = stationTarget[st]!;
      withheldSeen.add(st);
      withheldReadings++;
      score([amateurAll], st, t, raw, prevTemp.get(st), NaN);
      if (out.qc.sensorReason[si] !== 0) return;
      withheldKept++;
      score([amateur, m!.amateur], st, t, truth, prevTemp.get(st), nearestTemp({ x: sx[st]!, y: sy[st]! }));
    });
    truths.forEach((tr, i) => {
      const truth = tr.byHour.get(h);
      if (truth === undefined) return;
      const p = plane.project(tr.position);
      score(tr.kind === 'official' ? [official, m!.official] : [pws], tr.id, truthTarget[i]!, truth, tr.byHour.get(h - HOUR_MS), nearestTemp(p));
    });

    if (o.smoother) served60 = await smoothAt(h, cells, hasPrev);
    prevTemp.clear();
    present.forEach((st, si) => prevTemp.set(st, rawTemp[si]!));
    prevStates = cells;
    states = cells;
    prevHour = h;
    if (k % 100 === 0 || k === hours.length - 1) o.progress(`hour ${k + 1}/${hours.length} (${new Date(h).toISOString().slice(0, 13)}Z): ${present.length} sensors, large-scale bias ${large.biasK.toFixed(2)} K`);
  }

  const a = amateur.result(), all = amateurAll.result(), off = official.result(), pw = pws.result();
  const rmse = (s: unknown) => (s as ErrorStats).rmseK;
  const ca = amateur.centredResult(), co = official.centredResult(), cp = pws.centredResult();
  const result = {
    n_points: (a.analysis as ErrorStats).n,
    withheld_stations: withheldSeen.size,
    qc_kept_fraction: withheldReadings > 0 ? withheldKept / withheldReadings : NaN,
    rmse_background: rmse(a.background),
    rmse_nearest: rmse(a.nearest),
    rmse_analysis: rmse(a.analysis),
    rmse_forecast_60: rmse(a.forecast60),
    rmse_persistence_60: rmse(a.persistence60),
    rmse_analysis_persistence_60: rmse(a.analysisPersistence60),
    rmse_held_bias_60: rmse(a.heldBias60),
    rmse_served_60: o.smoother ? rmse(a.served60) : null,
    rmse_analysis_all: rmse(all.analysis),
    rmse_background_all: rmse(all.background),
    official_rmse_background: rmse(off.background),
    official_rmse_analysis: rmse(off.analysis),
    official_rmse_forecast_60: rmse(off.forecast60),
    official_rmse_persistence_60: rmse(off.persistence60),
    official_rmse_analysis_persistence_60: rmse(off.analysisPersistence60),
    official_rmse_held_bias_60: rmse(off.heldBias60),
    official_rmse_served_60: o.smoother ? rmse(off.served60) : null,
    official_n: (off.analysis as ErrorStats).n,
    within_one_sigma: (a.spread as { withinOneSigma: number }).withinOneSigma,
    official_within_one_sigma: (off.spread as { withinOneSigma: number }).withinOneSigma,
    crmse_analysis: ca.analysis.crmseK,
    crmse_forecast_60: ca.forecast60.crmseK,
    crmse_persistence_60: ca.persistence60.crmseK,
    crmse_analysis_persistence_60: ca.analysisPersistence60.crmseK,
    crmse_served_60: o.smoother ? ca.served60.crmseK : null,
    rms_station_offset_analysis: ca.analysis.rmsOffsetK,
    official_crmse_analysis: co.analysis.crmseK,
    official_crmse_forecast_60: co.forecast60.crmseK,
    official_crmse_persistence_60: co.persistence60.crmseK,
    official_crmse_served_60: o.smoother ? co.served60.crmseK : null,
    pws_rmse_background: rmse(pw.background),
    pws_rmse_analysis: rmse(pw.analysis),
    pws_rmse_forecast_60: rmse(pw.forecast60),
    pws_rmse_persistence_60: rmse(pw.persistence60),
    pws_rmse_analysis_persistence_60: rmse(pw.analysisPersistence60),
    pws_rmse_served_60: o.smoother ? rmse(pw.served60) : null,
    pws_crmse_analysis: cp.analysis.crmseK,
    pws_crmse_forecast_60: cp.forecast60.crmseK,
    pws_crmse_persistence_60: cp.persistence60.crmseK,
    pws_crmse_served_60: o.smoother ? cp.served60.crmseK : null,
    served_60_model: o.smoother ? `${o.smoother.name}@${o.smoother.version}` : null,
    served_60_trajectory: o.smoother ? (o.smootherTrajectory ?? 'five-part') : null,
    served_60_history: o.smoother ? (o.smootherHistory ?? 'filled') : null,
    detail: {
      amateur_qc_passed: a, amateur_all: all, official: off, pws: pw,
      centred: { amateur_qc_passed: ca, official: co, pws: cp },
      by_month: Object.fromEntries([...byMonth].map(([mo, s]) => [mo, { amateur: s.amateur.result(), official: s.official.result() }])),
      qc_reasons: Object.fromEntries(QC_REASONS.map((r, i) => [r, reasonCounts[i]])),
      hours: hours.length,
      period: { from: new Date(hours[0]!).toISOString(), to: new Date(hours[hours.length - 1]!).toISOString() },
      crowd_rows: crowdStats.rows,
      datasets: { crowd: o.crowd.dir, background: o.background.dir, officials: o.officials.map((d) => d.dir), pws: o.pws.map((d) => d.dir) },
      bias_parts: analysis.process.map((p) => ({ name: p.name, scale: p.scale, regressor: p.regressor, tau_h: p.tauMs / HOUR_MS, sigma_k: p.sigmaK })),
      withholding: 'amateur stations whose id hashes to 0 mod 10 (FNV-1a 32-bit), every official station, every station log',
      elapsed_s: (Date.now() - t0) / 1000,
    },
  };
  if (o.chart) {
    const svg = barChartSvg({
      title: 'Analysis error by lead time at withheld stations (RMSE, K)',
      groups: ['amateur, lead 0', 'amateur, +60 min', 'official, lead 0', 'official, +60 min'],
      series: [
        { name: 'background', values: [result.rmse_background, rmse(a.backgroundAt60), result.official_rmse_background, rmse(off.backgroundAt60)] },
        { name: 'nearest station', values: [result.rmse_nearest, NaN, rmse(off.nearest), NaN] },
        { name: 'analysis / forecast', values: [result.rmse_analysis, result.rmse_forecast_60, result.official_rmse_analysis, result.official_rmse_forecast_60] },
        ...(o.smoother ? [{ name: `served (${o.smoother.name})`, values: [NaN, rmse(a.served60), NaN, rmse(off.served60)] }] : []),
        { name: 'persistence of the analysis', values: [NaN, result.rmse_analysis_persistence_60, NaN, result.official_rmse_analysis_persistence_60] },
        { name: 'persistence of the truth', values: [NaN, result.rmse_persistence_60, NaN, result.official_rmse_persistence_60] },
      ],
    });
    const file = resolve(o.chart);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, svg);
    o.progress(`chart written to ${file}`);
  }
  return roundFigures(result, 4);
}

/** The upper middle of the finite values (a central station coordinate, not a statistic). */
function middleOf(xs: ArrayLike<number>): number {
  const s = Array.from(xs).filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[s.length >> 1]!;
}

/** The batch's bias model with the evaluation's overrides (sensitivity runs). */
export function modelWith(model: BiasModel, o: Pick<AnalysisEvalOptions, 'slowTauH' | 'diurnalSigmaK' | 'diurnalTauH' | 'areaSlowSigmaK'>): BiasModel {
  const diurnal = (p: BiasPart) => p.regressor !== 'level';
  return model
    .filter((p) => !(diurnal(p) && o.diurnalSigmaK === 0) && !(p.name === 'area-slow' && o.areaSlowSigmaK === 0))
    .map((p) => {
      if (p.name === 'slow' && o.slowTauH !== undefined) return { ...p, tauMs: o.slowTauH * HOUR_MS };
      if (p.name === 'area-slow' && o.areaSlowSigmaK !== undefined) return { ...p, sigmaK: o.areaSlowSigmaK };
      if (!diurnal(p)) return p;
      return { ...p, ...(o.diurnalSigmaK !== undefined ? { sigmaK: o.diurnalSigmaK } : {}), ...(o.diurnalTauH !== undefined ? { tauMs: o.diurnalTauH * HOUR_MS } : {}) };
    });
}

export const ANALYSIS_USAGE = [
  '--data <dir>              folder holding the data sets (found by their columns)',
  '--from <iso> --to <iso>   restrict the hours scored (default: all)',
  '--station-lat/--station-lon  position of a DWD-format official station (default Berlin-Tempelhof)',
  '--pws-lat/--pws-lon       position of a pywws-format station log (default Falkensee)',
  '--resolution <7..10>      H3 resolution of the cells (default 9)',
  '--slow-tau-h <h>          e-folding time of the slow part of the bias (default: the batch\'s, 24)',
  '--diurnal-sigma <K>       σ of each coefficient of the bias\'s diurnal cycle; 0 drops the diurnal parts (default: the batch\'s, 1)',
  '--diurnal-tau-h <h>       e-folding time of the diurnal coefficients (default: the batch\'s, 72)',
  '--area-slow-sigma <K>     σ of the area\'s slow level; 0 drops it (default: the batch\'s, 1)',
  '--models <dir>            the served artifacts, for the BiLSTM\'s +60 min (default models/artifacts; without a bilstm model there, no served_60)',
  '--smoother-trajectory five-part|steady  the trajectory handed to the BiLSTM: the batch\'s (default) or the steady-bias form it was trained on',
  '--smoother-history filled|hourly  the history handed to the BiLSTM: the 5-minute analyses the batch would make from hourly readings (default: the hour\'s analysis, the filter\'s forecast between) or the hourly analyses alone',
  '--chart <file.svg>        where to write the chart (default data/eval/analysis.svg)',
].join('\n');

export const analysisEvaluator: Evaluator = {
  description: 'the batch (QC, Kalman filter + OI) replayed on real data, scored at withheld amateur, official and station-log places',
  usage: ANALYSIS_USAGE,
  async run(ctx) {
    const { values } = parseArgs({
      args: ctx.args,
      options: {
        data: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
        'station-lat': { type: 'string' }, 'station-lon': { type: 'string' }, 'pws-lat': { type: 'string' }, 'pws-lon': { type: 'string' },
        resolution: { type: 'string' }, chart: { type: 'string' }, 'slow-tau-h': { type: 'string' },
        'diurnal-sigma': { type: 'string' }, 'diurnal-tau-h': { type: 'string' }, 'area-slow-sigma': { type: 'string' },
        models: { type: 'string' }, 'smoother-trajectory': { type: 'string' }, 'smoother-history': { type: 'string' },
      },
      strict: true,
    });
    if (!values.data) throw new UsageError('--data <dir> is required');
    const { datasets } = detectDatasets(values.data);
    const crowd = datasets.find((d) => d.kind === 'crowd-netatmo');
    const background = datasets.find((d) => d.kind === 'background-era5');
    if (!crowd || !background) throw new UsageError(`${values.data} must hold a crowd data set (p_id,time,ta + stations.csv) and a background (time,lat,lon,t2m_c)`);
    const num = (v: string | undefined, name: string, dflt: number): number => {
      if (v === undefined) return dflt;
      const x = Number(v);
      if (!Number.isFinite(x)) throw new UsageError(`--${name} must be a number, got "${v}"`);
      return x;
    };
    const time = (v: string | undefined, name: string, dflt: number): number => {
      if (v === undefined) return dflt;
      const t = parseUtcMs(v);
      if (Number.isNaN(t)) throw new UsageError(`--${name} must be an ISO 8601 time, got "${v}"`);
      return t;
    };
    const positive = (v: string, name: string, orZero = false): number => {
      const x = num(v, name, NaN);
      if (!(x > 0 || (orZero && x === 0))) throw new UsageError(`--${name} must be a ${orZero ? 'non-negative' : 'positive'} number, got "${v}"`);
      return x;
    };
    const resolution = num(values.resolution, 'resolution', 9);
    if (!(Number.isInteger(resolution) && resolution >= 7 && resolution <= 10)) throw new UsageError(`--resolution must be an integer from 7 to 10, got ${resolution}`);
    const smootherTrajectory = values['smoother-trajectory'] ?? 'five-part';
    if (smootherTrajectory !== 'five-part' && smootherTrajectory !== 'steady') throw new UsageError(`--smoother-trajectory must be five-part or steady, got "${smootherTrajectory}"`);
    const smootherHistory = values['smoother-history'] ?? 'filled';
    if (smootherHistory !== 'filled' && smootherHistory !== 'hourly') throw new UsageError(`--smoother-history must be filled or hourly, got "${smootherHistory}"`);
    const modelsDir = resolve(values.models ?? 'models/artifacts');
    const registry = await ModelRegistry.open(modelsDir, {});
    const smoother = registry.card('bilstm') ? createOnnxSmoother(registry, 'bilstm') : undefined;
    if (!smoother) ctx.progress(`no bilstm model in ${modelsDir}: no served_60 figures`);
    try {
      return await evaluateAnalysis({
        crowd, background, ...(smoother ? { smoother, smootherTrajectory, smootherHistory } : {}),
        officials: datasets.filter((d) => d.kind === 'official-dwd' || d.kind === 'official-uco'),
        pws: datasets.filter((d) => d.kind === 'amateur-pywws'),
        dwdPosition: { lat: num(values['station-lat'], 'station-lat', TEMPELHOF.lat), lon: num(values['station-lon'], 'station-lon', TEMPELHOF.lon) },
        pwsPosition: { lat: num(values['pws-lat'], 'pws-lat', FALKENSEE.lat), lon: num(values['pws-lon'], 'pws-lon', FALKENSEE.lon) },
        range: { fromMs: time(values.from, 'from', -Infinity), toMs: time(values.to, 'to', Infinity) },
        resolution,
        ...(values['slow-tau-h'] !== undefined ? { slowTauH: positive(values['slow-tau-h'], 'slow-tau-h') } : {}),
        ...(values['diurnal-sigma'] !== undefined ? { diurnalSigmaK: positive(values['diurnal-sigma'], 'diurnal-sigma', true) } : {}),
        ...(values['diurnal-tau-h'] !== undefined ? { diurnalTauH: positive(values['diurnal-tau-h'], 'diurnal-tau-h') } : {}),
        ...(values['area-slow-sigma'] !== undefined ? { areaSlowSigmaK: positive(values['area-slow-sigma'], 'area-slow-sigma', true) } : {}),
        chart: values.chart ?? 'data/eval/analysis.svg',
        progress: ctx.progress,
      });
    } finally {
      await registry.close();
    }
  },
  table(r) {
    const lines = Object.entries(r).filter(([k]) => k !== 'detail').map(([k, v]) => `${k.padEnd(30)} ${String(v)}`);
    return `${lines.join('\n')}\n`;
  },
};
