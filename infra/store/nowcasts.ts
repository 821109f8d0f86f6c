/** Nowcasts and the batch run ledger. */
import type { Queryable } from './store.ts';

export interface NowcastRow {
  cell: string;
  /** temps_c[i] / sigmas_c[i] [°C] are valid at runTime + i * stepMin minutes. */
  tempsC: number[];
  sigmasC: number[];
  /** Readings that informed the cell's value. */
  nObs: number;
  /** How the cell's value was made (filter, smoother, fallback); defaults to the run's method. */
  method?: string;
  /** hourlyTempsC[i] / hourlySigmasC[i] [°C] are valid at hourlyStartMs + i hours (the first full hour at or after the run). */
  hourlyStartMs?: number | null;
  hourlyTempsC?: number[] | null;
  hourlySigmasC?: number[] | null;
  /** Time of the newest reading that informed the cell [epoch ms]; null when none did. */
  newestObsMs?: number | null;
}

export interface StoredNowcast extends NowcastRow {
  runTimeMs: number;
  stepMin: number;
  method: string;
  hourlyStartMs: number | null;
  hourlyTempsC: number[] | null;
  hourlySigmasC: number[] | null;
  newestObsMs: number | null;
}

/** Writes one run's nowcasts (replacing a previous attempt at the same run time). */
export async function writeNowcasts(q: Queryable, run: { runTimeMs: number; stepMin: number; method: string }, rows: readonly NowcastRow[]): Promise<number> {
  await q.query(`DELETE FROM nowcasts WHERE run_time = $1`, [new Date(run.runTimeMs)]);
  return insertNowcasts(q, run, rows);
}

/** Writes one shard's nowcasts of a run: replaces the run's rows for `cells` (a rerun leaves no stale row). */
export async function writeShardNowcasts(q: Queryable, run: { runTimeMs: number; stepMin: number; method: string }, cells: readonly string[], rows: readonly NowcastRow[]): Promise<number> {
  // Rows are upserted; a rerun that now leaves a cell without a value must not leave the old one behind.
  const written = new Set(rows.map((r) => r.cell));
  const gone = cells.filter((c) => !written.has(c));
  if (gone.length > 0) await q.query(`DELETE FROM nowcasts WHERE run_time = $1 AND cell = ANY($2::text[])`, [new Date(run.runTimeMs), gone]);
  return insertNowcasts(q, run, rows);
}

/** Rejects a row that would store NaN or an infinity (JSON would turn them into nulls). */
function checkFinite(r: NowcastRow): void {
  const bad = [...r.tempsC, ...r.sigmasC, ...(r.hourlyTempsC ?? []), ...(r.hourlySigmasC ?? [])].some((v) => !Number.isFinite(v));
  if (bad) throw new RangeError(`nowcast for cell ${r.cell} has a non-finite value`);
}

async function insertNowcasts(q: Queryable, run: { runTimeMs: number; stepMin: number; method: string }, rows: readonly NowcastRow[]): Promise<number> {
  const runTime = new Date(run.runTimeMs);
  rows.forEach(checkFinite);
  let written = 0;
  const CHUNK = 5000;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    // Arrays of arrays travel as JSON: unnest() would flatten a 2-D SQL array.
    const res = await q.query(
      `INSERT INTO nowcasts (cell, run_time, step_min, temps_c, sigmas_c, n_obs, method, hourly_start, hourly_temps_c, hourly_sigmas_c, newest_obs)
       SELECT x.cell, $2, $3, x.temps_c, x.sigmas_c, x.n_obs, coalesce(x.method, $4), x.hourly_start, x.hourly_temps_c, x.hourly_sigmas_c, x.newest_obs
       FROM jsonb_to_recordset($1::jsonb) AS x(cell text, temps_c real[], sigmas_c real[], n_obs int, method text,
         hourly_start timestamptz, hourly_temps_c real[], hourly_sigmas_c real[], newest_obs timestamptz)
       ON CONFLICT (cell, run_time) DO UPDATE SET step_min = EXCLUDED.step_min, temps_c = EXCLUDED.temps_c, sigmas_c = EXCLUDED.sigmas_c,
         n_obs = EXCLUDED.n_obs, method = EXCLUDED.method, hourly_start = EXCLUDED.hourly_start, hourly_temps_c = EXCLUDED.hourly_temps_c,
         hourly_sigmas_c = EXCLUDED.hourly_sigmas_c, newest_obs = EXCLUDED.newest_obs`,
      [JSON.stringify(part.map((r) => ({
        cell: r.cell, temps_c: r.tempsC, sigmas_c: r.sigmasC, n_obs: r.nObs, method: r.method ?? null,
        hourly_start: r.hourlyStartMs == null ? null : new Date(r.hourlyStartMs).toISOString(),
        hourly_temps_c: r.hourlyTempsC ?? null, hourly_sigmas_c: r.hourlySigmasC ?? null,
        newest_obs: r.newestObsMs == null ? null : new Date(r.newestObsMs).toISOString(),
      }))), runTime, run.stepMin, run.method],
    );
    written += res.rowCount;
  }
  return written;
}

