// The production topology on real engines at the default Berlin size: ingest (with the simulated
// city as its source: 6 official stations, 400 amateur sensors), pipeline and api as three separate
// processes, sharing a real Apache Kafka broker and a real TimescaleDB server (PostgreSQL 15 +
// TimescaleDB, as its non-superuser owner, each process with its own pool), for 10 batch windows
// over the 18,012 cells of the Berlin box.
//
// Cadence: windows of 10 s (WINDOW_MS) instead of 5 minutes, with the simulated sensors reporting
// every 10 s (SIM_AMATEUR_INTERVAL_MS) instead of every minute: each window then holds one reading of
// every one of the 400+ sensors, as a 5-minute window does in service, and 10 windows take about a
// hundred seconds. A batch over the Berlin domain takes a few seconds, well inside a window.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../infra/config.ts';
import { PgStore } from '../infra/store/pg-store.ts';
import { domainGrid } from '../pipeline/index.ts';
import { freePort } from '../infra/testing/free-port.ts';
import { kafkaBrokersForTests } from '../infra/testing/kafka-broker.ts';
import { freshDatabase, startPrivateServer, timescaleServerForTests, withDatabase, type FreshDatabase, type PrivateServer } from '../infra/testing/timescaledb-server.ts';
import { errorLines, startRole, tails, waitFor, type RoleProcess } from '../infra/testing/role-process.ts';

const WINDOW_MS = 10_000;
const WINDOWS = 10;

const brokers = await kafkaBrokersForTests();
const server = await timescaleServerForTests();
const skip = 'skip' in brokers ? brokers.skip : typeof server !== 'string' ? server.skip : undefined;

interface RunRow {
  window_end: Date;
  status: string;
  n_readings: number | null;
  n_sensors: number | null;
  n_cells: number | null;
  error: string | null;
  took_ms: number | null;
}

