// One batch run on the embedded store: nowcasts for every cell of a small domain, the ledger row,
// idempotence per window, and a clear failure without a background.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, insertReadings, type Store, upsertBackground, latestNowcast, latestBatchRun } from '../infra/store/index.ts';
import { createLogger } from '../infra/log.ts';
import { cellOf } from '../infra/geo/index.ts';
import { domainGrid, runBatch } from './batch.ts';
import { close } from '../infra/testing/close.ts';

const H = 3_600_000;
const end = Date.UTC(2026, 10, 1, 12);
const windowMs = 300_000;
const bbox = { south: 52.5, west: 13.39, north: 52.51, east: 13.41 };
const log = createLogger('silent');

describe('batch run', () => {
  let store: Store;
  const grid = domainGrid(bbox, 9);

  before(async () => {
    store = await openStore('memory://', { log });
  });
  after(async () => {
    await store.close();
  });

  it('fails clearly without a background and records the failure', async () => {
    const r = await runBatch({ store, log, grid, windowMs, now: () => end + 5000 }, end - windowMs);
    assert.equal(r.status, 'failed');
    assert.match(r.error!, /no background forecast/);
    const run = await latestBatchRun(store);
    assert.equal(run!.status, 'failed');
  });

  it('writes a nowcast for every cell: observed cells their own bias, the rest the median', async () => {
    // Background: 10 °C everywhere, rising 1 K per hour.
    const points = [{ id: 'a', lat: 52.4, lon: 13.3 }, { id: 'b', lat: 52.6, lon: 13.5 }];
    await upsertBackground(store, points.flatMap((p) => [-1, 0, 1, 2].map((h) => ({ source: 'bg', pointId: p.id, lat: p.lat, lon: p.lon, validTimeMs: end + h * H, issuedAtMs: end - H, tempC: 10 + h }))));
    const at = end - 60_000; // background there: 10 - 1/60
    const obs = [
      { id: 'a1', lat: 52.505, lon: 13.40, t: 12 }, { id: 'a1', lat: 52.505, lon: 13.40, t: 14 }, // one sensor, mean 13
      { id: 'b1', lat: 52.502, lon: 13.395, t: 11 },
      { id: 'c1', lat: 52.508, lon: 13.405, t: 11 },
    ];
    await insertReadings(store, obs.map((o, i) => ({ sensorId: o.id, timeMs: at - i * 1000, kind: 'amateur' as const, lat: o.lat, lon: o.lon, elevationM: null, cell: cellOf(o, 9), tempC: o.t, humidityPct: null, pressureHpa: null })));
    // A reading outside the window must not count.
    await insertReadings(store, [{ sensorId: 'late', timeMs: end + 1, kind: 'amateur', lat: 52.505, lon: 13.4, elevationM: null, cell: cellOf({ lat: 52.505, lon: 13.4 }, 9), tempC: 40, humidityPct: null, pressureHpa: null }]);

    const r = await runBatch({ store, log, grid, windowMs, now: () => end + 5000 }, end);
    assert.equal(r.status, 'done');
    assert.equal(r.nReadings, 4);
    assert.equal(r.nSensors, 3);
    assert.equal(r.nCells, grid.length);
    const n = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM nowcasts WHERE run_time = $1', [new Date(end)]);
    assert.equal(n.rows[0]!.n, grid.length);

    const bg = (ms: number) => 10 + (ms - end) / H;
    const observed = await latestNowcast(store, cellOf({ lat: 52.505, lon: 13.4 }, 9), end + 5000, H);
    assert.ok(observed);
    assert.equal(observed.nObs, 1);
    // The sensor a1's innovations average 13 - bg(at) (its two readings are 1 s apart).
    const biasA = (12 - bg(at) + 14 - bg(at - 1000)) / 2;
    close(observed.tempsC[0]!, 10 + biasA, { atol: 0.006 }); // stored as REAL, rounded to 0.01
    const empty = grid.find((g) => ![cellOf(obs[0]!, 9), cellOf(obs[2]!, 9), cellOf(obs[3]!, 9)].includes(g.cell))!;
    const other = await latestNowcast(store, empty.cell, end + 5000, H);
    assert.equal(other!.nObs, 0);
    // Median of the sensor means 13 - bg(at), 11 - bg(at - 2 s), 11 - bg(at - 3 s): the last.
    const med = 11 - bg(at - 3000);
    close(other!.tempsC[0]!, 10 + med, { atol: 0.006 }); // REAL storage, rounded to 0.01
    assert.equal(other!.tempsC.length, 13);
  });

  it('a window already done is skipped, not recomputed', async () => {
    const r = await runBatch({ store, log, grid, windowMs, now: () => end + 9000 }, end);
    assert.equal(r.status, 'skipped');
  });

  it('drops nowcast chunks older than the retention after a run', async () => {
    const count = async (t: number) => (await store.query<{ n: number }>('SELECT count(*)::int AS n FROM nowcasts WHERE run_time = $1', [new Date(t)])).rows[0]!.n;
    assert.equal(await count(end), grid.length);
    const later = end + 2 * H;
    const r = await runBatch({ store, log, grid, windowMs, retentionMs: H, now: () => later + 5000 }, later);
    assert.equal(r.status, 'done');
    assert.equal(await count(later), grid.length);
    assert.equal(await count(end), 0, 'the run two hours back is gone (its 30-minute chunk lies wholly before later - 1 h)');
  });
});
