import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grossErrorCheck, rangeCheck } from './range-check.ts';

test('range check: titanlib\'s semantics (inclusive bounds, non-finite values flagged)', () => {
  assert.deepEqual([...rangeCheck([-61, -60, 0, 60, 60.01, NaN, Infinity], -60, 60)], [1, 0, 0, 0, 1, 1, 1]);
  assert.throws(() => rangeCheck([1], 5, 5), /minC must be < maxC/);
});

test('gross error against the background; an unknown background flags nothing', () => {
  assert.deepEqual([...grossErrorCheck([10, 26, -6, 30], [10, 10, 10, NaN], 15)], [0, 1, 1, 0]);
  assert.throws(() => grossErrorCheck([1, 2], [1], 15), /values has 2 entries, background has 1/);
});
