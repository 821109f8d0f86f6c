import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PointIndex } from './point-index.ts';

/** Brute force: every point within r, nearest first, ties by index. */
function brute(x: Float64Array, y: Float64Array, px: number, py: number, r: number): number[] {
  return Array.from(x.keys())
    .map((i) => ({ i, d: Math.hypot(x[i]! - px, y[i]! - py) }))
    .filter((p) => p.d <= r)
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .map((p) => p.i);
}

test('within, nearest and count agree with brute force on a seeded random cloud', () => {
  let s = 7;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const n = 2000;
  const x = Float64Array.from({ length: n }, () => rnd() * 20_000 - 5000);
  const y = Float64Array.from({ length: n }, () => rnd() * 20_000 + 5_800_000);
  x[10] = x[11]!; y[10] = y[11]!; // a tie in distance
  for (const cell of [250, 1000, 5000]) {
    const index = new PointIndex(x, y, cell);
    for (let q = 0; q < 30; q++) {
      const px = rnd() * 20_000 - 5000, py = rnd() * 20_000 + 5_800_000;
      const r = 200 + rnd() * 3000;
      const expected = brute(x, y, px, py, r);
      assert.deepEqual(index.within(px, py, r).map((nb) => nb.index), expected);
      assert.equal(index.count(px, py, r), expected.length);
      assert.deepEqual(index.nearest(px, py, 7, r).map((nb) => nb.index), expected.slice(0, 7));
    }
  }
});

test('points with NaN coordinates or excluded by the filter are never returned', () => {
  const x = Float64Array.of(0, 1, NaN, 3), y = Float64Array.of(0, 0, 0, 0);
  const index = new PointIndex(x, y, 10, (i) => i !== 1);
  assert.deepEqual(index.within(0, 0, 100).map((nb) => nb.index), [0, 3]);
});

test('a radius far larger than the points\' extent costs no more than the extent (searches stop at the occupied buckets)', () => {
  const x = Float64Array.of(0, 30, 5000), y = Float64Array.of(0, 40, 0);
  const index = new PointIndex(x, y, 10);
  assert.deepEqual(index.nearest(0, 0, 10, 1e9).map((nb) => nb.index), [0, 1, 2]);
  assert.deepEqual(index.within(0, 0, 1e9).map((nb) => nb.index), [0, 1, 2]);
  assert.equal(index.count(0, 0, 1e9), 3);
  assert.equal(index.atLeast(0, 0, 1e9, 3), true);
  assert.deepEqual(new PointIndex(new Float64Array(0), new Float64Array(0), 10).nearest(0, 0, 5, 1e9), []);
});
