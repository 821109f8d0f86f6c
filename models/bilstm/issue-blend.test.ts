// The served blend against values computed by hand (short trajectories, weights that are exact in binary).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { close } from '../../infra/testing/close.ts';
import { blendIssue, blendIssueSequence, blendWeights, BlendError, SERVED_BLEND } from './issue-blend.ts';

// sums of two products of short decimals: float64 rounding ~1e-15
const tol = { atol: 1e-12 };
const closeAll = (a: ArrayLike<number>, e: readonly number[], what: string) => {
  assert.equal(a.length, e.length, `${what}: length`);
  e.forEach((v, k) => (Number.isNaN(v) ? assert.ok(Number.isNaN(a[k]!), `${what}[${k}] is NaN`) : close(a[k]!, v, tol, `${what}[${k}]`)));
};

describe('issue blend', () => {
  it('weights: constant and linear shapes, lead 0 always 1', () => {
    closeAll(blendWeights({ wMin: 0.25, shape: 'constant' }, 5), [1, 0.25, 0.25, 0.25, 0.25], 'constant');
    // 1 − 0.5 · k/4
    closeAll(blendWeights({ wMin: 0.5, shape: 'linear' }, 5), [1, 0.875, 0.75, 0.625, 0.5], 'linear');
    closeAll(blendWeights({ wMin: 1, shape: 'linear' }, 3), [1, 1, 1], 'no blend');
    assert.throws(() => blendWeights({ wMin: 0, shape: 'constant' }, 5), BlendError);
    assert.throws(() => blendWeights({ wMin: 1.5, shape: 'linear' }, 5), BlendError);
    assert.throws(() => blendWeights({ wMin: 0.5, shape: 'cubic' as 'linear' }, 5), BlendError);
    const served = blendWeights(SERVED_BLEND, 13);
    assert.equal(served[0], 1);
    for (let k = 1; k < 13; k++) assert.ok(served[k]! > 0 && served[k]! <= served[k - 1]!, `served weights fall with lead (k=${k})`);
  });

  it('one issue: blends where the previous trajectory reaches, keeps lead 0 and the leads beyond it', () => {
    const weights = [1, 0.5, 0.5, 0.5];
    const nn = [10, 11, 12, 13];
    const prev = [9, 10.5, 11, 14];
    const out = new Float64Array(4);
    // gap 1: F[1] = .5·11 + .5·prev[2] = 11; F[2] = .5·12 + .5·prev[3] = 13; F[3] has no prev[4]
    blendIssue({ weights, steps: 4, nn, prev, gap: 1, out });
    closeAll(out, [10, 11, 13, 13], 'gap 1');
    // gap 2: F[1] = .5·11 + .5·prev[3] = 12.5; F[2], F[3] beyond the previous trajectory
    blendIssue({ weights, steps: 4, nn, prev, gap: 2, out });
    closeAll(out, [10, 12.5, 12, 13], 'gap 2');
    // gap ≥ steps, gap 0, no previous: the network's trajectory
    for (const [p, g] of [[prev, 4], [prev, 0], [null, 1]] as const) {
      blendIssue({ weights, steps: 4, nn, prev: p, gap: g, out });
      closeAll(out, nn, `prev ${p ? 'given' : 'none'}, gap ${g}`);
    }
    // a NaN in the previous trajectory: that lead is the network's; a NaN of the network stays NaN
    blendIssue({ weights, steps: 4, nn: [10, NaN, 12, 13], prev: [9, 10.5, 11, NaN], gap: 1, out });
    closeAll(out, [10, NaN, 12, 13], 'NaNs');
  });

  it('is recursive over a series: the served trajectory feeds the next issue', () => {
    const steps = 3, weights = [1, 0.5, 0.5];
    // series 0 at slots 0, 1, 3; series 1 at slot 1
    const nn = [0, 4, 8, /**/ 1, 2, 6, /**/ 3, 3, 3, /**/ 5, 5, 5];
    const served = blendIssueSequence({ nn, n: 4, steps, series: [0, 0, 0, 1], slot: [0, 1, 3, 1], blend: { wMin: 0.5, shape: 'constant' } });
    // issue 0: no previous → [0, 4, 8]
    // issue 1 (gap 1): F[1] = .5·2 + .5·8 = 5; F[2] = 6 → [1, 5, 6]
    // issue 2 (gap 2): lead 1 would need issue 1's F[3], beyond its 3 steps → the network's [3, 3, 3]
    // issue 3 is another series: its own network trajectory
    closeAll(served.subarray(0, 3), [0, 4, 8], 'issue 0');
    closeAll(served.subarray(3, 6), [1, 5, 6], 'issue 1');
    closeAll(served.subarray(6, 9), [3, 3, 3], 'issue 2 (gap 2 of 3 steps: nothing to blend)');
    closeAll(served.subarray(9, 12), [5, 5, 5], 'issue 3 (new series)');
    // a chain of gap-1 issues: the blend uses the previous SERVED value (recursion), not the previous network value
    const chain = blendIssueSequence({ nn: [0, 0, 8, /**/ 0, 0, 0, /**/ 0, 0, 0], n: 3, steps, series: [0, 0, 0], slot: [0, 1, 2], blend: { wMin: 0.5, shape: 'constant' } });
    // issue 1: [0, .5·0 + .5·8 = 4, 0]; issue 2: [0, .5·0 + .5·0 = 0, 0] from issue 1's served F[2] = 0
    closeAll(chain, [0, 0, 8, 0, 4, 0, 0, 0, 0], 'chain');
    const chain2 = blendIssueSequence({ nn: [0, 0, 8, /**/ 0, 0, 4, /**/ 0, 0, 0], n: 3, steps, series: [0, 0, 0], slot: [0, 1, 2], blend: { wMin: 0.5, shape: 'constant' } });
    // issue 1: [0, 4, 4]; issue 2: F[1] = .5·0 + .5·4 = 2 (issue 1's served F[2] = 4, its own raw value)
    closeAll(chain2, [0, 0, 8, 0, 4, 4, 0, 2, 0], 'chain 2');
    assert.throws(() => blendIssueSequence({ nn, n: 4, steps, series: [0, 0, 0, 1], slot: [0, 1, 1, 1], blend: SERVED_BLEND }), BlendError, 'slots must ascend');
    assert.throws(() => blendIssueSequence({ nn, n: 3, steps, series: [0, 0, 0], slot: [0, 1, 2], blend: SERVED_BLEND }), /n × steps/);
  });
});
