import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { extractIssues } from './issues.ts';
import { keepLastHistory, restartHistory, restartPhase } from './cold-start.ts';

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
});
