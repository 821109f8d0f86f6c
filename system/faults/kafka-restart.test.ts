// The Kafka broker killed (SIGKILL) and restarted during a steady stream of HTTP submissions. While
// it is down, submissions are answered 503 BUS_UNAVAILABLE with Retry-After within the publish
// timeout, whether the bus failed the send or did not acknowledge it (they do not hang, and never
// 500); the clients keep every reading that was not answered 202 and send it again later. Afterwards every reading answered 202 is stored, exactly once and with its value, and
// the retried ones too: retries are safe because the store keeps one reading per (station, time).
//
// The broker is the test's own (infra/kafka/kafka.sh with its own ports and state directory): the
// shared one is never stopped. The API (the full app: middleware, submission routes) and the ingest
// worker run in this process on their own KafkaBus clients; the store is the embedded engine in memory.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import kafkajs from 'kafkajs';
import { pino } from 'pino';
import { KafkaBus } from '../../infra/bus/kafka-bus.ts';
import { loadConfig } from '../../infra/config.ts';
import { openStore, type Store } from '../../infra/store/index.ts';
import { startPrivateBroker, type PrivateBroker } from '../../infra/testing/kafka-broker.ts';
import { waitFor } from '../../infra/testing/role-process.ts';
import { createApp, listen, LiveSnapshot, storeRunSource, type Listening } from '../../api/index.ts';
import { startIngestWorker, topicNames, topicSpecs, type IngestWorker } from '../../ingest/index.ts';

// Warnings and errors (the roles' and kafkajs's) are kept, and shown if the test fails.
const recent: string[] = [];
const log = pino(
  { level: process.env.FAULT_LOG_LEVEL === 'debug' ? 'debug' : 'warn' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = chunk.toString('utf8').trimEnd();
      if (process.env.FAULT_LOG_LEVEL === 'debug') process.stdout.write(`${line}\n`);
      else if (!line.includes('"submission refused')) recent.push(line.slice(0, 400));
      if (recent.length > 60) recent.splice(0, recent.length - 60);
      done();
    },
  }),
);
const STATIONS = 10;
/** Each station's client sends one reading every this often [ms]: 50 readings/s in all. */
const EVERY_MS = 200;
const PUBLISH_TIMEOUT_MS = 2000;

interface Pending {
  station: number;
  timeMs: number;
  tempC: number;
}

