import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { close } from '../infra/testing/close.ts';
import type { IssueSet } from '../models/index.ts';
import { jumpiness, scoreLeads } from './nowcast-scoring.ts';

function issues(targets: number[][], slots: number[], series: number[]): IssueSet {
  const n = targets.length, K = 3;
  return {
    n, historySteps: 0, trajectorySteps: K, runTimeMs: new Float64Array(n), lat: new Float64Array(n), lon: new Float64Array(n),
    history: new Float64Array(0), filter: new Float64Array(n * K), target: Float64Array.from(targets.flat()),
    series: Int32Array.from(series), slot: Int32Array.from(slots),
  };
}
const tol = { atol: 1e-12 };

describe('nowcast scoring', () => {
  it('MAE and RMSE per lead on the cases every method has', () => {
    const s = issues([[0, 1, 2], [0, NaN, 4]], [0, 1], [0, 0]);
    const r = scoreLeads(s, { a: Float64Array.from([0, 2, 2, 0, 9, 1]), b: Float64Array.from([0, 1, NaN, 0, 9, 4]) }, [1, 2]);
    assert.equal(r['a']![1]!.n, 1); // the second issue has no target at lead 1
    close(r['a']![1]!.maeK, 1, tol);
    assert.equal(r['a']![2]!.n, 1); // b has no forecast for issue 0 at lead 2
    close(r['a']![2]!.maeK, 3, tol);
    close(r['a']![2]!.rmseK, 3, tol);
    close(r['b']![2]!.maeK, 0, tol);
  });

  it('jumpiness: consecutive issues of one series compared on the target times both cover', () => {
    // issue 0 at slot 0 forecasts times 0,1,2 as [0, 1, 2]; issue 1 at slot 1 forecasts 1,2,3 as [1.5, 2, 5]
    // same times: 1 (1 vs 1.5), 2 (2 vs 2) -> mean |change| 0.25; issue 2 is another series: not compared
    const s = issues([[0, 0, 0], [0, 0, 0], [0, 0, 0]], [0, 1, 2], [0, 0, 1]);
    const j = jumpiness(s, { m: Float64Array.from([0, 1, 2, 1.5, 2, 5, 9, 9, 9]) });
    assert.equal(j.pairs, 1);
    assert.equal(j.comparisons, 2);
    close(j.byMethod['m']!, 0.25, tol);
    // a gap of two slots compares one time (slot 2: lead 2 of the first, lead 0 of the second)
    const g = jumpiness(issues([[0, 0, 0], [0, 0, 0]], [0, 2], [0, 0]), { m: Float64Array.from([0, 1, 2, 3, 0, 0]) });
    assert.equal(g.comparisons, 1);
    close(g.byMethod['m']!, 1, tol);
    assert.deepEqual(Object.keys(g.byGap), ['2']);
    // both gaps in one series: the mean over all comparisons, and each gap's own
    const both = jumpiness(issues([[0, 0, 0], [0, 0, 0], [0, 0, 0]], [0, 1, 3], [0, 0, 0]), { m: Float64Array.from([0, 1, 2, 1.5, 2, 5, 4, 0, 0]) });
    assert.equal(both.comparisons, 3); // gap 1: times 1, 2; gap 2: time 3 (5 against 4)
    close(both.byGap[1]!.byMethod['m']!, 0.25, tol);
    assert.equal(both.byGap[1]!.comparisons, 2);
    close(both.byGap[2]!.byMethod['m']!, 1, tol);
    close(both.byMethod['m']!, 1.5 / 3, tol);
    // by the later issue's lead within each gap: gap 1 has lead 0 at time 1 (1.5 against 1) and lead 1 at
    // time 2 (2 against 2); gap 2 has lead 0 at time 3 (4 against 5)
    assert.deepEqual(Object.keys(both.byGap[1]!.byLead), ['0', '1']);
    close(both.byGap[1]!.byLead[0]!.byMethod['m']!, 0.5, tol);
    close(both.byGap[1]!.byLead[1]!.byMethod['m']!, 0, tol);
    assert.deepEqual(Object.keys(both.byGap[2]!.byLead), ['0']);
    close(both.byGap[2]!.byLead[0]!.byMethod['m']!, 1, tol);
    assert.equal(both.byGap[2]!.byLead[0]!.comparisons, 1);
  });
});
