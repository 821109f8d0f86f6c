/**
 * The batch of one window, as a worker takes part in it: map tasks (QC of a shard's sensors, with a
 * halo) then reduce tasks (a shard's cells: large scale + local OI + Kalman, the nowcasts), leased
 * from the store so several worker processes share a window and a dead worker's task is redone.
 * Whoever completes the window's last reduce task finishes the window in the ledger.
 *
 * Inputs of a window k: its readings [k − W, k), the background, and the state left by the newest
 * done window before k (sensor records, cell filter states). Every task is a pure function of those
 * and of the shard plan, so the nowcasts do not depend on which worker ran which task, or how many
 * workers there were; and a rerun of a window gives the same nowcasts.
 */
import type { Logger } from '../infra/log.ts';
import type { Store } from '../infra/store/index.ts';
import {
  backgroundBetween, claimTask, finishTask, finishWindow, getBlobs, latestDoneBefore, phaseProgress, putBlobs, readingColumns, releaseTask,
  renewLease, writeShardNowcasts, failWindow, type ReadingColumns, type TaskClaim, type NowcastRow,
} from '../infra/store/index.ts';
import { cellCenter, cellOf, cellsCoveringBBox, localPlane, parentOf, type BBox, type LatLon, type LocalPlane } from '../infra/geo/index.ts';
import { HOUR_MS, MINUTE_MS } from '../infra/time.ts';
import { buildBackgroundField, type BackgroundField } from './background-field.ts';
import { analyseCells, copyCellState, emptyCellStates, largeScaleBias, pickCellStates, type AnalysisOptions, type CellStates } from './analysis/cell-analysis.ts';
import { windowColumns, windowTable, concatObservations, decodeCellStates, decodeObservations, decodeRecords, decodeSummary, encodeCellStates, encodeFlags, encodeObservations, encodeRecords, encodeSummary, HISTORY_STEPS, SERVED_STEPS, type CellStateSet } from './artefacts.ts';
import { emitCells, valueOrFallback, withFallback } from './emit.ts';
import { largeScaleInputOf, mergeSummaries } from './map-stage.ts';
import { MapPool } from './map-pool.ts';
import { STEP_MIN, STEPS, type GridCell } from './nowcast.ts';
import type { QcOptions } from './qc/chain.ts';
import { QC_REASONS } from './qc/reasons.ts';
import type { SensorRecord } from './qc/sensor-record.ts';
import { planShards, shardReach, shardsWithin, type ShardPlan, type ShardReach } from './shards.ts';
import type { IssueBlend, NextHourSmoother } from '../models/index.ts';
import { blendIssue, blendWeights, SERVED_BLEND, SMOOTHER_STEP_MIN } from '../models/index.ts';

export const FILTER_METHOD = 'kalman-oi';
export const FALLBACK_METHOD = 'fallback:readings-median';

/** Every cell that overlaps the box (so every point inside it has a cell), with its centre, in a stable order. */
export function domainGrid(bbox: BBox, resolution: number): GridCell[] {
  return cellsCoveringBBox(bbox, resolution).map((cell) => ({ cell, centre: cellCenter(cell) }));
}

export interface Domain {
  bbox: BBox;
  resolution: number;
  grid: GridCell[];
  plane: LocalPlane;
  plan: ShardPlan;
}

export function makeDomain(bbox: BBox, resolution: number, shardResolution: number): Domain {
  const grid = domainGrid(bbox, resolution);
  return { bbox, resolution, grid, plane: localPlane((bbox.south + bbox.north) / 2), plan: planShards(grid, shardResolution) };
}

export interface BatchOptions {
  store: Store;
  log: Logger;
  domain: Domain;
  windowMs: number;
  qc: QcOptions;
  analysis: AnalysisOptions;
  /** Width of the map's halo around a shard [m]: the QC's neighbourhood (buddy and SCT radii). */
  haloM: number;
  /** This worker's name in the task leases. */
  workerId: string;
  /** How long a task lease lasts before another worker may take it over [ms]. */
  leaseMs: number;
  /** A task failing this many times fails the window (retried later with backoff). */
  maxTaskAttempts: number;
  /** Backoff of a failed window: retryBaseMs × 2^(attempts − 1), at most retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Hourly steps as far as the background reaches, at most this many. */
  hourlyMaxSteps: number;
  /** Sensors unseen this long leave the records [ms]. */
  recordMaxAgeMs: number;
  smoother?: NextHourSmoother;
  /** How the smoother's trajectory is blended with the one served for the cell the window before (default SERVED_BLEND, the one evaluated). */
  smootherBlend?: IssueBlend;
  now?: () => number;
  /** Polling interval while other workers hold the remaining tasks [ms]. */
  pollMs?: number;
  /** Threads that run the shards' QC (default 0: on this thread; threads pay off only where cores are idle). */
  mapThreads?: number;
}

