import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0, TRUTH_POSITION, writeBaselineFixture } from '../fixtures.ts';
import { UsageError } from '../evaluator.ts';
import { exportReadings } from './export.ts';

const H = 3_600_000;

test('exports crowd (amateur), UCO and, with its position, DWD (official) readings for [from, to), sorted', async () => {
  const root = writeBaselineFixture();
  const { readings: r, sources } = await exportReadings(root, { range: { fromMs: T0, toMs: T0 + 2 * H } });
  const rows = r.timeMs.map((t, i) => `${(t - T0) / 60_000}min ${r.sensorId[i]} ${r.tempC[i]} ${r.official[i] ? 'official' : 'amateur'} z=${r.elevationM[i]}`);
  // Crowd: station 1 (z 34) at T0 and T0 + 1 h, station 2 (unknown z) at T0 + 30 min; its empty value
  // and the unknown station 99 are not readings. UCO: u1 and u2 hourly. DWD: left out without a position.
  assert.deepEqual(rows, [
    '0min 1 11 amateur z=34', '0min u1 10.5 official z=NaN', '0min u2 11 official z=NaN',
    '30min 2 10.5 amateur z=NaN',
    '60min 1 13 amateur z=34', '60min u1 12.5 official z=NaN', '60min u2 13 official z=NaN',
  ]);
  assert.ok(sources.some((s) => /DWD format, left out/.test(s)));
  const withDwd = await exportReadings(root, { range: { fromMs: T0, toMs: T0 + 2 * H }, dwdPosition: TRUTH_POSITION });
  assert.deepEqual(withDwd.readings.sensorId.filter((id) => id.startsWith('dwd-')), ['dwd-433', 'dwd-433']);
  assert.equal(withDwd.readings.lat[withDwd.readings.sensorId.indexOf('dwd-433')], TRUTH_POSITION.lat);
});

test('a range without readings is a usage error', async () => {
  await assert.rejects(exportReadings(writeBaselineFixture(), { range: { fromMs: T0 + 10 * H, toMs: T0 + 11 * H } }), UsageError);
});
