import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runTimescaleJobs } from './jobs.ts';
import type { Queryable } from './store.ts';

/** A store that lists the given jobs and answers each `CALL run_job` with the next outcome of that job (an Error is thrown). */
function fakeStore(jobs: { id: number; proc: string }[], outcomes: Record<number, (Error | 'ok')[]>): Queryable & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    async query<R>(sql: string, params?: unknown[]) {
      if (sql.includes('timescaledb_information.jobs')) {
        const rows = jobs.map((j) => ({ job_id: j.id, application_name: `Job [${j.id}]`, proc_name: j.proc, hypertable_name: 'readings_hourly' }));
        return { rows: rows as R[], rowCount: rows.length } as never;
      }
      const id = params![0] as number;
      calls.push(id);
      const next = outcomes[id]!.shift() ?? 'ok';
      if (next !== 'ok') throw next;
      return { rows: [] as R[], rowCount: 0 } as never;
    },
  };
}

const concurrent = () => new Error('could not refresh continuous aggregate "readings_hourly" due to a concurrent refresh');
const quick = { attempts: 3, firstWaitMs: 1 };

describe('policy jobs', () => {
  it('a refresh that meets a concurrent one is tried again, and succeeds once the other is done', async () => {
    const store = fakeStore([{ id: 7, proc: 'policy_refresh_continuous_aggregate' }], { 7: [concurrent(), concurrent(), 'ok'] });
    const runs = await runTimescaleJobs(store, quick);
    assert.deepEqual(store.calls, [7, 7, 7]);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.ok, true);
    assert.equal(runs[0]!.attempts, 3);
  });

  it('it fails with the error after the last attempt; other errors are not retried, and a failure does not stop the other jobs', async () => {
    const store = fakeStore(
      [{ id: 1, proc: 'policy_compression' }, { id: 2, proc: 'policy_refresh_continuous_aggregate' }],
      { 1: [new Error('permission denied')], 2: [concurrent(), concurrent(), concurrent(), 'ok'] },
    );
    const runs = await runTimescaleJobs(store, quick);
    // the refresh runs first (aggregates before compression), three times, then the compression once
    assert.deepEqual(store.calls, [2, 2, 2, 1]);
    const byId = Object.fromEntries(runs.map((r) => [r.jobId, r]));
    assert.equal(byId[2]!.ok, false);
    assert.equal(byId[2]!.attempts, 3);
    assert.match(byId[2]!.error!, /concurrent refresh/);
    assert.equal(byId[1]!.ok, false);
    assert.equal(byId[1]!.attempts, 1);
    assert.equal(byId[1]!.error, 'permission denied');
  });
});
