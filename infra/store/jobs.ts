/**
 * TimescaleDB's policy jobs (compression, retention, continuous-aggregate refresh) run by the
 * application with `CALL run_job(id)`: the embedded engine has no background workers, and on a
 * server TimescaleDB's own scheduler cannot be relied on (with TimescaleDB 2.28 on PostgreSQL 15.20
 * it fails every job with "cannot drop portal"), while the same jobs succeed when called. Where the
 * scheduler works, the application may leave the jobs to it (STORE_JOBS_INTERVAL_MS=0); running a
 * policy twice is harmless: each acts only on chunks still due.
 *
 * Only the jobs of the application's own hypertables and continuous aggregates are run: a server's
 * non-superuser owner may not run TimescaleDB's internal jobs (policy_job_stat_history_retention
 * fails with "permission denied for table bgw_job_stat_history"); the server's scheduler runs those.
 *
 * A refresh that meets another session's refresh of the same aggregate (the server's scheduler, or
 * another process running these jobs) is refused at once ("could not refresh continuous aggregate …
 * due to a concurrent refresh"); it is tried again after a short wait, doubling, a few times, since
 * the other refresh may still fail and roll back.
 */
import type { Logger } from '../log.ts';
import type { Queryable } from './store.ts';

export interface JobRun {
  jobId: number;
  /** TimescaleDB's application name, e.g. "Columnstore Policy [1000]". */
  name: string;
  /** Policy procedure, e.g. policy_compression, policy_retention. */
  proc: string;
  /** Hypertable (or continuous aggregate) the job acts on; null for internal jobs. */
  hypertable: string | null;
  ok: boolean;
  error?: string;
  /** Wall time of the job [ms], every attempt included. */
  durationMs: number;
  /** How many times it was called (more than 1 only after concurrent refreshes). */
  attempts: number;
}

/** Attempts at a job that meets a concurrent refresh, and the wait before the second [ms] (doubling). */
export const CONCURRENT_REFRESH_RETRY = { attempts: 4, firstWaitMs: 100 };

const CONCURRENT_REFRESH = /due to a concurrent refresh/i;

interface JobRow {
  job_id: number;
  application_name: string;
  proc_name: string;
  hypertable_name: string | null;
}

/**
 * Order of a run: refresh aggregates while their raw data still exists, then drop expired chunks
 * (so they are not compressed first), then compress, then anything else.
 */
const PROC_ORDER: Record<string, number> = {
  policy_refresh_continuous_aggregate: 0,
  policy_retention: 1,
  policy_compression: 2,
};

/**
 * The scheduled policy jobs of hypertables and continuous aggregates that the current role owns
 * (or is a member of the owner of), in no particular order.
 */
export const OWN_JOBS_SQL = `
  SELECT j.job_id, j.application_name, j.proc_name, j.hypertable_name
    FROM timescaledb_information.jobs j
   WHERE j.scheduled
     AND j.proc_schema = '_timescaledb_functions' AND j.proc_name LIKE 'policy\\_%'
     AND j.hypertable_name IS NOT NULL
     AND EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = j.hypertable_schema AND c.relname = j.hypertable_name
                    AND pg_has_role(current_user, c.relowner, 'USAGE'))`;

/** Runs each of the application's scheduled policy jobs once; a failing job does not stop the others. */
export async function runTimescaleJobs(store: Queryable, retry: { attempts: number; firstWaitMs: number } = CONCURRENT_REFRESH_RETRY): Promise<JobRun[]> {
  const jobs = await store.query<JobRow>(OWN_JOBS_SQL);
  const ordered = [...jobs.rows].sort((a, b) => (PROC_ORDER[a.proc_name] ?? 9) - (PROC_ORDER[b.proc_name] ?? 9) || a.job_id - b.job_id);
  const runs: JobRun[] = [];
  for (const job of ordered) {
    const t0 = performance.now();
    const base = { jobId: job.job_id, name: job.application_name, proc: job.proc_name, hypertable: job.hypertable_name };
    for (let attempt = 1; ; attempt++) {
      try {
        await store.query('CALL run_job($1)', [job.job_id]);
        runs.push({ ...base, ok: true, durationMs: Math.round(performance.now() - t0), attempts: attempt });
        break;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        if (CONCURRENT_REFRESH.test(error) && attempt < retry.attempts) {
          await new Promise((r) => setTimeout(r, retry.firstWaitMs * 2 ** (attempt - 1)));
          continue;
        }
        runs.push({ ...base, ok: false, error, durationMs: Math.round(performance.now() - t0), attempts: attempt });
        break;
      }
    }
  }
  return runs;
}

/**
 * Runs the jobs every `intervalMs` [ms] (first run after one interval; runs never overlap).
 * Returns `stop`, which cancels the timer and resolves once a run in progress has finished.
 * `intervalMs <= 0` starts nothing.
 */
export function startJobTimer(store: Queryable, intervalMs: number, log?: Logger): () => Promise<void> {
  if (!(intervalMs > 0)) return async () => undefined;
  let stopped = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const tick = async () => {
    const t0 = performance.now();
    try {
      const runs = await runTimescaleJobs(store);
      const failed = runs.filter((r) => !r.ok);
      for (const f of failed) log?.warn({ jobId: f.jobId, job: f.name, error: f.error }, 'timescaledb job failed');
      log?.debug({ jobs: runs.length, failed: failed.length, durationMs: Math.round(performance.now() - t0) }, 'timescaledb jobs run');
    } catch (err) {
      log?.warn({ err }, 'timescaledb jobs could not be listed');
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
