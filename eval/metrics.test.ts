import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { close } from '../infra/testing/close.ts';
import { CentredErrorAccumulator, ErrorAccumulator, errorStats, GAUSSIAN_ONE_SIGMA, rmseSkill, roundFigures, spreadSkill } from './metrics.ts';

// Tolerance: these are a handful of exact decimal operations, so 1e-12 K is ample for rounding.
const TOL = { atol: 1e-12 };

describe('metrics', () => {
  it('centred RMSE: each group’s own offset taken out (hand-computed), and rmse² = crmse² + offset²', () => {
    // group a: errors 1, 3 (mean 2, deviations ±1); group b: errors -1, -1, -4 (mean -2, deviations 1, 1, -2).
    // crmse² = (1 + 1 + 1 + 1 + 4) / 5 = 8/5; offset² = (2·4 + 3·4) / 5 = 4; rmse² = (1+9+1+1+16)/5 = 28/5.
    const c = new CentredErrorAccumulator();
    [[1, 0], [3, 0]].forEach(([f, t]) => c.add('a', f!, t!));
    [[9, 10], [0, 1], [-4, 0]].forEach(([f, t]) => c.add('b', f!, t!));
    assert.equal(c.add('b', NaN, 1), false);
    const r = c.result();
    assert.equal(r.n, 5);
    assert.equal(r.groups, 2);
    close(r.crmseK, Math.sqrt(8 / 5), TOL);
    close(r.rmsOffsetK, 2, TOL);
    close(r.rmseK, Math.sqrt(28 / 5), TOL);
    close(r.rmseK, errorStats([1, 3, 9, 0, -4], [0, 0, 10, 1, 0]).rmseK, TOL);
    // A constant offset per group is all offset; no pairs gives NaN.
    const k = new CentredErrorAccumulator();
    k.add(1, 5, 3); k.add(1, 7, 5); k.add(2, 0, 1);
    close(k.result().crmseK, 0, TOL);
    assert.ok(Number.isNaN(new CentredErrorAccumulator().result().crmseK));
  });

  it('bias, MAE, RMSE of errors +1, -2, +4 (hand-computed)', () => {
    // e = forecast - truth = [1, -2, 4]: bias 3/3 = 1, MAE 7/3, RMSE sqrt(21/3) = sqrt(7)
    const s = errorStats([11, 8, 14], [10, 10, 10]);
    assert.equal(s.n, 3);
    close(s.biasK, 1, TOL);
    close(s.maeK, 7 / 3, TOL);
    close(s.rmseK, Math.sqrt(7), TOL);
  });

  it('a perfect forecast has zero error; a constant offset has |bias| = MAE = RMSE', () => {
    const p = errorStats([1, 2, 3], [1, 2, 3]);
    assert.deepEqual(p, { biasK: 0, maeK: 0, rmseK: 0, n: 3 });
    const c = errorStats([0.5, 1.5], [1, 2]);
    close(c.biasK, -0.5, TOL);
    close(c.maeK, 0.5, TOL);
    close(c.rmseK, 0.5, TOL);
  });

  it('ignores non-finite pairs; no pairs gives NaN figures and n = 0', () => {
    const a = new ErrorAccumulator();
    assert.equal(a.add(NaN, 1), false);
    assert.equal(a.add(1, Infinity), false);
    const r = a.result();
    assert.equal(r.n, 0);
    assert.ok(Number.isNaN(r.rmseK) && Number.isNaN(r.biasK) && Number.isNaN(r.maeK));
    assert.throws(() => errorStats([1], []), /differ in length/);
  });

  it('spread-skill: fraction within ±1 sigma, RMS sigma and RMSE/sigma (hand-computed)', () => {
    // errors 0.5, -1.5, 1.0 (boundary counts as inside), 3.0 with sigmas 1, 1, 1, 2:
    // within = 2/4; rms sigma = sqrt((1+1+1+4)/4) = sqrt(7/4); RMSE = sqrt((0.25+2.25+1+9)/4) = sqrt(12.5/4)
    const s = spreadSkill([10.5, 8.5, 11, 13], [1, 1, 1, 2], [10, 10, 10, 10]);
    assert.equal(s.n, 4);
    close(s.withinOneSigma, 0.5, TOL);
    close(s.rmsSigmaK, Math.sqrt(7 / 4), TOL);
    close(s.rmseToSigma, Math.sqrt(12.5 / 4) / Math.sqrt(7 / 4), TOL);
  });

  it('the Gaussian one-sigma fraction is erf(1/sqrt 2) ≈ 0.6827', () => {
    close(GAUSSIAN_ONE_SIGMA, 0.682689492, { atol: 1e-9 }); // tabulated value
  });

  it('rmseSkill and roundFigures', () => {
    close(rmseSkill(0.8, 1.0), 0.2, TOL);
    assert.deepEqual(roundFigures({ a: 1.234567, n: 12, x: [0.00004, NaN], s: 'k' }, 4), { a: 1.2346, n: 12, x: [0, NaN], s: 'k' });
  });
});
