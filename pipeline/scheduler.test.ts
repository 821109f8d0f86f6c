import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dueWindowEnd } from './scheduler.ts';

describe('scheduler', () => {
  it('the due window ends at the last interval boundary at least the lag old', () => {
    const t = Date.UTC(2026, 0, 1, 12, 5, 3); // 12:05:03
    assert.equal(dueWindowEnd(t, 300_000, 5_000), Date.UTC(2026, 0, 1, 12, 0)); // 12:04:58 -> 12:00
    assert.equal(dueWindowEnd(t + 2_000, 300_000, 5_000), Date.UTC(2026, 0, 1, 12, 5)); // 12:05:00 -> 12:05
    assert.equal(dueWindowEnd(t, 60_000, 0), Date.UTC(2026, 0, 1, 12, 5));
  });
});