export interface WindowResult {
  windowEndMs: number;
  status: 'done' | 'failed' | 'waiting';
  /** Tasks this worker ran. */
  tasks: number;
  elapsedMs: number;
  /** Time this worker spent per stage [ms]: read (window inputs), qc (map compute), analysis (reduce compute), write (blobs, nowcasts, ledger). */
  stageMs: Record<string, number>;
  /** Within qc: the QC chain's stages [ms]. */
  qcStageMs: Record<string, number>;
  error?: string;
}

/** What one map task measured (summed over shards into the ledger). */
interface ShardStats {
  readings: number;
  sensors: number;
  late: number;
  qc: number[];
}

/** Per-process caches of a window's inputs (read once, shared by the shard tasks this process runs). */
interface WindowInputs {
  windowEndMs: number;
  readings: ReadingColumns;
  field: BackgroundField | null;
  /** Where no background covers: the median of the window's plausible readings (NaN when none). */
  fallbackC: number;
  prevEndMs: number | null;
  /** Blobs decoded once per process and window (a shard's neighbours read the same ones). */
  records: Map<string, Promise<{ records: Map<string, SensorRecord>; lastSeenMs: Map<string, number> }>>;
  observations: Map<string, ReturnType<typeof decodeObservations>>;
}

export class BatchWorker {
  readonly #o: BatchOptions;
  #inputs: WindowInputs | null = null;
  /** Each shard's halo reach (a property of the domain), built on first use. */
  readonly #reaches = new Map<string, ShardReach>();
  #stageMs: Record<string, number> = {};
  /** The QC chain's own stages, within 'qc'. */
  #qcStageMs: Record<string, number> = {};

  readonly #pool: MapPool;

  constructor(o: BatchOptions) {
    this.#o = o;
    this.#pool = new MapPool(o.mapThreads);
  }

  get options(): BatchOptions {
    return this.#o;
  }

