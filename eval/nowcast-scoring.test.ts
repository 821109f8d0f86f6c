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

  it('jumpiness floor: each chain of revisions of one target time counts only its first-to-last change', () => {
    // slots 0, 1, 2 (gap 1) and 4 (gap 2); K = 3, so issue s forecasts times s, s+1, s+2
    //   issue 0: times 0,1,2 -> [0, 1, 2]; issue 1: times 1,2,3 -> [1.5, 4, 5]; issue 2: times 2,3,4 -> [3, 4, 0]; issue 3: times 4,5,6 -> [2, 0, 0]
    // revisions, gap 1: time 1 1 -> 1.5 (0.5); time 2 2 -> 4 -> 3 (2, 1); time 3 5 -> 4 (1): mean 4.5 / 4
    //            gap 2: time 4 0 -> 2 (2)
    // chains:    gap 1: time 1 |1.5 - 1| = 0.5; time 2 |3 - 2| = 1 (the zigzag 2 -> 4 -> 3 costs 3); time 3 |4 - 5| = 1: 2.5 / 4
    //            gap 2: time 4 |2 - 0| = 2: 2 / 1
    const s = issues([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]], [0, 1, 2, 4], [0, 0, 0, 0]);
    const j = jumpiness(s, { m: Float64Array.from([0, 1, 2, 1.5, 4, 5, 3, 4, 0, 2, 0, 0]) });
    close(j.byGap[1]!.byMethod['m']!, 4.5 / 4, tol);
    close(j.byGap[1]!.floorByMethod['m']!, 2.5 / 4, tol);
    close(j.byGap[2]!.byMethod['m']!, 2, tol);
    close(j.byGap[2]!.floorByMethod['m']!, 2, tol);
    close(j.byMethod['m']!, 6.5 / 5, tol);
    close(j.floorByMethod['m']!, 4.5 / 5, tol);
    // a missing forecast drops its comparisons: issue 1 has none of time 2, so time 2 is compared in neither
    // pair; gap 1 keeps time 1 (0.5) and time 3 (1), each a chain of one revision, its own floor
    const broken = jumpiness(s, { m: Float64Array.from([0, 1, 2, 1.5, NaN, 5, 3, 4, 0, 2, 0, 0]) });
    close(broken.byGap[1]!.byMethod['m']!, 1.5 / 2, tol);
    close(broken.byGap[1]!.floorByMethod['m']!, 1.5 / 2, tol);
  });

  it('jumpiness floor: never above the jumpiness, and equal to it when every target time is revised one way', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const n = 400, K = 3;
    const slots: number[] = [], series: number[] = [];
    for (let i = 0, slot = 0, se = 0; i < n; i++) {
      if (rand() < 0.05) { se++; slot = 0; }
      slot += 1 + Math.floor(rand() * 3); // gaps 1..3 (3 = K: not compared)
      slots.push(slot); series.push(se);
    }
    const s = issues(Array.from({ length: n }, () => [0, 0, 0]), slots, series);
    const noisy = Float64Array.from({ length: n * K }, () => (rand() < 0.05 ? NaN : rand() * 4 - 2));
    // one way: the forecast of time t issued at lead k is the truth of t plus 0.3 k (it only ever falls toward it)
    const truth = (t: number, se: number) => Math.sin(t * 0.7 + se);
    const monotone = Float64Array.from({ length: n * K }, (_, q) => { const i = Math.floor(q / K), k = q % K; return truth(slots[i]! + k, series[i]!) + 0.3 * k; });
    const j = jumpiness(s, { noisy, monotone });
    assert.ok(j.comparisons > 100);
    for (const [g, v] of [['all', j] as const, ...Object.entries(j.byGap)]) {
      assert.ok(v.floorByMethod['noisy']! <= v.byMethod['noisy']! + 1e-12, `gap ${g}`);
    }
    // with K = 3 only gap 1 revises a time twice; a chain of one revision is its own floor
    assert.ok(j.byGap[1]!.floorByMethod['noisy']! < j.byGap[1]!.byMethod['noisy']!, 'random forecasts zigzag');
    close(j.byGap[2]!.floorByMethod['noisy']!, j.byGap[2]!.byMethod['noisy']!, { atol: 1e-12 });
    const m = jumpiness(s, { monotone });
    close(m.floorByMethod['monotone']!, m.byMethod['monotone']!, { atol: 1e-12 });
  });
});
