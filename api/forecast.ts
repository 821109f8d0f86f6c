/**
 * GET /v1/forecast: Open-Meteo's forecast API for 2 m temperature, answered from the in-memory
 * snapshot of the newest finished batch run. Beyond Open-Meteo: `minutely_5` (the nowcast hour in
 * 5-minute steps), `temperature_2m_sigma` (1-sigma uncertainty) and the cell's provenance.
 */
import { cellOf, inBBox, type BBox } from '../infra/geo/index.ts';
import type { LedgerState } from '../infra/store/index.ts';
import { MINUTE_MS } from '../infra/time.ts';
import { ApiError } from './errors.ts';
import { parseForecastQuery, timeAxes, axisLength, MAX_VALUES, type Axis, type ForecastQuery, type Section } from './forecast-query.ts';
import type { Snapshot, Valued } from './snapshot.ts';
import type { SnapshotStatus } from './live-snapshot.ts';
import { resolveZone, isoMinute, type Zone } from './timezone.ts';
import { encodeForecastFlatbuffers } from './flatbuffers.ts';
import { csvFilename, forecastCsv } from './forecast-csv.ts';
import type { HttpAnswer } from './http-answer.ts';

export interface SnapshotView {
  readonly current: Snapshot | null;
  readonly status: Readonly<SnapshotStatus>;
}

export interface ForecastDeps {
  live: SnapshotView;
  bbox: BBox;
  resolution: number;
  /** The zone `timezone=auto` stands for (the covered city's). */
  autoZone: string;
  /** Time between batch runs [ms]: a nowcast older than two of them is flagged stale. */
  batchIntervalMs: number;
  /** How long after its window a batch starts [ms] (added to the staleness threshold). */
  batchLagMs: number;
  /** A nowcast older than this is not served [ms]. */
  maxAgeMs: number;
  now?: () => number;
}

/** One variable's values over one section's time axis (null where nothing is known). */
export interface SectionValues {
  /** Step times [epoch ms, UTC]. */
  timesMs: number[];
  intervalS: number;
  variables: { name: string; values: (number | null)[] }[];
}

export interface PointForecast {
  latitude: number;
  longitude: number;
  elevation: number | null;
  cell: string;
  runTimeMs: number;
  method: string;
  nObs: number;
  newestObsMs: number | null;
  stale: boolean;
  current?: { timeMs: number; intervalS: number; variables: { name: string; value: number | null }[] };
  minutely_5?: SectionValues;
  minutely_15?: SectionValues;
  hourly?: SectionValues;
  daily?: SectionValues;
}

