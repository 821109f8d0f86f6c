import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { referencePythonForTests } from '../../infra/reference/index.ts';
import { tempDir } from '../fixtures.ts';
import { qcCompareCommand } from './compare.ts';
import { READING_COLUMNS, readingLine } from './readings-table.ts';

const T0 = Date.UTC(2017, 0, 10, 2);

/** 36 sensors on a 6 × 6 grid 300 m apart, 10 °C with a little scatter, two 8 K outliers; two 5-minute windows. */
function writeReadings(path: string): void {
  const lines = [READING_COLUMNS.join(',')];
  for (let w = 0; w < 2; w++) {
    for (let k = 0; k < 36; k++) {
      const outlier = (k === 7 && w === 0) || (k === 20 && w === 1);
      lines.push(readingLine({ sensorId: `s${k}`, timeMs: T0 + w * 300_000, lat: 52.5 + 0.0027 * Math.floor(k / 6), lon: 13.4 + 0.0044 * (k % 6), elevationM: 30 + (k % 5), tempC: 10 + 0.3 * Math.sin(3 * k + w) + (outlier ? 8 : 0), official: false }));
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

test('qc:compare reports agreement, confusion counts and both timings as one JSON line', async (t) => {
  const python = await referencePythonForTests();
  if (typeof python !== 'string') return t.skip(python.skip);
  const input = join(tempDir('qc-compare-'), 'in.csv');
  writeReadings(input);
  let stdout = '', stderr = '';
  const code = await qcCompareCommand(['--readings', input, '--json'], { progress: () => {}, stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } });
  assert.equal(code, 0, stderr);
  const r = JSON.parse(stdout.trim().split('\n').pop()!);
  assert.equal(r.compare, 'qc');
  assert.deepEqual([r.windows, r.sensor_windows, r.window_min], [2, 72, 5]);
  for (const check of ['buddy', 'buddy_all', 'sct']) {
    const f = r[check];
    assert.equal(f.both_ok + f.both_flagged + f.ours_only + f.titanlib_only, 72, check);
    assert.ok(f.ours_seconds >= 0 && f.titanlib_seconds >= 0, `${check}: timings`);
  }
  t.diagnostic(JSON.stringify({ buddy: r.buddy, sct: r.sct }));
  // Two clear outliers among calm neighbours: both buddy checks flag exactly them, both SCTs flag the
  // same (the outliers and one neighbour at the grid's edge).
  assert.deepEqual([r.buddy.both_flagged, r.buddy.agreement], [2, 1]);
  assert.equal(r.sct.agreement, 1);
  assert.ok(r.sct.both_flagged >= 2);
});

test('qc:compare: bad arguments exit 2 with the usage', async () => {
  let stderr = '';
  const io = { progress: () => {}, stdout: () => {}, stderr: (s: string) => { stderr += s; } };
  assert.equal(await qcCompareCommand([], io), 2);
  assert.match(stderr, /--readings is required[\s\S]*usage: npm run qc:compare/);
  assert.equal(await qcCompareCommand(['--readings', 'x.csv', '--threads', '0'], io), 2);
});
