import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageBatch } from './bus.ts';
import { runBusContract } from './bus.contract.ts';
import { MemoryBus } from './memory-bus.ts';

runBusContract('memory', async () => new MemoryBus({ retryBackoffMs: 20 }));

const bytes = (s: string) => new TextEncoder().encode(s);
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('memory bus', () => {
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

  it('rejects bad partition counts and use after close', async () => {
    const bus = new MemoryBus();
    await assert.rejects(bus.ensureTopics([{ name: 't', partitions: 0 }]), RangeError);
    await bus.close();
    await assert.rejects(bus.publish('t', []), /closed/);
  });
});
