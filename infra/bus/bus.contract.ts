/**
 * The bus contract: one node:test suite that every adapter must pass unchanged (memory-bus.test.ts and
 * kafka-bus.test.ts run it). Every test uses its own topics and groups (random suffix), so runs against
 * a shared broker do not collide, and closes everything it opened so the test process can exit.
 *
 * Waits are "until a condition holds, or fail after a deadline": nothing passes by timing out quietly.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Bus, BusMessage, MessageBatch, OutgoingMessage, SubscribeOptions, Subscription } from './bus.ts';
import { partitionForKey } from './murmur2.ts';

/** What a factory returns when the adapter cannot run here (e.g. no broker): the tests skip with it. */
export interface BusUnavailable {
  skip: string;
}

export interface ContractOptions {
  /** Per-test timeout [ms] (default 30000). */
  timeoutMs?: number;
  /** Deadline of each wait for deliveries [ms] (default 20000). */
  waitMs?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (m: BusMessage) => decoder.decode(m.value);
const id = (m: BusMessage) => `${m.partition}@${m.offset}`;

function msg(key: string, value: string): OutgoingMessage {
  return { key, value: encoder.encode(value) };
}

function unique(prefix: string): string {
  return `contract-${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

async function waitUntil(condition: () => boolean, what: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Records every batch a handler accepted (resolved), in delivery order. */
class Received {
  readonly batches: MessageBatch[] = [];
  get messages(): BusMessage[] {
    return this.batches.flatMap((b) => b.messages);
  }
  values(): string[] {
    return this.messages.map(text);
  }
  handler = async (batch: MessageBatch): Promise<void> => {
    this.batches.push(batch);
  };
}

/** Opens a bus for one test and closes whatever the test subscribed when it ends. */
async function open(t: TestContext, makeBus: () => Promise<Bus | BusUnavailable>) {
  const made = await makeBus();
  if ('skip' in made) {
    t.skip(made.skip);
    return undefined;
  }
  const bus = made;
  const subs: Subscription[] = [];
  t.after(async () => {
    // abort never waits for a handler, so a test that failed half-way does not hang here…
    const closing = Promise.allSettled(subs.map((s) => s.abort())).then(() => bus.close());
    await withDeadline(closing, 30_000, 'closing the bus after the test').catch((err: unknown) => {
      // …unless the adapter is broken: then its open sockets would keep the test process alive
      // forever. The test fails with this error and the process exits shortly after reporting it.
      setTimeout(() => process.exit(1), 1000).unref();
      throw err;
    });
  });
  return {
    bus,
    async subscribe(options: SubscribeOptions): Promise<Subscription> {
      const s = await bus.subscribe(options);
      subs.push(s);
      return s;
    },
  };
}

export function runBusContract(name: string, makeBus: () => Promise<Bus | BusUnavailable>, options: ContractOptions = {}): void {
  const timeout = options.timeoutMs ?? 30_000;
  const waitMs = options.waitMs ?? 20_000;

  describe(`bus contract: ${name}`, () => {
    it('keeps publish order per key, puts a key in one partition (Kafka murmur2) and bounds batches', { timeout }, async (t) => {
      const h = await open(t, makeBus);
      if (!h) return;
      const topic = unique('order');
      const partitions = 3;
      await h.bus.ensureTopics([{ name: topic, partitions }]);
      const keys = ['851f1ebffffffff', '851f1e9ffffffff', '851f1ebbfffffff', 'sensor-a', 'sensor-b', 'sensor-c', 'x', 'y'];
      const used = new Set(keys.map((k) => partitionForKey(k, partitions)));
      assert.ok(used.size >= 2, 'precondition: the keys span several partitions');

      const got = new Received();
      const sub = await h.subscribe({ groupId: unique('g'), topic, handler: got.handler, maxBatchSize: 7 });
      await sub.ready;

      const perKey = 30;
      const sent = new Map(keys.map((k) => [k, [] as string[]]));
      // Several publish calls, keys interleaved inside each call.
      for (let call = 0; call < 6; call++) {
        const batch: OutgoingMessage[] = [];
        for (let i = 0; i < (perKey * keys.length) / 6; i++) {
          const key = keys[(call + i) % keys.length]!;
          const seq = sent.get(key)!;
          const value = `${key}#${String(seq.length).padStart(4, '0')}`;
          seq.push(value);
          batch.push(msg(key, value));
        }
        await h.bus.publish(topic, batch);
      }
      const total = perKey * keys.length;
      await waitUntil(() => got.messages.length >= total, `${total} messages arrived (have ${got.messages.length})`, waitMs);

      assert.equal(got.messages.length, total, 'each message exactly once');
      for (const batch of got.batches) {
        assert.equal(batch.topic, topic);
        assert.ok(batch.messages.length >= 1 && batch.messages.length <= 7, `batch of ${batch.messages.length} within maxBatchSize 7`);
        for (const m of batch.messages) assert.equal(m.partition, batch.partition, 'a batch holds one partition');
      }
      for (const key of keys) {
        const mine = got.messages.filter((m) => m.key === key);
        assert.deepEqual(mine.map(text), sent.get(key), `order of key ${key}`);
        assert.deepEqual(new Set(mine.map((m) => m.partition)), new Set([partitionForKey(key, partitions)]), `partition of key ${key}`);
      }
      const lastOffset = new Map<number, bigint>();
      for (const m of got.messages) {
        const prev = lastOffset.get(m.partition);
        assert.ok(prev === undefined || BigInt(m.offset) > prev, 'offsets grow within a partition');
        lastOffset.set(m.partition, BigInt(m.offset));
        assert.ok(Number.isFinite(m.timestampMs) && m.timestampMs > 0);
      }
    });

    it('redelivers to another member what a member that died had not committed', { timeout }, async (t) => {
      const h = await open(t, makeBus);
      if (!h) return;
      const topic = unique('death');
      const groupId = unique('g');
      await h.bus.ensureTopics([{ name: topic, partitions: 1 }]);

      const first = ['a1', 'a2', 'a3'];
      const second = ['b1', 'b2', 'b3', 'b4'];
      const committedByA: string[] = [];
      const inFlightAtA: BusMessage[] = [];
      let release: () => void = () => {};
      await h.bus.publish(topic, first.map((v) => msg('k', v)));
      const a = await h.subscribe({
        groupId,
        topic,
        handler: async (batch) => {
          if (committedByA.length < first.length) {
            committedByA.push(...batch.messages.map(text)); // resolves: committed
            return;
          }
          inFlightAtA.push(...batch.messages);
          await new Promise<void>((resolve) => (release = resolve)); // "hangs" until the test releases it
        },
      });
      await a.ready;
      await waitUntil(() => committedByA.length >= first.length, 'member A handled the first messages', waitMs);
      await h.bus.publish(topic, second.map((v) => msg('k', v)));
      await waitUntil(() => inFlightAtA.length > 0, 'member A is stuck in a handler', waitMs);

      await withDeadline(a.abort(), 15_000, 'abort() with a handler in flight');
      release(); // the abandoned handler finishing late must not commit anything either…
      await new Promise((resolve) => setTimeout(resolve, 200)); // …so give a wrong commit time to land

      const b = new Received();
      const sb = await h.subscribe({ groupId, topic, handler: b.handler });
      await sb.ready;
      await waitUntil(() => second.every((v) => b.values().includes(v)), 'member B received the uncommitted messages', waitMs);

      assert.deepEqual(committedByA, first);
      const bIds = new Set(b.messages.map(id));
      for (const m of inFlightAtA) assert.ok(bIds.has(id(m)), `B got ${text(m)} (${id(m)}) that A held when it died`);
      assert.deepEqual(b.values(), second, 'B starts at the committed offset: nothing A committed, everything it had not');
    });

    it('gives a batch again to a handler that threw', { timeout }, async (t) => {
      const h = await open(t, makeBus);
      if (!h) return;
      const topic = unique('throw');
      await h.bus.ensureTopics([{ name: topic, partitions: 1 }]);
      const values = ['v1', 'v2', 'v3', 'v4', 'v5'];
      await h.bus.publish(topic, values.map((v) => msg('k', v)));

      const calls: MessageBatch[] = [];
      const accepted = new Received();
      const sub = await h.subscribe({
        groupId: unique('g'),
        topic,
        handler: async (batch) => {
          calls.push(batch);
          if (calls.length === 1) throw new Error('handler failure (expected by the test)');
          await accepted.handler(batch);
        },
      });
      await sub.ready;
      await waitUntil(() => accepted.messages.length >= values.length, 'all messages were accepted after the failure', waitMs);

      const [failed, retried] = calls;
      assert.ok(failed && retried);
      assert.deepEqual(retried.messages.map(id).slice(0, failed.messages.length), failed.messages.map(id), 'the failed batch comes again first');
      assert.deepEqual(accepted.values(), values, 'each message accepted once, in order');
    });

    it('shares partitions between the members of a group', { timeout }, async (t) => {
      const h = await open(t, makeBus);
      if (!h) return;
      const topic = unique('share');
      const groupId = unique('g');
      const partitions = 4;
      await h.bus.ensureTopics([{ name: topic, partitions }]);
      const a = new Received();
      const b = new Received();
      const sa = await h.subscribe({ groupId, topic, handler: a.handler });
      await sa.ready;
      const sb = await h.subscribe({ groupId, topic, handler: b.handler });
      await sb.ready;

      const keys = Array.from({ length: 24 }, (_, i) => `cell-${i}`);
      assert.equal(new Set(keys.map((k) => partitionForKey(k, partitions))).size, partitions, 'precondition: keys cover all partitions');
      const values = keys.flatMap((k) => [`${k}/1`, `${k}/2`, `${k}/3`]);
      await h.bus.publish(topic, values.map((v) => msg(v.split('/')[0]!, v)));
      await waitUntil(() => new Set([...a.values(), ...b.values()]).size >= values.length, 'the group received every message', waitMs);

      assert.ok(a.messages.length > 0 && b.messages.length > 0, `both members receive (A ${a.messages.length}, B ${b.messages.length})`);
      const aIds = new Set(a.messages.map(id));
      const both = b.messages.filter((m) => aIds.has(id(m)));
      assert.deepEqual(both.map(text), [], 'no message goes to both members');
      assert.equal(a.messages.length + b.messages.length, values.length, 'no duplicates');
      const aParts = new Set(a.messages.map((m) => m.partition));
      for (const m of b.messages) assert.ok(!aParts.has(m.partition), `partition ${m.partition} has one owner`);
    });

    it('keeps committed offsets across a clean close; a new group starts from the beginning', { timeout }, async (t) => {
      const h = await open(t, makeBus);
      if (!h) return;
      const topic = unique('commit');
      const groupId = unique('g');
      await h.bus.ensureTopics([{ name: topic, partitions: 2 }]);
      const old = Array.from({ length: 10 }, (_, i) => `old-${i}`);
      const newer = Array.from({ length: 10 }, (_, i) => `new-${i}`);
      const key = (v: string) => `key-${v.slice(-1)}`;

      await h.bus.publish(topic, old.map((v) => msg(key(v), v)));
      const first = new Received();
      const s1 = await h.subscribe({ groupId, topic, handler: first.handler });
      await s1.ready;
      await waitUntil(() => first.messages.length >= old.length, 'the first member consumed the old messages', waitMs);
      await withDeadline(s1.close(), 15_000, 'close()');

      await h.bus.publish(topic, newer.map((v) => msg(key(v), v)));
      const second = new Received();
      const s2 = await h.subscribe({ groupId, topic, handler: second.handler });
      await s2.ready;
      await waitUntil(() => second.messages.length >= newer.length, 'the next member got the newer messages', waitMs);
      assert.deepEqual([...second.values()].sort(), [...newer].sort(), 'only messages after the committed offsets');

      const fresh = new Received();
      const s3 = await h.subscribe({ groupId: unique('g2'), topic, handler: fresh.handler, fromBeginning: true });
      await s3.ready;
      await waitUntil(() => fresh.messages.length >= old.length + newer.length, 'a new group got everything', waitMs);
      assert.deepEqual([...fresh.values()].sort(), [...old, ...newer].sort());
    });

    it('refuses to publish to or subscribe to a topic that does not exist', { timeout }, async (t) => {
      const h = await open(t, makeBus);
      if (!h) return;
      const topic = unique('missing');
      await assert.rejects(h.bus.publish(topic, [msg('k', 'v')]), /does not exist/);
      await assert.rejects(h.bus.subscribe({ groupId: unique('g'), topic, handler: async () => {} }), /does not exist/);
      await h.bus.ensureTopics([{ name: topic, partitions: 2 }]);
      await h.bus.ensureTopics([{ name: topic, partitions: 2 }]); // idempotent
      await h.bus.publish(topic, [msg('k', 'v')]);
    });
  });
}
