import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isolationCheck, sharedPositionCheck } from './position-checks.ts';

const pts = (xy: [number, number][]) => ({ x: Float64Array.from(xy, (p) => p[0]), y: Float64Array.from(xy, (p) => p[1]), z: new Float64Array(xy.length).fill(NaN) });

test('isolation: fewer than numMin others within the radius (titanlib isolation_check)', () => {
  const p = pts([[0, 0], [100, 0], [0, 100], [5000, 0]]);
  assert.deepEqual([...isolationCheck(p, 2, 200)], [0, 0, 0, 1]);
  assert.deepEqual([...isolationCheck(p, 3, 200)], [1, 1, 1, 1]);
});

test('shared position: several sensors on one spot are all flagged; one sensor\'s own readings are not', () => {
  const p = pts([[0, 0], [0.5, 0], [300, 0], [300, 0]]);
  assert.deepEqual([...sharedPositionCheck(p, ['a', 'b', 'c', 'c'])], [1, 1, 0, 0]);
});
