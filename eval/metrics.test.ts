import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { close } from '../infra/testing/close.ts';
import { ErrorAccumulator, errorStats, GAUSSIAN_ONE_SIGMA, rmseSkill, roundFigures, spreadSkill } from './metrics.ts';

// Tolerance: these are a handful of exact decimal operations, so 1e-12 K is ample for rounding.
const TOL = { atol: 1e-12 };

describe('metrics', () => {
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
