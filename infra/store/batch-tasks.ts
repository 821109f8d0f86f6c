/**
 * The batch's task leases: a window's map and reduce tasks per shard. A worker claims one pending
 * task (or one whose lease expired: its worker died), renews the lease while it works, and marks it
 * done; `FOR UPDATE SKIP LOCKED` lets concurrent workers claim different tasks without waiting.
 */
import type { Queryable } from './store.ts';

export type TaskPhase = 'map' | 'reduce';

export interface TaskClaim {
  windowEndMs: number;
  phase: TaskPhase;
  shard: string;
  attempts: number;
}

/** Creates the window's tasks (idempotent: existing ones are kept). */
export async function createTasks(q: Queryable, windowEndMs: number, shards: readonly string[]): Promise<void> {
  const phases = shards.flatMap(() => ['map', 'reduce']);
  await q.query(
    `INSERT INTO batch_tasks (window_end, phase, shard, status)
     SELECT $1, p, s, 'pending' FROM unnest($2::text[], $3::text[]) AS t(p, s)
     ON CONFLICT (window_end, phase, shard) DO NOTHING`,
    [new Date(windowEndMs), phases, shards.flatMap((s) => [s, s])],
  );
}

/** Makes every task of the window pending again (a rerun of the window). */
export async function resetTasks(q: Queryable, windowEndMs: number): Promise<void> {
  await q.query(`UPDATE batch_tasks SET status = 'pending', worker = NULL, lease_until = NULL, error = NULL WHERE window_end = $1`, [new Date(windowEndMs)]);
}

/** Claims one task of `phase` that is pending or whose lease has expired; null when none is free. */
export async function claimTask(q: Queryable, w: { windowEndMs: number; phase: TaskPhase; worker: string; nowMs: number; leaseMs: number }): Promise<TaskClaim | null> {
  const res = await q.query<{ shard: string; attempts: number }>(
    `UPDATE batch_tasks t SET status = 'running', worker = $3, lease_until = $5, attempts = t.attempts + 1, error = NULL
     FROM (SELECT window_end, phase, shard FROM batch_tasks
           WHERE window_end = $1 AND phase = $2 AND (status = 'pending' OR (status = 'running' AND lease_until < $4))
           ORDER BY shard LIMIT 1 FOR UPDATE SKIP LOCKED) c
     WHERE t.window_end = c.window_end AND t.phase = c.phase AND t.shard = c.shard
     RETURNING t.shard, t.attempts`,
    [new Date(w.windowEndMs), w.phase, w.worker, new Date(w.nowMs), new Date(w.nowMs + w.leaseMs)],
  );
  const r = res.rows[0];
  return r ? { windowEndMs: w.windowEndMs, phase: w.phase, shard: r.shard, attempts: r.attempts } : null;
}

/** Extends a lease; false when the task is no longer this worker's (it was taken over). */
export async function renewLease(q: Queryable, t: TaskClaim, worker: string, untilMs: number): Promise<boolean> {
  const res = await q.query(`UPDATE batch_tasks SET lease_until = $5 WHERE window_end = $1 AND phase = $2 AND shard = $3 AND worker = $4 AND status = 'running'`, [new Date(t.windowEndMs), t.phase, t.shard, worker, new Date(untilMs)]);
  return res.rowCount === 1;
}

/** Marks the task done if this worker still holds it; false when another took it over. */
export async function finishTask(q: Queryable, t: TaskClaim, worker: string): Promise<boolean> {
  const res = await q.query(`UPDATE batch_tasks SET status = 'done', lease_until = NULL WHERE window_end = $1 AND phase = $2 AND shard = $3 AND worker = $4 AND status = 'running'`, [new Date(t.windowEndMs), t.phase, t.shard, worker]);
  return res.rowCount === 1;
}

/** Gives a failed task back (pending), keeping its error. */
export async function releaseTask(q: Queryable, t: TaskClaim, worker: string, error: string): Promise<void> {
  await q.query(`UPDATE batch_tasks SET status = 'pending', worker = NULL, lease_until = NULL, error = $5 WHERE window_end = $1 AND phase = $2 AND shard = $3 AND worker = $4`, [new Date(t.windowEndMs), t.phase, t.shard, worker, error.slice(0, 2000)]);
}

export interface PhaseProgress {
  total: number;
  done: number;
  /** Errors of tasks given back, newest first. */
  errors: string[];
}

export async function phaseProgress(q: Queryable, windowEndMs: number, phase: TaskPhase): Promise<PhaseProgress> {
  const res = await q.query<{ total: number; done: number; errors: string[] | null }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'done')::int AS done,
            array_remove(array_agg(error), NULL) AS errors
     FROM batch_tasks WHERE window_end = $1 AND phase = $2`,
    [new Date(windowEndMs), phase],
  );
  const r = res.rows[0]!;
  return { total: r.total, done: r.done, errors: r.errors ?? [] };
}

export async function deleteTasksBefore(q: Queryable, beforeMs: number): Promise<void> {
  await q.query(`DELETE FROM batch_tasks WHERE window_end < $1`, [new Date(beforeMs)]);
}
