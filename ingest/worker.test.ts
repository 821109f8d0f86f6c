// The ingest worker on the embedded engines: valid readings stored once, bad ones dead-lettered
// with the cause, redelivery harmless, background issues replaced only by newer ones.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, type Store } from '../infra/store/index.ts';
import { openBus, type Bus, type BusMessage } from '../infra/bus/index.ts';
import { createLogger } from '../infra/log.ts';
import { cellOf } from '../infra/geo/index.ts';
import { encodeBackground, encodeReading, encodeReadings, type Reading } from './reading.ts';
import { topicNames, topicSpecs } from './topics.ts';

const topics = topicNames();
const { readings: READINGS_TOPIC, deadLetters: DEAD_LETTER_TOPIC, background: BACKGROUND_TOPIC } = topics;
import { startIngestWorker, type IngestWorker } from './worker.ts';

const now = Date.UTC(2026, 10, 1, 12);
const log = createLogger('silent');
const reading = (i: number, over: Partial<Reading> = {}): Reading => ({
  sensorId: `s${i}`, timeMs: now - 60_000 * i, kind: 'amateur', lat: 52.5 + i * 0.01, lon: 13.4, elevationM: null, tempC: 5 + i, humidityPct: null, pressureHpa: null, ...over,
});
const text = (s: string) => new TextEncoder().encode(s);

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ingest worker', () => {
  let store: Store;
  let bus: Bus;
  let worker: IngestWorker;

  before(async () => {
    store = await openStore('memory://', { log });
    bus = openBus('memory://');
    await bus.ensureTopics(topicSpecs(topics, 4));
    worker = await startIngestWorker({ bus, topics, store, log, groupId: 'ingest', resolution: 9, maxBatch: 100, now: () => now });
    await worker.ready;
  });

  after(async () => {
    await worker.stop();
    await bus.close();
    await store.close();
  });

  it('stores valid readings with their cell and dead-letters bad ones with the cause', async () => {
    const dlq: BusMessage[] = [];
    const sub = await bus.subscribe({ groupId: 'test-dlq', topic: DEAD_LETTER_TOPIC, fromBeginning: true, handler: async (b) => { dlq.push(...b.messages); } });
    await bus.publish(READINGS_TOPIC, [
      { key: 'k', value: encodeReading(reading(1)) },
      { key: 'k', value: encodeReading(reading(2, { kind: 'official' })) },
      { key: 'k', value: text('{"sensorId": "broken"') },
      { key: 'k', value: encodeReading(reading(3, { tempC: 99 })) },
      { key: 'k', value: encodeReading(reading(1)) }, // the same reading again
    ]);
    await until(() => worker.stats.readings + worker.stats.deadLetters >= 5, 'the batch');
    const rows = await store.query<{ sensor_id: string; cell: string; temp_c: number; kind: string }>('SELECT sensor_id, cell, temp_c, kind FROM readings ORDER BY sensor_id');
    assert.deepEqual(rows.rows, [
      { sensor_id: 's1', cell: cellOf({ lat: 52.51, lon: 13.4 }, 9), temp_c: 6, kind: 'amateur' },
      { sensor_id: 's2', cell: cellOf({ lat: 52.52, lon: 13.4 }, 9), temp_c: 7, kind: 'official' },
    ]);
    const sensors = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM sensors');
    assert.equal(sensors.rows[0]!.n, 2);
    const dead = await store.query<{ reason: string; payload: string }>('SELECT reason, payload FROM dead_letters ORDER BY id');
    assert.equal(dead.rows.length, 2);
    assert.match(dead.rows[0]!.reason, /not UTF-8 JSON/);
    assert.match(dead.rows[1]!.reason, /^tempC:/);
    assert.match(dead.rows[1]!.payload, /"tempC":99/);
    await until(() => dlq.length === 2, 'the dead-letter topic');
    const letter = JSON.parse(new TextDecoder().decode(dlq[1]!.value));
    assert.equal(letter.topic, READINGS_TOPIC);
    assert.match(letter.reason, /tempC/);
    await sub.close();
  });

  it('a redelivered batch changes nothing', async () => {
    const before = worker.stats.readings;
    await bus.publish(READINGS_TOPIC, [{ key: 'k', value: encodeReading(reading(1)) }, { key: 'k', value: encodeReading(reading(2, { kind: 'official' })) }]);
    await until(() => worker.stats.readings >= before + 2, 'the second batch');
    const n = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM readings');
    assert.equal(n.rows[0]!.n, 2);
  });

  it('drain: returns once every published reading is stored, and says what is left when time runs out', async () => {
    const before = (await store.query<{ n: number }>('SELECT count(*)::int AS n FROM readings')).rows[0]!.n;
    const batch = Array.from({ length: 3000 }, (_, i) => ({ key: `d${i % 7}`, value: encodeReading(reading(1, { sensorId: `drain-${i}` })) }));
    await bus.publish(READINGS_TOPIC, batch);
    assert.ok((bus.backlog?.('ingest', READINGS_TOPIC) ?? 0) > 0, 'published and not yet stored');
    assert.equal(await worker.drain(30_000), 0);
    const after = (await store.query<{ n: number }>('SELECT count(*)::int AS n FROM readings')).rows[0]!.n;
    assert.equal(after - before, 3000, 'every reading stored when drain returns');
    await bus.publish(READINGS_TOPIC, batch.slice(0, 500).map((m, i) => ({ ...m, value: encodeReading(reading(2, { sensorId: `drain-late-${i}` })) })));
    assert.ok((await worker.drain(0)) > 0, 'a drain out of time reports the messages left');
    assert.equal(await worker.drain(30_000), 0);
  });

  it('a message of several readings: the valid stored, the refused elements dead-lettered together with their reasons', async () => {
    const own = topicNames('many.');
    await bus.ensureTopics(topicSpecs(own, 1));
    const w = await startIngestWorker({ bus, topics: own, store, log, groupId: 'ingest-many', resolution: 9, maxBatch: 100, now: () => now });
    await w.ready;
    const good = Array.from({ length: 6 }, (_, i) => reading(i + 1, { sensorId: `many-${i}` }));
    const badOne = { ...reading(7, { sensorId: 'many-bad' }), tempC: 99 };
    const mixed = text(JSON.stringify([good[0], badOne, good[1], good[2], { sensorId: 'many-x' }]));
    await bus.publish(own.readings, [{ key: 'z', value: mixed }, { key: 'z', value: encodeReadings(good.slice(3)) }]);
    await until(() => w.stats.readings + w.stats.deadLetters >= 7, 'both messages');
    await w.stop();
    assert.equal(w.stats.readings, 6);
    assert.equal(w.stats.deadLetters, 1, 'one letter for the message\'s refused elements');
    const rows = await store.query<{ sensor_id: string; cell: string }>(`SELECT sensor_id, cell FROM readings WHERE sensor_id LIKE 'many-%' ORDER BY sensor_id`);
    assert.deepEqual(rows.rows, good.map((r) => ({ sensor_id: r.sensorId, cell: cellOf(r, 9) })));
    const dead = await store.query<{ reason: string; payload: string; source: string }>(`SELECT reason, payload, source FROM dead_letters WHERE source LIKE 'many.%'`);
    assert.equal(dead.rows.length, 1);
    assert.match(dead.rows[0]!.reason, /^2 of the message's readings refused: \[1\]\.tempC: .*; \[4\]\./);
    assert.deepEqual(JSON.parse(dead.rows[0]!.payload), [badOne, { sensorId: 'many-x' }], 'the refused elements as they came');
  });

  it('keeps the newest issue of a background value', async () => {
    const b = { source: 'bg', pointId: 'p', lat: 52.5, lon: 13.4, validTimeMs: now, tempC: 1 };
    await bus.publish(BACKGROUND_TOPIC, [
      { key: 'p', value: encodeBackground({ ...b, issuedAtMs: now - 2 * 3_600_000, tempC: 1 }) },
      { key: 'p', value: encodeBackground({ ...b, issuedAtMs: now - 3_600_000, tempC: 2 }) },
    ]);
    await until(() => worker.stats.background >= 2, 'background');
    await bus.publish(BACKGROUND_TOPIC, [{ key: 'p', value: encodeBackground({ ...b, issuedAtMs: now - 3 * 3_600_000, tempC: 3 }) }]);
    await until(() => worker.stats.background >= 3, 'the older issue');
    const r = await store.query<{ temp_c: number; issued_at: Date }>('SELECT temp_c, issued_at FROM background');
    assert.equal(r.rows.length, 1);
    assert.equal(r.rows[0]!.temp_c, 2);
    assert.equal(r.rows[0]!.issued_at.getTime(), now - 3_600_000);
  });

  it('a store failure mid-batch loses nothing and writes each dead letter once', async () => {
    // A second worker in its own group, over a store whose first transaction fails (an outage).
    let failures = 1;
    const flaky: Store = {
      kind: store.kind,
      query: (sql, params) => store.query(sql, params),
      transaction: (fn) => (failures-- > 0 ? Promise.reject(new Error('store outage')) : store.transaction(fn)),
      close: async () => undefined,
    };
    const own = topicNames('flaky.');
    await bus.ensureTopics(topicSpecs(own, 1));
    const w2 = await startIngestWorker({ bus, topics: own, store: flaky, log, groupId: 'ingest-flaky', resolution: 9, maxBatch: 100, now: () => now });
    await w2.ready;
    await bus.publish(own.readings, [{ key: 'z', value: encodeReading(reading(9, { sensorId: 'flaky-1' })) }, { key: 'z', value: text('not json at all') }]);
    await until(async () => (await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE sensor_id = 'flaky-1'`)).rows[0]!.n === 1, 'the retried batch');
    await w2.stop();
    assert.equal(failures, -1, 'the first attempt failed and the batch came again');
    assert.ok(w2.stats.deadLetters >= 1);
    const dead = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM dead_letters WHERE payload = 'not json at all'`);
    assert.equal(dead.rows[0]!.n, 1);
  });

  it('writes a sensor when first seen, and its later sightings (last_seen) together, off the batch path', async () => {
    const own = topicNames('seen.');
    await bus.ensureTopics(topicSpecs(own, 1));
    const w = await startIngestWorker({ bus, topics: own, store, log, groupId: 'ingest-seen', resolution: 9, maxBatch: 100, now: () => now, sensorFlushMs: 50 });
    await w.ready;
    const lastSeen = async () => (await store.query<{ last_seen: Date }>(`SELECT last_seen FROM sensors WHERE sensor_id = 'seen-1'`)).rows[0]?.last_seen.getTime();
    await bus.publish(own.readings, [{ key: 'z', value: encodeReading(reading(30, { sensorId: 'seen-1' })) }]);
    await until(async () => (await lastSeen()) === now - 30 * 60_000, 'the new sensor, with its first reading');
    await bus.publish(own.readings, [{ key: 'z', value: encodeReading(reading(10, { sensorId: 'seen-1' })) }]);
    await until(async () => (await lastSeen()) === now - 10 * 60_000, 'last_seen moved on by the flush');
    await w.stop();
  });
});
