/**
 * The window ledger of the sharded batch (table batch_runs): which windows exist, their status,
 * retries with backoff, late readings and revisits. Several workers share a window; whoever
 * completes its last task finishes it.
 *
 * status: running (its tasks are being worked on) · done · failed (waits for next_attempt_at) ·
 * revisit (enough readings arrived after it ran: it and every later window are run again, in order).
 */
import type { Queryable } from './store.ts';

export interface WindowRow {
  windowStartMs: number;
  windowEndMs: number;
  status: 'running' | 'done' | 'failed' | 'revisit';
  attempts: number;
  startedAtMs: number;
  nextAttemptMs: number | null;
  error: string | null;
}

type Raw = { window_start: Date; window_end: Date; status: WindowRow['status']; attempts: number; started_at: Date; next_attempt_at: Date | null; error: string | null };
const rowOf = (r: Raw): WindowRow => ({
  windowStartMs: r.window_start.getTime(), windowEndMs: r.window_end.getTime(), status: r.status, attempts: r.attempts,
  startedAtMs: r.started_at.getTime(), nextAttemptMs: r.next_attempt_at?.getTime() ?? null, error: r.error,
});
const COLS = 'window_start, window_end, status, attempts, started_at, next_attempt_at, error';

/** Opens the window (status running) unless it exists; returns its row either way. */
export async function openWindow(q: Queryable, w: { windowStartMs: number; windowEndMs: number; method: string; nowMs: number }): Promise<WindowRow> {
  await q.query(
    `INSERT INTO batch_runs (window_end, window_start, status, method, started_at, attempts) VALUES ($1, $2, 'running', $3, $4, 1)
     ON CONFLICT (window_end) DO NOTHING`,
    [new Date(w.windowEndMs), new Date(w.windowStartMs), w.method, new Date(w.nowMs)],
  );
  const res = await q.query<Raw>(`SELECT ${COLS} FROM batch_runs WHERE window_end = $1`, [new Date(w.windowEndMs)]);
  return rowOf(res.rows[0]!);
}

/** The oldest window that needs work now: running, to revisit, or failed and due for a retry. */
export async function nextOpenWindow(q: Queryable, nowMs: number): Promise<WindowRow | null> {
  const res = await q.query<Raw>(
    `SELECT ${COLS} FROM batch_runs
     WHERE status IN ('running', 'revisit') OR (status = 'failed' AND next_attempt_at <= $1)
     ORDER BY window_end LIMIT 1`,
    [new Date(nowMs)],
  );
  return res.rows[0] ? rowOf(res.rows[0]) : null;
}

/** The newest window in the ledger, whatever its status. */
export async function newestWindowEnd(q: Queryable): Promise<number | null> {
  const res = await q.query<{ m: Date | null }>(`SELECT max(window_end) AS m FROM batch_runs`);
  return res.rows[0]?.m?.getTime() ?? null;
}

/** The newest done window before `windowEndMs`: whose state the window starts from. */
export async function latestDoneBefore(q: Queryable, windowEndMs: number): Promise<number | null> {
  const res = await q.query<{ m: Date | null }>(`SELECT max(window_end) AS m FROM batch_runs WHERE status = 'done' AND window_end < $1`, [new Date(windowEndMs)]);
  return res.rows[0]?.m?.getTime() ?? null;
}

/** A failed or revisited window starts another attempt (running again). */
export async function restartWindow(q: Queryable, windowEndMs: number, nowMs: number): Promise<boolean> {
  const res = await q.query(
    `UPDATE batch_runs SET status = 'running', attempts = attempts + 1, started_at = $2, finished_at = NULL, error = NULL, next_attempt_at = NULL
     WHERE window_end = $1 AND status IN ('failed', 'revisit')`,
    [new Date(windowEndMs), new Date(nowMs)],
  );
  return res.rowCount === 1;
}

export interface WindowOutcome {
  nowMs: number;
  method: string;
  nReadings: number;
  nSensors: number;
  nCells: number;
  nLate: number;
  qc: Record<string, number>;
  shards: number;
  background: string;
  /** The smoother's outcome: null without one; its model when it served every shard; else where and why it failed. */
  smoother: string | null;
}

/** Marks a running window done; false when it was not running (another worker finished it). */
export async function finishWindow(q: Queryable, windowEndMs: number, o: WindowOutcome): Promise<boolean> {
  const res = await q.query(
    `UPDATE batch_runs SET status = 'done', finished_at = $2, method = $3, n_readings = $4, n_sensors = $5, n_cells = $6,
       n_late = $7, qc = $8::jsonb, shards = $9, background = $10, smoother = $11, error = NULL, next_attempt_at = NULL, late_after_run = 0
     WHERE window_end = $1 AND status = 'running'`,
    [new Date(windowEndMs), new Date(o.nowMs), o.method, o.nReadings, o.nSensors, o.nCells, o.nLate, JSON.stringify(o.qc), o.shards, o.background, o.smoother],
  );
  return res.rowCount === 1;
}

/** Marks a running window failed, keeping the error; it is retried after `nextAttemptMs`. */
export async function failWindow(q: Queryable, windowEndMs: number, nowMs: number, error: string, nextAttemptMs: number): Promise<void> {
  await q.query(
    `UPDATE batch_runs SET status = 'failed', finished_at = $2, error = $3, next_attempt_at = $4 WHERE window_end = $1 AND status = 'running'`,
    [new Date(windowEndMs), new Date(nowMs), error.slice(0, 2000), new Date(nextAttemptMs)],
  );
}

/** Per done window in [fromMs, toMs]: readings of that window that arrived after it started running. */
export async function lateReadingsAfterRun(q: Queryable, fromMs: number, toMs: number): Promise<{ windowEndMs: number; late: number; used: number }[]> {
  const res = await q.query<{ window_end: Date; late: number; used: number | null }>(
    `SELECT b.window_end, count(r.*)::int AS late, max(b.n_readings) AS used
     FROM batch_runs b JOIN readings r ON r.time >= b.window_start AND r.time < b.window_end AND r.received_at > b.started_at
     WHERE b.status = 'done' AND b.window_end BETWEEN $1 AND $2 AND r.time >= $3 AND r.time < $2
     GROUP BY b.window_end ORDER BY b.window_end`,
    [new Date(fromMs), new Date(toMs), new Date(fromMs - 3_600_000)],
  );
  return res.rows.map((r) => ({ windowEndMs: r.window_end.getTime(), late: r.late, used: r.used ?? 0 }));
}

/** Marks the window and every later done window for a revisit (they are rerun in order). */
export async function markRevisit(q: Queryable, windowEndMs: number, lateReadings: number): Promise<void> {
  await q.query(`UPDATE batch_runs SET late_after_run = $2 WHERE window_end = $1`, [new Date(windowEndMs), lateReadings]);
  await q.query(`UPDATE batch_runs SET status = 'revisit' WHERE window_end >= $1 AND status = 'done'`, [new Date(windowEndMs)]);
}
