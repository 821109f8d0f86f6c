// The API in-process on the embedded store: every error code and the forecast's shape and values.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { openStore, writeNowcasts, claimBatchRun, finishBatchRun, type Store } from '../infra/store/index.ts';
import { cellOf } from '../infra/geo/index.ts';
import { createLogger } from '../infra/log.ts';
import { createApp } from './app.ts';
import { API_ERRORS } from './errors.ts';

const bbox = { south: 52.35, west: 13.08, north: 52.68, east: 13.76 };
const now = Date.UTC(2026, 10, 1, 12, 3);
const runTime = Date.UTC(2026, 10, 1, 12, 0);

async function listen(store: Store): Promise<{ server: Server; base: string }> {
  const app = createApp({ store, log: createLogger('silent'), bbox, resolution: 9, maxAgeMs: 3_600_000, now: () => now });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const a = server.address();
  return { server, base: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` };
}

describe('api', () => {
  let store: Store;
  let server: Server;
  let base: string;

  before(async () => {
    store = await openStore('memory://');
    ({ server, base } = await listen(store));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await store.close();
  });

  it('the error catalogue in the README is the one the code has', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = Object.fromEntries([...readme.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
    assert.deepEqual(documented, { ...API_ERRORS });
  });

  it('NOT_READY with Retry-After before any batch has covered the cell', async () => {
    const r = await fetch(`${base}/v1/forecast?latitude=52.52&longitude=13.405`);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '30');
    assert.equal((await r.json()).code, 'NOT_READY');
  });

  it('serves the stored nowcast of the cell in the Open-Meteo shape', async () => {
    const cell = cellOf({ lat: 52.52, lon: 13.405 }, 9);
    const temps = Array.from({ length: 13 }, (_, i) => 4 + i / 4);
    const sigmas = Array.from({ length: 13 }, (_, i) => 0.5 + i / 8);
    await claimBatchRun(store, { windowStartMs: runTime - 300_000, windowEndMs: runTime, method: 'm', nowMs: now, staleMs: 1 });
    await writeNowcasts(store, { runTimeMs: runTime, stepMin: 5, method: 'test-method' }, [{ cell, tempsC: temps, sigmasC: sigmas, nObs: 2 }]);
    await finishBatchRun(store, runTime, { nowMs: now, nReadings: 3, nSensors: 2, nCells: 1 });
    const r = await fetch(`${base}/v1/forecast?latitude=52.52&longitude=13.405`);
    assert.equal(r.status, 200);
    const b = await r.json();
    assert.equal(b.cell, cell);
    assert.equal(b.method, 'test-method');
    assert.equal(b.observations_in_cell, 2);
    assert.deepEqual(b.current, { time: '2026-11-01T12:00', interval: 300, temperature_2m: 4, temperature_2m_sigma: 0.5 });
    assert.equal(b.minutely_5.time[12], '2026-11-01T13:00');
    assert.deepEqual(b.minutely_5.temperature_2m, temps); // exact in REAL: quarters
    assert.deepEqual(b.minutely_5.temperature_2m_sigma, sigmas); // eighths
    assert.equal(b.current_units.temperature_2m, '°C');
  });

  it('a neighbouring cell without a nowcast is NOT_READY, an unknown route NOT_FOUND', async () => {
    const r = await fetch(`${base}/v1/forecast?latitude=52.40&longitude=13.2`);
    assert.equal(r.status, 503);
    const u = await fetch(`${base}/v2/nothing`);
    assert.equal(u.status, 404);
    assert.deepEqual(await u.json(), { error: true, code: 'NOT_FOUND', reason: 'No route for GET /v2/nothing.' });
  });

  it('STORE_UNAVAILABLE and an unhealthy /healthz when the store is gone', async () => {
    const gone = await openStore('memory://');
    const { server: s2, base: b2 } = await listen(gone);
    await gone.close();
    try {
      const r = await fetch(`${b2}/v1/forecast?latitude=52.52&longitude=13.405`);
      assert.equal(r.status, 503);
      assert.equal((await r.json()).code, 'STORE_UNAVAILABLE');
      const h = await fetch(`${b2}/healthz`);
      assert.equal(h.status, 503);
      assert.equal((await h.json()).status, 'unavailable');
    } finally {
      s2.closeAllConnections();
      await new Promise((r) => s2.close(r));
    }
  });
});
