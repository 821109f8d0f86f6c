// The submission core: value checks name the field, duplicates are dropped, sends stay under the
// bus's size limit, and concurrent submissions share sends but settle with their own.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OutgoingMessage } from '../infra/bus/index.ts';
import { BusUnavailableError, checkValue, chunkByBytes, CoalescingPublisher, dropDuplicates, canonicalReading, readingMessages, MAX_SEND_BYTES, PublishTimeoutError } from './submission.ts';
import { decodeReadings, type Reading } from './reading.ts';
import { partitionKey } from './topics.ts';

const NOW = Date.UTC(2026, 0, 5, 12);
const station = { stationId: 'st-x', kind: 'amateur' as const, lat: 52.5, lon: 13.4, elevationM: null };
const msg = (i: number, bytes = 100): OutgoingMessage => ({ key: `k${i % 3}`, value: new Uint8Array(bytes) });

describe('submission', () => {
  it('checks time (backlog horizon, future), temperature, humidity and pressure, naming the field', () => {
    const o = { nowMs: NOW, backlogMs: 3_600_000, names: { temp: 'tempf' } };
    const v = { timeMs: NOW - 60_000, tempC: 5, humidityPct: 50, pressureHpa: 1000 };
    assert.equal(checkValue(v, o), null);
    assert.deepEqual(checkValue({ ...v, timeMs: NOW - 3_600_001 }, o)?.reason, 'too_old');
    assert.equal(checkValue({ ...v, timeMs: NOW - 3_600_000 }, o), null, 'the horizon itself is accepted');
    assert.deepEqual(checkValue({ ...v, timeMs: NOW + 6 * 60_000 }, o)?.reason, 'in_future');
    const hot = checkValue({ ...v, tempC: 61 }, o)!;
    assert.deepEqual([hot.field, hot.reason], ['tempf', 'impossible_value']);
    assert.equal(checkValue({ ...v, tempC: Number.NaN }, o)?.reason, 'malformed');
    assert.equal(checkValue({ ...v, humidityPct: 101 }, o)?.field, 'humidity');
    assert.equal(checkValue({ ...v, pressureHpa: 200 }, o)?.field, 'pressure');
  });

  it('drops exact duplicates (same station and time), keeping the first', () => {
    const a = canonicalReading(station, { timeMs: NOW, tempC: 1, humidityPct: null, pressureHpa: null });
    const b = canonicalReading(station, { timeMs: NOW, tempC: 2, humidityPct: null, pressureHpa: null });
    const c = canonicalReading(station, { timeMs: NOW + 1000, tempC: 3, humidityPct: null, pressureHpa: null });
    assert.deepEqual(dropDuplicates([a, b, c]), { unique: [a, c], duplicates: 1 });
  });

  it('puts the readings of one partition key together, in their order, at most perMessage a message', () => {
    // Three stations: two far apart (different keys), one beside the first (the same key at resolution 5).
    const places = [{ lat: 52.5, lon: 13.4 }, { lat: 48.1, lon: 11.6 }, { lat: 52.5001, lon: 13.4001 }];
    assert.equal(partitionKey(places[0]!, 5), partitionKey(places[2]!, 5));
    assert.notEqual(partitionKey(places[0]!, 5), partitionKey(places[1]!, 5));
    const readings: Reading[] = Array.from({ length: 23 }, (_, i) => canonicalReading({ ...station, stationId: `st-${i % 3}`, ...places[i % 3]! }, { timeMs: NOW - i * 60_000, tempC: i, humidityPct: null, pressureHpa: null }));
    const msgs = readingMessages(readings, 5, 4);
    const decoded = msgs.map((m) => ({ key: m.key, readings: decodeReadings(m.value, NOW).readings }));
    for (const d of decoded) {
      assert.ok(d.readings.length >= 1 && d.readings.length <= 4);
      for (const r of d.readings) assert.equal(partitionKey(r, 5), d.key, 'every reading under its own key');
    }
    for (const key of new Set(msgs.map((m) => m.key))) {
      const got = decoded.filter((d) => d.key === key).flatMap((d) => d.readings);
      assert.deepEqual(got, readings.filter((r) => partitionKey(r, 5) === key), 'all of a key, in order');
    }
    // 15 readings share one key, 8 the other: ceil(15/4) + ceil(8/4) messages.
    assert.equal(msgs.length, 4 + 2);
    assert.equal(readingMessages(readings, 5, 1).length, readings.length, 'one a message');
    assert.equal(readingMessages(readings, 5).length, 2, 'by default a key\'s readings fit one message');
    assert.deepEqual(readingMessages([], 5), []);
    assert.throws(() => readingMessages(readings, 5, 0), RangeError);
  });

  it('splits messages into sends of at most MAX_SEND_BYTES, in order', () => {
    const msgs = Array.from({ length: 10_000 }, (_, i) => msg(i, 200));
    const parts = chunkByBytes(msgs);
    assert.ok(parts.length > 1);
    for (const p of parts) assert.ok(p.reduce((a, m) => a + m.value.byteLength + m.key.length + 16, 0) <= MAX_SEND_BYTES);
    assert.deepEqual(parts.flat(), msgs);
    assert.deepEqual(chunkByBytes([msg(0, MAX_SEND_BYTES * 2)]).length, 1, 'an oversized message goes alone');
  });

  it('coalesces concurrent submissions into shared sends; a failed send fails only its submissions', async () => {
    const sends: number[] = [];
    let fail = false;
    let release: () => void = () => {};
    let slow = true;
    const bus = {
      publish: async (_t: string, m: OutgoingMessage[]) => {
        sends.push(m.length);
        if (slow) {
          slow = false;
          await new Promise<void>((r) => (release = r)); // the first send is slow
        }
        if (fail) throw new Error('bus down');
      },
    };
    const p = new CoalescingPublisher(bus, 'readings.v1', 10_000);
    const first = p.publish([msg(0)]);
    const rest = Array.from({ length: 5 }, (_, i) => p.publish([msg(i), msg(i + 1)]));
    release();
    await Promise.all([first, ...rest]);
    assert.deepEqual(sends, [1, 10], 'five submissions queued behind the first went in one send');
    fail = true;
    // A failed send is the bus's refusal (BUS_UNAVAILABLE, retry later), the bus's own error kept as the cause.
    await assert.rejects(p.publish([msg(1)]), (e: unknown) => e instanceof BusUnavailableError && !(e instanceof PublishTimeoutError) && e.code === 'BUS_UNAVAILABLE' && /failed the send/.test(e.message) && (e.cause as Error).message === 'bus down');
    fail = false;
    await p.publish([msg(2)]);
    const big = Array.from({ length: 300 }, (_, i) => msg(i, 100)); // 300 x 118 bytes: four sends of 10,000 bytes
    sends.length = 0;
    await p.publish(big);
    assert.deepEqual(sends, [84, 84, 84, 48]);
  });

  it('a bus that acknowledges nothing: the wait ends after the timeout, later calls fail at once, and it recovers', async () => {
    let release: () => void = () => {};
    let down = true;
    const sends: number[] = [];
    const bus = {
      publish: async (_t: string, m: OutgoingMessage[]) => {
        sends.push(m.length);
        if (down) await new Promise<void>((r) => (release = r)); // the broker is gone: the send hangs
      },
    };
    const p = new CoalescingPublisher(bus, 'readings.v1', 10_000, { timeoutMs: 200 });
    const t0 = Date.now();
    const first = p.publish([msg(0)]);
    const queued = p.publish([msg(1)]); // behind the hanging send
    // Both outcomes are awaited from the start: the two timeouts may fire in either order.
    const firstRefused = assert.rejects(first, (e: unknown) => e instanceof PublishTimeoutError && e.code === 'BUS_UNAVAILABLE' && e.retryAfterS === 1);
    const queuedRefused = assert.rejects(queued, PublishTimeoutError);
    await firstRefused;
    await queuedRefused;
    const waited = Date.now() - t0;
    // 200 ms of timeout; the upper bound leaves room for a loaded machine's timers.
    assert.ok(waited >= 190 && waited < 2000, `waited ${waited} ms`);
    // While the send in flight is stuck, a new call fails at once: settled before the event loop's next
    // turn, so on no timer (a call that waited would need its timeout's timer).
    const next = p.publish([msg(2)]).then(() => 'accepted', (e: unknown) => (e instanceof PublishTimeoutError ? 'refused' : 'other error'));
    const outcome = await Promise.race([next, new Promise((r) => setImmediate(() => r('still waiting')))]);
    assert.equal(outcome, 'refused', 'while the send in flight is stuck, a new call fails at once');
    down = false;
    release();
    // The released send's completion reaches the publisher through promise callbacks alone: they have
    // all run by the next turn of the event loop.
    await new Promise((r) => setImmediate(r));
    await p.publish([msg(3)]);
    assert.deepEqual(sends, [1, 1], 'the queued call that timed out was never sent; the stuck one completed, then the next');
  });

  it('a large submission the bus takes chunk by chunk waits as long as each chunk is acknowledged in time', async () => {
    const bus = { publish: async () => { await new Promise((r) => setTimeout(r, 60)); } };
    const p = new CoalescingPublisher(bus, 'readings.v1', 1000, { timeoutMs: 150 });
    const big = Array.from({ length: 40 }, (_, i) => msg(i, 100)); // 5 sends of ~60 ms: 300 ms in all, twice the timeout
    await p.publish(big);
  });
});
