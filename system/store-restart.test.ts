// A TimescaleDB server restarted mid-stream under the production topology (ingest, pipeline and api
// as separate processes on the real Kafka broker). While the server is down the roles report it:
// /healthz and /v1/forecast answer 503, ingest keeps the readings in Kafka (offsets uncommitted, the
// batch retried), the pipeline's windows fail. When it is back they recover by themselves, without a
// restart of their own, and every reading published before, during and after the outage is stored.
// The server is one of the test's own (its own port and data directory); a small box keeps it quick.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openBus } from '../infra/bus/index.ts';
import type { Bus } from '../infra/bus/index.ts';
import { PgStore } from '../infra/store/pg-store.ts';
import { encodeReading, partitionKey, topicNames } from '../ingest/index.ts';
import { freePort } from '../infra/testing/free-port.ts';
import { kafkaBrokersForTests } from '../infra/testing/kafka-broker.ts';
import { startPrivateServer, type PrivateServer } from '../infra/testing/timescaledb-server.ts';
import { startRole, tails, waitFor, type RoleProcess } from '../infra/testing/role-process.ts';

const brokers = await kafkaBrokersForTests();
const BBOX = { south: 52.49, west: 13.37, north: 52.53, east: 13.44 };
const PROBES = 5;

describe('a TimescaleDB server restarted mid-stream', () => {
  let server: PrivateServer | { skip: string } | undefined;
  let bus: Bus | undefined;
  const procs: RoleProcess[] = [];
  let apiUrl = '';
  let prefix = '';

  before(async () => {
    if ('skip' in brokers) return;
    server = await startPrivateServer();
    if ('skip' in server) return;
    prefix = `restart-${Date.now().toString(36)}.`;
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    const env = {
      BUS_URL: `kafka://${brokers.join(',')}`,
      STORE_URL: server.url,
      STORE_CONNECT_TIMEOUT_MS: '2000',
      TOPIC_PREFIX: prefix,
      INGEST_GROUP_ID: `${prefix}ingest`,
      TOPIC_PARTITIONS: '3',
      CITY_BBOX: `${BBOX.south},${BBOX.west},${BBOX.north},${BBOX.east}`,
      WINDOW_MS: '3000',
      BATCH_LAG_MS: '1000',
      // At the scale of these 3-s windows: a task in flight when the server went down stays claimed
      // until its lease ends (the worker could not release it), and a failed window waits its backoff.
      // At the defaults (60 s, 30 s) the recovery below could take longer than the test waits.
      BATCH_LEASE_MS: '10000',
      BATCH_RETRY_BASE_MS: '3000',
      SIM_AMATEUR_SENSORS: '40',
      SIM_OFFICIAL_STATIONS: '2',
      LOG_LEVEL: 'warn',
    };
    procs.push(startRole('ingest', { ...env, SIMULATOR: 'on' }));
    const probe = await PgStore.open(server.url, { poolSize: 1 });
    try {
      await waitFor('background forecasts in the store', async () => ((await probe.query<{ n: number }>('SELECT count(*) AS n FROM background')).rows[0]!.n > 0 ? true : undefined), { timeoutMs: 90_000, procs });
    } finally {
      await probe.close();
    }
    procs.push(startRole('pipeline', env));
    procs.push(startRole('api', { ...env, PORT: String(apiPort) }));
    bus = openBus(`kafka://${brokers.join(',')}`, { clientId: `${prefix}probe` });
  });

  after(async () => {
    for (const p of procs) await p.kill();
    await bus?.close();
    if (server && 'destroy' in server) await server.destroy();
  });

  it('roles report the store unavailable, retry, and recover with no reading lost', { timeout: 240_000 }, async (t) => {
    if ('skip' in brokers) return t.skip(brokers.skip);
    if (!server || 'skip' in server || !bus) return t.skip(server && 'skip' in server ? server.skip : 'no server');
    const srv = server;
    const b = bus;
    const health = async () => {
      const r = await fetch(`${apiUrl}/healthz`);
      return { status: r.status, body: (await r.json()) as { status: string; last_batch: { window_end: string; status: string } | null } };
    };
    await waitFor('a finished batch before the outage', async () => {
      const h = await health();
      return h.status === 200 && h.body.last_batch?.status === 'done' ? true : undefined;
    }, { timeoutMs: 90_000, procs });

    // Readings of our own, published every 200 ms before, during and after the outage.
    const topics = topicNames(prefix);
    const published: string[] = [];
    let publishing = true;
    let publishError: unknown;
    const t0 = Date.now();
    const publisher = (async () => {
      for (let k = 0; publishing; k++) {
        const timeMs = t0 + k * 1000;
        const msgs = Array.from({ length: PROBES }, (_, i) => {
          const p = { lat: BBOX.south + 0.005 + i * 0.005, lon: BBOX.west + 0.01 + i * 0.01 };
          published.push(`probe-${i}@${timeMs}`);
          return { key: partitionKey(p, 5), value: encodeReading({ sensorId: `probe-${i}`, timeMs, kind: 'amateur', lat: p.lat, lon: p.lon, elevationM: null, tempC: 5 + i, humidityPct: null, pressureHpa: null }) };
        });
        await b.publish(topics.readings, msgs);
        await new Promise((r) => setTimeout(r, 200));
      }
    })().catch((err: unknown) => (publishError = err));

    await waitFor('probe readings stored before the outage', async () => {
      const s = await PgStore.open(srv.url, { poolSize: 1 });
      try {
        return (await s.query<{ n: number }>(`SELECT count(*) AS n FROM readings WHERE sensor_id LIKE 'probe-%'`)).rows[0]!.n > 0 ? true : undefined;
      } finally {
        await s.close();
      }
    }, { timeoutMs: 30_000, procs });

    await srv.stop();
    const publishedBeforeOutage = published.length;
    const down = await waitFor('/healthz reporting the store unavailable', async () => {
      const h = await health();
      return h.status === 503 ? h.body : undefined;
    }, { timeoutMs: 15_000, procs, everyMs: 200 });
    assert.equal(down.status, 'unavailable');
    // Forecasts keep coming from the newest run held in memory while the store is down.
    const forecast = await fetch(`${apiUrl}/v1/forecast?latitude=52.51&longitude=13.405`);
    assert.equal(forecast.status, 200);
    assert.ok(((await forecast.json()) as { current?: { temperature_2m?: number } }).current?.temperature_2m !== undefined);
    const [ingest, pipeline] = procs;
    await waitFor('ingest and pipeline reporting the outage', async () =>
      /store unavailable/.test(ingest!.output) && /store unavailable/.test(pipeline!.output) ? true : undefined, { timeoutMs: 30_000, procs, everyMs: 200 });

    // The outage is noticed quickly now; let the stream go on until some readings were published into it.
    await waitFor('readings published while the server is down', async () => (published.length > publishedBeforeOutage ? true : undefined), { timeoutMs: 15_000, procs, everyMs: 100 });
    const publishedDuringOutage = published.length - publishedBeforeOutage;
    assert.ok(publishedDuringOutage > 0, 'readings were published while the server was down');
    await srv.start();
    const restartedAt = Date.now();
    const recovered = await waitFor('a batch finished after the restart', async () => {
      const h = await health();
      return h.status === 200 && h.body.last_batch?.status === 'done' && Date.parse(h.body.last_batch.window_end) > restartedAt ? h.body : undefined;
    }, { timeoutMs: 60_000, procs });
    t.diagnostic(`recovered: last batch ${JSON.stringify(recovered.last_batch)}`);

    publishing = false;
    await publisher;
    assert.equal(publishError, undefined, `publishing failed: ${String(publishError)}`);
    const expected = new Set(published);
    const stored = await waitFor(`all ${expected.size} probe readings stored`, async () => {
      const s = await PgStore.open(srv.url, { poolSize: 1 });
      try {
        const r = await s.query<{ sensor_id: string; time: Date }>(`SELECT sensor_id, time FROM readings WHERE sensor_id LIKE 'probe-%'`);
        return r.rowCount >= expected.size ? r.rows : undefined;
      } finally {
        await s.close();
      }
    }, { timeoutMs: 60_000, procs });
    assert.deepEqual(new Set(stored.map((r) => `${r.sensor_id}@${r.time.getTime()}`)), expected, 'every reading published is stored, once');
    t.diagnostic(`${expected.size} readings published (${publishedDuringOutage} while the server was down), all stored`);

    const forecastAfter = await fetch(`${apiUrl}/v1/forecast?latitude=52.51&longitude=13.405`);
    assert.equal(forecastAfter.status, 200);
    const codes = await Promise.all(procs.map((p) => p.stop()));
    assert.deepEqual(codes, [0, 0, 0], tails(procs));
  });
});
