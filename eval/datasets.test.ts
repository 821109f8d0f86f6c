import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  classifyHeaders, detectDataset, detectDatasets, hourOf, loadCrowdByHour, loadCrowdStations, loadDwdTruth, loadEra5Background, loadUcoTruth, type Dataset,
} from './datasets.ts';
import { UsageError } from './evaluator.ts';
import { T0, tempDir, writeBaselineFixture, writeGz, writeText, iso } from './fixtures.ts';

const H = 3_600_000;

function asDataset(d: ReturnType<typeof detectDataset>): Dataset {
  assert.notEqual(d.kind, 'unknown', d.kind === 'unknown' ? d.reason : '');
  return d as Dataset;
}

describe('format detection', () => {
  it('classifies by header columns (extra columns allowed, order free)', () => {
    assert.equal(classifyHeaders(['p_id', 'time', 'ta'], ['p_id', 'lon', 'lat', 'z']), 'crowd-netatmo');
    assert.equal(classifyHeaders(['p_id', 'time', 'ta']), undefined); // no stations.csv: no positions
    assert.equal(classifyHeaders(['time', 'station_id', 'qn_9', 'ta', 'rh']), 'official-dwd');
    assert.equal(classifyHeaders(['ta', 'station_id', 'time']), 'official-dwd');
    assert.equal(classifyHeaders(['time', 'station', 'ta'], ['station', 'lat', 'lon', 'network_inferred', 'note']), 'official-uco');
    assert.equal(classifyHeaders(['time', 'station', 'ta']), undefined);
    assert.equal(classifyHeaders(['time', 'lat', 'lon', 't2m_c', 'u10_ms']), 'background-era5');
    assert.equal(classifyHeaders(['time', 'delay_min', 'ta', 'rh']), 'amateur-pywws'); // one amateur station (Falkensee)
  });

  it('detects the data sets of a folder by their files, whatever the folder names', () => {
    const root = writeBaselineFixture();
    const { datasets, unrecognised } = detectDatasets(root);
    const kinds = Object.fromEntries(datasets.map((d) => [d.dir.split('/').pop(), d.kind]));
    assert.deepEqual(kinds, { crowd: 'crowd-netatmo', dwd: 'official-dwd', era5: 'background-era5', uco: 'official-uco', pws: 'amateur-pywws' });
    assert.deepEqual(unrecognised, []);
    const crowd = datasets.find((d) => d.kind === 'crowd-netatmo')!;
    assert.deepEqual(crowd.dataFiles.map((f) => f.split('/').pop()), ['obs_a.csv.gz', 'obs_b.csv.gz']);
    assert.equal(crowd.stationsFile?.split('/').pop(), 'stations.csv');
  });

  it('refuses folders that mix kinds, hold no data files, or do not exist', () => {
    const root = tempDir();
    const mixed = join(root, 'mixed');
    mkdirSync(mixed);
    writeGz(join(mixed, 'a.csv.gz'), ['time,station_id,ta', `${iso(T0)},1,2`]);
    writeGz(join(mixed, 'b.csv.gz'), ['time,lat,lon,t2m_c', `${iso(T0)},1,2,3`]);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    writeText(join(empty, 'README.md'), ['hi']);
    const m = detectDataset(mixed);
    assert.equal(m.kind, 'unknown');
    assert.match(m.kind === 'unknown' ? m.reason : '', /different kinds/);
    assert.equal(detectDataset(empty).kind, 'unknown');
    assert.equal(detectDataset(join(root, 'nope')).kind, 'unknown');
    // the root itself can be a data set
    assert.equal(detectDatasets(join(writeBaselineFixture(), 'era5')).datasets[0]?.kind, 'background-era5');
  });
});

