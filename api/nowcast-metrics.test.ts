import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prom } from './http-metrics.ts';
import { qcRejectedShares, registerNowcastMetrics } from './nowcast-metrics.ts';
import type { SnapshotView } from './forecast.ts';
import type { BatchRun } from '../infra/store/index.ts';

describe('nowcast metrics', () => {
  it('QC rejection shares: each reason over all readings, and all rejections together', () => {
    const s = qcRejectedShares({ ok: 80, sct: 15, buddy: 5, range: 0 });
    assert.equal(s.get('sct'), 0.15);
    assert.equal(s.get('buddy'), 0.05);
    assert.equal(s.get('range'), 0);
    assert.equal(s.get('all'), 0.2);
    assert.equal(s.has('ok'), false);
    assert.equal(qcRejectedShares({ ok: 0 }).size, 0, 'no readings: no shares (not 0/0)');
    assert.equal(qcRejectedShares({}).size, 0);
  });

  it('/metrics shows the models\' status and queue, the last finished run\'s QC rejections by reason, and follows the ledger', async () => {
    const run = (qc: Record<string, number> | null): BatchRun => ({
      windowStartMs: 0, windowEndMs: 300_000, status: 'done', method: 'kalman-oi', startedAtMs: 300_000, finishedAtMs: 302_000,
      nReadings: 100, nSensors: 10, nCells: 5, error: null, qc,
    });
    let lastDone = run({ ok: 90, gross: 4, sct: 6 });
    const live = { current: null, get status() { return { storeOk: true, pendingSinceMs: null, storeError: null, loadedAtMs: null, ledger: { last: lastDone, lastDone } }; } } as unknown as SnapshotView;
    const store = { query: () => Promise.reject(new Error('no store in this test')) } as never;
    const models = { queued: 3, list: () => [{ name: 'bilstm', status: 'ok' as const }, { name: 'ar-5min', status: 'failing' as const }] };
    registerNowcastMetrics({ live, store, models });
    assert.match(await prom.register.getSingleMetricAsString('nowcast_model_up'), /nowcast_model_up\{model="bilstm"\} 1\n.*nowcast_model_up\{model="ar-5min"\} 0/s);
    assert.match(await prom.register.getSingleMetricAsString('nowcast_model_predictions_waiting'), /nowcast_model_predictions_waiting 3\b/);
    const scrape = async () => prom.register.getSingleMetricAsString('nowcast_qc_rejected_ratio');
    let m = await scrape();
    assert.match(m, /nowcast_qc_rejected_ratio\{reason="gross"\} 0\.04/);
    assert.match(m, /nowcast_qc_rejected_ratio\{reason="sct"\} 0\.06/);
    assert.match(m, /nowcast_qc_rejected_ratio\{reason="all"\} 0\.1\b/);
    assert.match(await prom.register.getSingleMetricAsString('nowcast_batch_duration_seconds'), /nowcast_batch_duration_seconds 2\b/);
    lastDone = run({ ok: 50, buddy: 50 });
    m = await scrape();
    assert.match(m, /reason="buddy"\} 0\.5/);
    assert.doesNotMatch(m, /reason="gross"/, 'a reason absent from the newest run is not carried over');
    lastDone = run(null);
    assert.doesNotMatch(await scrape(), /reason=/, 'a run without counts shows none');
  });
});
