import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValueHistogram } from './histogram.ts';
import { close } from '../../infra/testing/close.ts';

test('median, MAD and mean at 0.01 K resolution; merging in any order gives the same counts', () => {
  const values = [1.23, -0.5, 2, 2.01, 7.77, -3.2, 0];
  const h = new ValueHistogram();
  values.forEach((v) => h.add(v));
  close(h.median(), 1.23, { atol: 1e-9 }, 'median'); // exact values on the 0.01 grid
  // |v − 1.23| = 0, 1.73, 0.77, 0.78, 6.54, 4.43, 1.23 → median 1.23
  close(h.mad(), 1.23, { atol: 1e-9 }, 'mad');
  close(h.mean(), values.reduce((a, b) => a + b, 0) / values.length, { atol: 1e-9 }, 'mean');
  const a = new ValueHistogram(), b = new ValueHistogram();
  values.forEach((v, i) => (i % 2 ? a : b).add(v));
  const ab = new ValueHistogram(); ab.merge(a); ab.merge(b);
  const ba = new ValueHistogram(); ba.merge(b); ba.merge(a);
  assert.deepEqual(ab.counts, ba.counts);
  assert.equal(ab.mean(), ba.mean());
  const even = new ValueHistogram();
  [1, 2, 3, 4].forEach((v) => even.add(v));
  close(even.median(), 2.5, { atol: 1e-9 }, 'even median');
  assert.ok(Number.isNaN(new ValueHistogram().median()));
});
