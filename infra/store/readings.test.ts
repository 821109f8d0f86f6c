/** readings.ts without a database: statement shape, chunking, de-duplication, validation. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dedupeReadings, inKeyOrder, insertReadings, InvalidRowError, upsertSensors, type ReadingRow } from './readings.ts';
import type { Queryable, QueryResult } from './store.ts';

/** Records statements; answers an INSERT with rowCount = rows sent (as if all were new). */
function recorder(): Queryable & { calls: Array<{ sql: string; params: unknown[] }> } {
  const calls: Array<{ sql: string; params: unknown[] }> = [];
  return {
    calls,
    async query<R>(sql: string, params: unknown[] = []): Promise<QueryResult<R>> {
      calls.push({ sql, params });
      const first = params[0];
      return { rows: [], rowCount: Array.isArray(first) ? first.length : 0 };
    },
  };
}

const T0 = Date.UTC(2025, 0, 1);
const reading = (i: number, over: Partial<ReadingRow> = {}): ReadingRow => ({
  sensorId: `s${i % 7}`,
  timeMs: T0 + Math.floor(i / 7) * 300_000,
  kind: 'amateur',
  lat: 52.5,
  lon: 13.4,
  elevationM: null,
  cell: '891f1d48177ffff',
  tempC: i,
  humidityPct: null,
  pressureHpa: 1000,
  ...over,
});

test('one unnest statement per chunk, columns as arrays, rows in key order (sensor, then time)', async () => {
  const q = recorder();
  const rows = inKeyOrder(Array.from({ length: 25 }, (_, i) => reading(i)));
  assert.equal(await insertReadings(q, rows, { chunkRows: 10 }), 25);
  assert.equal(q.calls.length, 3);
  assert.deepEqual(q.calls.map((c) => (c.params[0] as unknown[]).length), [10, 10, 5]);
  for (const c of q.calls) {
    assert.match(c.sql, /unnest\(/);
    assert.match(c.sql, /ON CONFLICT \(sensor_id, time\) DO NOTHING/);
    assert.equal(c.params.length, 10);
  }
  assert.deepEqual((q.calls[0]!.params[1] as string[])[0], new Date(rows[0]!.timeMs).toISOString());
  assert.deepEqual(q.calls[2]!.params[7], rows.slice(20).map((r) => r.tempC));
});

test('key order: by sensor id, then time, stable, the input untouched', async () => {
  const rows = [reading(8), reading(1), reading(0), reading(7), { ...reading(0), tempC: 42 }];
  const sorted = inKeyOrder(rows);
  assert.deepEqual(sorted.map((r) => [r.sensorId, r.timeMs - T0, r.tempC]), [['s0', 0, 0], ['s0', 0, 42], ['s0', 300_000, 7], ['s1', 0, 1], ['s1', 300_000, 8]]);
  assert.deepEqual(rows.map((r) => r.tempC), [8, 1, 0, 7, 42], 'a copy is sorted');
  // What insertReadings sends: the first of a duplicate pair, in key order.
  const q = recorder();
  assert.equal(await insertReadings(q, rows), 4);
  assert.deepEqual(q.calls[0]!.params[7], [0, 7, 1, 8]);
});

test('within-batch duplicates keep the first; fractional ms are rounded before comparing', () => {
  const a = reading(0);
  const rows = [a, reading(1), { ...a, tempC: 99 }, { ...a, timeMs: a.timeMs + 0.0002, tempC: 98 }, reading(8)];
  const kept = dedupeReadings(rows);
  assert.deepEqual(kept.map((r) => r.tempC), [0, 1, 8]);
});

test('empty batches send nothing; invalid rows throw before anything is sent', async () => {
  const q = recorder();
  assert.equal(await insertReadings(q, []), 0);
  const rows = [reading(0), reading(1), reading(2, { lon: Number.NaN })];
  await assert.rejects(insertReadings(q, rows), (err) => err instanceof InvalidRowError && err.index === 2 && err.field === 'lon');
  await assert.rejects(insertReadings(q, [reading(0, { timeMs: -1 })]), /rows\[0\]\.timeMs/);
  await assert.rejects(insertReadings(q, [reading(0, { timeMs: 1e16 })]), /rows\[0\]\.timeMs/);
  await assert.rejects(insertReadings(q, [null as unknown as ReadingRow]), /rows\[0\]/);
  assert.equal(q.calls.length, 0);
  await assert.rejects(insertReadings(q, [reading(0)], { chunkRows: 0 }), RangeError);
});

test('upsertSensors merges a batch to one row per sensor (latest position, earliest first_seen)', async () => {
  const q = recorder();
  await upsertSensors(q, [
    { sensorId: 'a', kind: 'amateur', lat: 1, lon: 1, elevationM: null, lastSeenMs: T0 + 2000 },
    { sensorId: 'b', kind: 'official', lat: 5, lon: 5, elevationM: 3, lastSeenMs: T0 },
    { sensorId: 'a', kind: 'amateur', lat: 2, lon: 2, elevationM: 7, lastSeenMs: T0 + 1000 },
  ]);
  assert.equal(q.calls.length, 1);
  const [ids, , lats, , , first, last] = q.calls[0]!.params as unknown[][];
  assert.deepEqual(ids, ['a', 'b']);
  assert.deepEqual(lats, [1, 5]);
  assert.deepEqual(first, [new Date(T0 + 1000).toISOString(), new Date(T0).toISOString()]);
  assert.deepEqual(last, [new Date(T0 + 2000).toISOString(), new Date(T0).toISOString()]);
  assert.doesNotMatch(q.calls[0]!.sql, /key_hash/);
});
