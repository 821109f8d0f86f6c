import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix, solve } from 'ml-matrix';
import { luInPlace, luSolve, SingularMatrixError } from './lu.ts';
import { close } from '../../infra/testing/close.ts';

test('solves agree with ml-matrix on random general (indefinite, unsymmetric) systems (n = 1..25)', () => {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  for (const n of [1, 2, 3, 8, 25]) {
    const a = Array.from({ length: n }, () => Array.from({ length: n }, rnd));
    const b = Array.from({ length: n }, rnd);
    const lu = Float64Array.from(a.flat());
    const pivot = new Int32Array(n);
    luInPlace(lu, n, pivot);
    const x = luSolve(lu, n, pivot, b);
    const expected = solve(new Matrix(a), Matrix.columnVector(b)).to1DArray();
    // Random matrices of this size have condition numbers up to ~1e3: 1e-10 leaves room for that.
    expected.forEach((e, i) => close(x[i]!, e, { atol: 1e-10, rtol: 1e-10 }, `n = ${n}, x[${i}]`));
  }
});

test('an indefinite symmetric system (a Cholesky factorisation fails on it) is solved', () => {
  // [[1, 0.9, 0], [0.9, 1, 0.9], [0, 0.9, 1]] has a negative eigenvalue (1 − 0.9·√2).
  const a = [[1, 0.9, 0], [0.9, 1, 0.9], [0, 0.9, 1]];
  const lu = Float64Array.from(a.flat());
  const pivot = new Int32Array(3);
  luInPlace(lu, 3, pivot);
  const x = luSolve(lu, 3, pivot, [1, 2, 3]);
  a.forEach((row, i) => close(row.reduce((acc, v, j) => acc + v * x[j]!, 0), [1, 2, 3][i]!, { atol: 1e-12 }, `row ${i} of A x = b`)); // exact arithmetic up to rounding
});

test('a singular matrix is a typed error', () => {
  assert.throws(() => luInPlace(Float64Array.of(1, 2, 2, 4), 2, new Int32Array(2)), SingularMatrixError);
});
