/** Plausible-range and gross-error tests, titanlib's `range_check` semantics: flags, never filtering. Pure. */
import { FLAG_BAD, FLAG_OK } from './reasons.ts';

/** 1 where a value is outside [minC, maxC] or not a finite number [°C]. */
export function rangeCheck(values: ArrayLike<number>, minC: number, maxC: number): Uint8Array {
  if (!(minC < maxC)) throw new RangeError(`minC must be < maxC, got ${minC} and ${maxC}`);
  const flags = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    flags[i] = Number.isFinite(v) && v >= minC && v <= maxC ? FLAG_OK : FLAG_BAD;
  }
  return flags;
}

/** 1 where |value − background| exceeds maxDeviationK [K] (a gross error against the forecast); 0 where the background is unknown. */
export function grossErrorCheck(values: ArrayLike<number>, background: ArrayLike<number>, maxDeviationK: number): Uint8Array {
  if (values.length !== background.length) throw new RangeError(`values has ${values.length} entries, background has ${background.length}`);
  const flags = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = background[i]!;
    flags[i] = Number.isFinite(b) && Math.abs(values[i]! - b) > maxDeviationK ? FLAG_BAD : FLAG_OK;
  }
  return flags;
}
