/**
 * Runs a batch every interval, over the window ending at the last interval boundary that is at
 * least `lagMs` old (so late readings have a moment to arrive). Runs never overlap; a window that
 * another process has claimed is skipped.
 */
import type { Logger } from '../infra/log.ts';
import { runBatch, type BatchOptions, type BatchResult } from './batch.ts';

export interface SchedulerOptions extends BatchOptions {
  intervalMs: number;
  lagMs: number;
  log: Logger;
}

export interface Scheduler {
  /** Runs the due window now (exposed for tests and the first run). */
  runDue(): Promise<BatchResult | null>;
  stop(): Promise<void>;
}

/** The end of the newest window that is due at `nowMs`. */
export function dueWindowEnd(nowMs: number, intervalMs: number, lagMs: number): number {
  return Math.floor((nowMs - lagMs) / intervalMs) * intervalMs;
}

export function startScheduler(o: SchedulerOptions): Scheduler {
  const now = o.now ?? Date.now;
  let lastEnd = -Infinity;
  let running: Promise<BatchResult | null> = Promise.resolve(null);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const runDue = (): Promise<BatchResult | null> => {
    running = running.then(async () => {
      const end = dueWindowEnd(now(), o.intervalMs, o.lagMs);
      if (end <= lastEnd) return null;
      lastEnd = end;
      return runBatch(o, end);
    }).catch((err: unknown) => {
      o.log.error({ err }, 'batch scheduler error');
      return null;
    });
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    const t = now();
    const next = dueWindowEnd(t, o.intervalMs, o.lagMs) + o.intervalMs + o.lagMs;
    timer = setTimeout(() => void runDue().then(schedule), Math.max(50, next - t));
  };
  // The first run comes after the lag, so the ingest worker has stored what was already on the bus.
  timer = setTimeout(() => void runDue().then(schedule), Math.min(o.lagMs, o.intervalMs));
  return {
    runDue,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