  /** Takes part in window `windowEndMs` until it is done or failed (or only others' leased tasks remain and `wait` is false). */
  async workWindow(windowEndMs: number, wait = true): Promise<WindowResult> {
    const o = this.#o;
    const now = o.now ?? Date.now;
    const started = now();
    this.#stageMs = {};
    this.#qcStageMs = {};
    const result = (r: Omit<WindowResult, 'stageMs' | 'qcStageMs'>): WindowResult => ({ ...r, stageMs: { ...this.#stageMs }, qcStageMs: { ...this.#qcStageMs } });
    const shardIds = o.domain.plan.shards.map((s) => s.id);
    let tasks = 0;
    let failed: string | null = null;
    // Lanes: as many tasks at once as there are map threads (the store serialises its own work).
    const lanes = Math.max(1, this.#pool.size);
    try {
      for (const phase of ['map', 'reduce'] as const) {
        let waiting = false;
        const lane = async (): Promise<void> => {
          for (;;) {
            if (failed !== null) return;
            const claim = await claimTask(o.store, { windowEndMs, phase, worker: o.workerId, nowMs: now(), leaseMs: o.leaseMs });
            if (claim) {
              const f = await this.#runTask(claim);
              tasks++;
              if (f) failed = f;
              continue;
            }
            const progress = await phaseProgress(o.store, windowEndMs, phase);
            if (progress.total < shardIds.length) throw new Error(`window ${new Date(windowEndMs).toISOString()} has ${progress.total} ${phase} tasks, expected ${shardIds.length}`);
            if (progress.done === progress.total) return;
            if (!wait) { waiting = true; return; }
            await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
          }
        };
        await Promise.all(Array.from({ length: lanes }, lane));
        if (failed !== null) return result({ windowEndMs, status: 'failed', tasks, elapsedMs: now() - started, error: failed });
        if (waiting) return result({ windowEndMs, status: 'waiting', tasks, elapsedMs: now() - started });
      }
      await this.#timed('write', () => this.#finish(windowEndMs));
      return result({ windowEndMs, status: 'done', tasks, elapsedMs: now() - started });
    } finally {
      this.#inputs = null;
    }
  }

  /** Stops the map threads. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  async #timed<T>(stage: string, fn: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.#stageMs[stage] = (this.#stageMs[stage] ?? 0) + (performance.now() - t0);
    }
  }

  /** Runs one claimed task; returns the window's error when the task failed for the last time. */
  async #runTask(claim: TaskClaim): Promise<string | null> {
    const o = this.#o;
    const now = o.now ?? Date.now;
    const renew = setInterval(() => void renewLease(o.store, claim, o.workerId, now() + o.leaseMs).catch(() => undefined), Math.max(1000, o.leaseMs / 3));
    renew.unref();
    try {
      if (claim.phase === 'map') await this.#map(claim);
      else await this.#reduce(claim);
      return null;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      o.log.error({ role: 'pipeline', window: new Date(claim.windowEndMs).toISOString(), phase: claim.phase, shard: claim.shard, attempt: claim.attempts, err }, 'batch task failed');
      await releaseTask(o.store, claim, o.workerId, message).catch(() => undefined);
      if (claim.attempts >= o.maxTaskAttempts) {
        const window = await o.store.query<{ attempts: number }>(`SELECT attempts FROM batch_runs WHERE window_end = $1`, [new Date(claim.windowEndMs)]);
        const attempts = window.rows[0]?.attempts ?? 1;
        const backoff = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** (attempts - 1));
        const error = `${claim.phase} task of shard ${claim.shard} failed ${claim.attempts} times: ${message}`;
        await failWindow(o.store, claim.windowEndMs, now(), error, now() + backoff);
        return error;
      }
      return null;
    } finally {
      clearInterval(renew);
    }
  }

  async #windowInputs(windowEndMs: number): Promise<WindowInputs> {
    if (this.#inputs?.windowEndMs === windowEndMs) return this.#inputs;
    const o = this.#o;
    const startMs = windowEndMs - o.windowMs;
    // The window's readings travel as one Arrow record batch; each shard's map reads its slice.
    const readings = windowColumns(windowTable(await readingColumns(o.store, startMs, windowEndMs)));
    const bg = await backgroundBetween(o.store, startMs - 3 * HOUR_MS, windowEndMs + (o.hourlyMaxSteps + 3) * HOUR_MS);
    const field = bg.length > 0 ? buildBackgroundField(bg) : null;
    // The fallback where no background covers: the median of the window's plausible readings (a flat
    // field, the same for every shard); NaN when there are none.
    const plausible = readings.tempC.filter((t) => t >= o.qc.rangeMinC && t <= o.qc.rangeMaxC).sort(); // a typed array sorts numerically
    const fallbackC = plausible.length ? plausible[plausible.length >> 1]! : NaN;
    const prevEndMs = await latestDoneBefore(o.store, windowEndMs);
    this.#inputs = { windowEndMs, readings, field, fallbackC, prevEndMs, records: new Map(), observations: new Map() };
    return this.#inputs;
  }

  async #map(claim: TaskClaim): Promise<void> {
    const o = this.#o;
    const { domain } = o;
    const inputs = await this.#timed('read', () => this.#windowInputs(claim.windowEndMs));
    const shard = domain.plan.shards.find((s) => s.id === claim.shard);
    if (!shard) throw new Error(`unknown shard ${claim.shard}`);
    const r = inputs.readings;
    // The shard's readings and its halo's: those within the halo's width of the shard's cells
    // (readings come sorted by sensor, then time, so a sensor's position is judged once).
    let halo = this.#reaches.get(shard.id);
    if (!halo) this.#reaches.set(shard.id, (halo = shardReach(shard, o.haloM + cellRadiusM(domain.resolution), domain.plane)));
    const { box } = halo;
    const pick: number[] = [];
    let lastLat = NaN, lastLon = NaN, lastIn = false;
    for (let i = 0; i < r.sensorId.length; i++) {
      const lat = r.lat[i]!, lon = r.lon[i]!;
      if (!(lat >= box.south && lat <= box.north && lon >= box.west && lon <= box.east)) continue;
      if (lat !== lastLat || lon !== lastLon) {
        lastIn = halo.contains(lat, lon);
        lastLat = lat;
        lastLon = lon;
      }
      if (lastIn) pick.push(i);
    }
    const ids: string[] = [];
    const sensorOf = new Int32Array(pick.length);
    const newest: number[] = []; // per sensor: its newest reading (its position); readings come sorted by sensor, then time
    for (let k = 0; k < pick.length; k++) {
      const i = pick[k]!;
      if (ids.length === 0 || ids[ids.length - 1] !== r.sensorId[i]) { ids.push(r.sensorId[i]!); newest.push(i); }
      sensorOf[k] = ids.length - 1;
      newest[ids.length - 1] = i;
    }
    const column = (c: ArrayLike<number>): Float64Array => {
      const out = new Float64Array(newest.length);
      for (let s = 0; s < newest.length; s++) out[s] = c[newest[s]!]!;
      return out;
    };
    const sensorLat = column(r.lat), sensorLon = column(r.lon);
    const own = new Uint8Array(ids.length);
    for (let s = 0; s < ids.length; s++) own[s] = parentOf(cellOf({ lat: sensorLat[s]!, lon: sensorLon[s]! }, domain.resolution), domain.plan.resolution) === shard.id ? 1 : 0;
    // State: the records of the shard and of its halo's shards, as the newest done window left them.
    const reach = shardsWithin(domain.plan, shard.id, o.haloM + cellRadiusM(domain.resolution), domain.plane);
    const previous = new Map<string, SensorRecord>();
    const ownPrevious = new Map<string, SensorRecord>();
    const ownSeen = new Map<string, number>();
    if (inputs.prevEndMs !== null) {
      // Each shard's records are read and decoded once per window in this process.
      const missing = reach.filter((id) => !inputs.records.has(id));
      if (missing.length > 0) {
        const read = this.#timed('read', () => getBlobs(o.store, inputs.prevEndMs!, 'records', missing));
        for (const id of missing) {
          const decoded = read.then((blobs) => {
            const b = blobs.find((x) => x.shard === id);
            return b ? decodeRecords(b.body) : { records: new Map(), lastSeenMs: new Map() };
          });
          // A failed read (the store gone mid-window) rejects every shard's promise: the one awaited below
          // throws to the task's retry; the others must not be unhandled rejections (they end the process),
          // nor stay cached for the retry to meet again.
          decoded.catch(() => { if (inputs.records.get(id) === decoded) inputs.records.delete(id); });
          inputs.records.set(id, decoded);
        }
      }
      for (const id of reach) {
        const { records, lastSeenMs } = await inputs.records.get(id)!;
        for (const [sid, rec] of records) {
          previous.set(sid, rec);
          if (id === shard.id) { ownPrevious.set(sid, rec); ownSeen.set(sid, lastSeenMs.get(sid)!); }
        }
      }
    }
    const mapped = await this.#timed('qc', () => this.#pool.map({
      windowStartMs: claim.windowEndMs - o.windowMs,
      windowEndMs: claim.windowEndMs,
      sensors: {
        id: ids,
        official: Uint8Array.from(newest, (i) => r.official[i]!),
        x: sensorLon.map((lon) => domain.plane.x(lon)),
        y: sensorLat.map((lat) => domain.plane.y(lat)),
        z: column(r.elevationM),
        lat: sensorLat,
        lon: sensorLon,
      },
      readings: {
        sensor: sensorOf,
        timeMs: pickColumn(r.timeMs, pick),
        tempC: pickColumn(r.tempC, pick),
        backgroundC: backgroundAtReadings(inputs, pick, r, claim.windowEndMs - o.windowMs, claim.windowEndMs),
      },
      records: ids.map((id) => previous.get(id)),
      own,
    }, o.qc, o.analysis));
    const out = mapped.out;
    for (const [k, v] of Object.entries(mapped.stageMs)) this.#qcStageMs[k] = (this.#qcStageMs[k] ?? 0) + v;
    // Records of the shard's sensors: those seen now updated, the others carried, the long unseen dropped.
    const nowMs = claim.windowEndMs;
    for (const [id, rec] of out.records) { ownPrevious.set(id, rec); ownSeen.set(id, nowMs); }
    for (const [id, seen] of ownSeen) if (seen < nowMs - o.recordMaxAgeMs) { ownPrevious.delete(id); ownSeen.delete(id); }
    // Flags of the shard's own readings, and what it measured.
    const ownPick: number[] = [];
    pick.forEach((i, k) => { if (own[sensorOf[k]!]) ownPick.push(k); });
    const stats: ShardStats = { readings: ownPick.length, sensors: out.records.size, late: 0, qc: new Array(QC_REASONS.length).fill(0) };
    for (const k of ownPick) {
      stats.qc[out.qc.reason[k]!]!++;
      if (r.receivedMs[pick[k]!]! > claim.windowEndMs) stats.late++;
    }
    const flags = encodeFlags({ sensorId: ownPick.map((k) => ids[sensorOf[k]!]!), timeMs: Float64Array.from(ownPick, (k) => r.timeMs[pick[k]!]!), reason: Uint8Array.from(ownPick, (k) => out.qc.reason[k]!) });
    const blobs = [
      { windowEndMs: claim.windowEndMs, kind: 'obs', shard: shard.id, body: encodeObservations(out.observations) },
      { windowEndMs: claim.windowEndMs, kind: 'summary', shard: shard.id, body: encodeSummary(out.summary) },
      { windowEndMs: claim.windowEndMs, kind: 'flags', shard: shard.id, body: flags },
      { windowEndMs: claim.windowEndMs, kind: 'records', shard: shard.id, body: encodeRecords(ownPrevious, ownSeen) },
      { windowEndMs: claim.windowEndMs, kind: 'stats', shard: shard.id, body: new TextEncoder().encode(JSON.stringify(stats)) },
    ];
    await this.#timed('write', () => o.store.transaction(async (tx) => {
      await putBlobs(tx, blobs);
      if (!(await finishTask(tx, claim, o.workerId))) throw new Error(`map task of shard ${shard.id} was taken over by another worker`);
    }));
  }

  async #reduce(claim: TaskClaim): Promise<void> {
    const o = this.#o;
    const { domain } = o;
    const inputs = await this.#timed('read', () => this.#windowInputs(claim.windowEndMs));
    const shard = domain.plan.shards.find((s) => s.id === claim.shard);
    if (!shard) throw new Error(`unknown shard ${claim.shard}`);
    const reach = shardsWithin(domain.plan, shard.id, o.analysis.structure.localizationM + cellRadiusM(domain.resolution), domain.plane);
    const missingObs = reach.filter((id) => !inputs.observations.has(id));
    const [summaryBlobs, obsBlobs, cellBlobs] = await this.#timed('read', () => Promise.all([
      getBlobs(o.store, claim.windowEndMs, 'summary'),
      missingObs.length > 0 ? getBlobs(o.store, claim.windowEndMs, 'obs', missingObs) : Promise.resolve([]),
      inputs.prevEndMs !== null ? getBlobs(o.store, inputs.prevEndMs, 'cells', [shard.id]) : Promise.resolve([]),
    ]));
    const t0 = performance.now();
    const summary = mergeSummaries(summaryBlobs.map((b) => decodeSummary(b.body)));
    const large = largeScaleBias(largeScaleInputOf(summary), o.analysis);
    // A shard's super-observations are decoded once per window in this process (its neighbours reuse them).
    for (const b of obsBlobs) inputs.observations.set(b.shard, decodeObservations(b.body));
    const obs = concatObservations(reach.filter((id) => inputs.observations.has(id)).map((id) => inputs.observations.get(id)!));
    // The shard's cells' states as the newest done window left them.
    const n = shard.cells.length;
    const prev: CellStates = emptyCellStates(n, o.analysis.process.length);
    const history = new Float32Array(n * HISTORY_STEPS).fill(NaN);
    // The trajectory served the window before (NaN: none), and how many 5-minute steps ago.
    const prevServed = new Float32Array(n * SERVED_STEPS).fill(NaN);
    let gap = 0;
    // The history is on the clock's 5-minute slots, whatever the window: windows shorter than a step
    // (WINDOW_MS of a minute) overwrite their slot's value, and it moves on when a new slot begins.
    let slotGap = 0;
    const row = new Map(shard.cells.map((c, i) => [c.cell, i]));
    if (inputs.prevEndMs !== null) {
      const [blob] = cellBlobs;
      if (blob) {
        const s = decodeCellStates(blob.body);
        gap = Math.round((claim.windowEndMs - inputs.prevEndMs) / (SMOOTHER_STEP_MIN * MINUTE_MS));
        slotGap = historySlot(claim.windowEndMs) - historySlot(inputs.prevEndMs);
        s.cell.forEach((cell, j) => {
          const i = row.get(cell);
          if (i === undefined) return;
          copyCellState(s, j, prev, i);
          if (s.served) prevServed.set(s.served.subarray(j * SERVED_STEPS, (j + 1) * SERVED_STEPS), i * SERVED_STEPS);
          // History moves on by the slots since (gaps stay NaN).
          for (let k = 0; k < HISTORY_STEPS; k++) {
            const from = k + slotGap;
            if (from < HISTORY_STEPS) history[i * HISTORY_STEPS + k] = s.history[j * HISTORY_STEPS + from]!;
          }
        });
      }
    }
    const targets = {
      x: Float64Array.from(shard.cells, (c) => domain.plane.x(c.centre.lon)),
      y: Float64Array.from(shard.cells, (c) => domain.plane.y(c.centre.lat)),
      z: new Float64Array(n).fill(NaN),
    };
    const cells = analyseCells(targets, prev, obs, large, claim.windowEndMs, o.analysis);
    const cv = 1.482602218505602 * summary.cvDeviation.mad();
    const pointVarK2 = Number.isFinite(cv) ? cv * cv : o.analysis.localSigmaK ** 2;
    const emitOptions = { stepMin: STEP_MIN, steps: STEPS, hourlyMaxSteps: o.hourlyMaxSteps, process: o.analysis.process, pointVarK2 };
    const centres = shard.cells.map((c) => c.centre);
    const real = inputs.field ? inputs.field.sampler(centres) : null;
    const covered = real ? real(claim.windowEndMs) : new Float64Array(n).fill(NaN);
    const emitted = emitCells(cells, claim.windowEndMs, withFallback(real, n, inputs.fallbackC), real, emitOptions);
    const rows: NowcastRow[] = [];
    const kept: number[] = [];
    emitted.forEach((e, i) => {
      if (!e) return;
      const method = Number.isFinite(covered[i]!) ? FILTER_METHOD : FALLBACK_METHOD;
      rows.push({ cell: shard.cells[i]!.cell, ...e, nObs: cells.nObs[i]!, method, newestObsMs: Number.isFinite(cells.newestObsMs[i]!) ? cells.newestObsMs[i]! : null });
      kept.push(i);
      history[i * HISTORY_STEPS + HISTORY_STEPS - 1] = e.tempsC[0]!;
    });
    this.#stageMs.analysis = (this.#stageMs.analysis ?? 0) + (performance.now() - t0);
    const served = o.smoother ? new Float32Array(n * SERVED_STEPS).fill(NaN) : undefined;
    const smootherError = o.smoother && rows.length > 0 ? await this.#timed('smoother', () => this.#smooth(claim, shard.cells, kept, rows, history, { prevServed, gap, served: served! })) : null;
    const states: CellStateSet = { cell: shard.cells.map((c) => c.cell), ...pickCellStates(cells), history, ...(served ? { served } : {}) };
    const cellsBlob = encodeCellStates(states);
    await this.#timed('write', () => o.store.transaction(async (tx) => {
      await writeShardNowcasts(tx, { runTimeMs: claim.windowEndMs, stepMin: STEP_MIN, method: FILTER_METHOD }, shard.cells.map((c) => c.cell), rows);
      await putBlobs(tx, [
        { windowEndMs: claim.windowEndMs, kind: 'cells', shard: shard.id, body: cellsBlob },
        // What the smoother did in this shard, for the run's ledger entry.
        ...(o.smoother ? [{ windowEndMs: claim.windowEndMs, kind: 'smoother', shard: shard.id, body: new TextEncoder().encode(JSON.stringify({ error: smootherError })) }] : []),
      ]);
      if (!(await finishTask(tx, claim, o.workerId))) throw new Error(`reduce task of shard ${shard.id} was taken over by another worker`);
    }));
  }

  /**
   * The smoother's next hour replaces the filter's where it answers, blended with the trajectory served
   * for the cell the window before (`blendIssue`: the rule the evaluation scores); the filter's stays
   * where it fails. What is served goes into `blend.served` (by shard cell) for the next window.
   * Returns why it failed, or null.
   */
  async #smooth(claim: TaskClaim, cellsOfShard: readonly GridCell[], kept: readonly number[], rows: NowcastRow[], history: Float32Array, blend: { prevServed: Float32Array; gap: number; served: Float32Array }): Promise<string | null> {
    const o = this.#o;
    const sm = o.smoother!;
    const n = rows.length, steps = STEPS + 1;
    if (steps !== SERVED_STEPS) throw new Error(`nowcasts have ${steps} leads, cell states keep ${SERVED_STEPS}`);
    const weights = blendWeights(o.smootherBlend ?? SERVED_BLEND, steps);
    const hist = new Float32Array(n * HISTORY_STEPS);
    const filter = new Float32Array(n * steps), sigma = new Float32Array(n * steps);
    kept.forEach((i, r) => {
      // The history excludes lead 0 (it ends 5 minutes before the run).
      hist.set(history.subarray(i * HISTORY_STEPS, (i + 1) * HISTORY_STEPS - 1), r * HISTORY_STEPS + 1);
      hist[r * HISTORY_STEPS] = NaN;
      // Where no background covers, only lead 0 (the analysis) is known: the rest is masked for the model.
      const known = rows[r]!.method === FILTER_METHOD ? steps : 1;
      for (let k = 0; k < steps; k++) { filter[r * steps + k] = k < known ? rows[r]!.tempsC[k]! : NaN; sigma[r * steps + k] = rows[r]!.sigmasC[k]!; }
    });
    try {
      const out = await sm.smooth({
        runTimeMs: claim.windowEndMs, n, historySteps: HISTORY_STEPS, history: hist, trajectorySteps: steps, filter, filterSigma: sigma,
        lat: Float32Array.from(kept, (i) => cellsOfShard[i]!.centre.lat), lon: Float32Array.from(kept, (i) => cellsOfShard[i]!.centre.lon),
      });
      if (out.length !== n * steps) throw new Error(`smoother returned ${out.length} values, expected ${n * steps}`);
      const label = `+${sm.name}@${sm.version}`;
      const mixed = new Float64Array(steps);
      rows.forEach((row, r) => {
        const i = kept[r]!;
        blendIssue({ weights, steps, nn: out, nnAt: r * steps, prev: blend.prevServed, prevAt: i * steps, gap: blend.gap, out: mixed });
        const temps = Array.from(mixed, (v) => Math.round(v * 100) / 100);
        if (temps.some((v) => !Number.isFinite(v))) return;
        temps[0] = row.tempsC[0]!; // lead 0 is the analysis
        row.tempsC = temps;
        row.method = `${row.method}${label}`;
        blend.served.set(temps, i * steps);
      });
      return null;
    } catch (err) {
      o.log.warn({ role: 'pipeline', window: new Date(claim.windowEndMs).toISOString(), shard: claim.shard, smoother: `${sm.name}@${sm.version}`, err }, 'smoother failed: the filter trajectory is kept');
      return `${sm.name}@${sm.version}: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300);
    }
  }

  async #finish(windowEndMs: number): Promise<void> {
    const o = this.#o;
    const now = o.now ?? Date.now;
    const stats = (await getBlobs(o.store, windowEndMs, 'stats')).map((b) => JSON.parse(new TextDecoder().decode(b.body)) as ShardStats);
    const qc = Object.fromEntries(QC_REASONS.map((r, i) => [r, stats.reduce((a, s) => a + (s.qc[i] ?? 0), 0)]));
    const inputs = await this.#windowInputs(windowEndMs);
    const nCells = await o.store.query<{ n: number; f: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE method LIKE 'fallback%')::int AS f FROM nowcasts WHERE run_time = $1`, [new Date(windowEndMs)]);
    const cellsRow = nCells.rows[0]!;
    const smoother = o.smoother ? smootherOutcome(o.smoother, await getBlobs(o.store, windowEndMs, 'smoother')) : null;
    const method = inputs.field === null ? FALLBACK_METHOD : o.smoother && !smoother!.failedEverywhere ? `${FILTER_METHOD}+${o.smoother.name}@${o.smoother.version}` : FILTER_METHOD;
    const done = await finishWindow(o.store, windowEndMs, {
      nowMs: now(), method, smoother: smoother?.text ?? null,
      nReadings: stats.reduce((a, s) => a + s.readings, 0),
      nSensors: stats.reduce((a, s) => a + s.sensors, 0),
      nCells: cellsRow.n,
      nLate: stats.reduce((a, s) => a + s.late, 0),
      qc, shards: stats.length,
      background: inputs.field === null ? (cellsRow.n > 0 ? 'none: readings median' : 'none, and no readings') : cellsRow.f > 0 ? `partial (${cellsRow.f} cells on the readings median)` : 'full',
    });
    if (done) o.log.info({ role: 'pipeline', window: new Date(windowEndMs).toISOString(), readings: stats.reduce((a, s) => a + s.readings, 0), cells: cellsRow.n, qc, sinceWindowEndMs: now() - windowEndMs }, 'batch done');
  }
}

