/**
 * Small dense general systems by LU factorisation with partial pivoting, on row-major Float64Arrays:
 * the fallback where a correlation matrix plus its diagonal is not positive definite (a localisation
 * cut-off, or a vertical term used only between points of known elevation, can make it indefinite),
 * as gridpp and titanlib invert any non-singular matrix.
 */

export class SingularMatrixError extends Error {
  override readonly name = 'SingularMatrixError';
  readonly code = 'SINGULAR_MATRIX';
}

/** Factorises `a` (n × n, row-major) in place into L (unit lower, below the diagonal) and U; `pivot` gets the row order. */
export function luInPlace(a: Float64Array, n: number, pivot: Int32Array): void {
  if (a.length < n * n) throw new RangeError(`matrix has ${a.length} entries, needs ${n * n} for n = ${n}`);
  if (pivot.length < n) throw new RangeError(`pivot has ${pivot.length} entries, needs ${n}`);
  for (let i = 0; i < n; i++) pivot[i] = i;
  for (let k = 0; k < n; k++) {
    let p = k, max = Math.abs(a[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k]!);
      if (v > max) { max = v; p = i; }
    }
    if (!(max > 0)) throw new SingularMatrixError(`matrix is singular (column ${k})`);
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = a[k * n + j]!;
        a[k * n + j] = a[p * n + j]!;
        a[p * n + j] = t;
      }
      const t = pivot[k]!;
      pivot[k] = pivot[p]!;
      pivot[p] = t;
    }
    const akk = a[k * n + k]!;
    for (let i = k + 1; i < n; i++) {
      const f = (a[i * n + k]! /= akk);
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) a[i * n + j]! -= f * a[k * n + j]!;
    }
  }
}

/** Solves A x = b given luInPlace's factor and pivot; writes x into `out` (must not be `b`). */
export function luSolve(lu: Float64Array, n: number, pivot: Int32Array, b: ArrayLike<number>, out: Float64Array = new Float64Array(n)): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[pivot[i]!]!;
    const ri = i * n;
    for (let k = 0; k < i; k++) s -= lu[ri + k]! * out[k]!;
    out[i] = s;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = out[i]!;
    const ri = i * n;
    for (let k = i + 1; k < n; k++) s -= lu[ri + k]! * out[k]!;
    out[i] = s / lu[ri + i]!;
  }
  return out;
}
