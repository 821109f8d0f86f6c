// The engine thread behind its port proxies: SQL, transactions (commit and rollback), errors with
// their code, a reading published through the bus proxy and stored by the ingest worker in the
// thread, run reads transferred as columns, and a stop that closes the store.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../infra/config.ts';
import { createLogger } from '../infra/log.ts';
import { topicNames, encodeReading } from '../ingest/index.ts';
import { startEngine, type Engine } from './engine.ts';

describe('the engine thread through its proxies', () => {
  let engine: Engine;
  before(async () => {
    engine = startEngine(loadConfig({ STORE_URL: 'memory://', SIMULATOR: 'off', LOG_LEVEL: 'silent', WINDOW_MS: '3600000' }), createLogger('silent'));
    await engine.ready;
  });
  after(async () => {
    await engine.stop();
  });

  it('queries and transactions keep the Store port\'s meaning', async () => {
    assert.deepEqual((await engine.store.query<{ x: number }>('SELECT 1 + 1 AS x')).rows, [{ x: 2 }]);
    const n = await engine.store.transaction(async (tx) => {
      await tx.query(`INSERT INTO dead_letters (source, reason, payload) VALUES ('t', 'committed', 'p')`);
      return (await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters`)).rows[0]!.n;
    });
    assert.equal(n, 1);
    await assert.rejects(engine.store.transaction(async (tx) => {
      await tx.query(`INSERT INTO dead_letters (source, reason, payload) VALUES ('t', 'rolled back', 'p')`);
      throw new Error('changed my mind');
    }), /changed my mind/);
    const reasons = (await engine.store.query<{ reason: string }>(`SELECT reason FROM dead_letters ORDER BY id`)).rows.map((r) => r.reason);
    assert.deepEqual(reasons, ['committed']);
    await assert.rejects(engine.store.query('SELECT * FROM no_such_table'), (err: Error & { code?: string }) => /no_such_table/.test(err.message));
  });

  it('a reading published through the bus proxy is stored by the ingest worker in the thread', async () => {
    const topics = topicNames('');
    const timeMs = Date.now() - 60_000;
    await engine.bus.publish(topics.readings, [{ key: 'k', value: encodeReading({ sensorId: 'proxy-1', timeMs, kind: 'amateur', lat: 52.52, lon: 13.405, elevationM: null, tempC: 7.25, humidityPct: null, pressureHpa: null }) }]);
    let rows: { temp_c: number }[] = [];
    const deadline = Date.now() + 15_000;
    while (rows.length === 0 && Date.now() < deadline) {
      rows = (await engine.store.query<{ temp_c: number }>(`SELECT temp_c FROM readings WHERE sensor_id = 'proxy-1'`)).rows;
      if (rows.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(rows, [{ temp_c: 7.25 }]);
  });

  it('runs arrive as typed columns; the ledger through the run source', async () => {
    const t = Date.UTC(2099, 0, 1, 12); // newer than any window the engine's own scheduler runs meanwhile
    await engine.store.query(`INSERT INTO batch_runs (window_end, window_start, status, method, started_at, finished_at) VALUES ($1, $2, 'done', 'm', $1, $1)`, [new Date(t), new Date(t - 300_000)]);
    await engine.store.query(`INSERT INTO nowcasts (cell, run_time, step_min, temps_c, sigmas_c, n_obs, method) VALUES ('c1', $1, 5, '{1,2}', '{0.5,0.75}', 3, 'kf')`, [new Date(t)]);
    assert.equal((await engine.runs.ledger()).lastDone?.windowEndMs, t);
    const run = (await engine.runs.readRun(t))!;
    assert.ok(run.tempsC instanceof Float32Array);
    assert.deepEqual([...run.tempsC], [1, 2]);
    assert.deepEqual(run.cells, ['c1']);
    assert.deepEqual(run.methods, ['kf']);
  });
});
