// The scheduler on the embedded store: aligned windows, missed windows caught up in order (within the
// horizon), a failing window retried with backoff and its error kept, a revisit when late readings come.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { insertReadings, openStore, type Queryable, type QueryResult, type Store } from '../infra/store/index.ts';
import { createLogger } from '../infra/log.ts';
import { dueWindowEnd, startScheduler, type SchedulerOptions } from './scheduler.ts';
import { makeReadings, seedBackground, testDomain, testWorker } from './batch.fixture.ts';
import type { BatchWorker } from './batch.ts';

const log = createLogger('silent');
const domain = testDomain();
const W = 2000;

function schedulerFor(worker: BatchWorker, over: Partial<SchedulerOptions> = {}) {
  // tickMs is long: the tests drive the ticks themselves through runDue().
  return startScheduler({ worker, log, lagMs: 0, catchupMs: 60_000, revisit: { minLate: 5, minFraction: 0.1, horizonMs: 60_000 }, retentionMs: 3_600_000, stateRetentionMs: 3_600_000, tickMs: 3_600_000, ...over });
}

async function ledger(store: Store) {
  const r = await store.query<{ window_end: Date; status: string; attempts: number; error: string | null; finished_at: Date | null; next_attempt_at: Date | null; n_readings: number | null; n_late: number | null }>(
    `SELECT window_end, status, attempts, error, finished_at, next_attempt_at, n_readings, n_late FROM batch_runs ORDER BY window_end`,
  );
  return r.rows;
}

describe('scheduler', () => {
  it('the due window ends at the last boundary at least the lag old (windows tile the clock)', () => {
    const t = Date.UTC(2026, 0, 1, 12, 5, 3); // 12:05:03
    assert.equal(dueWindowEnd(t, 300_000, 5_000), Date.UTC(2026, 0, 1, 12, 0)); // 12:04:58 -> 12:00
    assert.equal(dueWindowEnd(t + 2_000, 300_000, 5_000), Date.UTC(2026, 0, 1, 12, 5)); // 12:05:00 -> 12:05
    assert.equal(dueWindowEnd(t, 60_000, 0), Date.UTC(2026, 0, 1, 12, 5));
  });

  it('after downtime, the missed windows run in order, as far back as the catch-up horizon', async () => {
    const store = await openStore('memory://', { log });
    // A clock that moves only when the test moves it: how long the windows take to run (a loaded
    // machine) does not change which windows are due.
    const base = Date.now();
    let skewMs = 0;
    const now = () => base + skewMs;
    const worker = testWorker(store, domain, { windowMs: W, now });
    const s = schedulerFor(worker, { now, catchupMs: 5 * W });
    try {
      await s.runDue(); // the first tick opens the due window only
      const first = await ledger(store);
      assert.equal(first.length, 1);
      skewMs = 9 * W; // nine windows of downtime
      const dueAtStart = dueWindowEnd(now(), W, 0);
      const results = await s.runDue();
      const rows = await ledger(store);
      const ends = rows.map((r) => r.window_end.getTime());
      assert.ok(rows.every((r) => r.status === 'done'), JSON.stringify(rows));
      // Windows tile time: consecutive ends W apart, from the horizon up to the due window, none skipped.
      for (let i = 2; i < ends.length; i++) assert.equal(ends[i]! - ends[i - 1]!, W);
      assert.ok(ends.length - 1 >= 6, 'five windows of catch-up horizon plus the due one (and any that came due meanwhile)');
      assert.equal(ends[1], dueAtStart - 5 * W, 'caught up from the horizon, not from the first window');
      assert.ok(ends.at(-1)! >= dueAtStart);
      assert.deepEqual(results.map((r) => r.windowEndMs), ends.slice(1), 'run oldest first');
    } finally {
      await s.stop();
      await store.close();
    }
  });

  it('a failing window is retried after its backoff, with its error kept in the ledger meanwhile', async () => {
    const inner = await openStore('memory://', { log });
    let failures = 2; // both attempts of a task (maxTaskAttempts 2) fail, then the store recovers
    const failing = <T extends Queryable>(q: T): T => ({
      ...q,
      query: async <R,>(sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
        if (failures > 0 && sql.includes('INSERT INTO batch_blobs')) {
          failures--;
          throw new Error('disk full (injected)');
        }
        return q.query<R>(sql, params);
      },
    });
    const store: Store = { kind: inner.kind, close: () => inner.close(), query: failing(inner).query, transaction: (fn) => inner.transaction((tx) => fn(failing(tx))) };
    let skewMs = 0;
    const now = () => Date.now() + skewMs;
    const worker = testWorker(store, domain, { windowMs: W, now, retryBaseMs: 60_000, retryMaxMs: 600_000 });
    const s = schedulerFor(worker, { now, catchupMs: 3 * W });
    try {
      await s.runDue();
      const failed = (await ledger(inner))[0]!;
      assert.equal(failed.status, 'failed');
      assert.match(failed.error!, /map task of shard .* failed 2 times: disk full \(injected\)/);
      assert.equal(failed.next_attempt_at!.getTime() - failed.finished_at!.getTime(), 60_000, 'retried no sooner than the backoff (base 60 s on the first attempt)');
      const end = failed.window_end.getTime();
      skewMs = 61_000; // past the backoff (and past newer windows, which run too)
      await s.runDue();
      const rows = await ledger(inner);
      const retried = rows.find((r) => r.window_end.getTime() === end)!;
      assert.equal(retried.status, 'done');
      assert.equal(retried.attempts, 2);
      assert.equal(retried.error, null);
    } finally {
      await s.stop();
      await inner.close();
    }
  });

  it('a window is revisited when enough readings arrive after it ran, and its rerun uses them', async () => {
    const store = await openStore('memory://', { log });
    await seedBackground(store);
    const worker = testWorker(store, domain, { windowMs: W });
    const s = schedulerFor(worker);
    try {
      // Half of a window's readings arrive before it closes (the scheduler's own timer may run it as
      // soon as it is due, as well as runDue below: either way its first run sees these).
      const due = dueWindowEnd(Date.now(), W, 0) + 2 * W;
      const early = makeReadings(due - W, due, 20).filter((_, i) => i % 2 === 0);
      await insertReadings(store, early);
      await waitUntil(due + 1);
      await s.runDue();
      const before = (await ledger(store)).find((r) => r.window_end.getTime() === due)!;
      assert.equal(before.status, 'done');
      // The other half of the window's readings arrive after it ran.
      const late = makeReadings(due - W, due, 20).filter((_, i) => i % 2 === 1);
      await insertReadings(store, late);
      await s.runDue();
      const after = (await ledger(store)).find((r) => r.window_end.getTime() === due)!;
      assert.equal(after.status, 'done');
      assert.equal(after.attempts, 2, 'run twice');
      assert.equal(after.n_readings, before.n_readings! + late.length, 'the rerun used the late readings');
      assert.ok(after.n_late! >= late.length, `late readings counted (${after.n_late})`);
    } finally {
      await s.stop();
      await store.close();
    }
  });
});

async function waitUntil(t: number): Promise<void> {
  while (Date.now() < t) await new Promise((r) => setTimeout(r, Math.min(50, t - Date.now())));
}
