import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { packedIndex, partsPrior, partsTotal, predictBias, predictParts, regressorsAt, steadyRetention, steadyStateGain, updateBias, updateParts, type BiasModel, type BiasPart, type BiasState, type PartsState } from './kalman.ts';
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

const fast: BiasPart = { name: 'fast', scale: 'area', regressor: 'level', tauMs: 3 * HOUR, sigmaK: 1 };
const slow: BiasPart = { name: 'slow', scale: 'place', regressor: 'level', tauMs: 24 * HOUR, sigmaK: 0.8 };
const two: BiasModel = [fast, slow];
const dayCos: BiasPart = { name: 'diurnal-cos', scale: 'place', regressor: 'day-cos', tauMs: 72 * HOUR, sigmaK: 0.7 };
const four: BiasModel = [fast, slow, dayCos, { ...dayCos, name: 'diurnal-sin', regressor: 'day-sin' }];
const ones = [1, 1];

test('regressors: 1 for a level, cos and sin of the UTC hour of day for the diurnal parts, 0 for another scale\'s parts; packed covariance indices', () => {
  assert.deepEqual(Array.from(regressorsAt(four, 0)), [1, 1, 1, 0]);
  assert.deepEqual(Array.from(regressorsAt(four, 0, undefined, 'area')), [1, 0, 0, 0]);
  assert.deepEqual(Array.from(regressorsAt(four, 0, undefined, 'place')), [0, 1, 1, 0]);
  const six = regressorsAt(four, 6 * HOUR);
  close(six[2]!, 0, { atol: 1e-15 }, 'cos at 06 UTC');
  close(six[3]!, 1, { atol: 1e-15 }, 'sin at 06 UTC');
  const later = regressorsAt(four, 1e12 + 24 * HOUR), now = regressorsAt(four, 1e12);
  for (let i = 0; i < 4; i++) close(later[i]!, now[i]!, { atol: 1e-9 }, `part ${i} a day later`);
  assert.deepEqual([0, 1, 2, 3].flatMap((i) => [0, 1, 2, 3].filter((j) => j <= i).map((j) => packedIndex(i, j))), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(packedIndex(1, 3), packedIndex(3, 1));
});

test('parts: with no slow variance the filter is the scalar filter of the fast part', () => {
  const p: BiasModel = [fast, { ...slow, sigmaK: 0 }];
  let s = partsPrior(p), b: BiasState = { biasK: 0, varK2: 1 };
  for (const [dt, z, r] of [[HOUR, 1.5, 0.3], [5 * 60_000, -0.4, 2], [2 * HOUR, 0.7, 0.5], [HOUR / 2, 3, 1]] as const) {
    s = updateParts(predictParts(s, dt, p), ones, z, r);
    b = updateBias(predictBias(b, dt, p[0]!), z, r);
    close(partsTotal(s, ones).biasK, b.biasK, { atol: 1e-14 }, 'bias');
    close(partsTotal(s, ones).varK2, b.varK2, { atol: 1e-14 }, 'variance');
    assert.equal(s.meanK[1], 0);
  }
});

/** A parts state against its state vector x (n × 1) and covariance P (n × n). */
function closeToMatrices(s: PartsState, x: Matrix, P: Matrix, atol: number, what: string): void {
  const n = s.meanK.length;
  for (let i = 0; i < n; i++) {
    close(s.meanK[i]!, x.get(i, 0), { atol }, `${what}: x${i}`);
    for (let j = 0; j < n; j++) close(s.covK2[packedIndex(i, j)]!, P.get(i, j), { atol }, `${what}: P${i}${j}`);
  }
}

test('parts: predict is the matrix form F P Fᵀ + Q, update the Kalman equations with H = h(t)ᵀ (ml-matrix as reference)', () => {
  const x0 = [0.9, -0.4, 0.3, -0.6];
  const P0 = new Matrix([[0.6, -0.2, 0.05, 0.02], [-0.2, 0.5, -0.04, 0.03], [0.05, -0.04, 0.3, 0.01], [0.02, 0.03, 0.01, 0.4]]);
  const s0: PartsState = { meanK: Float64Array.from(x0), covK2: new Float64Array(10) };
  for (let i = 0; i < 4; i++) for (let j = 0; j <= i; j++) s0.covK2[packedIndex(i, j)] = P0.get(i, j);
  const dt = 40 * 60_000;
  const phi = four.map((p) => Math.exp(-dt / p.tauMs));
  const F = Matrix.diag(phi);
  const Q = Matrix.diag(four.map((p, i) => (1 - phi[i]! ** 2) * p.sigmaK ** 2));
  const Pp = F.mmul(P0).mmul(F.transpose()).add(Q);
  const xp = F.mmul(Matrix.columnVector(x0));
  const p = predictParts(s0, dt, four);
  // Reference and code differ only in the order of a few float operations.
  closeToMatrices(p, xp, Pp, 1e-15, 'predicted');
  const t = Date.UTC(2019, 6, 1, 14, 25);
  const h = regressorsAt(four, t);
  const H = new Matrix([Array.from(h)]), r = 0.35, z = 1.2;
  const S = H.mmul(Pp).mmul(H.transpose()).get(0, 0) + r;
  const K = Pp.mmul(H.transpose()).div(S);
  // ml-matrix's add/mul/sub act in place: clone what is used again.
  const x = xp.clone().add(K.clone().mul(z - H.mmul(xp).get(0, 0)));
  const P = Matrix.eye(4).sub(K.mmul(H)).mmul(Pp);
  const u = updateParts(p, h, z, r);
  closeToMatrices(u, x, P, 1e-14, 'updated');
  const total = partsTotal(u, h);
  close(total.biasK, H.mmul(x).get(0, 0), { atol: 1e-14 }, 'hᵀx');
  close(total.varK2, H.mmul(P).mmul(H.transpose()).get(0, 0), { atol: 1e-14 }, 'hᵀPh');
  assert.deepEqual(updateParts(p, h, z, Infinity), p);
});

test('parts: without observations each part relaxes to 0 and the variance to Σ h_i² σ_i²; a lasting offset settles in the slow part', () => {
  const far = predictParts({ meanK: Float64Array.of(2, 1), covK2: Float64Array.of(0.1, -0.05, 0.1) }, 1000 * HOUR, two);
  close(partsTotal(far, ones).biasK, 0, { atol: 1e-12 }, 'bias long after');
  close(partsTotal(far, ones).varK2, 1 + 0.64, { atol: 1e-12 }, 'variance long after');
  const far4 = predictParts(partsPrior(four), 1000 * HOUR, four);
  close(partsTotal(far4, regressorsAt(four, 7 * HOUR)).varK2, 1 + 0.64 + 0.49, { atol: 1e-12 }, 'with diurnal parts: cos² + sin² = 1');
  // Observed as +1 K every 5 minutes for two days: the slow part holds most of it, so an hour later
  // (no observation) more of it is left than a single 3 h process would keep (e^(−1/3) = 0.72).
  let s = partsPrior(two);
  for (let i = 0; i < 576; i++) s = updateParts(predictParts(s, 5 * 60_000, two), ones, 1, 1);
  assert.ok(s.meanK[1]! > 2 * s.meanK[0]!, `slow ${s.meanK[1]} > 2 × fast ${s.meanK[0]}`);
  const later = partsTotal(predictParts(s, HOUR, two), ones).biasK / partsTotal(s, ones).biasK;
  assert.ok(later > 0.85, `kept ${later}`);
});

test('diurnal parts: a bias that follows the hour of day is learned, and the forecast follows the cycle where the level parts cannot', () => {
  // b(t) = 0.5 + 0.7 cos(ω t − 2 rad) (an amplitude the prior holds likely), observed hourly with
  // variance 0.1 K². After ten days, each hour of the eleventh issues forecasts 1 to 6 hours ahead (no
  // observation) from the four-part model and from the two level parts.
  const W = (2 * Math.PI) / (24 * HOUR);
  const truth = (t: number) => 0.5 + 0.7 * Math.cos(W * t - 2);
  const t0 = Date.UTC(2020, 3, 1);
  let s4 = partsPrior(four), s2 = partsPrior(two);
  let err4 = 0, err2 = 0, n = 0;
  for (let k = 1; k <= 264; k++) {
    const t = t0 + k * HOUR;
    s4 = updateParts(predictParts(s4, HOUR, four), regressorsAt(four, t), truth(t), 0.1);
    s2 = updateParts(predictParts(s2, HOUR, two), ones, truth(t), 0.1);
    if (k <= 240) continue;
    close(partsTotal(s4, regressorsAt(four, t)).biasK, truth(t), { atol: 0.05 }, `analysis at hour ${k}`);
    for (let l = 1; l <= 6; l++) {
      err4 += Math.abs(partsTotal(predictParts(s4, l * HOUR, four), regressorsAt(four, t + l * HOUR)).biasK - truth(t + l * HOUR));
      err2 += Math.abs(partsTotal(predictParts(s2, l * HOUR, two), ones).biasK - truth(t + l * HOUR));
      n++;
    }
  }
  // The cycle is in the diurnal coefficients: their amplitude is most of the truth's (the fast part,
  // free to follow anything within hours, holds the rest: the model's prior at work).
  const amplitude = Math.hypot(s4.meanK[2]!, s4.meanK[3]!);
  assert.ok(amplitude > 0.35 && amplitude < 0.7, `amplitude ${amplitude}`);
  // Both forecasts lose the level parts' decay; only the level parts also miss the cycle's turn.
  assert.ok(err4 < 0.6 * err2, `four parts ${err4 / n} K against level parts ${err2 / n} K (mean error, leads 1–6 h)`);
});

test('steady retention: e^(−L/τ) with one level part; with a slow part more of a lasting bias is kept at every lead; diurnal parts do not take part', () => {
  const leads = [0, 5, 30, 60].map((m) => m * 60_000);
  const fastOnly = steadyRetention([fast], 5 * 60_000, 0.3, leads);
  leads.forEach((l, i) => close(fastOnly[i]!, Math.exp(-l / fast.tauMs), { atol: 1e-12 }, `lead ${l / 60_000} min`)); // converged state, exact decay
  const both = steadyRetention(two, 5 * 60_000, 0.3, leads);
  assert.equal(both[0], 1);
  for (let i = 1; i < leads.length; i++) {
    assert.ok(both[i]! > fastOnly[i]! && both[i]! < 1, `lead ${leads[i]! / 60_000} min: ${both[i]}`);
    // Never more than the slow part alone would keep.
    assert.ok(both[i]! < Math.exp(-leads[i]! / slow.tauMs) + 1e-12);
  }
  assert.deepEqual(steadyRetention(four, 5 * 60_000, 0.3, leads), both);
});
