// The ingest worker on a real Apache Kafka broker: nothing lost and nothing stored twice when a
// worker is killed with SIGKILL while it is writing and another starts, and across rebalances
// between workers sharing the partitions. Each test uses its own topics and consumer group.
// Broker: $KAFKA_BROKERS, or infra/kafka/kafka.sh starts one; without Java the tests skip (CI: fail).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { openStore, type Store } from '../infra/store/index.ts';
import { KafkaBus } from '../infra/bus/kafka-bus.ts';
import { partitionForKey } from '../infra/bus/index.ts';
import { createLogger } from '../infra/log.ts';
import { kafkaBrokersForTests } from '../infra/testing/kafka-broker.ts';
import { encodeReading, type Reading } from './reading.ts';
import { topicNames, topicSpecs, partitionKey } from './topics.ts';
import { startIngestWorker, type IngestWorker } from './worker.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const log = createLogger('silent');
const PARTITIONS = 4;
const T0 = Date.now() - 3_600_000;

/** N distinct readings over `sensors` sensors in Berlin; the value encodes the index (checked after). */
function readings(n: number, sensors = 200): Reading[] {
  return Array.from({ length: n }, (_, i) => {
    const s = i % sensors;
    return { sensorId: `k-${s}`, timeMs: T0 + Math.floor(i / sensors) * 1000, kind: 'amateur', lat: 52.4 + (s % 20) * 0.012, lon: 13.2 + Math.floor(s / 20) * 0.05, elevationM: null, tempC: (i % 1000) / 100, humidityPct: null, pressureHpa: null };
  });
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms: number, context = () => ''): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function publishAll(bus: KafkaBus, topic: string, rs: Reading[]): Promise<Map<number, number>> {
  const perPartition = new Map<number, number>();
  for (let i = 0; i < rs.length; i += 2000) {
    const msgs = rs.slice(i, i + 2000).map((r) => ({ key: partitionKey(r, 5), value: encodeReading(r) }));
    for (const m of msgs) {
      const p = partitionForKey(m.key, PARTITIONS);
      perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
    }
    await bus.publish(topic, msgs);
  }
  return perPartition;
}

async function storedSummary(store: Store, prefix: string): Promise<{ n: number; distinct: number; sumTemp: number }> {
  const r = await store.query<{ n: number; distinct: number; sum: number }>(
    `SELECT count(*)::int AS n, count(DISTINCT (sensor_id, time))::int AS distinct, coalesce(sum(temp_c), 0)::float8 AS sum FROM readings WHERE sensor_id LIKE $1`,
    [`${prefix}%`],
  );
  return { n: r.rows[0]!.n, distinct: r.rows[0]!.distinct, sumTemp: r.rows[0]!.sum };
}

const expectedSum = (rs: Reading[]) => rs.reduce((a, r) => a + r.tempC, 0);

