import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractIssues } from './issues.ts';
import { keepLastHistory, restartHistory, restartPhase, sparseHistoryCopies } from './cold-start.ts';

const T = Date.UTC(2017, 2, 1);
const series = (id: string, n: number) => ({ id, lat: 52.5, lon: 13.1, startMs: T, values: Float64Array.from({ length: n }, (_, k) => k), sampling: 'sub-hourly' as const });
const o = { historySteps: 4, trajectorySteps: 2 };
const known = (h: Float64Array, i: number) => Array.from(h.subarray(i * 4, i * 4 + 4), (v) => (Number.isNaN(v) ? '.' : String(v))).join(' ');

describe('cold starts', () => {
  const issues = extractIssues([{ series: series('a', 40), background: null, slots: [10, 11, 12, 13, 14, 15] }, { series: series('b', 40), background: null, slots: [10] }], o);

  it('keeps the last m steps of history; the rest of the issue is untouched', () => {
    assert.equal(known(keepLastHistory(issues, 0).history, 0), '. . . .');
    assert.equal(known(keepLastHistory(issues, 2).history, 0), '. . 8 9');
    assert.equal(known(keepLastHistory(issues, 4).history, 0), '6 7 8 9');
    assert.equal(known(keepLastHistory(issues, 9).history, 0), '6 7 8 9');
    const cut = keepLastHistory(issues, 1);
    assert.deepEqual(cut.target, issues.target);
    assert.deepEqual(cut.filter, issues.filter);
    assert.equal(known(issues.history, 0), '6 7 8 9', 'the input is not changed');
    assert.throws(() => keepLastHistory(issues, -1), /non-negative integer/);
  });

  it('restarts: the history is cut at the last restart, shared by consecutive issues of a series', () => {
    const period = 5;
    const phase = restartPhase(0, period);
    assert.ok(phase >= 0 && phase < period);
    const r = restartHistory(issues, period);
    for (let i = 0; i < 6; i++) {
      const slot = issues.slot[i]!;
      const lastRestart = slot - (((slot - phase) % period) + period) % period;
      // the history's steps are slots slot − 4 … slot − 1; kept: those at or after the restart
      const expected = [0, 1, 2, 3].map((k) => (slot - 4 + k >= lastRestart ? String(slot - 4 + k) : '.')).join(' ');
      assert.equal(known(r.history, i), expected, `issue at slot ${slot} (restart at ${lastRestart})`);
    }
    // an issue at a restart has no history; one a full history after it, all of it
    const at = Array.from(issues.slot.subarray(0, 6)).indexOf(10 + ((phase - 10) % period + period) % period);
    assert.equal(known(r.history, at), '. . . .');
  });

  it('series restart at phases of their own', () => {
    const all = Array.from({ length: 50 }, (_, s) => restartPhase(s, 192));
    assert.ok(all.every((p) => Number.isInteger(p) && p >= 0 && p < 192), all.join(' '));
    const phases = new Set(all);
    assert.ok(phases.size > 30, `${phases.size} distinct phases of 50`);
    assert.throws(() => restartHistory(issues, 0), /positive integer/);
  });

  it('sparse histories: a reading every e steps back from lead 0, held through the steps between', () => {
    // issue 0 (slot 10) has history 6 7 8 9 (steps 4 … 1 before lead 0)
    const two = sparseHistoryCopies(issues, [0], [2]);
    assert.equal(two.n, 1);
    assert.equal(known(two.history, 0), '6 6 8 8', 'the readings 4 and 2 steps back, each held for the step after it');
    // e = 4: the reading 4 steps back (6), held to the last step
    assert.equal(known(sparseHistoryCopies(issues, [0], [4]).history, 0), '6 6 6 6');
    // e = 3: the reading 3 steps back (7), held; the step 4 back comes before any reading
    assert.equal(known(sparseHistoryCopies(issues, [0], [3]).history, 0), '. 7 7 7');
    // a missing reading holds nothing
    const gap = { ...issues, history: Float64Array.from(issues.history, (v, q) => (q === 1 ? NaN : v)) };
    assert.equal(known(sparseHistoryCopies(gap, [0], [3]).history, 0), '. . . .');
    // the rest of the issue is the original's, and e is one of the choices by a hash of the row
    const many = sparseHistoryCopies(issues, [0, 1, 2, 3, 4, 5, 6], [2, 4]);
    assert.deepEqual(many.target, issues.target);
    assert.deepEqual(many.filter, issues.filter);
    const es = Array.from({ length: many.n }, (_, q) => (many.history[q * 4 + 1] === many.history[q * 4 + 2] ? 4 : 2));
    assert.ok(es.includes(2) && es.includes(4), `both choices used: ${es.join(' ')}`);
    assert.equal(known(issues.history, 0), '6 7 8 9', 'the input is not changed');
    assert.throws(() => sparseHistoryCopies(issues, [0], [1]), /integer ≥ 2/);
    assert.throws(() => sparseHistoryCopies(issues, [0], []), /integer ≥ 2/);
  });
});
