/** The one numerical comparison for tests: |actual - expected| <= atol + rtol * |expected|. */
import assert from 'node:assert/strict';

export function close(actual: number, expected: number, tol: { atol?: number; rtol?: number }, message?: string): void {
  const atol = tol.atol ?? 0;
  const rtol = tol.rtol ?? 0;
  const bound = atol + rtol * Math.abs(expected);
  const err = Math.abs(actual - expected);
  assert.ok(Number.isFinite(actual) && err <= bound, `${message ?? 'value'}: |${actual} - ${expected}| = ${err} > ${bound} (atol ${atol}, rtol ${rtol})`);
}
