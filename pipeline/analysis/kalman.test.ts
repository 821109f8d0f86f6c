import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { predictBias, predictTwoScale, steadyRetention, steadyStateGain, twoScalePrior, twoScaleTotal, updateBias, updateTwoScale, type BiasState, type TwoScaleProcess, type TwoScaleState } from './kalman.ts';
import { close } from '../../infra/testing/close.ts';

const HOUR = 3_600_000;
const p = { tauMs: 3 * HOUR, sigmaK: 1.5 };

test('predict relaxes toward zero and the variance toward sigma², scaling with the time step', () => {
  const s: BiasState = { biasK: 2, varK2: 0.1 };
  const one = predictBias(s, HOUR, p);
  close(one.biasK, 2 * Math.exp(-1 / 3), { atol: 1e-15 }, 'bias after 1 h');
  close(one.varK2, 0.1 * Math.exp(-2 / 3) + 2.25 * (1 - Math.exp(-2 / 3)), { atol: 1e-15 }, 'variance after 1 h');
  // Twelve 5-minute steps equal one 1-hour step (the process is Markov in continuous time).
  let t = s;
  for (let i = 0; i < 12; i++) t = predictBias(t, HOUR / 12, p);
  close(t.biasK, one.biasK, { atol: 1e-14 }, 'bias');
  close(t.varK2, one.varK2, { atol: 1e-14 }, 'variance');
  const far = predictBias(s, 1000 * HOUR, p);
  close(far.biasK, 0, { atol: 1e-12 }, 'bias long after');
  close(far.varK2, 2.25, { atol: 1e-12 }, 'variance long after');
});

test('update: the scalar closed form; infinite r leaves the state alone', () => {
  const u = updateBias({ biasK: 1, varK2: 3 }, 2, 1);
  close(u.biasK, 1 + 0.75 * 1, { atol: 1e-15 }, 'bias'); // K = 3/4
  close(u.varK2, 0.75, { atol: 1e-15 }, 'variance');
  assert.deepEqual(updateBias({ biasK: 1, varK2: 3 }, 2, Infinity), { biasK: 1, varK2: 3 });
  assert.throws(() => updateBias({ biasK: 0, varK2: 1 }, 0, 0), /rK2 must be > 0/);
});

test('the gain of the iterated filter converges to the closed-form steady state', () => {
  for (const [dt, r] of [[5 * 60_000, 0.25], [HOUR, 1], [HOUR / 4, 4]] as const) {
    let s: BiasState = { biasK: 0, varK2: 10 };
    let k = 0;
    for (let i = 0; i < 2000; i++) {
      s = predictBias(s, dt, p);
      k = s.varK2 / (s.varK2 + r);
      s = updateBias(s, 0, r);
    }
    close(k, steadyStateGain(dt, r, p), { atol: 1e-12 }, `gain (dt ${dt} ms, r ${r})`); // geometric convergence after 2000 steps
  }
});

const two: TwoScaleProcess = { fast: { tauMs: 3 * HOUR, sigmaK: 1 }, slow: { tauMs: 24 * HOUR, sigmaK: 0.8 } };

test('two scales: with no slow variance the filter is the scalar filter of the fast part', () => {
  const p: TwoScaleProcess = { fast: two.fast, slow: { tauMs: 24 * HOUR, sigmaK: 0 } };
  let s = twoScalePrior(p), b: BiasState = { biasK: 0, varK2: 1 };
  for (const [dt, z, r] of [[HOUR, 1.5, 0.3], [5 * 60_000, -0.4, 2], [2 * HOUR, 0.7, 0.5], [HOUR / 2, 3, 1]] as const) {
    s = updateTwoScale(predictTwoScale(s, dt, p), z, r);
    b = updateBias(predictBias(b, dt, p.fast), z, r);
    close(twoScaleTotal(s).biasK, b.biasK, { atol: 1e-14 }, 'bias');
    close(twoScaleTotal(s).varK2, b.varK2, { atol: 1e-14 }, 'variance');
    assert.equal(s.slowK, 0);
  }
});

/** A two-scale state against its state vector x (2 × 1) and covariance P (2 × 2). */
function closeToMatrices(s: TwoScaleState, x: Matrix, P: Matrix, atol: number, what: string): void {
  const pairs: [number, number, string][] = [
    [s.fastK, x.get(0, 0), 'fast'], [s.slowK, x.get(1, 0), 'slow'],
    [s.fastVarK2, P.get(0, 0), 'var f'], [s.slowVarK2, P.get(1, 1), 'var s'], [s.crossVarK2, P.get(0, 1), 'cov'],
  ];
  for (const [a, e, name] of pairs) close(a, e, { atol }, `${what}: ${name}`);
}

