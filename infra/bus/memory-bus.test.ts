import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RETRY_BACKOFF_MS, retryDelayMs, type MessageBatch } from './bus.ts';
import { runBusContract } from './bus.contract.ts';
import { MemoryBus, MAX_BATCH_BYTES } from './memory-bus.ts';

runBusContract('memory', async () => new MemoryBus({ retryBackoffMs: 20 }));

const bytes = (s: string) => new TextEncoder().encode(s);
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));
async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('retry delay', () => {
  it('doubles from the base with each further failure, up to the cap', () => {
    assert.deepEqual([1, 2, 3, 4].map((a) => retryDelayMs(100, a)), [100, 200, 400, 800]);
    assert.equal(retryDelayMs(100, 7), 5000, '100 × 2⁶ = 6,400, capped');
    assert.equal(retryDelayMs(100, 1_000_000), MAX_RETRY_BACKOFF_MS, 'no overflow after many failures');
    assert.equal(retryDelayMs(100, 5, 1000), 1000, 'a lower cap (a Kafka session) wins');
  });
});

describe('memory bus', () => {
  it('bounds a handler call by bytes as Kafka\'s fetch does (at least one message), and by count', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ name: 't', partitions: 1 }]);
    const big = Math.floor(MAX_BATCH_BYTES * 0.4); // two fit in a call, three do not
    await bus.publish('t', [...Array.from({ length: 5 }, () => ({ key: 'k', value: new Uint8Array(big) })), { key: 'k', value: new Uint8Array(2 * MAX_BATCH_BYTES) }, { key: 'k', value: bytes('x') }]);
    const sizes: number[] = [];
    const sub = await bus.subscribe({ groupId: 'g', topic: 't', maxBatchSize: 100, handler: async (b) => void sizes.push(b.messages.length) });
    await sub.ready;
    await waitFor(() => sizes.reduce((a, n) => a + n, 0) === 7);
    assert.deepEqual(sizes, [2, 2, 1, 1, 1], 'two of 40 % each, then one alone, the oversized one alone, the small one');
    await bus.publish('t', Array.from({ length: 7 }, () => ({ key: 'k', value: bytes('y') })));
    const sub2 = await bus.subscribe({ groupId: 'g2', topic: 't', maxBatchSize: 3, handler: async (b) => void sizes.push(-b.messages.length) });
    await sub2.ready;
    await waitFor(() => sizes.filter((n) => n < 0).reduce((a, n) => a - n, 0) === 14);
    assert.ok(sizes.filter((n) => n < 0).every((n) => n >= -3), 'at most maxBatchSize messages a call');
    await bus.close();
  });

  it('fixes "latest" when a partition is assigned: fromBeginning false skips older messages only', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ name: 't', partitions: 2 }]);
    await bus.publish('t', [{ key: 'a', value: bytes('before') }]);
    const got: string[] = [];
    const sub = await bus.subscribe({
      groupId: 'g',
      topic: 't',
      fromBeginning: false,
      handler: async (b) => void got.push(...b.messages.map((m) => new TextDecoder().decode(m.value))),
    });
    await sub.ready;
    await bus.publish('t', [{ key: 'a', value: bytes('after') }]);
    await settle();
    assert.deepEqual(got, ['after']);
    await bus.close();
  });

  it('keeps its own copy of published bytes', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ name: 't', partitions: 1 }]);
    const value = bytes('abc');
    await bus.publish('t', [{ key: 'k', value }]);
    value[0] = 0x7a;
    const got: MessageBatch[] = [];
    const sub = await bus.subscribe({ groupId: 'g', topic: 't', handler: async (b) => void got.push(b) });
    await sub.ready;
    await settle();
    assert.equal(new TextDecoder().decode(got[0]!.messages[0]!.value), 'abc');
    await bus.close();
  });

  it('does not call an idle handler, and wakes it on publish', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ name: 't', partitions: 4 }]);
    let calls = 0;
    const sub = await bus.subscribe({ groupId: 'g', topic: 't', handler: async () => void calls++ });
    await sub.ready;
    await settle();
    assert.equal(calls, 0);
    await bus.publish('t', [{ key: 'k', value: bytes('x') }]);
    await settle();
    assert.equal(calls, 1);
    await sub.close();
    await bus.publish('t', [{ key: 'k', value: bytes('y') }]);
    await settle();
    assert.equal(calls, 1, 'a closed member gets nothing more');
    await bus.close();
  });

  it('hands a partition to its new owner only after the old owner’s handler settled', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ name: 't', partitions: 1 }]);
    let release: () => void = () => {};
    const seenA: string[] = [];
    const seenB: string[] = [];
    const a = await bus.subscribe({
      groupId: 'g',
      topic: 't',
      handler: async (b) => {
        seenA.push(...b.messages.map((m) => m.offset));
        await new Promise<void>((r) => (release = r));
      },
    });
    await bus.publish('t', [{ key: 'k', value: bytes('1') }]);
    await settle();
    assert.deepEqual(seenA, ['0']);
    // A sorts before B, keeps partition 0 after the rebalance; B then takes it over once A leaves.
    const b = await bus.subscribe({ groupId: 'g', topic: 't', handler: async (x) => void seenB.push(...x.messages.map((m) => m.offset)) });
    const closing = a.close(); // waits for the handler
    await settle();
    assert.deepEqual(seenB, [], 'B waits while A’s handler is in flight');
    release();
    await closing;
    await bus.publish('t', [{ key: 'k', value: bytes('2') }]);
    await settle();
    assert.deepEqual(seenB, ['1'], 'A committed offset 0 on close; B continues at 1');
    await b.close();
    await bus.close();
  });

  it('retention by size: consumed messages beyond the topic bytes are dropped, offsets keep counting', async () => {
    const bus = new MemoryBus({ retentionBytes: 5_000 });
    await bus.ensureTopics([{ name: 't', partitions: 1 }]);
    const offsets: number[] = [];
    const sub = await bus.subscribe({ groupId: 'g', topic: 't', handler: async (b) => void offsets.push(...b.messages.map((m) => Number(m.offset))) });
    const value = new Uint8Array(100);
    for (let i = 0; i < 50; i++) {
      await bus.publish('t', Array.from({ length: 20 }, () => ({ key: 'k', value })));
      await waitFor(() => offsets.length === (i + 1) * 20);
    }
    const held = bus.held('t');
    // Each message counts 100 bytes + 1 (key) + 64 overhead = 165: 5,000 bytes hold 30 once consumed.
    assert.ok(held.bytes <= 5_000, `held ${held.bytes} bytes`);
    assert.equal(held.messages, 30);
    assert.deepEqual(offsets, Array.from({ length: 1000 }, (_, i) => i), 'every offset once, in order, counting on past the trimmed head');
    await sub.close();
    await bus.close();
  });

  it('backlog: what a group has not committed, per topic, over all partitions', async () => {
    const bus = new MemoryBus();
    await bus.ensureTopics([{ name: 't', partitions: 3 }]);
    for (let i = 0; i < 9; i++) await bus.publish('t', [{ key: `k${i}`, value: bytes(String(i)) }]);
    assert.equal(bus.backlog('g', 't'), 0, 'an unknown group owes nothing');
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let got = 0;
    const sub = await bus.subscribe({ groupId: 'g', topic: 't', fromBeginning: true, handler: async (b) => { await gate; got += b.messages.length; } });
    assert.equal(bus.backlog('g', 't'), 9, 'nothing committed yet: the whole log');
    release();
    await waitFor(() => got === 9 && bus.backlog('g', 't') === 0);
    await bus.publish('t', [{ key: 'k', value: bytes('x') }, { key: 'k', value: bytes('y') }]);
    assert.ok(bus.backlog('g', 't') >= 1, 'new messages are owed until committed');
    await waitFor(() => bus.backlog('g', 't') === 0);
    await sub.close();
    await bus.close();
  });

  it('retention keeps what a group with members has not committed, and drops it once committed', async () => {
    let nowMs = 1_000_000;
    const bus = new MemoryBus({ retentionMs: 1000, retentionBytes: 1000, now: () => nowMs });
    await bus.ensureTopics([{ name: 't', partitions: 1 }]);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let got = 0;
    const sub = await bus.subscribe({ groupId: 'slow', topic: 't', maxBatchSize: 1000, handler: async (b) => { await gate; got += b.messages.length; } });
    const value = new Uint8Array(200);
    for (let i = 0; i < 30; i++) await bus.publish('t', [{ key: 'k', value }]);
    nowMs += 5000;
    await bus.publish('t', [{ key: 'k', value }]);
    assert.equal(bus.held('t').messages, 31, 'nothing is dropped while the group owes it');
    release();
    await waitFor(() => got >= 31);
    await bus.publish('t', [{ key: 'k', value }]);
    assert.ok(bus.held('t').messages <= 4, `consumed and old: dropped (held ${bus.held('t').messages})`);
    await sub.close();
    // A group without members pins nothing: retention goes on, and a new member starts at the log's start.
    nowMs += 5000;
    for (let i = 0; i < 10; i++) await bus.publish('t', [{ key: 'k', value }]);
    const first: string[] = [];
    const again = await bus.subscribe({ groupId: 'late', topic: 't', handler: async (b) => void first.push(b.messages[0]!.offset) });
    await waitFor(() => first.length > 0);
    assert.ok(Number(first[0]) >= 32, `starts at the log's start, not offset 0 (got ${first[0]})`);
    await again.close();
    await bus.close();
  });

  it('rejects bad partition counts and use after close', async () => {
    const bus = new MemoryBus();
    await assert.rejects(bus.ensureTopics([{ name: 't', partitions: 0 }]), RangeError);
    await bus.close();
    await assert.rejects(bus.publish('t', []), /closed/);
  });
});