/** Drops the nowcast chunks wholly older than `beforeMs`; returns how many chunks went. */
export async function dropNowcastsBefore(q: Queryable, beforeMs: number): Promise<number> {
  const res = await q.query(`SELECT drop_chunks('nowcasts', older_than => $1::timestamptz)`, [new Date(beforeMs)]);
  return res.rowCount;
}

/** The newest nowcast for a cell from a finished run no older than `maxAgeMs`. */
export async function latestNowcast(q: Queryable, cell: string, nowMs: number, maxAgeMs: number): Promise<StoredNowcast | null> {
  const res = await q.query<{ cell: string; run_time: Date; step_min: number; temps_c: number[]; sigmas_c: number[]; n_obs: number; method: string; hourly_start: Date | null; hourly_temps_c: number[] | null; hourly_sigmas_c: number[] | null; newest_obs: Date | null }>(
    `SELECT n.cell, n.run_time, n.step_min, n.temps_c, n.sigmas_c, n.n_obs, n.method, n.hourly_start, n.hourly_temps_c, n.hourly_sigmas_c, n.newest_obs
     FROM nowcasts n JOIN batch_runs b ON b.window_end = n.run_time AND b.status = 'done'
     WHERE n.cell = $1 AND n.run_time >= $2
     ORDER BY n.run_time DESC LIMIT 1`,
    [cell, new Date(nowMs - maxAgeMs)],
  );
  const r = res.rows[0];
  if (!r) return null;
  return {
    cell: r.cell, runTimeMs: r.run_time.getTime(), stepMin: r.step_min, tempsC: r.temps_c, sigmasC: r.sigmas_c, nObs: r.n_obs, method: r.method,
    hourlyStartMs: r.hourly_start?.getTime() ?? null, hourlyTempsC: r.hourly_temps_c, hourlySigmasC: r.hourly_sigmas_c, newestObsMs: r.newest_obs?.getTime() ?? null,
  };
}

export interface BatchRun {
  windowStartMs: number;
  windowEndMs: number;
  status: 'running' | 'done' | 'failed';
  method: string;
  startedAtMs: number;
  finishedAtMs: number | null;
  nReadings: number | null;
  nSensors: number | null;
  nCells: number | null;
  error: string | null;
  /** The run's readings per QC reason (`ok` included), where the ledger has them. */
  qc?: Record<string, number> | null;
  /** What the smoother did (see WindowOutcome.smoother), where the ledger says. */
  smoother?: string | null;
}

/**
 * Claims a window for this worker: true if it was free (or its earlier attempt failed or went stale),
 * false if another worker runs or ran it. A claim older than `staleMs` is taken over.
 */
export async function claimBatchRun(q: Queryable, w: { windowStartMs: number; windowEndMs: number; method: string; nowMs: number; staleMs: number }): Promise<boolean> {
  const res = await q.query(
    `INSERT INTO batch_runs (window_end, window_start, status, method, started_at)
     VALUES ($1, $2, 'running', $3, $4)
     ON CONFLICT (window_end) DO UPDATE SET status = 'running', method = EXCLUDED.method, started_at = EXCLUDED.started_at,
       finished_at = NULL, error = NULL
     WHERE batch_runs.status = 'failed' OR (batch_runs.status = 'running' AND batch_runs.started_at < $5)`,
    [new Date(w.windowEndMs), new Date(w.windowStartMs), w.method, new Date(w.nowMs), new Date(w.nowMs - w.staleMs)],
  );
  return res.rowCount === 1;
}

export async function finishBatchRun(q: Queryable, windowEndMs: number, r: { nowMs: number; nReadings: number; nSensors: number; nCells: number }): Promise<void> {
  await q.query(`UPDATE batch_runs SET status = 'done', finished_at = $2, n_readings = $3, n_sensors = $4, n_cells = $5 WHERE window_end = $1`, [
    new Date(windowEndMs), new Date(r.nowMs), r.nReadings, r.nSensors, r.nCells,
  ]);
}

export async function failBatchRun(q: Queryable, windowEndMs: number, nowMs: number, error: string): Promise<void> {
  await q.query(`UPDATE batch_runs SET status = 'failed', finished_at = $2, error = $3 WHERE window_end = $1`, [new Date(windowEndMs), new Date(nowMs), error.slice(0, 2000)]);
}

