// A pipeline worker killed with SIGKILL mid-batch (some of the window's tasks done, others not) on
// the production topology: ingest and pipeline as separate processes on the real Kafka broker and a
// TimescaleDB server (a fresh database on the test server), over the Berlin box. A second pipeline
// started after the kill takes the dead worker's tasks once their lease expires and finishes the
// window; then that window is rerun (marked for a revisit) with nothing else changing, and its
// nowcasts must equal the recovered run's, cell for cell and bit for bit.
// Readings are the test's own, published in real time to the readings topic (every sensor every
// 500 ms) and stored well before their window runs (BATCH_LAG_MS 3 s); the simulated city gives the
// background forecast and official stations, and no amateur sensors (whose late uploads would make
// a rerun see more readings than the first run did).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openBus, type Bus } from '../../infra/bus/index.ts';
import { markRevisit } from '../../infra/store/index.ts';
import { PgStore } from '../../infra/store/pg-store.ts';
import { encodeReading, partitionKey, topicNames } from '../../ingest/index.ts';
import { kafkaBrokersForTests } from '../../infra/testing/kafka-broker.ts';
import { freshDatabase, timescaleServerForTests, type FreshDatabase } from '../../infra/testing/timescaledb-server.ts';
import { startRole, tails, waitFor, type RoleProcess } from '../../infra/testing/role-process.ts';

const WINDOW_MS = 10_000;
const SENSORS = 60;

const brokers = await kafkaBrokersForTests();
const server = await timescaleServerForTests();
const skip = 'skip' in brokers ? brokers.skip : typeof server !== 'string' ? server.skip : undefined;

interface NowcastRow { cell: string; temps_c: number[]; sigmas_c: number[]; n_obs: number; method: string }

