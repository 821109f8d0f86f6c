import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TEMPORAL, EMPTY_TRACK, temporalChecks } from './temporal-checks.ts';
import { REASON_CODE } from './reasons.ts';

const MIN = 60_000;
const run = (times: number[], temps: number[], track = EMPTY_TRACK, o = DEFAULT_TEMPORAL) => {
  const reasons = new Uint8Array(times.length);
  const t = temporalChecks(times, temps, track, o, reasons);
  return { reasons: [...reasons], track: t };
};

test('step: a change beyond base + rate × gap against the last accepted reading', () => {
  // 5 K + 10 K/h: over 5 min at most 5.83 K; over 1 h at most 15 K.
  assert.deepEqual(run([0, 5 * MIN, 10 * MIN], [10, 16, 16.2]).reasons, [0, REASON_CODE.step, 0]); // 16.2 is 6.2 K from 10 after 10 min: allowed
  assert.deepEqual(run([0, 60 * MIN], [10, 24.9]).reasons, [0, 0]);
  // Across windows, through the track; beyond the max gap nothing is compared.
  const first = run([0], [10]).track;
  assert.deepEqual(run([5 * MIN], [17], first).reasons, [REASON_CODE.step]);
  assert.deepEqual(run([4 * 60 * MIN], [30], first).reasons, [0]);
});

test('spike: out and back within half an hour; a lasting change is not a spike', () => {
  assert.deepEqual(run([0, 5 * MIN, 10 * MIN, 15 * MIN], [10, 14, 10.2, 10.1]).reasons, [0, REASON_CODE.spike, 0, 0]);
  assert.deepEqual(run([0, 5 * MIN, 10 * MIN], [10, 14, 14.1]).reasons, [0, 0, 0]);
});

test('flat line: equal values for 6 h and 5 readings are flagged from then on, until the value changes', () => {
  const times = Array.from({ length: 9 }, (_, i) => i * 60 * MIN);
  const temps = [5, 5, 5, 5, 5, 5, 5, 5.1, 5.1];
  // The 7th reading (t = 6 h) completes 6 h of one value.
  assert.deepEqual(run(times, temps).reasons, [0, 0, 0, 0, 0, 0, REASON_CODE.flatline, 0, 0]);
  // The run carries over windows through the track.
  const half = run(times.slice(0, 4), temps.slice(0, 4)).track;
  assert.deepEqual(run(times.slice(4), temps.slice(4), half).reasons, [0, 0, REASON_CODE.flatline, 0, 0]);
});