export async function latestBatchRun(q: Queryable): Promise<BatchRun | null> {
  const res = await q.query<{ window_start: Date; window_end: Date; status: BatchRun['status']; method: string; started_at: Date; finished_at: Date | null; n_readings: number | null; n_sensors: number | null; n_cells: number | null; error: string | null }>(
    `SELECT * FROM batch_runs ORDER BY window_end DESC LIMIT 1`,
  );
  const r = res.rows[0];
  if (!r) return null;
  return {
    windowStartMs: r.window_start.getTime(), windowEndMs: r.window_end.getTime(), status: r.status, method: r.method,
    startedAtMs: r.started_at.getTime(), finishedAtMs: r.finished_at?.getTime() ?? null,
    nReadings: r.n_readings, nSensors: r.n_sensors, nCells: r.n_cells, error: r.error,
  };
}

/** One run's nowcasts as columns (what the API's in-memory snapshot is built from). */
export interface RunColumns {
  runTimeMs: number;
  stepMin: number;
  /** Values per cell in the minutely series (13: lead 0..60 min in 5-minute steps). */
  stepsPerCell: number;
  /** Sorted cell ids; row i of every column below belongs to cells[i]. */
  cells: string[];
  /** tempsC[i * stepsPerCell + k] / sigmasC[...] [°C] at runTime + k * stepMin minutes. */
  tempsC: Float32Array;
  sigmasC: Float32Array;
  nObs: Int32Array;
  /** Newest reading that informed the cell [epoch ms]; NaN when none did. */
  newestObsMs: Float64Array;
  /** methodIndex[i] indexes methods. */
  methods: string[];
  methodIndex: Uint16Array;
  /** First hourly step per cell [epoch ms]; NaN when the run made no hourly steps for it. */
  hourlyStartMs: Float64Array;
  /** Hourly values per cell (the longest cell's count; shorter cells padded with NaN). */
  hourlyLength: number;
  hourlyTempsC: Float32Array;
  hourlySigmasC: Float32Array;
}

/** The ArrayBuffers of a RunColumns (to transfer it between threads without copying). */
export function runColumnBuffers(c: RunColumns): ArrayBuffer[] {
  return [c.tempsC, c.sigmasC, c.nObs, c.newestObsMs, c.methodIndex, c.hourlyStartMs, c.hourlyTempsC, c.hourlySigmasC].map((a) => a.buffer as ArrayBuffer);
}

/** The newest finished run (window end = run time), or null. */
export async function latestDoneRunTime(q: Queryable): Promise<number | null> {
  const res = await q.query<{ t: Date | null }>(`SELECT max(window_end) AS t FROM batch_runs WHERE status = 'done'`);
  return res.rows[0]?.t?.getTime() ?? null;
}

/** Reads every cell of the finished run at `runTimeMs` as columns (null when that run has no rows). */
export async function readRunColumns(q: Queryable, runTimeMs: number): Promise<RunColumns | null> {
  const res = await q.query<{ cell: string; step_min: number; temps_c: number[]; sigmas_c: number[]; n_obs: number; method: string; hourly_start: Date | null; hourly_temps_c: (number | null)[] | null; hourly_sigmas_c: (number | null)[] | null; newest_obs: Date | null }>(
    `SELECT cell, step_min, temps_c, sigmas_c, n_obs, method, hourly_start, hourly_temps_c, hourly_sigmas_c, newest_obs
     FROM nowcasts WHERE run_time = $1 ORDER BY cell`,
    [new Date(runTimeMs)],
  );
  const rows = res.rows;
  if (rows.length === 0) return null;
  const n = rows.length;
  const stepsPerCell = Math.max(...rows.map((r) => r.temps_c.length));
  let hourlyLength = 0;
  for (const r of rows) hourlyLength = Math.max(hourlyLength, r.hourly_temps_c?.length ?? 0);
  const c: RunColumns = {
    runTimeMs, stepMin: rows[0]!.step_min, stepsPerCell, cells: new Array<string>(n),
    tempsC: new Float32Array(n * stepsPerCell).fill(NaN), sigmasC: new Float32Array(n * stepsPerCell).fill(NaN),
    nObs: new Int32Array(n), newestObsMs: new Float64Array(n).fill(NaN), methods: [], methodIndex: new Uint16Array(n),
    hourlyStartMs: new Float64Array(n).fill(NaN), hourlyLength,
    hourlyTempsC: new Float32Array(n * hourlyLength).fill(NaN), hourlySigmasC: new Float32Array(n * hourlyLength).fill(NaN),
  };
  const methodIds = new Map<string, number>();
  rows.forEach((r, i) => {
    c.cells[i] = r.cell;
    for (let k = 0; k < r.temps_c.length; k++) {
      c.tempsC[i * stepsPerCell + k] = r.temps_c[k]!;
      c.sigmasC[i * stepsPerCell + k] = r.sigmas_c[k] ?? NaN;
    }
    c.nObs[i] = r.n_obs;
    if (r.newest_obs) c.newestObsMs[i] = r.newest_obs.getTime();
    let m = methodIds.get(r.method);
    if (m === undefined) {
      m = c.methods.length;
      methodIds.set(r.method, m);
      c.methods.push(r.method);
    }
    c.methodIndex[i] = m;
    if (r.hourly_start && r.hourly_temps_c) {
      c.hourlyStartMs[i] = r.hourly_start.getTime();
      for (let k = 0; k < r.hourly_temps_c.length; k++) {
        c.hourlyTempsC[i * hourlyLength + k] = r.hourly_temps_c[k] ?? NaN;
        c.hourlySigmasC[i * hourlyLength + k] = r.hourly_sigmas_c?.[k] ?? NaN;
      }
    }
  });
  return c;
}

