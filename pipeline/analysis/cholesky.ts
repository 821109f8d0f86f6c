/**
 * Small dense symmetric positive-definite systems (the OI and SCT matrices, n <= ~50), solved by
 * Cholesky factorisation on row-major Float64Arrays. Hand-written because the batch solves tens of
 * thousands of them per window and allocation-free loops matter; ml-matrix is the reference in tests.
 */

export class NotPositiveDefiniteError extends Error {
  override readonly name = 'NotPositiveDefiniteError';
  readonly code = 'NOT_POSITIVE_DEFINITE';
}

/** Factorises `a` (n × n, row-major, symmetric) in place into its lower triangle L (a = L Lᵀ). */
export function choleskyInPlace(a: Float64Array, n: number): void {
  if (a.length < n * n) throw new RangeError(`matrix has ${a.length} entries, needs ${n * n} for n = ${n}`);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      if (i === j) {
        if (!(s > 0)) throw new NotPositiveDefiniteError(`matrix is not positive definite (pivot ${i} is ${s})`);
        a[ri + i] = Math.sqrt(s);
      } else {
        a[ri + j] = s / a[rj + j]!;
      }
    }
  }
}

/** Solves L Lᵀ x = b for x, given the factor from choleskyInPlace; writes x into `out` (may be `b`). */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    const ri = i * n;
    for (let k = 0; k < i; k++) s -= l[ri + k]! * out[k]!;
    out[i] = s / l[ri + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = out[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * out[k]!;
    out[i] = s / l[i * n + i]!;
  }
  return out;
}

/** The inverse of the matrix whose factor is `l` (n × n, row-major, full symmetric result). */
export function choleskyInverse(l: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  const e = new Float64Array(n);
  const col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    choleskySolve(l, n, e, col);
    for (let i = 0; i < n; i++) inv[i * n + j] = col[i]!;
  }
  return inv;
}
