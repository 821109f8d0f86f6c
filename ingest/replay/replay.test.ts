// Replay through the live path on small slices: the eval fixture (every format, hand-countable), a
// paced run on a fake clock, and an hour of the real Netatmo data (../shared/data; skipped where it
// is absent, a failure under CI=true).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore, type Store } from '../../infra/store/index.ts';
import { openBus, type Bus } from '../../infra/bus/index.ts';
import { createLogger } from '../../infra/log.ts';
import { writeBaselineFixture, T0, TRUTH_POSITION } from '../../eval/fixtures.ts';
import { forEachCsvRow } from '../../eval/csv.ts';
import { topicNames, topicSpecs } from '../topics.ts';
import { startIngestWorker, type IngestWorker } from '../worker.ts';
import { replay } from './replay.ts';

const H = 3_600_000;
const log = createLogger('silent');
const realData = fileURLToPath(new URL('../../../shared/data/netatmo_berlin_2017', import.meta.url));

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('replay', () => {
  let store: Store;
  let bus: Bus;
  let worker: IngestWorker;
  const topics = topicNames('replay.');

  before(async () => {
    store = await openStore('memory://', { log });
    bus = openBus('memory://');
    await bus.ensureTopics(topicSpecs(topics, 3));
    worker = await startIngestWorker({ bus, store, log, topics, groupId: 'replay-ingest', resolution: 9, maxBatch: 1000 });
  });
  after(async () => {
    await worker.stop();
    await bus.close();
    await store.close();
  });

  const count = async (sql: string, params: unknown[] = []) => (await store.query<{ n: number }>(sql, params)).rows[0]!.n;

  it('registers the stations of every format and stores their readings and the background through the bus', async () => {
    const dir = writeBaselineFixture();
    const r = await replay({ dataDir: dir, bus, topics, registry: store, partitionResolution: 5, dwdPosition: TRUTH_POSITION, pywwsPosition: { lat: 52.56, lon: 13.08 } });
    // crowd: 4 valid rows (an empty value, an unknown station and a malformed row are not);
    // DWD: 5 (one empty); UCO: 5 + 4; pywws: 1. ERA5: 2 points x 4 hours.
    assert.deepEqual({ readings: r.readings, background: r.background, stations: r.stations, refused: r.refused }, { readings: 19, background: 8, stations: 6, refused: 0 });
    assert.deepEqual(r.datasets.map((d) => d.kind).sort(), ['amateur-pywws', 'background-era5', 'crowd-netatmo', 'official-dwd', 'official-uco']);
    await until(() => worker.stats.readings >= 19 && worker.stats.background >= 8, 'the worker');
    const stations = await store.query<{ sensor_id: string; kind: string; name: string; external_id: string; lat: number }>(
      `SELECT sensor_id, kind, name, external_id, lat FROM sensors WHERE registered_at IS NOT NULL ORDER BY sensor_id`,
    );
    assert.deepEqual(stations.rows.map((s) => [s.sensor_id, s.kind, s.external_id]), [
      ['dwd-433', 'official', '433'], ['netatmo-1', 'amateur', '1'], ['netatmo-2', 'amateur', '2'], ['pws-pws', 'amateur', 'pws'], ['uco-u1', 'official', 'u1'], ['uco-u2', 'official', 'u2'],
    ]);
    assert.equal(stations.rows[0]!.lat, TRUTH_POSITION.lat, 'the DWD station at the position given');
    assert.equal(await count(`SELECT count(*)::int AS n FROM readings WHERE sensor_id LIKE 'netatmo-%'`), 4);
    assert.equal(await count(`SELECT count(*)::int AS n FROM readings WHERE sensor_id = 'dwd-433' AND temp_c = 12.5 AND time = $1`, [new Date(T0 + H)]), 1);
    assert.equal(await count(`SELECT count(*)::int AS n FROM background WHERE source = 'era5'`), 8);
    assert.equal(await count(`SELECT count(*)::int AS n FROM dead_letters`), 0);

    // Again: nothing is stored twice, nothing registered twice.
    const again = await replay({ dataDir: dir, bus, topics, registry: store, partitionResolution: 5, dwdPosition: TRUTH_POSITION, pywwsPosition: { lat: 52.56, lon: 13.08 } });
    assert.equal(again.stationsNew, 0);
    await until(() => worker.stats.readings >= 38, 'the second pass');
    assert.equal(await count(`SELECT count(*)::int AS n FROM readings WHERE sensor_id IN ('dwd-433','netatmo-1','netatmo-2','pws-pws','uco-u1','uco-u2')`), 19);
  });

  it('replays a slice [from, to), paced by speed on the clock it is given', async () => {
    const dir = writeBaselineFixture();
    let clock = 1_000_000;
    const sleeps: number[] = [];
    const sent: number[] = [];
    const own = topicNames('replay-slice.');
    await bus.ensureTopics(topicSpecs(own, 1));
    const slice = await replay({
      dataDir: dir, bus, topics: own, registry: null, partitionResolution: 5, dwdPosition: TRUTH_POSITION, pywwsPosition: { lat: 52.56, lon: 13.08 },
      range: { fromMs: T0, toMs: T0 + 2 * H }, speed: 3600, now: () => clock, sleep: async (ms) => { sleeps.push(ms); clock += ms; },
      progress: (p) => sent.push(p.sent),
    });
    // T0: crowd 1, DWD 1, UCO 2, pywws 1; T0 + 30 min: crowd 1; T0 + 1 h: crowd 1, DWD 1, UCO 2. ERA5: 2 points x 2 hours.
    assert.deepEqual({ readings: slice.readings, background: slice.background, first: slice.firstMs, last: slice.lastMs }, { readings: 10, background: 4, first: T0, last: T0 + H });
    // An hour of data at 3600x is one second of wall time, in two waits (to T0 + 30 min, to T0 + 1 h).
    assert.deepEqual(sleeps, [500, 500]);
    assert.equal(sent.at(-1), 14);
  });

  it('an hour of the real Netatmo data: every row of that hour stored once', { timeout: 120_000 }, async (t) => {
    if (!existsSync(realData)) {
      if (process.env.CI === 'true') assert.fail(`${realData} is missing (CI=true: the real data must be beside the checkout)`);
      return t.skip(`needs the real data in ../shared/data (absent: ${realData})`);
    }
    const hour = Date.UTC(2017, 5, 1, 12);
    const stamp = '2017-06-01T12:00:00Z';
    const known = new Set<string>();
    await forEachCsvRow(join(realData, 'stations.csv'), (h) => { const i = h.indexOf('p_id'), la = h.indexOf('lat'), lo = h.indexOf('lon'); return (f) => { if (f[la] && f[lo]) known.add(f[i]!); }; });
    let expected = 0;
    await forEachCsvRow(join(realData, 'obs_2017-06-01_2017-06-07.csv.gz'), (h) => {
      const it = h.indexOf('time'), ip = h.indexOf('p_id'), ia = h.indexOf('ta');
      return (f) => { if (f[it] === stamp && f[ia] !== '' && known.has(f[ip]!)) expected++; };
    });
    assert.ok(expected > 1000, `the hour has ${expected} readings`);
    const own = topicNames('replay-real.');
    await bus.ensureTopics(topicSpecs(own, 3));
    const w = await startIngestWorker({ bus, store, log, topics: own, groupId: 'replay-real', resolution: 9, maxBatch: 5000 });
    try {
      const r = await replay({ dataDir: realData, bus, topics: own, registry: store, partitionResolution: 5, dwdPosition: TRUTH_POSITION, pywwsPosition: TRUTH_POSITION, range: { fromMs: hour, toMs: hour + 1 } });
      assert.equal(r.readings, expected);
      await until(() => w.stats.readings >= expected, 'the real hour stored', 60_000);
      assert.equal(await count(`SELECT count(*)::int AS n FROM readings WHERE time = $1 AND sensor_id LIKE 'netatmo-%'`, [new Date(hour)]), expected);
      t.diagnostic(`${expected} Netatmo readings at ${stamp} replayed and stored`);
    } finally {
      await w.stop();
    }
  });
});
