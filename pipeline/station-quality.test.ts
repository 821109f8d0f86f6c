// A station's QC as its owner sees it, read from a real batch's artefacts: every reading of the kept
// windows with its reason, and the record; a faulty sensor is flagged and loses reliability, a good
// one is not; a station the batch never saw has readings of none and no record.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTasks, openStore, openWindow, type Store } from '../infra/store/index.ts';
import { createLogger } from '../infra/log.ts';
import { cellOf } from '../infra/geo/index.ts';
import { FILTER_METHOD } from './batch.ts';
import { makeReadings, RESOLUTION, SHARD_RESOLUTION, seedBackground, seedReadings, T0, testDomain, testWorker, WINDOW_MS } from './batch.fixture.ts';
import { stationQuality } from './station-quality.ts';

const domain = testDomain();

describe('station quality from the batch\'s artefacts', () => {
  let store: Store;
  const first = T0 - WINDOW_MS;
  before(async () => {
    store = await openStore('memory://', { log: createLogger('silent') });
    await seedBackground(store);
    await seedReadings(store, T0 - 3 * WINDOW_MS, T0 + WINDOW_MS);
    for (const end of [first, T0]) {
      await openWindow(store, { windowStartMs: end - WINDOW_MS, windowEndMs: end, method: FILTER_METHOD, nowMs: Date.now() });
      await createTasks(store, end, domain.plan.shards.map((s) => s.id));
      await testWorker(store, domain).workWindow(end);
    }
  });
  after(async () => {
    await store?.close();
  });

  const positionOf = (id: string) => {
    const r = makeReadings(T0, T0 + 60_000).find((x) => x.sensorId === id)!;
    return { lat: r.lat, lon: r.lon };
  };
  const quality = (id: string, sinceMs = first - WINDOW_MS) => stationQuality(store, { stationId: id, ...positionOf(id), resolution: RESOLUTION, shardResolution: SHARD_RESOLUTION, sinceMs });

  it('a sensor stuck 9 K too warm: each of its readings of both windows is flagged, its reliability lowered', async () => {
    const q = await quality('s003');
    assert.equal(q.shard, domain.plan.shardOfCell.get(cellOf(positionOf('s003'), RESOLUTION)), 'the shard the map stage gives it');
    assert.equal(q.untilMs, T0);
    assert.equal(q.readings.length, 10, 'one a minute over two 5-minute windows');
    assert.deepEqual(q.readings.map((r) => r.timeMs), Array.from({ length: 10 }, (_, i) => T0 - (10 - i) * 60_000), 'windows hold [start, end)');
    assert.ok(q.readings.every((r) => r.reason !== 'ok'), JSON.stringify(q.readings));
    assert.equal(q.reasons.ok, 0);
    assert.equal(Object.values(q.reasons).reduce((a, b) => a + b, 0), 10);
    // Reliability is a 12-hour average: two failed windows lower it a little (1 − e^(−10 min / 12 h) ≈ 1.4 %).
    assert.ok(q.record && q.record.reliability < 0.99, JSON.stringify(q.record));
    assert.equal(q.record!.windows, 2);
    assert.equal(q.record!.lastSeenMs, T0);
  });

  it('a good sensor passes, keeps its reliability; only the windows after `since` are read', async () => {
    const q = await quality('s010');
    assert.equal(q.readings.length, 10);
    assert.equal(q.reasons.ok, 10);
    assert.ok(q.record && q.record.reliability === 1 && !q.record.indoorLike, JSON.stringify(q.record));
    const newest = await quality('s010', first);
    assert.equal(newest.readings.length, 5);
    assert.ok(newest.readings.every((r) => r.timeMs >= first && r.timeMs < T0), 'the newest window only');
  });

  it('a station the batch has not seen: no readings, no record', async () => {
    const q = await stationQuality(store, { stationId: 'st-nobody', ...positionOf('s010'), resolution: RESOLUTION, shardResolution: SHARD_RESOLUTION, sinceMs: 0 });
    assert.deepEqual({ readings: q.readings, record: q.record, ok: q.reasons.ok }, { readings: [], record: null, ok: 0 });
    assert.equal(q.untilMs, T0, 'its shard has flags all the same');
  });
});