/** Lead-0 values of finished runs at the given run times (the past of a forecast). */
export interface LeadZero {
  runTimeMs: number;
  cells: string[];
  tempC: Float32Array;
  sigmaC: Float32Array;
}

/** Finished runs since `sinceMs` whose run time is a multiple of `everyMs` (e.g. every 15 minutes). */
export async function doneRunTimesSince(q: Queryable, sinceMs: number, everyMs: number): Promise<number[]> {
  const res = await q.query<{ t: Date }>(
    `SELECT window_end AS t FROM batch_runs WHERE status = 'done' AND window_end >= $1
       AND (extract(epoch FROM window_end) * 1000)::bigint % $2 = 0 ORDER BY window_end`,
    [new Date(sinceMs), everyMs],
  );
  return res.rows.map((r) => r.t.getTime());
}

/** The lead-0 temperature and sigma of every cell of each run in `runTimesMs`. */
export async function readLeadZero(q: Queryable, runTimesMs: readonly number[]): Promise<LeadZero[]> {
  if (runTimesMs.length === 0) return [];
  const res = await q.query<{ run_time: Date; cell: string; t: number; s: number }>(
    `SELECT run_time, cell, temps_c[1] AS t, sigmas_c[1] AS s FROM nowcasts
     WHERE run_time = ANY($1::timestamptz[]) ORDER BY run_time, cell`,
    [runTimesMs.map((t) => new Date(t).toISOString())],
  );
  const out: LeadZero[] = [];
  let cur: { runTimeMs: number; cells: string[]; t: number[]; s: number[] } | undefined;
  const flush = () => {
    if (cur) out.push({ runTimeMs: cur.runTimeMs, cells: cur.cells, tempC: Float32Array.from(cur.t), sigmaC: Float32Array.from(cur.s) });
  };
  for (const r of res.rows) {
    const t = r.run_time.getTime();
    if (!cur || cur.runTimeMs !== t) {
      flush();
      cur = { runTimeMs: t, cells: [], t: [], s: [] };
    }
    cur.cells.push(r.cell);
    cur.t.push(r.t);
    cur.s.push(r.s);
  }
  flush();
  return out;
}

/** What the ledger says about batches: the newest run of any status and the newest good one. */
export interface LedgerState {
  last: BatchRun | null;
  lastDone: BatchRun | null;
}

export async function ledgerState(q: Queryable): Promise<LedgerState> {
  const res = await q.query<{ window_start: Date; window_end: Date; status: BatchRun['status']; method: string; started_at: Date; finished_at: Date | null; n_readings: number | null; n_sensors: number | null; n_cells: number | null; error: string | null; qc: Record<string, number> | string | null; smoother: string | null; k: string }>(
    `(SELECT *, 'last' AS k FROM batch_runs ORDER BY window_end DESC LIMIT 1)
     UNION ALL
     (SELECT *, 'done' AS k FROM batch_runs WHERE status = 'done' ORDER BY window_end DESC LIMIT 1)`,
  );
  const of = (k: string): BatchRun | null => {
    const r = res.rows.find((x) => x.k === k);
    if (!r) return null;
    return {
      windowStartMs: r.window_start.getTime(), windowEndMs: r.window_end.getTime(), status: r.status, method: r.method,
      startedAtMs: r.started_at.getTime(), finishedAtMs: r.finished_at?.getTime() ?? null,
      nReadings: r.n_readings, nSensors: r.n_sensors, nCells: r.n_cells, error: r.error,
      qc: typeof r.qc === 'string' ? (JSON.parse(r.qc) as Record<string, number>) : r.qc,
      smoother: r.smoother,
    };
  };
  return { last: of('last'), lastDone: of('done') };
}
