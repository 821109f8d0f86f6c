/**
 * The domain SQL contract: the nowcast and batch-ledger statements that the pipeline and the API
 * share, run unchanged against every adapter (beside store.contract.ts, which covers the port).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { claimBatchRun, finishBatchRun, failBatchRun, latestBatchRun, latestNowcast, ledgerState, writeNowcasts, writeShardNowcasts } from './nowcasts.ts';
import { claimTask, createTasks, finishTask, phaseProgress, releaseTask } from './batch-tasks.ts';
import { getBlobs, newestShardBlob, putBlobs, shardBlobsSince } from './batch-blobs.ts';
import { failWindow, finishWindow, latestDoneBefore, nextOpenWindow, openWindow, restartWindow } from './batch-ledger.ts';
import { readingColumns } from './reading-window.ts';
import { insertReadings } from './readings.ts';
import type { ContractHandle } from './store.contract.ts';
import type { Store } from './store.ts';
import { HOUR_MS, MINUTE_MS } from '../time.ts';

export function runDomainContract(name: string, makeStore: () => Promise<ContractHandle>): void {
  describe(`domain SQL contract: ${name}`, () => {
    let handle: ContractHandle;
    let store: Store;
    before(async () => {
      handle = await makeStore();
      store = handle.store;
    });
    after(async () => {
      await store?.close();
      await handle?.cleanup();
    });

    test('nowcasts round-trip with hourly steps, provenance and a per-cell method', async () => {
      const runTimeMs = Date.UTC(2026, 0, 5, 10, 35);
      const hourlyStartMs = Date.UTC(2026, 0, 5, 11);
      assert.ok(await claimBatchRun(store, { windowStartMs: runTimeMs - 5 * MINUTE_MS, windowEndMs: runTimeMs, method: 'run-method', nowMs: runTimeMs, staleMs: HOUR_MS }));
      const temps = Array.from({ length: 13 }, (_, i) => 1.5 + i * 0.25);
      const sigmas = Array.from({ length: 13 }, (_, i) => 0.5 + i * 0.125);
      await writeNowcasts(store, { runTimeMs, stepMin: 5, method: 'run-method' }, [
        { cell: 'cell-a', tempsC: temps, sigmasC: sigmas, nObs: 3, method: 'cell-method', hourlyStartMs, hourlyTempsC: [2, 3.5], hourlySigmasC: [1, 1.25], newestObsMs: runTimeMs - 2 * MINUTE_MS },
        { cell: 'cell-b', tempsC: temps, sigmasC: sigmas, nObs: 0 },
      ]);
      await finishBatchRun(store, runTimeMs, { nowMs: runTimeMs + 1000, nReadings: 3, nSensors: 2, nCells: 2 });
      const a = await latestNowcast(store, 'cell-a', runTimeMs + MINUTE_MS, HOUR_MS);
      assert.ok(a);
      assert.deepEqual(
        { method: a.method, nObs: a.nObs, hourlyStartMs: a.hourlyStartMs, hourlyTempsC: a.hourlyTempsC, hourlySigmasC: a.hourlySigmasC, newestObsMs: a.newestObsMs, tempsC: a.tempsC, sigmasC: a.sigmasC },
        { method: 'cell-method', nObs: 3, hourlyStartMs, hourlyTempsC: [2, 3.5], hourlySigmasC: [1, 1.25], newestObsMs: runTimeMs - 2 * MINUTE_MS, tempsC: temps, sigmasC: sigmas },
      ); // every value is exact in REAL (binary fractions)
      const b = await latestNowcast(store, 'cell-b', runTimeMs + MINUTE_MS, HOUR_MS);
      assert.ok(b);
      assert.deepEqual({ method: b.method, hourlyStartMs: b.hourlyStartMs, hourlyTempsC: b.hourlyTempsC, newestObsMs: b.newestObsMs }, { method: 'run-method', hourlyStartMs: null, hourlyTempsC: null, newestObsMs: null });
      assert.equal(await latestNowcast(store, 'cell-a', runTimeMs + 2 * HOUR_MS, HOUR_MS), null, 'older than maxAge: not served');
    });

    test('the ledger: one claim per window, a failed window can be claimed again, a running one cannot', async () => {
      const end = Date.UTC(2026, 0, 6, 8, 0);
      const w = { windowStartMs: end - 5 * MINUTE_MS, windowEndMs: end, method: 'm', nowMs: end, staleMs: HOUR_MS };
      assert.equal(await claimBatchRun(store, w), true);
      assert.equal(await claimBatchRun(store, w), false, 'running: not claimable');
      await failBatchRun(store, end, end + 1000, 'boom');
      const failed = await latestBatchRun(store);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.error, 'boom');
      assert.equal(await claimBatchRun(store, { ...w, nowMs: end + 2000 }), true, 'failed: claimable again');
      assert.equal(await claimBatchRun(store, { ...w, nowMs: end + 2 * HOUR_MS }), true, 'a stale running claim is taken over');
    });

    test('batch tasks: created once; two workers racing for one task, one claim; an expired lease is taken over', async () => {
      const end = Date.UTC(2026, 0, 7, 9, 0);
      await createTasks(store, end, ['s1']);
      await createTasks(store, end, ['s1']); // idempotent
      const now = end + 1000;
      const [a, b] = await Promise.all([
        claimTask(store, { windowEndMs: end, phase: 'map', worker: 'a', nowMs: now, leaseMs: 60_000 }),
        claimTask(store, { windowEndMs: end, phase: 'map', worker: 'b', nowMs: now, leaseMs: 60_000 }),
      ]);
      assert.equal([a, b].filter(Boolean).length, 1, 'exactly one claim');
      const holder = a ? 'a' : 'b';
      assert.equal(await claimTask(store, { windowEndMs: end, phase: 'map', worker: 'c', nowMs: now + 1000, leaseMs: 60_000 }), null, 'leased: not free');
      const taken = await claimTask(store, { windowEndMs: end, phase: 'map', worker: 'c', nowMs: now + 61_000, leaseMs: 60_000 });
      assert.ok(taken, 'the expired lease is taken over');
      assert.equal(taken.attempts, 2);
      assert.equal(await finishTask(store, (a ?? b)!, holder), false, 'the old holder cannot finish it any more');
      assert.equal(await finishTask(store, taken, 'c'), true);
      assert.deepEqual(await phaseProgress(store, end, 'map'), { total: 1, done: 1, errors: [] });
      const r = await claimTask(store, { windowEndMs: end, phase: 'reduce', worker: 'c', nowMs: now, leaseMs: 60_000 });
      await releaseTask(store, r!, 'c', 'boom');
      assert.deepEqual(await phaseProgress(store, end, 'reduce'), { total: 1, done: 0, errors: ['boom'] });
    });

    test('batch blobs round-trip their bytes exactly', async () => {
      const end = Date.UTC(2026, 0, 7, 9, 5);
      const body = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31 + 7) % 256); // every byte value, larger than a socket buffer
      await putBlobs(store, [{ windowEndMs: end, kind: 'obs', shard: 'b', body }, { windowEndMs: end, kind: 'obs', shard: 'a', body: Uint8Array.of(0, 255) }]);
      await putBlobs(store, [{ windowEndMs: end, kind: 'obs', shard: 'a', body: Uint8Array.of(1, 2, 3) }]); // replaced
      const got = await getBlobs(store, end, 'obs');
      assert.deepEqual(got.map((g) => g.shard), ['a', 'b']);
      assert.deepEqual([...got[0]!.body], [1, 2, 3]);
      assert.deepEqual(got[1]!.body, body);
      assert.deepEqual((await getBlobs(store, end, 'obs', ['b'])).map((g) => g.shard), ['b']);
    });

    test("one shard's blobs of a kind since a time, oldest first, and its newest", async () => {
      const end = Date.UTC(2026, 0, 7, 10, 0);
      const W = 300_000;
      await putBlobs(store, [
        { windowEndMs: end, kind: 'flags', shard: 's1', body: Uint8Array.of(3) },
        { windowEndMs: end - 2 * W, kind: 'flags', shard: 's1', body: Uint8Array.of(1) },
        { windowEndMs: end - W, kind: 'flags', shard: 's1', body: Uint8Array.of(2) },
        { windowEndMs: end - 3 * W, kind: 'flags', shard: 's1', body: Uint8Array.of(0) }, // not after `since`
        { windowEndMs: end - W, kind: 'flags', shard: 's2', body: Uint8Array.of(9) }, // another shard
        { windowEndMs: end - W, kind: 'records', shard: 's1', body: Uint8Array.of(8) }, // another kind
      ]);
      const got = await shardBlobsSince(store, 'flags', 's1', end - 3 * W);
      assert.deepEqual(got.map((g) => [g.windowEndMs, [...g.body]]), [[end - 2 * W, [1]], [end - W, [2]], [end, [3]]]);
      assert.deepEqual(await shardBlobsSince(store, 'flags', 's3', 0), []);
      const newest = await newestShardBlob(store, 'flags', 's1');
      assert.deepEqual(newest && [newest.windowEndMs, [...newest.body]], [end, [3]]);
      assert.equal(await newestShardBlob(store, 'flags', 's3'), null);
    });

    test('the window ledger: open once, the oldest open window first, failures wait for their retry, one restart', async () => {
      const w = (m: number) => Date.UTC(2026, 0, 8, 10, m);
      await store.query(`DELETE FROM batch_runs`); // a ledger of this test's windows only
      for (const m of [10, 5]) await openWindow(store, { windowStartMs: w(m) - 300_000, windowEndMs: w(m), method: 'm', nowMs: w(m) });
      const again = await openWindow(store, { windowStartMs: w(5) - 300_000, windowEndMs: w(5), method: 'm', nowMs: w(6) });
      assert.equal(again.attempts, 1);
      assert.equal((await nextOpenWindow(store, w(20)))!.windowEndMs, w(5));
      await failWindow(store, w(5), w(6), 'no disk', w(30));
      assert.equal((await nextOpenWindow(store, w(20)))!.windowEndMs, w(10), 'the failed one waits for its retry time');
      assert.ok(await finishWindow(store, w(10), { nowMs: w(11), method: 'm', nReadings: 1, nSensors: 1, nCells: 1, nLate: 0, qc: { ok: 1, sct: 2 }, shards: 1, background: 'full', smoother: 'failed in 1 of 1 shards: no model' }));
      assert.equal(await latestDoneBefore(store, w(15)), w(10));
      assert.deepEqual((await ledgerState(store)).lastDone?.qc, { ok: 1, sct: 2 }, 'the ledger state carries the counts per QC reason');
      assert.equal((await ledgerState(store)).lastDone?.smoother, 'failed in 1 of 1 shards: no model', 'and what the smoother did');
      const due = await nextOpenWindow(store, w(31));
      assert.equal(due!.status, 'failed');
      const restarts = await Promise.all([restartWindow(store, w(5), w(31)), restartWindow(store, w(5), w(31))]);
      assert.deepEqual(restarts.sort(), [false, true], 'one restart wins');
    });

    test('window readings as columns: exact floats, NULL elevation as NaN, ordered by sensor then time', async () => {
      const t = Date.UTC(2026, 0, 9, 12, 0);
      await insertReadings(store, [
        { sensorId: 'zz', timeMs: t + 2000, kind: 'amateur', lat: 52.123456789012, lon: 13.1, elevationM: null, cell: 'c1', tempC: -3.14159265358979, humidityPct: null, pressureHpa: null },
        { sensorId: 'aa', timeMs: t + 3000, kind: 'official', lat: 0.1 + 0.2, lon: -179.999999, elevationM: 34.5, cell: 'c2', tempC: 1e-7, humidityPct: 50, pressureHpa: 1000 },
        { sensorId: 'aa', timeMs: t + 1000, kind: 'official', lat: 1, lon: 2, elevationM: 3, cell: 'c2', tempC: 20, humidityPct: null, pressureHpa: null },
      ]);
      const c = await readingColumns(store, t, t + 60_000);
      assert.deepEqual(c.sensorId, ['aa', 'aa', 'zz']);
      assert.deepEqual([...c.timeMs], [t + 1000, t + 3000, t + 2000]);
      assert.deepEqual([...c.official], [1, 1, 0]);
      assert.deepEqual([...c.lat], [1, 0.1 + 0.2, 52.123456789012]);
      assert.deepEqual([...c.tempC], [20, 1e-7, -3.14159265358979]);
      assert.ok(Number.isNaN(c.elevationM[2]!));
      assert.equal((await readingColumns(store, t, t + 60_000, { south: 50, west: 10, north: 53, east: 14 })).sensorId.length, 1);
    });

    test('shard nowcasts: upserted on a rerun, and a cell left without a value loses its old row', async () => {
      const run = Date.UTC(2026, 0, 10, 8, 0);
      const row = (cell: string, t: number) => ({ cell, tempsC: Array(13).fill(t), sigmasC: Array(13).fill(1), nObs: 0 });
      await writeShardNowcasts(store, { runTimeMs: run, stepMin: 5, method: 'm' }, ['x1', 'x2'], [row('x1', 1), row('x2', 2)]);
      await writeShardNowcasts(store, { runTimeMs: run, stepMin: 5, method: 'm' }, ['x1', 'x2'], [row('x1', 3)]);
      const r = await store.query<{ cell: string; t: number }>(`SELECT cell, temps_c[1] AS t FROM nowcasts WHERE run_time = $1 ORDER BY cell`, [new Date(run)]);
      assert.deepEqual(r.rows, [{ cell: 'x1', t: 3 }]);
      await assert.rejects(writeShardNowcasts(store, { runTimeMs: run, stepMin: 5, method: 'm' }, ['x3'], [{ ...row('x3', 1), tempsC: [NaN, ...Array(12).fill(1)] }]), /non-finite/);
    });
  });
}