export interface ForecastAnswer {
  zone: Zone;
  fahrenheit: boolean;
  unixtime: boolean;
  points: PointForecast[];
  batch: { failing: boolean; lastError: string | null; lastErrorAtMs: number | null; lastGoodRunMs: number | null };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const SIGMA_NOTE = 'temperature_2m_sigma';

function describeBatches(ledger: LedgerState | null): string {
  if (!ledger?.last) return 'No batch run has finished yet.';
  const good = ledger.lastDone ? `the last good run is ${new Date(ledger.lastDone.windowEndMs).toISOString()}` : 'no run has succeeded yet';
  if (ledger.last.status === 'failed') {
    const at = ledger.last.finishedAtMs ? ` at ${new Date(ledger.last.finishedAtMs).toISOString()}` : '';
    return `Batches are failing (last failure${at}: ${(ledger.last.error ?? 'unknown').slice(0, 300)}); ${good}.`;
  }
  return `The batch for ${new Date(ledger.last.windowEndMs).toISOString()} is ${ledger.last.status}; ${good}.`;
}

/** The snapshot to serve, or the error saying why there is none. */
export function servingSnapshot(deps: ForecastDeps, nowMs: number): Snapshot {
  const snap = deps.live.current;
  const st = deps.live.status;
  if (!snap) {
    if (!st.storeOk && st.storeError) throw new ApiError('STORE_UNAVAILABLE', `The store did not answer: ${st.storeError.slice(0, 300)}`, { retryAfterS: 5 });
    throw new ApiError('NOT_READY', `No nowcast yet. ${describeBatches(st.ledger)}`, { retryAfterS: 30 });
  }
  if (nowMs - snap.runTimeMs > deps.maxAgeMs) {
    throw new ApiError('NOT_READY', `The newest nowcast (run ${new Date(snap.runTimeMs).toISOString()}) is older than ${Math.round(deps.maxAgeMs / MINUTE_MS)} min. ${describeBatches(st.ledger)}`, { retryAfterS: 30 });
  }
  return snap;
}

function parseElevations(raw: string | undefined, n: number): (number | null)[] {
  if (raw === undefined) return new Array<number | null>(n).fill(null);
  const parts = raw.split(',');
  if (parts.length !== n && parts.length !== 1) throw new ApiError('INVALID_PARAMETER', "Parameter 'elevation' must have one value or one per coordinate.");
  const vals = parts.map((p) => {
    const t = p.trim().toLowerCase();
    if (t === 'nan') return null;
    const v = Number(t);
    if (t === '' || !Number.isFinite(v) || v < -1000 || v > 10000) throw new ApiError('INVALID_PARAMETER', `Parameter 'elevation' must be a number from -1000 to 10000 or nan. Given: '${p.slice(0, 20)}'.`);
    return v;
  });
  return parts.length === 1 ? new Array<number | null>(n).fill(vals[0]!) : vals;
}

// The helpers below are module functions, not closures made per request: under the TypeScript loader
// each closure made costs a defineProperty of its name (as closures, a one-point answer took twice as long).

/** A served variable's value, rounded to 0.01 in the asked unit; null where nothing is known or not served. */
function pickValue(name: string, v: Valued | null, fahrenheit: boolean): number | null {
  if (!v || Number.isNaN(v.tempC)) return null;
  if (name === 'temperature_2m') return round2(fahrenheit ? v.tempC * 1.8 + 32 : v.tempC);
  if (name === 'temperature_2m_sigma') return Number.isNaN(v.sigmaC) ? null : round2(fahrenheit ? v.sigmaC * 1.8 : v.sigmaC);
  return null;
}

/** Cell i's values of `names` over `axis`; the axis's times are made once per request (`axisTimes`). */
function sectionValues(snap: Snapshot, i: number, names: string[], axis: Axis, axisTimes: Map<string, number[]>, fahrenheit: boolean): SectionValues {
  const len = axisLength(axis);
  const key = `${axis.startMs}/${axis.stepMs}/${len}`;
  let timesMs = axisTimes.get(key);
  if (!timesMs) {
    timesMs = new Array<number>(len);
    for (let k = 0; k < len; k++) timesMs[k] = axis.startMs + k * axis.stepMs;
    axisTimes.set(key, timesMs);
  }
  const served = names.includes('temperature_2m') || names.includes(SIGMA_NOTE);
  const vals = new Array<Valued | null>(served ? len : 0);
  for (let k = 0; k < vals.length; k++) vals[k] = snap.at(i, timesMs[k]!);
  const variables: { name: string; values: (number | null)[] }[] = [];
  for (const name of names) {
    const values = new Array<number | null>(len);
    for (let k = 0; k < len; k++) values[k] = served ? pickValue(name, vals[k]!, fahrenheit) : null;
    variables.push({ name, values });
  }
  return { timesMs, intervalS: axis.stepMs / 1000, variables };
}

/** Computes the forecast of every point of a parsed query. Throws ApiError. */
export function answerForecast(q: ForecastQuery, deps: ForecastDeps): ForecastAnswer {
  const nowMs = (deps.now ?? Date.now)();
  const n = q.latitude.length;
  if (q.longitude.length !== n) throw new ApiError('INVALID_PARAMETER', "Parameter 'latitude' and 'longitude' must have the same number of elements.");
  const elevations = parseElevations(q.elevation, n);
  const zone = resolveZone(q.timezone, deps.autoZone, nowMs);
  const axes = timeAxes(q, nowMs, zone.offsetS);
  if (axes.error) throw new ApiError('INVALID_PARAMETER', axes.error);
  const fahrenheit = q.temperature_unit === 'fahrenheit';
  const explicit = q.current !== undefined || q.minutely_5 !== undefined || q.minutely_15 !== undefined || q.hourly !== undefined || q.daily !== undefined;
  // With no variables asked for at all, the nowcast itself: now and the next hour in 5-minute steps.
  const want: Partial<Record<Section, string[]>> = explicit
    ? { current: q.current, minutely_5: q.minutely_5, minutely_15: q.minutely_15, hourly: q.hourly, daily: q.daily }
    : { current: ['temperature_2m', 'temperature_2m_sigma'], minutely_5: ['temperature_2m', 'temperature_2m_sigma'] };
  const steps = (want.hourly?.length ?? 0) * axisLength(axes.hourly) + (want.minutely_15?.length ?? 0) * axisLength(axes.minutely15) + (want.daily?.length ?? 0) * axisLength(axes.daily) + (want.minutely_5?.length ?? 0) * 13 + (want.current?.length ?? 0);
  if (steps * n > MAX_VALUES) throw new ApiError('PAYLOAD_TOO_LARGE', `The request asks for ${steps * n} values; at most ${MAX_VALUES} per request. Ask for fewer points, variables or steps.`);

  for (let p = 0; p < n; p++) {
    if (!inBBox({ lat: q.latitude[p]!, lon: q.longitude[p]! }, deps.bbox)) {
      const b = deps.bbox;
      throw new ApiError('OUTSIDE_COVERAGE', `${n > 1 ? `Point ${p + 1} ` : ''}(${q.latitude[p]}, ${q.longitude[p]}) is outside the covered area: latitude ${b.south} to ${b.north}, longitude ${b.west} to ${b.east}.`);
    }
  }
  const snap = servingSnapshot(deps, nowMs);
  const stale = nowMs - snap.runTimeMs > 2 * deps.batchIntervalMs + deps.batchLagMs;
  // Each axis's times once per request, shared by every point (and formatted once, see pointJson).
  const axisTimes = new Map<string, number[]>();
  const points: PointForecast[] = [];
  for (let p = 0; p < n; p++) {
    const cell = cellOf({ lat: q.latitude[p]!, lon: q.longitude[p]! }, deps.resolution);
    const i = snap.index.get(cell);
    if (i === undefined) throw new ApiError('NOT_READY', `No nowcast for cell ${cell} in the run of ${new Date(snap.runTimeMs).toISOString()}. ${describeBatches(deps.live.status.ledger)}`, { retryAfterS: 30 });
    const prov = snap.provenance(i);
    const pf: PointForecast = {
      latitude: Number(snap.geometry.centreLat[i]!.toFixed(6)),
      longitude: Number(snap.geometry.centreLon[i]!.toFixed(6)),
      elevation: elevations[p]!,
      cell,
      runTimeMs: snap.runTimeMs,
      method: prov.method,
      nObs: prov.nObs,
      newestObsMs: prov.newestObsMs,
      stale,
    };
    if (want.current) {
      const stepMs = 5 * MINUTE_MS;
      const t = Math.max(snap.runTimeMs, Math.floor(nowMs / stepMs) * stepMs);
      const v = snap.at(i, t);
      const variables: { name: string; value: number | null }[] = [];
      for (const name of want.current) variables.push({ name, value: pickValue(name, v, fahrenheit) });
      pf.current = { timeMs: t, intervalS: stepMs / 1000, variables };
    }
    if (want.minutely_5) {
      const r = snap.run;
      pf.minutely_5 = sectionValues(snap, i, want.minutely_5, { startMs: r.runTimeMs, endMs: r.runTimeMs + r.stepsPerCell * r.stepMin * MINUTE_MS, stepMs: r.stepMin * MINUTE_MS }, axisTimes, fahrenheit);
    }
    if (want.minutely_15) pf.minutely_15 = sectionValues(snap, i, want.minutely_15, axes.minutely15, axisTimes, fahrenheit);
    if (want.hourly) pf.hourly = sectionValues(snap, i, want.hourly, axes.hourly, axisTimes, fahrenheit);
    if (want.daily) pf.daily = sectionValues(snap, i, want.daily, axes.daily, axisTimes, fahrenheit);
    points.push(pf);
  }
  const ledger = deps.live.status.ledger;
  const failing = ledger?.last?.status === 'failed';
  return {
    zone, fahrenheit, unixtime: q.timeformat === 'unixtime', points,
    batch: { failing, lastError: failing ? ledger!.last!.error : null, lastErrorAtMs: failing ? ledger!.last!.finishedAtMs : null, lastGoodRunMs: ledger?.lastDone?.windowEndMs ?? snap.runTimeMs },
  };
}

/** Formatted time axes, shared between requests (the same run's axes recur) [bounded]. */
const timeStrings = new Map<string, unknown[]>();

/** A time on the answer's axis: epoch seconds, or local ISO 8601 to the minute (a day's date alone). */
function formatTime(a: ForecastAnswer, t: number, day: boolean): number | string {
  if (a.unixtime) return Math.floor(t / 1000);
  const iso = isoMinute(t, a.zone.offsetS);
  return day ? iso.slice(0, 10) : iso;
}

/** Variable names with the sigma added beside a temperature (JSON always carries both). */
function withSigma(names: string[]): string[] {
  return names.includes('temperature_2m') && !names.includes(SIGMA_NOTE) ? [...names, SIGMA_NOTE] : names;
}

const unitOf = (name: string, unit: string) => (name === 'temperature_2m' || name === SIGMA_NOTE ? unit : '');

/** One section's `<key>_units` and `<key>` members of a point's body. */
function sectionJson(out: Record<string, unknown>, a: ForecastAnswer, key: Section, s: SectionValues | undefined, formatted: Map<number[], unknown[]>, day: boolean): void {
  if (!s) return;
  const unit = a.fahrenheit ? '°F' : '°C';
  const units: Record<string, string> = { time: a.unixtime ? 'unixtime' : 'iso8601' };
  let time = formatted.get(s.timesMs);
  if (!time) {
    const cacheKey = `${s.timesMs[0]}/${s.intervalS}/${s.timesMs.length}/${a.zone.offsetS}/${a.unixtime}/${day}`;
    time = timeStrings.get(cacheKey);
    if (!time) {
      time = new Array<unknown>(s.timesMs.length);
      for (let k = 0; k < time.length; k++) time[k] = formatTime(a, s.timesMs[k]!, day);
      if (timeStrings.size >= 256) timeStrings.delete(timeStrings.keys().next().value!);
      timeStrings.set(cacheKey, time);
    }
    formatted.set(s.timesMs, time);
  }
  const body: Record<string, unknown> = { time };
  for (const name of withSigma(s.variables.map((v) => v.name))) {
    units[name] = unitOf(name, unit);
    body[name] = s.variables.find((v) => v.name === name)?.values ?? [];
  }
  out[`${key}_units`] = units;
  out[key] = body;
}

/** The Open-Meteo JSON body of one point (keys in Open-Meteo's order, then ours). */
export function pointJson(a: ForecastAnswer, pf: PointForecast, generationMs: number, formatted = new Map<number[], unknown[]>()): Record<string, unknown> {
  const out: Record<string, unknown> = {
    latitude: pf.latitude,
    longitude: pf.longitude,
    generationtime_ms: generationMs,
    utc_offset_seconds: a.zone.offsetS,
    timezone: a.zone.name,
    timezone_abbreviation: a.zone.abbreviation,
    elevation: pf.elevation,
    cell: pf.cell,
    run_time: new Date(pf.runTimeMs).toISOString(),
    method: pf.method,
    observations_in_cell: pf.nObs,
    newest_observation: pf.newestObsMs === null ? null : new Date(pf.newestObsMs).toISOString(),
    newest_observation_age_s: pf.newestObsMs === null ? null : Math.round((pf.runTimeMs - pf.newestObsMs) / 1000),
    stale: pf.stale,
  };
  if (a.batch.failing) out.batch_status = { failing: true, reason: a.batch.lastError, failed_at: a.batch.lastErrorAtMs === null ? null : new Date(a.batch.lastErrorAtMs).toISOString(), last_good_run: a.batch.lastGoodRunMs === null ? null : new Date(a.batch.lastGoodRunMs).toISOString() };
  if (pf.current) {
    const unit = a.fahrenheit ? '°F' : '°C';
    const units: Record<string, string> = { time: a.unixtime ? 'unixtime' : 'iso8601', interval: 'seconds' };
    const body: Record<string, unknown> = { time: formatTime(a, pf.current.timeMs, false), interval: pf.current.intervalS };
    for (const name of withSigma(pf.current.variables.map((v) => v.name))) {
      units[name] = unitOf(name, unit);
      body[name] = pf.current.variables.find((v) => v.name === name)?.value ?? null;
    }
    out.current_units = units;
    out.current = body;
  }
  sectionJson(out, a, 'minutely_15', pf.minutely_15, formatted, false);
  sectionJson(out, a, 'minutely_5', pf.minutely_5, formatted, false);
  sectionJson(out, a, 'hourly', pf.hourly, formatted, false);
  sectionJson(out, a, 'daily', pf.daily, formatted, true);
  return out;
}

/** The whole answer to GET /v1/forecast for a parsed query string. Throws ApiError. */
export function forecastAnswer(query: unknown, deps: ForecastDeps): HttpAnswer {
  const t0 = performance.now();
  const parsed = parseForecastQuery(query as Record<string, unknown>);
  if (!parsed.success) throw new ApiError('INVALID_PARAMETER', parsed.error.issues[0]?.message ?? 'Invalid parameters.');
  const q = parsed.data;
  // The sigma beside a temperature: JSON adds it to each section that has temperature_2m.
  const a = answerForecast(withSigmaValues(q), deps);
  if (q.format === 'flatbuffers') {
    const body = encodeForecastFlatbuffers(a, q, performance.now() - t0);
    return { status: 200, headers: { 'Content-Type': 'application/octet-stream' }, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) };
  }
  if (q.format === 'csv') {
    const unit = a.fahrenheit ? '°F' : '°C';
    const body = forecastCsv(a, { locationHeader: q.location_information !== 'omit', unitOf: (name) => unitOf(name, unit) });
    return { status: 200, headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="${csvFilename(a)}"`, 'X-Run-Time': new Date(a.points[0]!.runTimeMs).toISOString() }, body };
  }
  const ms = Number((performance.now() - t0).toFixed(3));
  const formatted = new Map<number[], unknown[]>();
  const bodies = a.points.map((pf) => pointJson(a, pf, ms, formatted));
  return { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: JSON.stringify(q.latitude.length > 1 ? bodies : bodies[0]) };
}

/** Adds temperature_2m_sigma to each requested JSON (and CSV) section listing temperature_2m (flatbuffers gets exactly what was asked). */
function withSigmaValues(q: ForecastQuery): ForecastQuery {
  if (q.format === 'flatbuffers') return q;
  if (q.current === undefined && q.minutely_5 === undefined && q.minutely_15 === undefined && q.hourly === undefined) return q;
  return { ...q, current: addSigma(q.current), minutely_5: addSigma(q.minutely_5), minutely_15: addSigma(q.minutely_15), hourly: addSigma(q.hourly) };
}

function addSigma(names: string[] | undefined): string[] | undefined {
  return names && withSigma(names);
}
