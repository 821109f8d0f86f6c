import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';
import { choleskyInPlace, choleskyInverse, choleskySolve, NotPositiveDefiniteError } from './cholesky.ts';
import { close } from '../../infra/testing/close.ts';

/** A random SPD matrix A = M Mᵀ + n I (seeded LCG, so the test is deterministic). */
function spd(n: number, seed: number): number[][] {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const m = Array.from({ length: n }, () => Array.from({ length: n }, rnd));
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => m[i]!.reduce((acc, _v, k) => acc + m[i]![k]! * m[j]![k]!, 0) + (i === j ? n : 0)));
}

test('solve and inverse agree with ml-matrix on random SPD systems (n = 1..25)', () => {
  for (const n of [1, 2, 3, 7, 20, 25]) {
    const a = spd(n, 17 + n);
    const b = Array.from({ length: n }, (_, i) => Math.sin(i + 1));
    const l = Float64Array.from(a.flat());
    choleskyInPlace(l, n);
    const x = choleskySolve(l, n, b);
    const ref = new CholeskyDecomposition(new Matrix(a)).solve(Matrix.columnVector(b)).to1DArray();
    for (let i = 0; i < n; i++) close(x[i]!, ref[i]!, { atol: 1e-12, rtol: 1e-10 }, `x[${i}] (n=${n})`); // well-conditioned (diagonal >= n): double rounding only
    const inv = choleskyInverse(l, n);
    const refInv = inverse(new Matrix(a)).to2DArray();
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) close(inv[i * n + j]!, refInv[i]![j]!, { atol: 1e-12, rtol: 1e-10 }, `inv[${i}][${j}] (n=${n})`);
  }
});

test('a matrix that is not positive definite is a typed error', () => {
  const a = Float64Array.from([1, 2, 2, 1]); // eigenvalues 3 and -1
  assert.throws(() => choleskyInPlace(a, 2), NotPositiveDefiniteError);
});
