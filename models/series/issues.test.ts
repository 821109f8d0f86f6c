import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { close } from '../../infra/testing/close.ts';
import { extractIssues, issueSlots, thinHistory } from './issues.ts';
import { splitOf, isValidationTime, WEEK_MS } from './time-split.ts';

const T = Date.UTC(2017, 2, 1);
const series = (values: number[]) => ({ id: 's', lat: 52.5, lon: 13.1, startMs: T, values: Float64Array.from(values), sampling: 'sub-hourly' as const });
const o = { historySteps: 3, trajectorySteps: 3 };

describe('issues at a station', () => {
  it('history before lead 0, targets from lead 0, the filter as background + decaying bias (tau 180 min)', () => {
    const s = series([1, NaN, 3, 4, 5, 6]);
    const bg = Float64Array.from([0, 0, 0, 2, 2.5, NaN]);
    assert.deepEqual(Array.from(issueSlots(s, o)), [3, 4]);
    const r = extractIssues([{ series: s, background: bg, slots: [3] }], o);
    assert.deepEqual(Array.from(r.history), [1, NaN, 3]);
    assert.deepEqual(Array.from(r.target), [4, 5, 6]);
    // bias at t0: 4 − 2 = 2; lead 5 min: 2.5 + 2·e^(−5/180); lead 10 min: no background → NaN
    close(r.filter[0]!, 4, { atol: 0 });
    close(r.filter[1]!, 2.5 + 2 * Math.exp(-5 / 180), { atol: 1e-12 }); // float64 exp
    assert.ok(Number.isNaN(r.filter[2]!));
    assert.equal(r.runTimeMs[0], T + 3 * 300_000);
  });

  it('without a background: the analysis at lead 0, NaN after', () => {
    const r = extractIssues([{ series: series([1, 2, 3, 4, 5]), background: null, slots: [3] }], o);
    assert.equal(r.filter[0], 4);
    assert.ok(Number.isNaN(r.filter[1]!) && Number.isNaN(r.filter[2]!));
  });

  it('an issue needs its reading at lead 0', () => {
    assert.throws(() => extractIssues([{ series: series([1, 2, 3, NaN, 5]), background: null, slots: [3] }], o), /no reading at issue slot 3/);
  });

  it('the split: one week in five for validation, a guard around it for training', () => {
    const w = 4 * WEEK_MS; // epoch week 4 (mod 5 = 4): validation
    assert.equal(isValidationTime(w + 1000), true);
    assert.equal(splitOf(w + WEEK_MS + 3_600_000), 'guard'); // its history reaches back into week 4
    assert.equal(splitOf(w - 1_800_000), 'guard'); // its next hour reaches into week 4
    assert.equal(splitOf(w - 2 * 3_600_000), 'train');
    const weeks = Array.from({ length: 50 }, (_, k) => isValidationTime(k * WEEK_MS + 1)).filter(Boolean).length;
    assert.equal(weeks, 10);
  });

  it('a thinned history keeps the steps every n × 5 min back from lead 0', () => {
    // 5 history steps: valid at t0 − 25, −20, −15, −10, −5 min
    const set = { n: 1, historySteps: 5, trajectorySteps: 1, runTimeMs: new Float64Array(1), lat: new Float64Array(1), lon: new Float64Array(1), history: Float64Array.of(1, 2, 3, 4, 5), filter: new Float64Array(1), target: new Float64Array(1), series: new Int32Array(1), slot: new Int32Array(1) };
    assert.deepEqual(Array.from(thinHistory(set, 2).history), [NaN, 2, NaN, 4, NaN]); // −20 and −10 min
    assert.deepEqual(Array.from(thinHistory(set, 5).history), [1, NaN, NaN, NaN, NaN]); // −25 min
    assert.deepEqual(Array.from(thinHistory(set, 1).history), [1, 2, 3, 4, 5]);
    assert.deepEqual(Array.from(set.history), [1, 2, 3, 4, 5], 'the input is left as it was');
    assert.throws(() => thinHistory(set, 0), /positive integer/);
    // held: each kept step's value through the steps after it; none before the first kept step
    assert.deepEqual(Array.from(thinHistory(set, 2, { hold: true }).history), [NaN, 2, 2, 4, 4]);
    assert.deepEqual(Array.from(thinHistory(set, 5, { hold: true }).history), [1, 1, 1, 1, 1]);
    // by row
    const two = { ...set, n: 2, history: Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), runTimeMs: new Float64Array(2), lat: new Float64Array(2), lon: new Float64Array(2), series: new Int32Array(2), slot: new Int32Array(2) };
    assert.deepEqual(Array.from(thinHistory(two, (i) => (i === 0 ? 5 : 2)).history), [1, NaN, NaN, NaN, NaN, NaN, 7, NaN, 9, NaN]);
  });
});
