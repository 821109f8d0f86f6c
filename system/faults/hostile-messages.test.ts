// 10,000 hostile messages on the real broker: random bytes, truncated JSON, oversized values, wrongly
// typed and out-of-range fields, deeply nested JSON, empty values, on readings.v1 and background.v1.
// Every one lands in the dead-letter topic and table with a reason, the workers stay up (a valid
// reading published after them is stored), and nothing valid among them is lost.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { KafkaBus } from '../../infra/bus/kafka-bus.ts';
import type { OutgoingMessage } from '../../infra/bus/index.ts';
import { createLogger } from '../../infra/log.ts';
import { openStore } from '../../infra/store/index.ts';
import { kafkaBrokersForTests } from '../../infra/testing/kafka-broker.ts';
import { seededUniform } from '../../infra/reference/seeded-cases.ts';
import { waitFor } from '../../infra/testing/role-process.ts';
import { encodeReading, startIngestWorker, topicNames, topicSpecs, type Reading } from '../../ingest/index.ts';

const log = createLogger(process.env.FAULT_LOG_LEVEL === 'warn' ? 'warn' : 'silent');
const READINGS_JUNK = 8000;
const BACKGROUND_JUNK = 2000;

const enc = new TextEncoder();
const NOW = Date.now();
const valid = (i: number): Reading => ({ sensorId: `hostile-${i}`, timeMs: NOW - 60_000, kind: 'amateur', lat: 52.5, lon: 13.4, elevationM: null, tempC: 5, humidityPct: null, pressureHpa: null });
const validBackground = () => ({ source: 'x', pointId: 'p', lat: 52.5, lon: 13.4, validTimeMs: NOW, issuedAtMs: NOW, tempC: 4 });

/** The i-th hostile value of a kind, built around `good` (a valid record of the topic). */
function hostile(i: number, r: () => number, good: Record<string, unknown>): { kind: string; value: Uint8Array } {
  const json = JSON.stringify(good);
  const keys = Object.keys(good);
  // Values of the wrong type for a field: text where a number belongs, a number where text does.
  const notNumbers: unknown[] = ['ten', '', true, [], {}, '1e999', 'NaN', [1, 2], { $gt: 0 }, "'; DROP TABLE readings; --", '\u0000'];
  const notText: unknown[] = [42, null, true, [], {}, '', 'x'.repeat(5000), '\u0000', 'a\u0000b'];
  const weird = [...notNumbers, ...notText];
  switch (i % 9) {
    case 0: return { kind: 'random bytes', value: randomBytes(1 + Math.floor(r() * 300)) };
    case 1: return { kind: 'truncated', value: enc.encode(json.slice(0, Math.floor(r() * (json.length - 1)))) };
    case 2: { // a field of the wrong type or out of range
      const k = keys[Math.floor(r() * keys.length)]!;
      const pool = typeof good[k] === 'string' ? notText : notNumbers;
      return { kind: 'wrong type', value: enc.encode(JSON.stringify({ ...good, [k]: pool[Math.floor(r() * pool.length)] })) };
    }
    case 3: { // a required field missing
      const k = keys[Math.floor(r() * keys.length)]!;
      const copy: Record<string, unknown> = { ...good };
      delete copy[k];
      if (k === 'elevationM' || k === 'humidityPct' || k === 'pressureHpa') copy.tempC = 'hot'; // optional fields: break another
      return { kind: 'missing field', value: enc.encode(JSON.stringify(copy)) };
    }
    case 4: return { kind: 'not an object', value: enc.encode(JSON.stringify(weird[Math.floor(r() * weird.length)] ?? 'null')) };
    case 5: return { kind: 'deeply nested', value: enc.encode('['.repeat(1000 + Math.floor(r() * 50_000)) + ']'.repeat(10)) };
    case 6: return { kind: 'empty', value: new Uint8Array(0) };
    case 7: return { kind: 'invalid UTF-8 in a string', value: Buffer.concat([Buffer.from('{"sensorId":"'), Buffer.from([0xc3, 0x28, 0xff, 0x00]), Buffer.from('"}')]) };
    default: return { kind: 'long id', value: enc.encode(JSON.stringify({ ...good, [keys[0]!]: 'z'.repeat(10_000 + Math.floor(r() * 50_000)) })) };
  }
}