describe('a pipeline worker killed with SIGKILL mid-batch', () => {
  let db: FreshDatabase | undefined;
  let probe: PgStore | undefined;
  let bus: Bus | undefined;
  const procs: RoleProcess[] = [];
  let env: Record<string, string | undefined> = {};
  let prefix = '';

  before(async () => {
    if (skip || typeof server !== 'string' || 'skip' in brokers) return;
    db = await freshDatabase(server, 'pipekill');
    prefix = `pipekill-${Date.now().toString(36)}.`;
    env = {
      BUS_URL: `kafka://${brokers.join(',')}`,
      STORE_URL: db.url,
      TOPIC_PREFIX: prefix,
      INGEST_GROUP_ID: `${prefix}ingest`,
      TOPIC_PARTITIONS: '3',
      WINDOW_MS: String(WINDOW_MS),
      BATCH_LAG_MS: '3000',
      BATCH_LEASE_MS: '3000',
      BATCH_RETRY_BASE_MS: '1000',
      REVISIT_MIN_LATE: '1000000',
      SIM_AMATEUR_SENSORS: '0',
      LOG_LEVEL: 'warn',
      CITY_BBOX: undefined,
      H3_RESOLUTION: undefined,
    };
    procs.push(startRole('ingest', { ...env, SIMULATOR: 'on' }));
    const p = await PgStore.open(db.url, { poolSize: 1 });
    probe = p;
    await waitFor('background forecasts in the store', async () => ((await p.query<{ n: number }>('SELECT count(*)::int AS n FROM background')).rows[0]!.n > 0 ? true : undefined), { timeoutMs: 90_000, procs });
    bus = openBus(`kafka://${brokers.join(',')}`, { clientId: `${prefix}probe` });
  });

  after(async () => {
    for (const p of procs) await p.kill();
    await bus?.close();
    await probe?.close();
    await db?.drop();
  });

  it('the window is finished by another worker, and a rerun of it gives the same nowcasts', { timeout: 300_000 }, async (t) => {
    if (skip || !probe || !bus) return t.skip(skip ?? 'not set up');
    const p = probe;
    const b = bus;
    const topics = topicNames(prefix);
    // Plausible readings: about the background's temperature, so quality control keeps them.
    const bgC = (await p.query<{ t: number }>(`SELECT avg(temp_c) AS t FROM background WHERE valid_time BETWEEN now() - interval '2 hours' AND now() + interval '2 hours'`)).rows[0]!.t;
    assert.ok(Number.isFinite(bgC), 'a background around now');
    let publishing = true;
    let publishError: unknown;
    const publisher = (async () => {
      for (let k = 0; publishing; k++) {
        const timeMs = Date.now();
        const msgs = Array.from({ length: SENSORS }, (_, i) => {
          const pos = { lat: 52.44 + Math.floor(i / 10) * 0.03 + (i % 10) * 0.0015, lon: 13.25 + Math.floor(i / 10) * 0.05 + (i % 3) * 0.002 }; // six clusters of ten, each within about 300 m
          return { key: partitionKey(pos, 5), value: encodeReading({ sensorId: `kill-probe-${i}`, timeMs, kind: 'amateur', lat: pos.lat, lon: pos.lon, elevationM: null, tempC: bgC + ((i % 7) - 3) * 0.15 + 0.2 * Math.sin(k / 20), humidityPct: null, pressureHpa: null }) };
        });
        await b.publish(topics.readings, msgs);
        await new Promise((r) => setTimeout(r, 500));
      }
    })().catch((err: unknown) => (publishError = err));

    // The ingest stores the probe's readings before any window is chosen, and the chosen window starts a
    // full window after the first of them: it has readings whatever the ingest's start-up took (the
    // pipeline also catches up windows from before the probe began, which have none).
    const firstStoredMs = await waitFor('the probe\'s first readings stored', async () => {
      const r = await p.query<{ t: number | null }>(`SELECT (extract(epoch FROM min(time)) * 1000)::float8 AS t FROM readings WHERE sensor_id LIKE 'kill-probe-%'`);
      return r.rows[0]?.t ?? undefined;
    }, { timeoutMs: 60_000, procs, everyMs: 100 });
    const first = startRole('pipeline', env);
    procs.push(first);
    await waitFor('a finished window', async () => ((await p.query<{ n: number }>(`SELECT count(*)::int AS n FROM batch_runs WHERE status = 'done'`)).rows[0]!.n > 0 ? true : undefined), { timeoutMs: 120_000, procs });
    // Mid-batch: the window running, some of its tasks done and some not.
    const windowEnd = await waitFor('a window with some tasks done and some not', async () => {
      const r = await p.query<{ window_end: Date }>(
        `SELECT b.window_end FROM batch_runs b WHERE b.status = 'running' AND b.window_end >= to_timestamp($1 / 1000.0)
            AND EXISTS (SELECT 1 FROM batch_tasks t WHERE t.window_end = b.window_end AND t.status = 'done')
            AND EXISTS (SELECT 1 FROM batch_tasks t WHERE t.window_end = b.window_end AND t.status <> 'done')`, [firstStoredMs + 2 * WINDOW_MS]);
      return r.rows[0]?.window_end;
    }, { timeoutMs: 120_000, procs, everyMs: 20 });
    first.child.kill('SIGKILL');
    await first.exited;
    const tasks = (await p.query<{ done: number; total: number }>(`SELECT count(*) FILTER (WHERE status = 'done')::int AS done, count(*)::int AS total FROM batch_tasks WHERE window_end = $1`, [windowEnd])).rows[0]!;
    t.diagnostic(`killed during window ${windowEnd.toISOString()} with ${tasks.done} of ${tasks.total} tasks done`);
    assert.ok(tasks.done < tasks.total, 'killed mid-batch');

    procs.splice(procs.indexOf(first), 1);
    const second = startRole('pipeline', env);
    procs.push(second);
    const recovered = await waitFor('the window finished by the second worker', async () => {
      const r = await p.query<{ status: string; n_readings: number; n_cells: number }>(`SELECT status, n_readings, n_cells FROM batch_runs WHERE window_end = $1`, [windowEnd]);
      return r.rows[0]?.status === 'done' ? r.rows[0] : undefined;
    }, { timeoutMs: 120_000, procs });
    const redone = (await p.query<{ n: number }>(`SELECT count(*)::int AS n FROM batch_tasks WHERE window_end = $1 AND attempts > 1`, [windowEnd])).rows[0]!.n;
    t.diagnostic(`the second worker finished it (${recovered.n_readings} readings, ${recovered.n_cells} cells; ${redone} tasks taken over)`);

    publishing = false;
    await publisher;
    assert.equal(publishError, undefined, String(publishError));
    const nowcasts = async () => (await p.query<NowcastRow>(`SELECT cell, temps_c, sigmas_c, n_obs, method FROM nowcasts WHERE run_time = $1 ORDER BY cell`, [windowEnd])).rows;
    const afterKill = await nowcasts();
    assert.equal(afterKill.length, recovered.n_cells, 'every cell of the window has its nowcast, once');
    const qc = (await p.query<{ qc: unknown }>(`SELECT qc FROM batch_runs WHERE window_end = $1`, [windowEnd])).rows[0]?.qc;
    assert.ok(afterKill.some((r) => r.n_obs > 0), `the window had observations (quality control: ${JSON.stringify(qc)})`);

    // The same window again, uninterrupted.
    const markedAtMs = Date.now();
    await markRevisit(p, windowEnd.getTime(), 0);
    const rerun = await waitFor('the rerun of the window', async () => {
      const r = await p.query<{ status: string; finished_at: Date; n_readings: number; n_cells: number }>(`SELECT status, finished_at, n_readings, n_cells FROM batch_runs WHERE window_end = $1`, [windowEnd]);
      const row = r.rows[0];
      return row?.status === 'done' && row.finished_at.getTime() > markedAtMs ? row : undefined;
    }, { timeoutMs: 120_000, procs });
    assert.equal(rerun.n_readings, recovered.n_readings, 'the rerun saw the same readings');
    const again = await nowcasts();
    assert.equal(again.length, afterKill.length);
    assert.deepEqual(again, afterKill, 'the rerun gives the same nowcasts as the run recovered from the kill');
    t.diagnostic(`rerun: ${again.length} nowcasts identical`);
    const codes = await Promise.all(procs.map((x) => x.stop()));
    assert.deepEqual(codes, procs.map(() => 0), tails(procs));
  });
});
