import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundIncrement, optimalInterpolation, type OiObservations, type PlanePoints } from './oi.ts';
import { barnes, barnesRho } from './structure.ts';
import { Matrix, solve } from 'ml-matrix';
import { close } from '../../infra/testing/close.ts';

const pts = (xs: number[], zs?: number[]): PlanePoints => ({ x: Float64Array.from(xs), y: new Float64Array(xs.length), z: zs ? Float64Array.from(zs) : new Float64Array(xs.length).fill(NaN) });
const obsAt = (xs: number[], inc: number[], ratio: number[], zs?: number[]): OiObservations => ({ ...pts(xs, zs), innovation: Float64Array.from(inc), ratio: Float64Array.from(ratio) });

test('one observation: gridpp\'s closed form [e^-0.5/1.1, 1/1.1, e^-4.5/1.1] (h = 2500 m, ratio 0.1)', () => {
  // gridpp tests/test_optimal_interpolation.py test_simple_1d: obs 1 at x = 2500, targets at 0, 2500, 10000.
  const r = optimalInterpolation(pts([0, 2500, 10000]), obsAt([2500], [1], [0.1]), { structure: barnes(2500, 0, 1e9), maxPoints: 10, allowExtrapolation: true });
  const expected = [Math.exp(-0.5) / 1.1, 1 / 1.1, Math.exp(-4.5) / 1.1];
  expected.forEach((e, i) => close(r.increment[i]!, e, { atol: 1e-12 }, `increment[${i}]`)); // closed form: rounding only
  // Analysis variance ratio for one observation: 1 − ρ² / (1 + ε²).
  expected.forEach((_e, i) => {
    const rho = [Math.exp(-0.5), 1, Math.exp(-4.5)][i]!;
    close(r.varianceRatio[i]!, 1 - (rho * rho) / 1.1, { atol: 1e-12 }, `varianceRatio[${i}]`);
  });
});

test('two observations: the 2×2 closed form, and the vertical term', () => {
  const h = 1000, v = 100;
  const s = barnes(h, v, 1e9);
  // obs at x = 0 (z 0) and x = 500 (z 50), target at x = 250 (z 20)
  const r = optimalInterpolation(pts([250], [20]), obsAt([0, 500], [1, -0.5], [0.5, 0.25], [0, 50]), { structure: s, maxPoints: 10, allowExtrapolation: true });
  const p12 = barnesRho(s, 500, -50);
  const g1 = barnesRho(s, 250, 20), g2 = barnesRho(s, 250, -30);
  const a = 1.5, b = p12, d = 1.25; // P + R = [[a, b], [b, d]]
  const det = a * d - b * b;
  const w1 = (d * g1 - b * g2) / det, w2 = (a * g2 - b * g1) / det;
  close(r.increment[0]!, w1 * 1 + w2 * -0.5, { atol: 1e-12 }, 'increment'); // closed-form 2×2 inverse: rounding only
  close(r.varianceRatio[0]!, 1 - (w1 * g1 + w2 * g2), { atol: 1e-12 }, 'variance ratio');
  assert.equal(r.used[0], 2);
});

test('localisation, maxPoints (most correlated first) and targets out of reach', () => {
  const s = barnes(1000, 0, 2000);
  const r = optimalInterpolation(pts([0, 5000]), obsAt([100, 300, 1500, 2500], [1, 2, 3, 4], [0.5, 0.5, 0.5, 0.5]), { structure: s, maxPoints: 2, allowExtrapolation: true });
  assert.equal(r.used[0], 2, 'two nearest of the three within 2000 m');
  const only = optimalInterpolation(pts([0]), obsAt([100, 300], [1, 2], [0.5, 0.5]), { structure: s, maxPoints: 2, allowExtrapolation: true });
  close(r.increment[0]!, only.increment[0]!, { atol: 1e-15 }, 'same two observations, same increment');
  assert.equal(r.used[1], 0);
  assert.equal(r.increment[1], 0);
  assert.equal(r.varianceRatio[1], 1);
});

test('bounded increments stay within the observed ones (gridpp allow_extrapolation = false)', () => {
  // Two close, strongly correlated obs with different values make the unbounded OI overshoot.
  const o = obsAt([0, 50], [1, 0.5], [1e-4, 1e-4]);
  const free = optimalInterpolation(pts([-100]), o, { structure: barnes(200, 0, 1e9), maxPoints: 5, allowExtrapolation: true });
  const bounded = optimalInterpolation(pts([-100]), o, { structure: barnes(200, 0, 1e9), maxPoints: 5, allowExtrapolation: false });
  assert.ok(free.increment[0]! > 1, `the unbounded increment overshoots (${free.increment[0]})`);
  assert.equal(bounded.increment[0], 1);
  assert.deepEqual([boundIncrement(2, -1, 1), boundIncrement(0.5, -2, -1), boundIncrement(-3, -1, 1), boundIncrement(-0.5, 1, 2), boundIncrement(0.3, -1, 1)], [1, -1, -1, 1, 0.3]);
});

test('shapes are checked, naming both sizes', () => {
  assert.throws(() => optimalInterpolation(pts([0]), { ...obsAt([0, 1], [1, 1], [1, 1]), ratio: Float64Array.of(1) }, { structure: barnes(1), maxPoints: 1, allowExtrapolation: true }), /x has 2 entries, ratio has 1/);
});

test('an indefinite P + R (vertical term only between known elevations) is solved as gridpp does, not thrown', () => {
  // A (z 0) and C (z 1000) at one place, B beside them with unknown elevation: ρ(A,B) = ρ(B,C) = 1 but
  // ρ(A,C) = e^-50, so P + R = [[1.1, 1, 0], [1, 1.1, 1], [0, 1, 1.1]] has eigenvalue 1.1 − √2 < 0.
  const s = barnes(1000, 100, 1e9);
  const o = obsAt([0, 0, 0], [1, 2, 4], [0.1, 0.1, 0.1], [0, NaN, 1000]);
  const r = optimalInterpolation(pts([0], [NaN]), o, { structure: s, maxPoints: 10, allowExtrapolation: true });
  const a = [[1.1, 1, barnesRho(s, 0, -1000)], [1, 1.1, 1], [barnesRho(s, 0, 1000), 1, 1.1]];
  const w = solve(new Matrix(a), Matrix.columnVector([1, 1, 1])).to1DArray();
  close(r.increment[0]!, w[0]! * 1 + w[1]! * 2 + w[2]! * 4, { atol: 1e-12 }, 'increment'); // a 3×3 solve: rounding only
  close(r.varianceRatio[0]!, 1 - (w[0]! + w[1]! + w[2]!), { atol: 1e-12 }, 'variance ratio');
});