/**
 * The run's smoother outcome from its shards' blobs: the model where it served every shard, else in how
 * many it failed and the first reason (the filter's trajectory is served there).
 */
export function smootherOutcome(sm: { name: string; version: string }, blobs: readonly { shard: string; body: Uint8Array }[]): { text: string; failedEverywhere: boolean } {
  const errors = blobs.map((b) => (JSON.parse(new TextDecoder().decode(b.body)) as { error: string | null }).error).filter((e): e is string => e !== null);
  if (errors.length === 0) return { text: `${sm.name}@${sm.version}`, failedEverywhere: false };
  return { text: `failed in ${errors.length} of ${blobs.length} shards (the filter's trajectory is served there): ${errors[0]}`, failedEverywhere: errors.length === blobs.length };
}

/** The clock's 5-minute slot a window's end falls in (the history's step). */
function historySlot(timeMs: number): number {
  return Math.floor(timeMs / (SMOOTHER_STEP_MIN * MINUTE_MS));
}

/** `c` at the picked indices. */
function pickColumn(c: ArrayLike<number>, pick: readonly number[]): Float64Array {
  const out = new Float64Array(pick.length);
  for (let k = 0; k < pick.length; k++) out[k] = c[pick[k]!]!;
  return out;
}

/**
 * The background at each picked reading (its place, elevation and time), the fallback where none.
 * Where the field is linear in time across the window (no knot inside it: the usual case, with hourly
 * valid times and windows on clock boundaries), it is evaluated twice per place and interpolated;
 * otherwise at each reading.
 */