describe('roles as separate processes on Kafka and a TimescaleDB server, at Berlin size', () => {
  let db: FreshDatabase | undefined;
  let probe: PgStore | undefined;
  const procs: RoleProcess[] = [];
  let apiUrl = '';

  before(async () => {
    if (skip || typeof server !== 'string' || 'skip' in brokers) return;
    db = await freshDatabase(server, 'roles');
    const prefix = `roles-${Date.now().toString(36)}.`;
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    const env = {
      BUS_URL: `kafka://${brokers.join(',')}`,
      STORE_URL: db.url,
      TOPIC_PREFIX: prefix,
      INGEST_GROUP_ID: `${prefix}ingest`,
      TOPIC_PARTITIONS: '3',
      WINDOW_MS: String(WINDOW_MS),
      SIM_AMATEUR_INTERVAL_MS: '10000',
      // Late simulated uploads (1–8 min) would revisit these short windows again and again; revisits have their own tests.
      REVISIT_MIN_LATE: '1000000',
      LOG_LEVEL: 'warn',
      // Every other variable at its production default: the Berlin box, H3 resolution 9.
      CITY_BBOX: undefined,
      H3_RESOLUTION: undefined,
    };
    procs.push(startRole('ingest', { ...env, SIMULATOR: 'on' }));
    // The pipeline starts once the first background forecasts are stored, so its first window has
    // them (a pipeline started before any background exists fails that window, by design).
    const p = await PgStore.open(db.url, { poolSize: 1 });
    probe = p;
    await waitFor('background forecasts in the store', async () => {
      const r = await p.query<{ n: number }>('SELECT count(*) AS n FROM background');
      return r.rows[0]!.n > 0 ? true : undefined;
    }, { timeoutMs: 90_000, procs });
    procs.push(startRole('pipeline', env));
    procs.push(startRole('api', { ...env, PORT: String(apiPort) }));
  });

  after(async () => {
    for (const p of procs) await p.kill();
    await probe?.close();
    await db?.drop();
  });

  it(`runs ${WINDOWS} batch windows over every Berlin cell with no error, serves forecasts, and stops cleanly`, { timeout: 300_000 }, async (t) => {
    if (skip || !probe) return t.skip(skip ?? 'no store');
    const p = probe;
    const defaults = loadConfig({});
    const cells = domainGrid(defaults.grid.bbox, defaults.grid.resolution).length;
    assert.ok(cells > 18_000, `the default Berlin box has ${cells} cells`);

    const t0 = Date.now();
    const runs = await waitFor(`${WINDOWS} finished windows`, async () => {
      const r = await p.query<RunRow>(
        `SELECT window_end, status, n_readings, n_sensors, n_cells, error,
                (extract(epoch FROM finished_at - started_at) * 1000)::int AS took_ms
           FROM batch_runs ORDER BY window_end`,
      );
      const failed = r.rows.filter((x) => x.status === 'failed');
      if (failed.length > 0) throw new Error(`failed windows: ${JSON.stringify(failed)}`);
      return r.rows.filter((x) => x.status === 'done').length >= WINDOWS ? r.rows.slice(0, WINDOWS) : undefined;
    }, { timeoutMs: 180_000, procs, everyMs: 1000 }).catch((err: unknown) => assert.fail(err instanceof Error ? err.message : String(err)));
    t.diagnostic(`${WINDOWS} windows in ${((Date.now() - t0) / 1000).toFixed(0)} s after the pipeline started; batch times [ms]: ${runs.map((r) => r.took_ms).join(', ')}`);

    assert.deepEqual(runs.map((r) => r.status), Array(WINDOWS).fill('done'), JSON.stringify(runs));
    for (let i = 1; i < runs.length; i++) {
      assert.equal(runs[i]!.window_end.getTime() - runs[i - 1]!.window_end.getTime(), WINDOW_MS, `windows ${i - 1} and ${i} are consecutive (none skipped)`);
    }
    const sensors = (await p.query<{ n: number }>('SELECT count(*) AS n FROM sensors')).rows[0]!.n;
    assert.equal(sensors, defaults.sim.officialStations + defaults.sim.amateurSensors, `every simulated sensor reached the registry through Kafka\n${tails(procs)}`);
    for (const r of runs) {
      assert.equal(r.n_cells, cells, 'every cell of the domain was nowcast');
      // Each sensor reports once a window; some readings drop out or come late (the simulated faults).
      assert.ok((r.n_sensors ?? 0) >= 330 && (r.n_readings ?? 0) >= (r.n_sensors ?? 0), `window ${r.window_end.toISOString()}: ${r.n_readings} readings from ${r.n_sensors} sensors`);
    }
    const nowcasts = (await p.query<{ n: number }>('SELECT count(*) AS n FROM nowcasts WHERE run_time = $1', [runs.at(-1)!.window_end])).rows[0]!.n;
    assert.equal(nowcasts, cells, 'one nowcast row per cell and run');

    const forecast = await fetch(`${apiUrl}/v1/forecast?latitude=52.52&longitude=13.405`);
    assert.equal(forecast.status, 200, await forecast.clone().text());
    const body = (await forecast.json()) as { minutely_5: { temperature_2m: number[] }; current: { temperature_2m: number; temperature_2m_sigma: number } };
    assert.equal(body.minutely_5.temperature_2m.length, 13);
    const health = await fetch(`${apiUrl}/healthz`);
    assert.equal(health.status, 200);
    const h = (await health.json()) as { store: string; last_good_batch: { status: string; cells: number } };
    assert.equal(h.store, 'pg');
    assert.equal(h.last_good_batch.cells, cells, 'the newest done run covered every cell (the newest run may still be running)');
    t.diagnostic(`forecast ${body.current.temperature_2m} °C ± ${body.current.temperature_2m_sigma}`);

    for (const proc of procs) assert.deepEqual(errorLines(proc), [], `${proc.role} logged errors`);
    const codes = await Promise.all(procs.map((proc) => proc.stop()));
    assert.deepEqual(codes, [0, 0, 0], tails(procs));
  });
});

describe('start-up against a store it cannot use: one line naming STORE_URL, exit 1', () => {
  let plain: PrivateServer | { skip: string } | undefined;
  before(async () => {
    if (!skip) plain = await startPrivateServer({ preload: '' });
  });
  after(async () => {
    if (plain && 'destroy' in plain) await plain.destroy();
  });

  async function refused(storeUrl: string): Promise<string[]> {
    const proc = startRole('api', { STORE_URL: storeUrl, BUS_URL: 'kafka://127.0.0.1:9', PORT: '0', LOG_LEVEL: 'warn' });
    const code = await proc.exited;
    assert.equal(code, 1, proc.output);
    return proc.output.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
  }

  it('a wrong password', { timeout: 60_000 }, async (t) => {
    if (skip || typeof server !== 'string') return t.skip(skip ?? 'no server');
    const lines = await refused(withDatabase(server, new URL(server).pathname.slice(1), 'not-the-password'));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /^STORE_URL: .*password authentication failed/);
  });

  it('a server without TimescaleDB loaded', { timeout: 60_000 }, async (t) => {
    if (skip || !plain || 'skip' in plain) return t.skip(skip ?? (plain && 'skip' in plain ? plain.skip : 'no server'));
    const lines = await refused(plain.url);
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0]!, /^STORE_URL: .*TimescaleDB.*shared_preload_libraries/);
  });
});
