/**
 * `baseline`: how much the baseline correction (per-cell mean bias of the crowd sensors + decaying
 * bias persistence: `nowcastWindow`) improves on the background at withheld official stations.
 *
 * For every hour h where the crowd, the background and the truth all have data:
 *   window     the crowd readings with time in (h - 1 h, h], i.e. [h - 1 h + 1 ms, h] (hourly
 *              snapshots stamped h belong to h). NB: the product's batch uses [end - W, end).
 *   background buildBackgroundField over the background rows (IDW in space, linear in time)
 *   grid       the H3 cells (resolution 9 by default, the product's) of the truth stations, with centres
 *   nowcast    nowcastWindow(window, field, grid, { runTimeMs: h, stepMin: 5, steps: 12 })
 * and, at every truth station (its cell's nowcast, the background at that cell's centre):
 *   lead 0     background(h) and baseline tempsC[0] vs truth(h)
 *   lead 60    background(h + 1 h), baseline tempsC[12] and persistence truth(h) vs truth(h + 1 h),
 *              on the hours where truth(h + 1 h) is valid and the background covers h + 1 h
 *   sigmas     fraction of truths within tempsC ± sigmasC (lead 0 and 60)
 * The truth stations are never inputs: only the crowd data set feeds the nowcast.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildBackgroundField, nowcastWindow, STEP_MIN, STEPS, type GridCell, type WindowColumns, median } from '../pipeline/index.ts';
import { cellCenter, cellOf, distanceM, type LatLon } from '../infra/geo/index.ts';
import { parseUtcMs } from './csv.ts';
import {
  detectDataset, detectDatasets, HOUR_MS, loadCrowdByHour, loadCrowdStations, loadDwdTruth, loadEra5Background, loadUcoTruth,
  type Dataset, type DatasetKind, type TimeRange, type TruthStation,
} from './datasets.ts';
import {
  ErrorAccumulator, GAUSSIAN_ONE_SIGMA, roundFigures, rmseSkill, SpreadSkillAccumulator, type ErrorStats, type SpreadSkill,
} from './metrics.ts';
import { UsageError, type Evaluator } from './evaluator.ts';

export const DEFAULT_RESOLUTION = 9;
import { TEMPELHOF } from './datasets.ts';
export { TEMPELHOF };
export const WINDOW_RULE = 'crowd readings with time in (h - 1 h, h] ([h - 1 h + 1 ms, h]); runTimeMs = h, stepMin 5, steps 12';

export interface BaselineOptions {
  crowd: Dataset;
  /** Official candidates: the one with most hours overlapping the background is the truth. */
  officials: readonly Dataset[];
  background: Dataset;
  /** Position of a DWD-format station (DWD files carry none); default Berlin-Tempelhof. */
  station?: LatLon;
  /** Restrict the truth stations (DWD station_id or UCO station labels). */
  stationIds?: readonly string[];
  /** Run times h with fromMs <= h < toMs; default all. */
  range?: TimeRange;
  resolution?: number;
  progress?: (message: string) => void;
}

export interface MethodFigures {
  /** Background at h vs truth at h. */
  background: ErrorStats;
  /** Baseline nowcast tempsC[0] vs truth at h. */
  baselineLead0: ErrorStats;
  /** Background at h + 1 h vs truth at h + 1 h. */
  backgroundLead60: ErrorStats;
  /** Baseline tempsC[12] vs truth at h + 1 h. */
  baselineLead60: ErrorStats;
  /** Truth at h as the forecast for h + 1 h. */
  persistenceLead60: ErrorStats;
}

export interface FigureSet {
  methods: MethodFigures;
  spreadSkill: { lead0: SpreadSkill; lead60: SpreadSkill };
  skill: { lead0VsBackground: number; lead60VsBackground: number; lead60VsPersistence: number };
}

export interface BaselineEvaluation {
  datasets: { crowd: string; official: string; officialFormat: DatasetKind; background: string; officialCandidates: { dir: string; kind: DatasetKind; truthHoursWithBackground: number }[] };
  window: string;
  resolution: number;
  period: { from: string | null; to: string | null; hours: number; segments: { from: string; to: string; hours: number }[] };
  truthStations: { id: string; lat: number; lon: number; cell: string; nearestCrowdStationM: number; truthHours: number }[];
  crowd: { stations: number; readingsUsed: number; readingsPerHour: { min: number; median: number; max: number }; sensorsPerHourMedian: number; meanDomainBiasK: number; truthCellObservedFraction: number; rowsRead: number; rowsMissing: number; rowsMalformed: number; rowsUnknownStation: number };
  overall: FigureSet;
  byMonth: Record<string, FigureSet>;
  expectedWithinOneSigma: number;
  elapsedMs: number;
}

