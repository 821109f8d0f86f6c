/**
 * QC flags and reason codes. Every reading gets exactly one: `ok`, or the first check of the chain
 * that rejected it. The codes are stable (they are stored): append new ones, never reorder.
 */
export const QC_REASONS = [
  'ok',
  'range', // outside the plausible range of 2 m temperature
  'gross', // too far from the background forecast
  'step', // changed faster than air temperature can
  'spike', // a jump and a return within a few readings
  'flatline', // the same value for too long (a stuck sensor)
  'duplicate_position', // several sensors report from one coordinate
  'isolated', // too few neighbours to be verified
  'buddy', // disagrees with its neighbours (buddy check)
  'sct', // fails the spatial consistency test against neighbours and the background
  'radiation', // daytime warm bias of an unshielded, sun-exposed sensor
  'indoor', // behaves like an indoor sensor (too small a diurnal range, poor correlation with neighbours)
  'no_background', // no background forecast at its place and time, so no innovation
] as const;

export type QcReason = (typeof QC_REASONS)[number];

export const REASON_CODE: Readonly<Record<QcReason, number>> = Object.freeze(Object.fromEntries(QC_REASONS.map((r, i) => [r, i])) as Record<QcReason, number>);

/** Flag values, titanlib's convention: 0 passed, 1 rejected. */
export const FLAG_OK = 0;
export const FLAG_BAD = 1;

export function reasonName(code: number): QcReason {
  const r = QC_REASONS[code];
  if (r === undefined) throw new RangeError(`unknown QC reason code ${code}`);
  return r;
}
