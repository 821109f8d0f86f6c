import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_QC } from '../../pipeline/qc/defaults.ts';
import { addConfusion, agreementOf, buddyCase, checkWindows, EMPTY_CONFUSION, sctCase } from './check-comparison.ts';

const T0 = Date.UTC(2017, 5, 1, 12);
const cols = (rows: [string, number, number, number][]) => ({
  sensorId: rows.map((r) => r[0]), timeMs: Float64Array.from(rows, (r) => r[1]), lat: Float64Array.from(rows, () => 52.5), lon: Float64Array.from(rows, (_r, i) => 13.4 + 0.001 * i),
  elevationM: Float64Array.from(rows, (r) => r[2]), tempC: Float64Array.from(rows, (r) => r[3]), official: new Uint8Array(rows.length),
});

test('windows of sensors: the median reading per sensor, sensors without elevation left out, innovations with a background', () => {
  const rows: [string, number, number, number][] = [
    ['b', T0 + 1000, 40, 11], ['a', T0, 35, 10], ['a', T0 + 60_000, 35, 12], ['a', T0 + 120_000, 35, 20], ['nz', T0, NaN, 9], ['a', T0 + 3_600_000, 35, 5],
  ];
  const r = checkWindows(cols(rows), { windowMs: 3_600_000 });
  assert.equal(r.windows.length, 2);
  assert.equal(r.withoutElevation, 1);
  assert.deepEqual(r.windows[0]!.ids, ['a', 'b']);
  assert.deepEqual(r.windows[0]!.tempC, [12, 11]);
  assert.deepEqual(r.windows[0]!.sctValue, [12, 11]);
  assert.deepEqual(r.windows[0]!.z, [35, 40]);
  assert.equal(r.windows[0]!.plane.x.length, 2);
  const withBg = checkWindows(cols(rows), { windowMs: 3_600_000, background: (_p, t) => (t < T0 + 90_000 ? 10 : NaN) });
  // a's innovations: 0 and 2 where the background has a value (not at its third reading).
  assert.deepEqual(withBg.windows[0]!.sctValue, [1, 1], 'a: median of 0 and 2; b: 11 − 10');
  assert.equal(withBg.windows.length, 1, 'the second window has no background value at all');
  assert.equal(withBg.withoutBackground, 1);
});

test('confusion counts and agreement', () => {
  const c = addConfusion({ ...EMPTY_CONFUSION }, [0, 1, 1, 0, 0], [0, 1, 0, 1, 0]);
  assert.deepEqual(c, { n: 5, bothOk: 2, bothFlagged: 1, oursOnly: 1, titanlibOnly: 1 });
  assert.equal(agreementOf(c), 0.6);
  assert.ok(Number.isNaN(agreementOf(EMPTY_CONFUSION)));
  assert.throws(() => addConfusion({ ...EMPTY_CONFUSION }, [0], [0, 1]), /ours has 1 flags, titanlib 2/);
});

test('the chain settings map onto titanlib arguments (inner_radius 0, box-mean background)', () => {
  const [w] = checkWindows(cols([['a', T0, 35, 10]]), { windowMs: 3_600_000 }).windows;
  const b = buddyCase(w!, DEFAULT_QC.buddy);
  assert.deepEqual([b.radius, b.num_min, b.threshold, b.max_elev_diff, b.elev_gradient, b.min_std, b.num_iterations], [3000, 3, 3, 200, -0.0065, 1, 2]);
  const s = sctCase(w!, DEFAULT_QC.sct);
  assert.deepEqual([s.inner_radius, s.outer_radius, s.num_min, s.num_max, s.num_min_prof, s.min_horizontal_scale, s.vertical_scale, s.pos, s.neg, s.eps2], [0, 3000, 5, 20, -1, 500, 200, 4, 8, 0.5]);
});