function backgroundAtReadings(inputs: WindowInputs, pick: readonly number[], r: ReadingColumns, t0: number, t1: number): Float64Array {
  const out = new Float64Array(pick.length);
  const field = inputs.field;
  if (!field || !field.linearBetween(t0, t1)) {
    pick.forEach((i, k) => (out[k] = valueOrFallback(field, inputs.fallbackC, { lat: r.lat[i]!, lon: r.lon[i]! }, r.timeMs[i]!, r.elevationM[i]!)));
    return out;
  }
  // One place per distinct (position, elevation); readings of a sensor usually share it.
  const placeOf = new Map<string, number>();
  const places: LatLon[] = [], elevations: number[] = [];
  const at = new Int32Array(pick.length);
  pick.forEach((i, k) => {
    // Consecutive readings are usually one sensor's at one place: reuse it without a key.
    const before = k > 0 ? pick[k - 1]! : -1;
    if (before >= 0 && r.lat[i] === r.lat[before] && r.lon[i] === r.lon[before] && Object.is(r.elevationM[i], r.elevationM[before])) {
      at[k] = at[k - 1]!;
      return;
    }
    const key = `${r.lat[i]},${r.lon[i]},${r.elevationM[i]}`;
    let p = placeOf.get(key);
    if (p === undefined) {
      p = places.length;
      placeOf.set(key, p);
      places.push({ lat: r.lat[i]!, lon: r.lon[i]! });
      elevations.push(r.elevationM[i]!);
    }
    at[k] = p;
  });
  const sample = field.sampler(places, elevations);
  const v0 = sample(t0), v1 = sample(t1);
  pick.forEach((i, k) => {
    const a = v0[at[k]!]!, b = v1[at[k]!]!;
    const v = a + ((b - a) * (r.timeMs[i]! - t0)) / (t1 - t0);
    out[k] = Number.isFinite(v) ? v : inputs.fallbackC;
  });
  return out;
}

/** The circumradius of a cell at `resolution` [m], rounded up (for growing boxes of cell centres). */
function cellRadiusM(resolution: number): number {
  // H3 average edge lengths (m); a hexagon's circumradius equals its edge length.
  const edges = [1281256, 483057, 182512, 68979, 26071, 9854, 3725, 1406, 531, 201, 76, 29, 11, 4.1, 1.5, 0.6];
  return Math.ceil(1.2 * (edges[resolution] ?? 0)); // 20 % over the average (pentagon-adjacent cells are larger)
}

