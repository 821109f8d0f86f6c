// Partners for the revision penalty: the next reading at the station within MAX_PARTNER_GAP steps, in
// the same part of the split; none for hourly series.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PARTNER_GAP, selectTrainingSet, withColdStartCopies, withSparseHistoryCopies, type TrainingSet } from './training-set.ts';
import { splitOf } from '../series/time-split.ts';
import type { GridSeries } from '../series/grid-series.ts';

// One training-part day (2017-03-01 lies in a training week; checked below), 5-minute slots.
const T = Date.UTC(2017, 2, 1);
const SLOTS = 288;
const big = { subHourlyWithBackground: 1e6, subHourlyWithout: 1e6, hourlyWithBackground: 1e6, hourlyWithout: 1e6 };
function series(every: number, sampling: GridSeries['sampling'] = 'sub-hourly'): GridSeries {
  return { id: `every${every}`, lat: 52.5, lon: 13.1, startMs: T, values: Float64Array.from({ length: SLOTS }, (_, k) => (k % every === 0 ? 10 + Math.sin(k / 20) : NaN)), sampling };
}

it('a 5-minute series pairs each issue with the next slot, a 20-minute one with the fourth, a 35-minute one with none', () => {
  for (let k = 0; k < SLOTS; k++) assert.equal(splitOf(T + k * 300_000), 'train'); // the day is wholly in the training part
  for (const [every, gap] of [[1, 1], [4, 4], [MAX_PARTNER_GAP + 1, 0]] as const) {
    const s = series(every);
    const ts = selectTrainingSet([{ series: s, background: null, source: 'test' }], big);
    let paired = 0;
    for (let i = 0; i < ts.issues.n; i++) {
      const p = ts.partner[i]!;
      if (p < 0) { assert.equal(ts.partnerGap[i], 0); continue; }
      paired++;
      assert.equal(ts.unit[i], 1, 'only chosen issues have partners');
      assert.equal(ts.issues.slot[p]! - ts.issues.slot[i]!, gap, `every ${every}: partner ${gap} steps later`);
      assert.equal(ts.partnerGap[i], gap);
    }
    const chosen = ts.unit.reduce((a, u) => a + u, 0);
    // every chosen issue but those whose next reading is past the end of the series
    if (gap > 0) assert.ok(paired >= chosen - 2 && paired > 0, `every ${every}: ${paired} of ${chosen} paired`);
    else assert.equal(paired, 0);
  }
});

it('hourly series get no partners', () => {
  const ts = selectTrainingSet([{ series: series(12, 'hourly'), background: null, source: 'test' }], big);
  assert.ok(ts.issues.n > 0);
  assert.ok(Array.from(ts.partner).every((p) => p === -1));
});

/** Row c of `out` is a copy of row `row` of `ts`: same slot, part and targets, chosen, without a partner. */
function assertCopyOf(out: TrainingSet, ts: TrainingSet, c: number, row: number): void {
  const K = ts.issues.trajectorySteps;
  assert.equal(out.issues.slot[c], ts.issues.slot[row]);
  assert.equal(out.part[c], ts.part[row]);
  assert.equal(out.unit[c], 1);
  assert.equal(out.partner[c], -1);
  assert.deepEqual(out.issues.target.subarray(c * K, (c + 1) * K), ts.issues.target.subarray(row * K, (row + 1) * K));
}

it('cold-start copies: one of every k chosen issues appended with a short history, in its part, without a partner', () => {
  const ts = selectTrainingSet([{ series: series(1), background: null, source: 'test' }], big);
  const out = withColdStartCopies(ts, { every: 3, maxSteps: 5 });
  const chosen = Array.from(ts.unit.keys()).filter((i) => ts.unit[i] === 1);
  const copied = chosen.filter((_, k) => k % 3 === 0);
  assert.equal(out.issues.n, ts.issues.n + copied.length);
  // the rows before are unchanged
  assert.deepEqual(out.issues.history.subarray(0, ts.issues.history.length), ts.issues.history);
  assert.deepEqual(Array.from(out.partner.subarray(0, ts.issues.n)), Array.from(ts.partner));
  const H = ts.issues.historySteps;
  const lengths = new Set<number>();
  copied.forEach((row, q) => {
    const c = ts.issues.n + q;
    assertCopyOf(out, ts, c, row);
    // a suffix of the original history is kept, 0…5 steps of it, the rest NaN
    const h = out.issues.history.subarray(c * H, (c + 1) * H), orig = ts.issues.history.subarray(row * H, (row + 1) * H);
    let kept = 0;
    while (kept < H && !Number.isNaN(h[H - 1 - kept]!)) kept++;
    assert.ok(kept <= 5, `row ${row}: ${kept} steps kept`);
    for (let k = 0; k < H; k++) assert.ok(k >= H - kept ? h[k] === orig[k] : Number.isNaN(h[k]!), `row ${row} step ${k}`);
    lengths.add(kept);
  });
  assert.ok(lengths.size >= 4, `kept lengths ${[...lengths].join(', ')}`);
});

it('sparse-history copies: other issues than the cold-start ones, in their part, without a partner, a reading every e steps held', () => {
  const ts = selectTrainingSet([{ series: series(1), background: null, source: 'test' }], big);
  const out = withSparseHistoryCopies(ts, { every: 4, everyChoices: [3, 6], offset: 2 });
  const chosen = Array.from(ts.unit.keys()).filter((i) => ts.unit[i] === 1);
  const copied = chosen.filter((_, k) => (k + 2) % 4 === 0);
  assert.ok(copied.every((row) => chosen.indexOf(row) % 4 !== 0), 'none of the issues the cold-start copies take (k mod 4 = 0)');
  assert.equal(out.issues.n, ts.issues.n + copied.length);
  assert.deepEqual(out.issues.history.subarray(0, ts.issues.history.length), ts.issues.history);
  const H = ts.issues.historySteps;
  copied.forEach((row, q) => {
    const c = ts.issues.n + q;
    assertCopyOf(out, ts, c, row);
    // the last step before lead 0 holds a reading 3 or 6 steps back (this test series has no gaps)
    const h = out.issues.history.subarray(c * H, (c + 1) * H), orig = ts.issues.history.subarray(row * H, (row + 1) * H);
    assert.ok(h[H - 1] === orig[H - 3] || h[H - 1] === orig[H - 6], `row ${row}`);
  });
});
