/**
 * KafkaMember: a retired consumer is disconnected only outside a start, and again whenever it shows life.
 * The last case runs real kafkajs consumers against the broker (see kafka-bus.test.ts for how it is found).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { KafkaMember } from './kafka-member.ts';
import { kafkaBrokersForTests } from '../testing/kafka-broker.ts';
import { waitFor } from '../testing/role-process.ts';

/** A fake consumer's disconnect: counts calls, and completes when the test says so. */
function fakeDisconnect() {
  const pending: Array<() => void> = [];
  let calls = 0;
  return {
    disconnect: () => {
      calls++;
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    get calls() {
      return calls;
    },
    finishAll: async () => {
      while (pending.length > 0) pending.shift()!();
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    },
  };
}

/** Deferred callbacks run when the test flushes them (standing in for setImmediate). */
function manualDefer() {
  const queue: Array<() => void> = [];
  return { defer: (fn: () => void) => void queue.push(fn), flush: () => { while (queue.length > 0) queue.shift()!(); } };
}

async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

describe('KafkaMember', () => {
  it('an idle consumer is disconnected at once and has then left', async () => {
    const d = fakeDisconnect();
    const m = new KafkaMember(d.disconnect);
    const left = m.retire();
    assert.equal(d.calls, 1);
    assert.equal(await settled(left), false, 'not left before the disconnect completes');
    await d.finishAll();
    assert.equal(await settled(left), true);
    assert.equal(m.phase, 'idle');
  });

  it('a consumer still starting is not disconnected until it fetches', async () => {
    const d = fakeDisconnect();
    const m = new KafkaMember(d.disconnect);
    m.starting();
    const left = m.retire();
    assert.equal(d.calls, 0, 'a disconnect during the start would orphan the runner');
    m.fetching();
    assert.equal(d.calls, 1);
    await d.finishAll();
    assert.equal(await settled(left), true);
  });

  it('a consumer still starting that crashes is disconnected after the crash event, which cancels its restart', async () => {
    const d = fakeDisconnect();
    const q = manualDefer();
    const m = new KafkaMember(d.disconnect, q.defer);
    m.starting();
    const left = m.retire();
    m.crashed(true);
    assert.equal(d.calls, 0, 'not inside the crash event: kafkajs sets its restart timer after it');
    q.flush();
    assert.equal(d.calls, 1);
    await d.finishAll();
    assert.equal(await settled(left), true);
    assert.equal(m.phase, 'idle');
  });

  it('a crash before retirement leaves it starting (a restart is scheduled), so retirement waits', () => {
    const d = fakeDisconnect();
    const m = new KafkaMember(d.disconnect);
    m.fetching();
    m.crashed(true);
    assert.equal(m.phase, 'starting');
    void m.retire();
    assert.equal(d.calls, 0);
    m.crashed(false); // the restart failed for good
    assert.equal(m.phase, 'idle');
  });

  it('a retired consumer that fetches again is disconnected again, once per disconnect in flight', async () => {
    const d = fakeDisconnect();
    const m = new KafkaMember(d.disconnect);
    m.fetching();
    void m.retire();
    assert.equal(d.calls, 1);
    m.fetching();
    m.fetching();
    assert.equal(d.calls, 1, 'one disconnect at a time');
    await d.finishAll();
    assert.equal(d.calls, 2, 'fetches during the disconnect call for one more');
    await d.finishAll();
    assert.equal(d.calls, 2);
    m.fetching(); // alive again later
    assert.equal(d.calls, 3);
    await d.finishAll();
  });

  it('a current consumer is never disconnected by its events', () => {
    const d = fakeDisconnect();
    const q = manualDefer();
    const m = new KafkaMember(d.disconnect, q.defer);
    m.starting();
    m.fetching();
    m.crashed(true);
    q.flush();
    m.fetching();
    assert.equal(d.calls, 0);
    assert.equal(m.isRetired, false);
  });

  it('real kafkajs consumers retired in the middle of joining leave the group and stay gone', { timeout: 120_000 }, async (t) => {
    const found = await kafkaBrokersForTests();
    if ('skip' in found) return t.skip(found.skip);
    const kafka = new kafkajs.Kafka({ brokers: found, clientId: 'kafka-member-test', logLevel: kafkajs.logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = 'kafka-member.join';
    const groupId = `kafka-member-${Date.now()}`;
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const members: KafkaMember[] = [];
      for (let i = 0; i < 8; i++) {
        const consumer = kafka.consumer({ groupId, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
        const member = new KafkaMember(() => consumer.disconnect());
        consumer.on(consumer.events.FETCH_START, () => member.fetching());
        consumer.on(consumer.events.CRASH, ({ payload }) => member.crashed(payload.restart));
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        member.starting();
        const running = consumer.run({ eachBatch: async () => {} });
        // Retired while JoinGroup/SyncGroup are in flight: kafkajs's own disconnect here would leave a
        // runner that joins and fetches with nobody able to stop it. The eight are retired 0–140 ms into
        // run(), which spans the join; with the retirement logic taken out, they stay in the group.
        await new Promise((r) => setTimeout(r, 20 * i));
        members.push(member);
        void member.retire();
        await running;
      }
      await Promise.all(members.map((m) => m.left));
      await waitFor('no member in the group', async () => {
        const [group] = (await admin.describeGroups([groupId])).groups;
        return group && group.members.length === 0 ? true : undefined;
      }, { timeoutMs: 30_000, everyMs: 250 });
      // None of them comes back: the group is watched for longer than a session and a few fetch waits,
      // and the test fails as soon as a member appears (waiting for one must run out of time). The
      // successful looks are counted, so a watch whose every look failed cannot pass.
      let looks = 0;
      const back = waitFor('member back in the group', async () => {
        const [group] = (await admin.describeGroups([groupId])).groups;
        looks++;
        return group && group.members.length > 0 ? group.members.map((m) => m.memberId) : undefined;
      }, { timeoutMs: 7000, everyMs: 250 });
      const outcome = await back.then((ids) => ({ ids }), (err: unknown) => ({ err }));
      assert.ok(!('ids' in outcome), `members came back: ${JSON.stringify('ids' in outcome ? outcome.ids : [])}`);
      assert.match(String(outcome.err), /no member back in the group within 7000 ms/);
      assert.ok(looks >= 10, `the group was looked at ${looks} times`);
    } finally {
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
  });
});
