/**
 * When windows run. Windows tile time at multiples of the window length (5 minutes: aligned to
 * wall-clock boundaries); a window is due once it closed and the grace period for late readings
 * passed. Each tick: windows with enough late readings are marked for a revisit; then the oldest
 * window that needs work runs (a revisit, a failed one whose backoff expired, or one another worker
 * started), and due windows after the newest in the ledger are opened and run in order (missed
 * windows caught up, as far back as `catchupMs`). Several processes may run this: they share the
 * windows' tasks.
 */
import type { Logger } from '../infra/log.ts';
import {
  createTasks, deleteBlobsBefore, deleteTasksBefore, dropNowcastsBefore, lateReadingsAfterRun, markRevisit, newestWindowEnd, nextOpenWindow,
  openWindow, resetTasks, restartWindow,
} from '../infra/store/index.ts';
import { FILTER_METHOD, type BatchWorker, type WindowResult } from './batch.ts';

export interface SchedulerOptions {
  worker: BatchWorker;
  log: Logger;
  /** Grace after a window closes before it runs (late readings) [ms]. */
  lagMs: number;
  /** Missed windows older than this are not caught up [ms]. */
  catchupMs: number;
  /** A done window is revisited when at least max(minLate, minFraction × its readings) arrived after it ran, within horizonMs. */
  revisit: { minLate: number; minFraction: number; horizonMs: number };
  /** Nowcasts older than this are dropped [ms]. */
  retentionMs: number;
  /** Task leases and blobs older than this are deleted [ms] (at least the revisit horizon). */
  stateRetentionMs: number;
  /** Longest pause between ticks [ms] (revisits and retries are noticed within it). */
  tickMs?: number;
  now?: () => number;
}

export interface Scheduler {
  /** Runs everything that is due now (exposed for tests). */
  runDue(): Promise<WindowResult[]>;
  stop(): Promise<void>;
}

/** The end of the newest window that is due at `nowMs`. */
export function dueWindowEnd(nowMs: number, windowMs: number, lagMs: number): number {
  return Math.floor((nowMs - lagMs) / windowMs) * windowMs;
}

export function startScheduler(o: SchedulerOptions): Scheduler {
  const w = o.worker.options;
  const store = w.store;
  const W = w.windowMs;
  const now = o.now ?? w.now ?? Date.now;
  const shardIds = w.domain.plan.shards.map((s) => s.id);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<WindowResult[]> = Promise.resolve([]);

  async function checkRevisits(due: number): Promise<void> {
    const late = await lateReadingsAfterRun(store, due - o.revisit.horizonMs, due);
    const first = late.find((l) => l.late >= Math.max(o.revisit.minLate, o.revisit.minFraction * l.used));
    if (!first) return;
    await markRevisit(store, first.windowEndMs, first.late);
    o.log.info({ role: 'pipeline', window: new Date(first.windowEndMs).toISOString(), lateReadings: first.late }, 'window revisited: readings arrived after it ran');
  }

  async function run(windowEndMs: number): Promise<WindowResult> {
    await openWindow(store, { windowStartMs: windowEndMs - W, windowEndMs, method: FILTER_METHOD, nowMs: now() });
    await createTasks(store, windowEndMs, shardIds);
    return o.worker.workWindow(windowEndMs);
  }

  async function tick(): Promise<WindowResult[]> {
    const results: WindowResult[] = [];
    const due = dueWindowEnd(now(), W, o.lagMs);
    await checkRevisits(due);
    for (let guard = 0; guard < 10_000 && !stopped; guard++) {
      const open = await nextOpenWindow(store, now());
      if (open) {
        if (open.status !== 'running' && (await restartWindow(store, open.windowEndMs, now()))) {
          await resetTasks(store, open.windowEndMs);
          o.log.info({ role: 'pipeline', window: new Date(open.windowEndMs).toISOString(), was: open.status, attempt: open.attempts + 1 }, 'window runs again');
        }
        const r = await run(open.windowEndMs);
        results.push(r);
        if (r.status === 'waiting') break;
        continue;
      }
      const newest = await newestWindowEnd(store);
      let next = newest === null ? due : newest + W;
      const oldest = due - Math.floor(o.catchupMs / W) * W;
      if (next < oldest) {
        o.log.warn({ role: 'pipeline', from: new Date(next).toISOString(), to: new Date(oldest).toISOString() }, 'windows older than the catch-up horizon are not run');
        next = oldest;
      }
      if (next > due) break;
      results.push(await run(next));
    }
    if (results.some((r) => r.status === 'done')) {
      await dropNowcastsBefore(store, due - o.retentionMs).catch((err: unknown) => o.log.warn({ err }, 'dropping old nowcasts failed'));
      await deleteBlobsBefore(store, due - o.stateRetentionMs).catch((err: unknown) => o.log.warn({ err }, 'deleting old batch state failed'));
      await deleteTasksBefore(store, due - o.stateRetentionMs).catch((err: unknown) => o.log.warn({ err }, 'deleting old batch tasks failed'));
    }
    return results;
  }

  const runDue = (): Promise<WindowResult[]> => {
    running = running.then(tick).catch((err: unknown) => {
      o.log.error({ role: 'pipeline', err }, 'batch scheduler tick failed');
      return [];
    });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    const t = now();
    const nextDue = dueWindowEnd(t, W, o.lagMs) + W + o.lagMs;
    timer = setTimeout(() => void runDue().then(schedule), Math.max(50, Math.min(nextDue - t, o.tickMs ?? 15_000)));
  };
  timer = setTimeout(() => void runDue().then(schedule), 0);
  return {
    runDue,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