class FigureAccumulator {
  readonly background = new ErrorAccumulator();
  readonly baselineLead0 = new ErrorAccumulator();
  readonly backgroundLead60 = new ErrorAccumulator();
  readonly baselineLead60 = new ErrorAccumulator();
  readonly persistenceLead60 = new ErrorAccumulator();
  readonly spread0 = new SpreadSkillAccumulator();
  readonly spread60 = new SpreadSkillAccumulator();

  result(): FigureSet {
    const methods: MethodFigures = {
      background: this.background.result(),
      baselineLead0: this.baselineLead0.result(),
      backgroundLead60: this.backgroundLead60.result(),
      baselineLead60: this.baselineLead60.result(),
      persistenceLead60: this.persistenceLead60.result(),
    };
    return {
      methods,
      spreadSkill: { lead0: this.spread0.result(), lead60: this.spread60.result() },
      skill: {
        lead0VsBackground: rmseSkill(methods.baselineLead0.rmseK, methods.background.rmseK),
        lead60VsBackground: rmseSkill(methods.baselineLead60.rmseK, methods.backgroundLead60.rmseK),
        lead60VsPersistence: rmseSkill(methods.baselineLead60.rmseK, methods.persistenceLead60.rmseK),
      },
    };
  }
}

/** Whether the background has valid times bracketing t no more than an hour away (not only a held or gap-bridging value). */
export function coversFn(times: readonly number[]): (t: number) => boolean {
  const sorted = Float64Array.from(new Set(times)).sort();
  return (t) => {
    // first index with sorted[i] >= t
    let lo = 0, hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= sorted.length) return false;
    if (sorted[lo] === t) return true;
    return lo > 0 && t - sorted[lo - 1]! <= HOUR_MS && sorted[lo]! - t <= HOUR_MS;
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

function segmentsOf(hours: readonly number[]): { from: string; to: string; hours: number }[] {
  const out: { from: string; to: string; hours: number }[] = [];
  let start = 0;
  for (let i = 1; i <= hours.length; i++) {
    if (i === hours.length || hours[i]! - hours[i - 1]! !== HOUR_MS) {
      out.push({ from: iso(hours[start]!), to: iso(hours[i - 1]!), hours: i - start });
      start = i;
    }
  }
  return out;
}

async function loadTruth(ds: Dataset, o: BaselineOptions, range: TimeRange): Promise<TruthStation[]> {
  if (ds.kind === 'official-dwd') {
    const station = o.station ?? TEMPELHOF;
    if (o.stationIds && o.stationIds.length > 1) throw new UsageError('a DWD-format data set gives one station: pass a single --station-id');
    const r = await loadDwdTruth(ds, { lat: station.lat, lon: station.lon, range, ...(o.stationIds?.[0] !== undefined ? { stationId: o.stationIds[0] } : {}) });
    return r.station.series.size > 0 ? [r.station] : [];
  }
  if (ds.kind === 'official-uco') {
    const r = await loadUcoTruth(ds, { range, ...(o.stationIds ? { stationIds: o.stationIds } : {}) });
    return r.stations;
  }
  throw new UsageError(`${ds.dir} is ${ds.kind}, not an official data set`);
}

/** The evaluation itself, with full-precision figures. */
export async function evaluateBaseline(o: BaselineOptions): Promise<BaselineEvaluation> {
  const started = Date.now();
  const progress = o.progress ?? (() => undefined);
  const resolution = o.resolution ?? DEFAULT_RESOLUTION;
  const range = o.range ?? { fromMs: -Infinity, toMs: Infinity };
  if (o.officials.length === 0) throw new UsageError('no official (truth) data set');

  // 1. Background: every row within the range, with margin for interpolation and the 60-min lead.
  const bg = await loadEra5Background(o.background, { range: { fromMs: range.fromMs - 3 * HOUR_MS, toMs: range.toMs + 3 * HOUR_MS } });
  if (bg.samples.length === 0) throw new UsageError(`${o.background.dir}: no background rows in the period`);
  const field = buildBackgroundField(bg.samples);
  const covers = coversFn(bg.samples.map((s) => s.validTimeMs));
  progress(`background ${o.background.dir}: ${bg.samples.length} rows, ${field.points} points (${bg.stats.missing} missing)`);

  // 2. Truth: the official candidate with the most hours the background covers.
  const truthRange = { fromMs: range.fromMs, toMs: range.toMs + HOUR_MS }; // h + 1 h for the last h
  const inRange = (h: number) => h >= range.fromMs && h < range.toMs;
  const candidates: { ds: Dataset; stations: TruthStation[]; hours: number[] }[] = [];
  for (const ds of o.officials) {
    const stations = await loadTruth(ds, o, truthRange);
    const hours = new Set<number>();
    for (const s of stations) for (const t of s.series.keys()) if (t % HOUR_MS === 0 && inRange(t) && covers(t)) hours.add(t);
    candidates.push({ ds, stations, hours: [...hours].sort((a, b) => a - b) });
    progress(`official ${ds.dir} (${ds.kind}): ${stations.length} station(s), ${hours.size} hours covered by the background`);
  }
  candidates.sort((a, b) => b.hours.length - a.hours.length);
  const chosen = candidates[0]!;
  if (chosen.hours.length === 0) {
    throw new UsageError(`no hour where an official data set and the background overlap (official: ${o.officials.map((d) => d.dir).join(', ')}; background: ${o.background.dir})`);
  }
  const truth = chosen.stations.map((s) => {
    const cell = cellOf(s, resolution);
    return { ...s, cell, centre: cellCenter(cell) };
  });
  const grid: GridCell[] = [...new Map(truth.map((t) => [t.cell, { cell: t.cell, centre: t.centre }])).values()];

  // 3. Crowd, pre-grouped by hour, only the candidate hours.
  if (!o.crowd.stationsFile) throw new UsageError(`${o.crowd.dir}: no stations.csv`);
  const stations = await loadCrowdStations(o.crowd.stationsFile);
  const cells = stations.ids.map((_, i) => cellOf({ lat: stations.lat[i]!, lon: stations.lon[i]! }, resolution));
  const candidateHours = new Set(chosen.hours);
  progress(`crowd ${o.crowd.dir}: ${stations.ids.length} stations; reading ${o.crowd.dataFiles.length} file(s)`);
  const crowd = await loadCrowdByHour(o.crowd, stations, { keepHour: (h) => candidateHours.has(h), progress });
  const hours = chosen.hours.filter((h) => (crowd.byHour.get(h)?.station.length ?? 0) > 0);
  if (hours.length === 0) throw new UsageError(`no hour where the crowd (${o.crowd.dir}), the official data (${chosen.ds.dir}) and the background overlap`);
  const reported = new Uint8Array(stations.ids.length);
  for (const h of hours) for (const s of crowd.byHour.get(h)!.station) reported[s] = 1;
  const truthStations = truth.map((t) => {
    let nearest = Infinity;
    for (let i = 0; i < reported.length; i++) if (reported[i]) nearest = Math.min(nearest, distanceM(t, { lat: stations.lat[i]!, lon: stations.lon[i]! }));
    return { id: t.id, lat: t.lat, lon: t.lon, cell: t.cell, nearestCrowdStationM: nearest, truthHours: hours.filter((h) => t.series.has(h)).length };
  });
  for (const t of truthStations) {
    progress(`truth ${t.id} at ${t.lat} N ${t.lon} E, cell ${t.cell}, nearest crowd station ${(t.nearestCrowdStationM / 1000).toFixed(2)} km`);
    if (t.nearestCrowdStationM > 50_000) progress(`WARNING: truth station ${t.id} is ${(t.nearestCrowdStationM / 1000).toFixed(0)} km from every crowd station: is its position (--station-lat/--station-lon) right?`);
  }

  // 4. The hours.
  const overall = new FigureAccumulator();
  const byMonth = new Map<string, FigureAccumulator>();
  const perHourReadings: number[] = [];
  const perHourSensors: number[] = [];
  let domainBiasSum = 0;
  let truthPairs = 0, truthCellObserved = 0;
  const t0 = Date.now();
  let nextReport = t0 + 2000;
  for (let k = 0; k < hours.length; k++) {
    const h = hours[k]!;
    const r = crowd.byHour.get(h)!;
    const idx = Array.from(r.station);
    const w: WindowColumns = {
      sensorId: idx.map((i) => stations.ids[i]!),
      cell: idx.map((i) => cells[i]!),
      timeMs: r.timeMs,
      lat: idx.map((i) => stations.lat[i]!),
      lon: idx.map((i) => stations.lon[i]!),
      tempC: r.tempC,
    };
    const res = nowcastWindow(w, field, grid, { runTimeMs: h, stepMin: STEP_MIN, steps: STEPS });
    perHourReadings.push(idx.length);
    perHourSensors.push(res.biases.nSensors);
    domainBiasSum += res.biases.domain.biasK;
    const byCell = new Map(res.cells.map((c) => [c.cell, c]));
    const month = iso(h).slice(0, 7);
    let m = byMonth.get(month);
    if (!m) { m = new FigureAccumulator(); byMonth.set(month, m); }
    for (const s of truth) {
      const y0 = s.series.get(h);
      const nc = byCell.get(s.cell);
      if (y0 === undefined || !nc) continue;
      const bg0 = field.at(s.centre, h);
      truthPairs++;
      if (nc.nObs > 0) truthCellObserved++;
      const y1 = s.series.get(h + HOUR_MS);
      const lead60 = y1 !== undefined && covers(h + HOUR_MS);
      const bg60 = lead60 ? field.at(s.centre, h + HOUR_MS) : NaN;
      for (const a of [overall, m]) {
        a.background.add(bg0, y0);
        a.baselineLead0.add(nc.tempsC[0]!, y0);
        a.spread0.add(nc.tempsC[0]!, nc.sigmasC[0]!, y0);
        if (lead60) {
          a.backgroundLead60.add(bg60, y1);
          a.baselineLead60.add(nc.tempsC[STEPS]!, y1);
          a.persistenceLead60.add(y0, y1);
          a.spread60.add(nc.tempsC[STEPS]!, nc.sigmasC[STEPS]!, y1);
        }
      }
    }
    if (Date.now() >= nextReport) {
      nextReport = Date.now() + 2000;
      progress(`nowcast ${k + 1}/${hours.length} hours (${iso(h)})`);
    }
  }
  progress(`nowcast ${hours.length} hours in ${Date.now() - t0} ms`);

  const months = [...byMonth.keys()].sort();
  return {
    datasets: {
      crowd: o.crowd.dir,
      official: chosen.ds.dir,
      officialFormat: chosen.ds.kind,
      background: o.background.dir,
      officialCandidates: candidates.map((c) => ({ dir: c.ds.dir, kind: c.ds.kind, truthHoursWithBackground: c.hours.length })),
    },
    window: WINDOW_RULE,
    resolution,
    period: {
      from: Number.isFinite(range.fromMs) ? iso(range.fromMs) : null,
      to: Number.isFinite(range.toMs) ? iso(range.toMs) : null,
      hours: hours.length,
      segments: segmentsOf(hours),
    },
    truthStations,
    crowd: {
      stations: reported.reduce((a, b) => a + b, 0),
      readingsUsed: perHourReadings.reduce((a, b) => a + b, 0),
      readingsPerHour: { min: Math.min(...perHourReadings), median: median(perHourReadings), max: Math.max(...perHourReadings) },
      sensorsPerHourMedian: median(perHourSensors),
      meanDomainBiasK: domainBiasSum / hours.length,
      truthCellObservedFraction: truthPairs > 0 ? truthCellObserved / truthPairs : NaN,
      rowsRead: crowd.stats.rows,
      rowsMissing: crowd.stats.missing,
      rowsMalformed: crowd.stats.malformed,
      rowsUnknownStation: crowd.stats.unknownStation,
    },
    overall: overall.result(),
    byMonth: Object.fromEntries(months.map((k) => [k, byMonth.get(k)!.result()])),
    expectedWithinOneSigma: GAUSSIAN_ONE_SIGMA,
    elapsedMs: Date.now() - started,
  };
}

// ---------------------------------------------------------------- CLI

export const BASELINE_USAGE = [
  '--data <dir>          folder holding the data-set folders (detected by their header columns)',
  '--crowd <dir>         override: crowd data set (Netatmo format)',
  '--official <dir>      override: truth data set (DWD hourly or UCO/LCZ format)',
  '--background <dir>    override: background data set (ERA5 format)',
  '--from <time>         first run hour, ISO-8601 UTC (date or time); default: start of the overlap',
  '--to <time>           end of the run hours, exclusive; default: end of the overlap',
  '--station-lat <deg>   position of a DWD-format truth station (default 52.4675, Berlin-Tempelhof)',
  '--station-lon <deg>   (default 13.4021)',
  '--station-id <ids>    truth station(s): a DWD station_id, or comma-separated UCO labels',
  '--resolution <r>      H3 resolution of the grid (default 9, the product default)',
].join('\n');

function folderArg(flag: string, p: string): string {
  const abs = resolve(p);
  if (!existsSync(abs)) throw new UsageError(`${flag} ${p}: no such folder (${abs})`);
  if (!statSync(abs).isDirectory()) throw new UsageError(`${flag} ${p}: not a folder (${abs})`);
  return abs;
}

function numberArg(flag: string, s: string | undefined, min: number, max: number): number | undefined {
  if (s === undefined) return undefined;
  const x = Number(s);
  if (s.trim() === '' || !Number.isFinite(x) || x < min || x > max) throw new UsageError(`${flag} ${s}: expected a number in [${min}, ${max}]`);
  return x;
}

function timeArg(flag: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = parseUtcMs(s);
  if (Number.isNaN(t)) throw new UsageError(`${flag} ${s}: expected an ISO-8601 UTC date or time, e.g. 2017-01-02 or 2017-01-02T06:00Z`);
  return t;
}

const ROLE_FORMATS = {
  crowd: 'Netatmo format: obs p_id,time,ta + stations.csv p_id,lon,lat',
  official: 'DWD hourly format time,station_id,ta or UCO format time,station,ta + stations.csv station,lat,lon',
  background: 'ERA5 format: time,lat,lon,t2m_c',
};

/** The options of a command line (everything but the data loading). */
export function baselineOptionsFromArgs(args: string[], progress: (m: string) => void): BaselineOptions {
  let v;
  try {
    v = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        data: { type: 'string' }, crowd: { type: 'string' }, official: { type: 'string' }, background: { type: 'string' },
        from: { type: 'string' }, to: { type: 'string' },
        'station-lat': { type: 'string' }, 'station-lon': { type: 'string' }, 'station-id': { type: 'string' },
        resolution: { type: 'string' },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (v.data === undefined && (v.crowd === undefined || v.official === undefined || v.background === undefined)) {
    throw new UsageError('--data <dir> is required (or all three of --crowd, --official, --background)');
  }
  const found = v.data !== undefined ? detectDatasets(folderArg('--data', v.data)) : { datasets: [], unrecognised: [] };
  for (const d of found.datasets) progress(`found ${d.kind}: ${d.dir}`);
  for (const u of found.unrecognised) progress(`ignored ${u.dir}: ${u.reason}`);
  const where = v.data !== undefined ? ` in ${resolve(v.data)}` : '';
  const found_ = found.datasets.map((d) => `${d.kind} ${d.dir}`).join('; ') || 'nothing recognised';

  const pick = (role: 'crowd' | 'official' | 'background', flag: string, override: string | undefined, ok: (k: DatasetKind) => boolean): Dataset[] => {
    if (override !== undefined) {
      const d = detectDataset(folderArg(flag, override));
      if (d.kind === 'unknown' || !ok(d.kind)) throw new UsageError(`${flag} ${override}: not a ${role} data set (${ROLE_FORMATS[role]}): ${d.kind === 'unknown' ? d.reason : d.kind}`);
      return [d];
    }
    const list = found.datasets.filter((d) => ok(d.kind));
    if (list.length === 0) throw new UsageError(`no ${role} data set (${ROLE_FORMATS[role]})${where}; found: ${found_}`);
    return list;
  };
  const crowds = pick('crowd', '--crowd', v.crowd, (k) => k === 'crowd-netatmo');
  const officials = pick('official', '--official', v.official, (k) => k === 'official-dwd' || k === 'official-uco');
  const backgrounds = pick('background', '--background', v.background, (k) => k === 'background-era5');
  if (crowds.length > 1) throw new UsageError(`several crowd data sets${where} (${crowds.map((d) => d.dir).join(', ')}): choose one with --crowd`);
  if (backgrounds.length > 1) throw new UsageError(`several background data sets${where} (${backgrounds.map((d) => d.dir).join(', ')}): choose one with --background`);
  const crowd = crowds[0]!;
  if (officials.some((d) => d.dir === crowd.dir)) throw new UsageError('the truth data set must not be the crowd (input) data set');

  const fromMs = timeArg('--from', v.from) ?? -Infinity;
  const toMs = timeArg('--to', v.to) ?? Infinity;
  if (!(fromMs < toMs)) throw new UsageError(`--from ${v.from} must be before --to ${v.to}`);
  const lat = numberArg('--station-lat', v['station-lat'], -90, 90) ?? TEMPELHOF.lat;
  const lon = numberArg('--station-lon', v['station-lon'], -180, 180) ?? TEMPELHOF.lon;
  const resolution = numberArg('--resolution', v.resolution, 0, 15) ?? DEFAULT_RESOLUTION;
  if (!Number.isInteger(resolution)) throw new UsageError(`--resolution ${v.resolution}: expected an integer 0..15`);
  const stationIds = v['station-id']?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return {
    crowd,
    officials,
    background: backgrounds[0]!,
    station: { lat, lon },
    ...(stationIds && stationIds.length > 0 ? { stationIds } : {}),
    range: { fromMs, toMs },
    resolution,
    progress,
  };
}

function fmt(x: number, d = 3): string {
  return Number.isFinite(x) ? x.toFixed(d) : '-';
}

function tableOf(title: string, f: FigureSet): string[] {
  const rows: [string, ErrorStats][] = [
    ['background (lead 0)', f.methods.background],
    ['baseline lead 0', f.methods.baselineLead0],
    ['background (h+1 h)', f.methods.backgroundLead60],
    ['baseline lead 60 min', f.methods.baselineLead60],
    ['persistence of truth 60', f.methods.persistenceLead60],
  ];
  const out = [title, `  ${'method'.padEnd(26)}${'bias K'.padStart(9)}${'MAE K'.padStart(9)}${'RMSE K'.padStart(9)}${'n'.padStart(8)}`];
  for (const [name, s] of rows) out.push(`  ${name.padEnd(26)}${fmt(s.biasK).padStart(9)}${fmt(s.maeK).padStart(9)}${fmt(s.rmseK).padStart(9)}${String(s.n).padStart(8)}`);
  const ss = f.spreadSkill;
  out.push(`  within ±1 sigma: lead 0 ${fmt(ss.lead0.withinOneSigma)} (RMSE/sigma ${fmt(ss.lead0.rmseToSigma, 2)}), lead 60 ${fmt(ss.lead60.withinOneSigma)} (RMSE/sigma ${fmt(ss.lead60.rmseToSigma, 2)}); calibrated: ${fmt(GAUSSIAN_ONE_SIGMA)}`);
  out.push(`  RMSE skill: lead 0 vs background ${fmt(f.skill.lead0VsBackground)}, lead 60 vs background ${fmt(f.skill.lead60VsBackground)}, vs persistence ${fmt(f.skill.lead60VsPersistence)}`);
  return out;
}

export const baselineEvaluator: Evaluator = {
  description: 'baseline correction (crowd mean bias + bias persistence) vs background and persistence at withheld official stations',
  usage: BASELINE_USAGE,
  async run(ctx) {
    const o = baselineOptionsFromArgs(ctx.args, ctx.progress);
    const r = await evaluateBaseline(o);
    return roundFigures(r, 4) as unknown as Record<string, unknown>;
  },
  table(result) {
    const r = result as unknown as BaselineEvaluation;
    const lines = [
      `crowd ${r.datasets.crowd}`,
      `truth ${r.datasets.official} (${r.datasets.officialFormat}): ${r.truthStations.map((t) => `${t.id} ${t.lat} N ${t.lon} E`).join(', ')}`,
      `background ${r.datasets.background}`,
      `window: ${r.window}; H3 resolution ${r.resolution}`,
      `period: ${r.period.hours} hours in ${r.period.segments.map((s) => `${s.from}..${s.to}`).join(', ')}`,
      `crowd: ${r.crowd.readingsUsed} readings from ${r.crowd.stations} stations, median ${r.crowd.readingsPerHour.median}/hour; mean domain bias ${fmt(r.crowd.meanDomainBiasK)} K`,
      '',
      ...tableOf('overall', r.overall),
    ];
    for (const [month, f] of Object.entries(r.byMonth)) lines.push('', ...tableOf(month, f));
    lines.push('', `elapsed ${r.elapsedMs} ms`);
    return `${lines.join('\n')}\n`;
  },
};