describe('loaders', () => {
  const root = writeBaselineFixture();

  it('hourOf: the window of hour h is (h - 1 h, h]', () => {
    assert.equal(hourOf(T0), T0);
    assert.equal(hourOf(T0 + 1), T0 + H);
    assert.equal(hourOf(T0 + H / 2), T0 + H);
    assert.equal(hourOf(T0 + H), T0 + H);
  });

  it('crowd: stations without a position are dropped; readings grouped by hour; missing/unknown/malformed counted', async () => {
    const ds = asDataset(detectDataset(join(root, 'crowd')));
    const st = await loadCrowdStations(ds.stationsFile!);
    assert.deepEqual(st.ids, ['1', '2']);
    assert.equal(st.lat[1], 52.51);
    const { byHour, stats } = await loadCrowdByHour(ds, st);
    assert.deepEqual([...byHour.keys()].sort(), [T0, T0 + H, T0 + 2 * H]);
    assert.deepEqual([...byHour.get(T0)!.tempC], [11]);
    const h1 = byHour.get(T0 + H)!;
    assert.deepEqual([...h1.station].map((i) => st.ids[i]), ['2', '1']);
    assert.deepEqual([...h1.timeMs], [T0 + H / 2, T0 + H]);
    assert.deepEqual([...h1.tempC], [10.5, 13]);
    assert.deepEqual(stats, { rows: 7, malformed: 1, missing: 1, skipped: 0, unknownStation: 1, used: 4 });
    const only = await loadCrowdByHour(ds, st, { keepHour: (h) => h === T0 + 2 * H });
    assert.deepEqual([...only.byHour.keys()], [T0 + 2 * H]);
    assert.equal(only.stats.skipped, 5); // the 3 rows at T0 and the 2 of T0 + 1 h, before any other check
  });

  it('DWD: empty ta skipped, range applied, several stations need a choice', async () => {
    const ds = asDataset(detectDataset(join(root, 'dwd')));
    const r = await loadDwdTruth(ds, { lat: 52.45, lon: 13.3, range: { fromMs: T0, toMs: T0 + 10 * H } });
    assert.equal(r.station.id, '433');
    assert.deepEqual([...r.station.series.entries()], [[T0, 10.5], [T0 + H, 12.5], [T0 + 2 * H, 12], [T0 + 3 * H, 13.5]]);
    assert.equal(r.stats.missing, 1);
    assert.equal(r.stats.skipped, 1); // T0 - 1 h

    const dir = tempDir();
    writeGz(join(dir, 'obs.csv.gz'), ['time,station_id,qn_9,ta,rh', `${iso(T0)},433,3,1,1`, `${iso(T0)},00430,3,2,1`]);
    const two = asDataset(detectDataset(dir));
    await assert.rejects(loadDwdTruth(two, { lat: 0, lon: 0 }), (e: unknown) => e instanceof UsageError && /several DWD stations \(00430, 433\).*--station-id/.test(e.message));
    const pick = await loadDwdTruth(two, { lat: 0, lon: 0, stationId: '430' }); // 00430 is 430
    assert.deepEqual([...pick.station.series.values()], [2]);
  });

  it('UCO: every station of stations.csv (quoted notes) is a truth point, optionally filtered', async () => {
    const ds = asDataset(detectDataset(join(root, 'uco')));
    const r = await loadUcoTruth(ds);
    assert.deepEqual(r.stations.map((s) => [s.id, s.lat, s.lon, s.series.size]), [['u1', 52.45, 13.3, 5], ['u2', 52.5, 13.4, 4]]);
    const f = await loadUcoTruth(ds, { stationIds: ['u2'], range: { fromMs: T0 + H, toMs: Infinity } });
    assert.deepEqual(f.stations.map((s) => [s.id, s.series.size]), [['u2', 3]]);
  });

  it('ERA5: one sample per row with a point id per position', async () => {
    const ds = asDataset(detectDataset(join(root, 'era5')));
    const r = await loadEra5Background(ds);
    assert.equal(r.samples.length, 8);
    assert.deepEqual(r.samples[0], { pointId: '52.6/13.1', lat: 52.6, lon: 13.1, validTimeMs: T0, tempC: 10 });
    assert.equal(new Set(r.samples.map((s) => s.pointId)).size, 2);
  });
});