describe('10,000 hostile messages on the real broker', () => {
  let brokers: string[] | { skip: string };
  before(async () => {
    brokers = await kafkaBrokersForTests();
  });

  it('every one is dead-lettered (topic and table) with a reason, and the workers stay up', { timeout: 180_000 }, async (t) => {
    if ('skip' in brokers) return t.skip(brokers.skip);
    const prefix = `hostile-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
    const topics = topicNames(prefix);
    const bus = new KafkaBus({ brokers, clientId: 'hostile', logLevel: 'error', logger: log });
    const store = await openStore('memory://', { log });
    let worker: Awaited<ReturnType<typeof startIngestWorker>> | undefined;
    try {
      await bus.ensureTopics(topicSpecs(topics, 3));
      worker = await startIngestWorker({ bus, store, log, topics, groupId: `${prefix}ingest`, resolution: 9, maxBatch: 1000 });
      await worker.ready;
      const r = seededUniform(20260601);
      const kinds = new Map<string, number>();
      const junk = (n: number, good: Record<string, unknown>): OutgoingMessage[] => Array.from({ length: n }, (_, i) => {
        const h = hostile(i, r, good);
        kinds.set(h.kind, (kinds.get(h.kind) ?? 0) + 1);
        return { key: r() < 0.1 ? '' : `k${i % 7}`, value: h.value };
      });
      const readingsJunk = junk(READINGS_JUNK, valid(0) as unknown as Record<string, unknown>);
      const backgroundJunk = junk(BACKGROUND_JUNK, validBackground());
      const publish = async (topic: string, msgs: OutgoingMessage[]) => {
        // Sends of at most ~512 kB (the broker takes a request of at most 1 MB).
        let part: OutgoingMessage[] = [];
        let bytes = 0;
        for (const m of msgs) {
          if (bytes + m.value.byteLength > 512 * 1024 && part.length > 0) {
            await bus.publish(topic, part);
            part = [];
            bytes = 0;
          }
          part.push(m);
          bytes += m.value.byteLength;
        }
        if (part.length > 0) await bus.publish(topic, part);
      };
      await publish(topics.readings, readingsJunk);
      await publish(topics.background, backgroundJunk);
      // After the junk, a valid reading: stored, so the worker is up and past every hostile message.
      await bus.publish(topics.readings, [{ key: 'k0', value: encodeReading(valid(1)) }]);
      const total = READINGS_JUNK + BACKGROUND_JUNK;
      t.diagnostic(`published ${total} hostile messages: ${JSON.stringify(Object.fromEntries(kinds))}`);

      await waitFor('the valid reading after the junk stored', async () => ((await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE sensor_id = 'hostile-1'`)).rows[0]!.n === 1 ? true : undefined), { timeoutMs: 120_000, everyMs: 500 });
      const table = await waitFor(`${total} dead letters in the table`, async () => {
        const q = await store.query<{ topic: string; n: number; distinct_sources: number; no_reason: number }>(
          `SELECT split_part(source, '/', 1) AS topic, count(*)::int AS n, count(DISTINCT source)::int AS distinct_sources,
                  count(*) FILTER (WHERE reason IS NULL OR reason = '')::int AS no_reason
             FROM dead_letters GROUP BY 1 ORDER BY 1`);
        if (q.rows.reduce((a, x) => a + x.n, 0) >= total) return q.rows;
        const leaked = await store.query(`SELECT 'reading' AS what, sensor_id AS id FROM readings UNION ALL SELECT 'background', source || ' ' || point_id FROM background LIMIT 5`);
        throw new Error(`${JSON.stringify(q.rows)}; stored instead: ${JSON.stringify(leaked.rows)}`);
      }, { timeoutMs: 60_000, everyMs: 500 });
      assert.deepEqual(table.map((x) => [x.topic, x.n, x.distinct_sources, x.no_reason]), [[topics.background, BACKGROUND_JUNK, BACKGROUND_JUNK, 0], [topics.readings, READINGS_JUNK, READINGS_JUNK, 0]], 'each hostile message once in the table, with a reason');
      const stored = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings`);
      assert.equal(stored.rows[0]!.n, 1, 'no hostile message was stored as a reading');
      const background = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM background`);
      assert.equal(background.rows[0]!.n, 0, 'no hostile message was stored as a background value');
      const reasons = await store.query<{ reason: string }>(`SELECT DISTINCT left(reason, 60) AS reason FROM dead_letters ORDER BY 1 LIMIT 12`);
      t.diagnostic(`some reasons: ${reasons.rows.map((x) => x.reason).join(' | ')}`);

      // The dead-letter topic has each of them too (at-least-once: a redelivered batch may repeat some).
      const seen = new Set<string>();
      const sub = await bus.subscribe({ groupId: `${prefix}dlq-reader`, topic: topics.deadLetters, fromBeginning: true, handler: async (b) => {
        for (const m of b.messages) {
          const d = JSON.parse(new TextDecoder().decode(m.value)) as { reason: string; topic: string; partition: number; offset: string };
          assert.ok(d.reason.length > 0);
          seen.add(`${d.topic}/${d.partition}@${d.offset}`);
        }
      } });
      try {
        await waitFor(`${total} records on the dead-letter topic`, async () => (seen.size >= total ? true : undefined), { timeoutMs: 60_000, everyMs: 500 });
      } finally {
        await sub.close();
      }
      assert.equal(seen.size, total);
      assert.equal(worker.stats.deadLetters >= total, true);
    } finally {
      await worker?.stop().catch(() => undefined);
      await bus.close();
      await store.close();
    }
  });
});