test('two scales: predict is the matrix form F P Fᵀ + Q, update the Kalman equations with H = [1 1] (ml-matrix as reference)', () => {
  const s0: TwoScaleState = { fastK: 0.9, slowK: -0.4, fastVarK2: 0.6, slowVarK2: 0.5, crossVarK2: -0.2 };
  const dt = 40 * 60_000;
  const phiF = Math.exp(-dt / two.fast.tauMs), phiS = Math.exp(-dt / two.slow.tauMs);
  const F = new Matrix([[phiF, 0], [0, phiS]]);
  const Q = new Matrix([[(1 - phiF * phiF) * 1, 0], [0, (1 - phiS * phiS) * 0.64]]);
  const P0 = new Matrix([[0.6, -0.2], [-0.2, 0.5]]);
  const Pp = F.mmul(P0).mmul(F.transpose()).add(Q);
  const xp = F.mmul(Matrix.columnVector([0.9, -0.4]));
  const p = predictTwoScale(s0, dt, two);
  // Reference and code differ only in the order of a few float operations.
  closeToMatrices(p, xp, Pp, 1e-15, 'predicted');
  const H = new Matrix([[1, 1]]), r = 0.35, z = 1.2;
  const S = H.mmul(Pp).mmul(H.transpose()).get(0, 0) + r;
  const K = Pp.mmul(H.transpose()).div(S);
  // ml-matrix's add/mul/sub act in place: clone what is used again.
  const x = xp.clone().add(K.clone().mul(z - H.mmul(xp).get(0, 0)));
  const P = Matrix.eye(2).sub(K.mmul(H)).mmul(Pp);
  const u = updateTwoScale(p, z, r);
  closeToMatrices(u, x, P, 1e-14, 'updated');
  close(u.crossVarK2, P.get(1, 0), { atol: 1e-14 }, 'the covariance stays symmetric');
  assert.deepEqual(updateTwoScale(p, z, Infinity), p);
});

test('two scales: without observations each part relaxes to 0 and the variance to σ_f² + σ_s²; a lasting offset settles in the slow part', () => {
  const far = predictTwoScale({ fastK: 2, slowK: 1, fastVarK2: 0.1, slowVarK2: 0.1, crossVarK2: -0.05 }, 1000 * HOUR, two);
  close(far.fastK + far.slowK, 0, { atol: 1e-12 }, 'bias long after');
  close(twoScaleTotal(far).varK2, 1 + 0.64, { atol: 1e-12 }, 'variance long after');
  // Observed as +1 K every 5 minutes for two days: the slow part holds most of it, so an hour later
  // (no observation) more of it is left than a single 3 h process would keep (e^(−1/3) = 0.72).
  let s = twoScalePrior(two);
  for (let i = 0; i < 576; i++) s = updateTwoScale(predictTwoScale(s, 5 * 60_000, two), 1, 1);
  assert.ok(s.slowK > 2 * s.fastK, `slow ${s.slowK} > 2 × fast ${s.fastK}`);
  const later = twoScaleTotal(predictTwoScale(s, HOUR, two)).biasK / twoScaleTotal(s).biasK;
  assert.ok(later > 0.85, `kept ${later}`);
});

test('steady retention: e^(−L/τ) without a slow part; with one, more of a lasting bias is kept at every lead', () => {
  const leads = [0, 5, 30, 60].map((m) => m * 60_000);
  const fastOnly = steadyRetention({ fast: two.fast, slow: { tauMs: 24 * HOUR, sigmaK: 0 } }, 5 * 60_000, 0.3, leads);
  leads.forEach((l, i) => close(fastOnly[i]!, Math.exp(-l / two.fast.tauMs), { atol: 1e-12 }, `lead ${l / 60_000} min`)); // converged state, exact decay
  const both = steadyRetention(two, 5 * 60_000, 0.3, leads);
  assert.equal(both[0], 1);
  for (let i = 1; i < leads.length; i++) {
    assert.ok(both[i]! > fastOnly[i]! && both[i]! < 1, `lead ${leads[i]! / 60_000} min: ${both[i]}`);
    // Never more than the slow part alone would keep.
    assert.ok(both[i]! < Math.exp(-leads[i]! / two.slow.tauMs) + 1e-12);
  }
});
