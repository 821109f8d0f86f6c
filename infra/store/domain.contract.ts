/**
 * The domain SQL contract: the nowcast and batch-ledger statements that the pipeline and the API
 * share, run unchanged against every adapter (beside store.contract.ts, which covers the port).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { claimBatchRun, finishBatchRun, failBatchRun, latestBatchRun, latestNowcast, writeNowcasts } from './nowcasts.ts';
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
  });
}
