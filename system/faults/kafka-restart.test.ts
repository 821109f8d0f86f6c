// The Kafka broker killed (SIGKILL) and restarted during a steady stream of HTTP submissions. While
// it is down, submissions are answered 503 BUS_UNAVAILABLE with Retry-After within the publish
// timeout (they do not hang); the clients keep every reading that was not answered 202 and send it
// again later. Afterwards every reading answered 202 is stored, exactly once and with its value, and
// the retried ones too: retries are safe because the store keeps one reading per (station, time).
//
// The broker is the test's own (infra/kafka/kafka.sh with its own ports and state directory): the
// shared one is never stopped. The API (the full app: middleware, submission routes) and the ingest
// worker run in this process on their own KafkaBus clients; the store is the embedded engine in memory.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaBus } from '../../infra/bus/kafka-bus.ts';
import { loadConfig } from '../../infra/config.ts';
import { createLogger } from '../../infra/log.ts';
import { openStore, type Store } from '../../infra/store/index.ts';
import { startPrivateBroker, type PrivateBroker } from '../../infra/testing/kafka-broker.ts';
import { waitFor } from '../../infra/testing/role-process.ts';
import { createApp, listen, LiveSnapshot, storeRunSource, type Listening } from '../../api/index.ts';
import { startIngestWorker, topicNames, topicSpecs, type IngestWorker } from '../../ingest/index.ts';

const log = createLogger(process.env.FAULT_LOG_LEVEL === 'debug' ? 'debug' : 'silent');
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

  it('every reading answered 202 is stored exactly once; refused ones are answered 503 fast and stored once when retried', { timeout: 240_000 }, async (t) => {
    if (!broker || 'skip' in broker) return t.skip(broker?.skip ?? 'no broker');
    const b = broker;
    const prefix = 'krestart.';
    const config = loadConfig({ BUS_URL: `kafka://${b.brokers.join(',')}`, STORE_URL: 'memory://', TOPIC_PREFIX: prefix, RATE_LIMIT_PER_MIN: '0', SUBMIT_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS), TOPIC_PARTITIONS: '3' });
    const topics = topicNames(prefix);
    store = await openStore('memory://', { log });
    // Short retry budgets on the consumer side so a restarted broker is found again quickly.
    apiBus = new KafkaBus({ brokers: b.brokers, clientId: 'krestart-api', logger: log, logLevel: 'nothing' });
    ingestBus = new KafkaBus({ brokers: b.brokers, clientId: 'krestart-ingest', logger: log, logLevel: 'nothing', sessionTimeoutMs: 10_000 });
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
    t.diagnostic(`broker down for ${((restartedAt - killedAt) / 1000).toFixed(1)} s; ${sent} submissions: ${JSON.stringify(Object.fromEntries(statuses))}; slowest 503 after ${slowest503Ms} ms; ${retry.length} to retry`);
    assert.equal(unexpected, '', 'every answer was 202, or 503 BUS_UNAVAILABLE with Retry-After');
    assert.ok(slowest503Ms < PUBLISH_TIMEOUT_MS + 3000, `a refusal came after ${slowest503Ms} ms: the wait is bounded by the publish timeout`);

    // The clients send what was refused again, until it is accepted.
    for (const p of retry) {
      await waitFor(`a retry of station ${p.station} at ${p.timeMs} accepted`, async () => ((await submit(p)) ? true : undefined), { timeoutMs: 30_000, everyMs: 200 });
    }
    assert.equal(unexpected, '');
    assert.equal(accepted.size, sent, 'every reading was accepted in the end');

    const stored = await waitFor(`all ${accepted.size} accepted readings stored`, async () => {
      const r = await store!.query<{ sensor_id: string; t: number; temp_c: number }>(`SELECT sensor_id, (extract(epoch FROM time) * 1000)::float8 AS t, temp_c FROM readings WHERE sensor_id = ANY($1::text[])`, [ids]);
      return r.rows.length >= accepted.size ? r.rows : undefined;
    }, { timeoutMs: 60_000, everyMs: 500 });
    const storedMap = new Map(stored.map((r) => [`${r.sensor_id}@${r.t}`, r.temp_c]));
    assert.equal(stored.length, storedMap.size, 'no reading stored twice');
    assert.deepEqual(storedMap, accepted, 'every accepted reading stored, with its value, and nothing else');
    t.diagnostic(`${accepted.size} readings accepted, ${retry.length} of them after a retry; ${stored.length} stored: none lost, none twice`);
  });
});