describe('the Kafka broker killed and restarted under a stream of HTTP submissions', () => {
  let broker: PrivateBroker | { skip: string } | undefined;
  let store: Store | undefined;
  let apiBus: KafkaBus | undefined;
  let ingestBus: KafkaBus | undefined;
  let worker: IngestWorker | undefined;
  let listening: Listening | undefined;

  before(async () => {
    broker = await startPrivateBroker();
  });
  after(async () => {
    await listening?.close(100);
    await worker?.stop().catch(() => undefined);
    await apiBus?.close();
    await ingestBus?.close();
    await store?.close();
    if (broker && 'destroy' in broker) await broker.destroy();
  });

  it('every reading answered 202 is stored exactly once; refused ones are answered 503 fast and stored once when retried', { timeout: 300_000 }, async (t) => {
    if (!broker || 'skip' in broker) return t.skip(broker?.skip ?? 'no broker');
    const b = broker;
    const prefix = 'krestart.';
    const config = loadConfig({ BUS_URL: `kafka://${b.brokers.join(',')}`, STORE_URL: 'memory://', TOPIC_PREFIX: prefix, RATE_LIMIT_PER_MIN: '0', SUBMIT_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS), TOPIC_PARTITIONS: '3' });
    const topics = topicNames(prefix);
    store = await openStore('memory://', { log });
    // Short retry budgets on the consumer side so a restarted broker is found again quickly.
    apiBus = new KafkaBus({ brokers: b.brokers, clientId: 'krestart-api', logger: log, logLevel: 'nothing' });
    ingestBus = new KafkaBus({ brokers: b.brokers, clientId: 'krestart-ingest', logger: log, logLevel: 'warn', sessionTimeoutMs: 10_000 });
    await apiBus.ensureTopics(topicSpecs(topics, 3));
    worker = await startIngestWorker({ bus: ingestBus, topics, store, log, groupId: `${prefix}ingest`, resolution: 9, maxBatch: 500 });
    await worker.ready;
    const live = new LiveSnapshot({ source: storeRunSource(store), log, pollMs: 60_000, keepPastMs: 3_600_000 });
    listening = await listen(createApp({ store, bus: apiBus, log, config, live }), { host: '127.0.0.1', port: 0 });
    const base = listening.url;

    // Stations registered over HTTP, each with its key.
    const keys: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < STATIONS; i++) {
      const r = await fetch(`${base}/v1/stations`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.0.0.${i}` }, body: JSON.stringify({ name: `kr-${i}`, latitude: 52.45 + i * 0.01, longitude: 13.3 + i * 0.02 }) });
      assert.equal(r.status, 201, await r.clone().text());
      const s = (await r.json()) as { id: string; key: string };
      keys.push(s.key);
      ids.push(s.id);
    }

    const accepted = new Map<string, number>(); // "station@time" → °C
    const retry: Pending[] = [];
    const statuses = new Map<number, number>();
    let slowest503Ms = 0;
    const refusals = new Map<string, number>(); // 503s by kind: the bus failed the send, or did not acknowledge it in time
    let unexpected = '';
    const submit = async (p: Pending): Promise<boolean> => {
      const t0 = Date.now();
      let r: Response;
      try {
        r = await fetch(`${base}/v1/readings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${keys[p.station]}` }, body: JSON.stringify({ readings: [{ time: new Date(p.timeMs).toISOString(), temperature_2m: p.tempC }] }) });
      } catch (err) {
        unexpected ||= `fetch failed: ${String(err)}`;
        return false;
      }
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const body = (await r.json()) as { code?: string; reason?: string; accepted?: number };
      if (r.status === 202) {
        accepted.set(`${ids[p.station]}@${p.timeMs}`, p.tempC);
        return true;
      }
      if (r.status === 503 && body.code === 'BUS_UNAVAILABLE' && r.headers.get('retry-after')) {
        slowest503Ms = Math.max(slowest503Ms, Date.now() - t0);
        const kind = /failed the send/.test(body.reason ?? '') ? 'send failed' : 'not acknowledged in time';
        refusals.set(kind, (refusals.get(kind) ?? 0) + 1);
        return false;
      }
      unexpected ||= `${r.status} ${JSON.stringify(body)}`;
      return false;
    };

    const t0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000; // an hour back: within the backlog horizon, a second apart
    let streaming = true;
    let sent = 0;
    const clients = Array.from({ length: STATIONS }, async (_, station) => {
      for (let k = 0; streaming; k++) {
        const p = { station, timeMs: t0 + k * 1000, tempC: Math.round((station + k / 100) * 100) / 100 };
        sent++;
        if (!(await submit(p))) retry.push(p);
        await new Promise((r) => setTimeout(r, EVERY_MS));
      }
    });

    await waitFor('readings accepted before the kill', async () => (accepted.size >= 100 ? true : undefined), { timeoutMs: 30_000, everyMs: 100 });
    await b.kill();
    const killedAt = Date.now();
    const acceptedAtKill = accepted.size;
    await waitFor('submissions refused with 503 while the broker is down', async () => ((statuses.get(503) ?? 0) >= 2 * STATIONS ? true : undefined), { timeoutMs: 30_000, everyMs: 100 });
    await b.start();
    const restartedAt = Date.now();
    await waitFor('readings accepted again after the restart', async () => (accepted.size >= acceptedAtKill + 100 ? true : undefined), { timeoutMs: 90_000, everyMs: 200 });
    streaming = false;
    await Promise.all(clients);
    t.diagnostic(`broker down for ${((restartedAt - killedAt) / 1000).toFixed(1)} s; ${sent} submissions: ${JSON.stringify(Object.fromEntries(statuses))}; slowest 503 after ${slowest503Ms} ms (${JSON.stringify(Object.fromEntries(refusals))}); ${retry.length} to retry`);
    assert.equal(unexpected, '', 'every answer was 202, or 503 BUS_UNAVAILABLE with Retry-After');
    assert.ok(slowest503Ms < PUBLISH_TIMEOUT_MS + 3000, `a refusal came after ${slowest503Ms} ms: the wait is bounded by the publish timeout`);

    // The clients send what was refused again, until it is accepted.
    for (const p of retry) {
      await waitFor(`a retry of station ${p.station} at ${p.timeMs} accepted`, async () => ((await submit(p)) ? true : undefined), { timeoutMs: 30_000, everyMs: 200 });
    }
    assert.equal(unexpected, '');
    assert.equal(accepted.size, sent, 'every reading was accepted in the end');

    let storedSoFar = new Set<string>();
    const stored = await waitFor(`all ${accepted.size} accepted readings stored`, async () => {
      const r = await store!.query<{ sensor_id: string; t: number; temp_c: number }>(`SELECT sensor_id, (extract(epoch FROM time) * 1000)::float8 AS t, temp_c FROM readings WHERE sensor_id = ANY($1::text[])`, [ids]);
      storedSoFar = new Set(r.rows.map((row) => `${row.sensor_id}@${row.t}`));
      return r.rows.length >= accepted.size ? r.rows : undefined;
    }, { timeoutMs: 120_000, everyMs: 500 }).catch((err: Error) => {
      // Which readings are missing, and whether each was accepted at once or on a retry (it was
      // refused before), to tell the producer's side from the consumer's.
      const retried = new Set(retry.map((p) => `${ids[p.station]}@${p.timeMs}`));
      const missing = [...accepted.keys()].filter((k) => !storedSoFar.has(k)).slice(0, 20).map((k) => `${k} (${new Date(Number(k.split('@')[1])).toISOString()}, ${retried.has(k) ? 'accepted on a retry' : 'accepted at once'})`);
      throw new Error(`${err.message}: ${storedSoFar.size} stored; missing: ${missing.join(', ')}; the last warnings and errors:\n${recent.join('\n')}`);
    });
    const storedMap = new Map(stored.map((r) => [`${r.sensor_id}@${r.t}`, r.temp_c]));
    assert.equal(stored.length, storedMap.size, 'no reading stored twice');
    assert.deepEqual(storedMap, accepted, 'every accepted reading stored, with its value, and nothing else');
    t.diagnostic(`${accepted.size} readings accepted, ${retry.length} of them after a retry; ${stored.length} stored: none lost, none twice`);
  });
  it('a consumer that stops fetching while the broker is down is replaced by a new member, and it consumes everything after the restart', { timeout: 180_000 }, async (t) => {
    if (!broker || 'skip' in broker) return t.skip(broker?.skip ?? 'no broker');
    const b = broker;
    const topic = 'krestart.stall';
    const replaced: string[] = [];
    const watch = pino({ level: 'warn' }, new Writable({
      write(chunk: Buffer, _enc, done) {
        const line = chunk.toString('utf8');
        if (line.includes('kafka consumer replaced')) replaced.push(line);
        done();
      },
    }));
    const producer = new KafkaBus({ brokers: b.brokers, clientId: 'krestart-stall-producer', logger: log, logLevel: 'nothing' });
    // A stall timeout far below the outage: the watchdog, not kafkajs's own retries, must bring it back.
    const consumerBus = new KafkaBus({ brokers: b.brokers, clientId: 'krestart-stall-consumer', logger: watch, logLevel: 'nothing', stallTimeoutMs: 3000 });
    try {
      await producer.ensureTopics([{ name: topic, partitions: 2 }]);
      const seen = new Map<string, number>();
      const sub = await consumerBus.subscribe({
        topic, groupId: 'krestart.stall', fromBeginning: true,
        handler: async (batch) => {
          for (const m of batch.messages) seen.set(Buffer.from(m.value).toString('utf8'), (seen.get(Buffer.from(m.value).toString('utf8')) ?? 0) + 1);
        },
      });
      await sub.ready;
      const publish = (from: number, to: number) =>
        producer.publish(topic, Array.from({ length: to - from }, (_, i) => ({ key: `k${(from + i) % 7}`, value: Buffer.from(`m${from + i}`) })));
      await publish(0, 100);
      await waitFor('the first 100 consumed', async () => (seen.size >= 100 ? true : undefined), { timeoutMs: 30_000, everyMs: 100 });
      await b.kill();
      await waitFor('the stalled consumer replaced', async () => (replaced.length > 0 ? true : undefined), { timeoutMs: 60_000, everyMs: 200 });
      await b.start();
      await publish(100, 200);
      await waitFor('all 200 consumed after the restart', async () => (seen.size >= 200 ? true : undefined), { timeoutMs: 90_000, everyMs: 200 });
      for (let i = 0; i < 200; i++) assert.ok(seen.has(`m${i}`), `message ${i} consumed`);
      // The replaced consumer has left: the group holds one member (a consumer that was still joining
      // when it was replaced must not come back as a second member that holds partitions and never commits).
      const admin = new kafkajs.Kafka({ brokers: b.brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        await waitFor('one member in the group', async () => {
          const [group] = (await admin.describeGroups(['krestart.stall'])).groups;
          return group?.state === 'Stable' && group.members.length === 1 ? true : undefined;
        }, { timeoutMs: 30_000, everyMs: 500 });
      } finally {
        await admin.disconnect();
      }
      t.diagnostic(`${replaced.length} replacement(s); ${[...seen.values()].filter((n) => n > 1).length} message(s) delivered more than once (at-least-once)`);
      await sub.close();
    } finally {
      await consumerBus.close();
      await producer.close();
    }
  });
});
