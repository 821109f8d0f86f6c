import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backgroundOnGrid, resampleToGrid, stampedToGrid, STEP_MS } from './grid-series.ts';

const M = 60_000;
const meta = { id: 's', lat: 52.5, lon: 13.1, sampling: 'sub-hourly' as const };
const T = Date.UTC(2019, 0, 1);

describe('grid series', () => {
  it('each slot takes the nearest reading within half a step; gaps stay NaN (no interpolation)', () => {
    // 3-minute logger at :02, :05, :08, :11, then a 20-minute hole, then :32
    const times = [2, 5, 8, 11, 32].map((m) => T + m * M);
    const s = resampleToGrid(times, [1, 2, 3, 4, 9], meta);
    assert.equal(s.startMs, T); // :02 rounds to the :00 slot
    assert.deepEqual(Array.from(s.values), [1, 2, 4, NaN, NaN, NaN, 9]); // :00 ← :02, :05 ← :05, :10 ← :11 (1 min) over :08 (2 min), :30 ← :32
  });

  it('a reading exactly half-way goes to the earlier slot; unsorted input and NaN values are fine', () => {
    const s = resampleToGrid([T + 7.5 * M, T, T + 3 * M], [7, 0, NaN], meta);
    assert.deepEqual(Array.from(s.values), [0, 7]);
  });

  it('hourly values are stamped on the grid, off-grid times left out', () => {
    const s = stampedToGrid(new Map([[T, 1], [T + 3_600_000, 2], [T + 61 * 1000, 5]]), { ...meta, sampling: 'hourly' });
    assert.equal(s.values.length, 13);
    assert.equal(s.values[0], 1);
    assert.equal(s.values[12], 2);
    assert.equal(s.values.filter((v) => !Number.isNaN(v)).length, 2);
  });

  it('the background on the slots, NaN outside its coverage', () => {
    const s = { ...meta, startMs: T, values: new Float64Array(4) };
    const bg = backgroundOnGrid(s, (t) => (t - T) / STEP_MS, { fromMs: T + STEP_MS, toMs: T + 2 * STEP_MS });
    assert.deepEqual(Array.from(bg), [NaN, 1, 2, NaN]);
  });
});