describe('ingest workers on a real Kafka broker', () => {
  let brokers: string[] | { skip: string };
  before(async () => {
    brokers = await kafkaBrokersForTests();
  });

  it('a worker killed with SIGKILL while writing, then restarted: every reading stored exactly once', { timeout: 180_000 }, async (t) => {
    if ('skip' in brokers) return t.skip(brokers.skip);
    const found = brokers;
    const prefix = `kill-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
    const topics = topicNames(prefix);
    const bus = new KafkaBus({ brokers: found, clientId: 'kill-test', logLevel: 'error', logger: log });
    const dir = mkdtempSync(join(tmpdir(), 'ingest-kill-'));
    const children: ChildProcess[] = [];
    try {
      await bus.ensureTopics(topicSpecs(topics, PARTITIONS));
      const rs = readings(20_000);
      const ends = await publishAll(bus, topics.readings, rs);

      /** Highest next offset each partition has had stored (and printed before its commit). */
      const stored = new Map<number, bigint>();
      const output: string[] = [];
      const startChild = () => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'ingest/testing/worker-child.ts'], {
          cwd: root,
          env: { ...process.env, STORE_URL: join(dir, 'db'), BUS_URL: `kafka://${found.join(',')}`, TOPIC_PREFIX: prefix, INGEST_GROUP_ID: `${prefix}ingest`, INGEST_MAX_BATCH: '500', LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let buf = '';
        child.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            try {
              const m = JSON.parse(line) as { stored?: { partition: number; nextOffset: string } };
              if (m.stored) stored.set(m.stored.partition, BigInt(m.stored.nextOffset) > (stored.get(m.stored.partition) ?? 0n) ? BigInt(m.stored.nextOffset) : stored.get(m.stored.partition)!);
            } catch {
              output.push(line);
            }
          }
        });
        child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
        children.push(child);
        return child;
      };
      const storedTotal = () => [...stored.values()].reduce((a, b) => a + Number(b), 0);
      const tail = () => output.slice(-20).join('\n');

      const first = startChild();
      await until(() => storedTotal() >= 4000, 'the first worker to store a fifth', 90_000, tail);
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      const atKill = storedTotal();
      t.diagnostic(`killed after ${atKill} of ${rs.length} readings were reported stored`);
      assert.ok(atKill < rs.length, 'killed mid-stream');

      const second = startChild();
      await until(() => [...ends].every(([p, end]) => stored.get(p) === BigInt(end)), 'every partition stored to its end', 120_000, tail);
      second.kill('SIGTERM');
      const code = await new Promise((r) => second.once('exit', r));
      assert.equal(code, 0, tail());

      const store = await openStore(join(dir, 'db'), { log });
      try {
        const s = await storedSummary(store, 'k-');
        assert.equal(s.n, rs.length, 'none lost');
        assert.equal(s.distinct, rs.length, 'none twice');
        assert.ok(Math.abs(s.sumTemp - expectedSum(rs)) < 1e-6, 'the values are the ones published');
        const dead = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM dead_letters');
        assert.equal(dead.rows[0]!.n, 0);
      } finally {
        await store.close();
      }
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await bus.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('workers joining and leaving mid-stream (rebalances): every reading stored exactly once', { timeout: 180_000 }, async (t) => {
    if ('skip' in brokers) return t.skip(brokers.skip);
    const found = brokers;
    const prefix = `rebalance-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
    const topics = topicNames(prefix);
    const groupId = `${prefix}ingest`;
    const store = await openStore('memory://', { log });
    const producer = new KafkaBus({ brokers: found, clientId: 'rebalance-producer', logLevel: 'error', logger: log });
    const buses: KafkaBus[] = [];
    const workers: IngestWorker[] = [];
    const start = async () => {
      const b = new KafkaBus({ brokers: found, clientId: `rebalance-${buses.length}`, logLevel: 'error', logger: log, sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, maxWaitTimeMs: 200 });
      buses.push(b);
      const w = await startIngestWorker({ bus: b, store, log, topics, groupId, resolution: 9, maxBatch: 300 });
      workers.push(w);
      return w;
    };
    try {
      await producer.ensureTopics(topicSpecs(topics, PARTITIONS));
      const rs = readings(30_000, 400);
      // Published in three waves while the membership changes.
      await publishAll(producer, topics.readings, rs.slice(0, 10_000));
      const a = await start();
      await a.ready;
      await until(() => a.stats.inserted > 1000, 'worker A under way', 60_000);
      const b = await start(); // A and B rebalance mid-stream
      await publishAll(producer, topics.readings, rs.slice(10_000, 20_000));
      await b.ready;
      await until(() => b.stats.readings > 0, 'worker B to take partitions', 60_000);
      const c = await start();
      await a.stop(); // A leaves cleanly mid-stream: B and C take its partitions
      await publishAll(producer, topics.readings, rs.slice(20_000));
      await c.ready;
      await until(async () => (await storedSummary(store, 'k-')).n >= rs.length, 'every reading stored', 120_000, () => JSON.stringify(workers.map((w) => w.stats)));
      const s = await storedSummary(store, 'k-');
      assert.equal(s.n, rs.length, 'none lost, none twice');
      assert.equal(s.distinct, rs.length);
      assert.ok(Math.abs(s.sumTemp - expectedSum(rs)) < 1e-6, 'the values are the ones published');
      assert.equal(workers.reduce((x, w) => x + w.stats.inserted, 0), rs.length, 'each row inserted by exactly one worker');
      assert.ok(b.stats.inserted > 0 && c.stats.inserted > 0, 'the partitions were shared');
      t.diagnostic(`inserted by A/B/C: ${workers.map((w) => w.stats.inserted).join('/')}; received ${workers.map((w) => w.stats.readings).join('/')}`);
    } finally {
      for (const w of workers) await w.stop().catch(() => undefined);
      for (const b of buses) await b.close();
      await producer.close();
      await store.close();
    }
  });
});
