/**
 * The validation split by time (pure): whole weeks (epoch weeks, Thursday to Thursday UTC), one in
 * every VALIDATION_EVERY_WEEKS, so validation covers every season and year without a single
 * contiguous block. Training issues whose window (two hours of history, the next hour) reaches
 * into a validation week are left out of training, so no reading is seen by both.
 */
import { DAY_MS, HOUR_MS } from '../../infra/time.ts';

export const WEEK_MS = 7 * DAY_MS;
export const VALIDATION_EVERY_WEEKS = 5;
/** How far an issue's inputs and targets reach around lead 0 [ms]: 2 h of history, 1 h ahead. */
export const ISSUE_REACH_BEFORE_MS = 2 * HOUR_MS;
export const ISSUE_REACH_AFTER_MS = HOUR_MS;

export function isValidationTime(timeMs: number): boolean {
  const w = Math.floor(timeMs / WEEK_MS);
  return ((w % VALIDATION_EVERY_WEEKS) + VALIDATION_EVERY_WEEKS) % VALIDATION_EVERY_WEEKS === VALIDATION_EVERY_WEEKS - 1;
}

export type SplitPart = 'train' | 'validation' | 'guard';

/** Which part an issue at lead-0 time t belongs to. */
export function splitOf(timeMs: number): SplitPart {
  if (isValidationTime(timeMs)) return 'validation';
  if (isValidationTime(timeMs - ISSUE_REACH_BEFORE_MS) || isValidationTime(timeMs + ISSUE_REACH_AFTER_MS)) return 'guard';
  return 'train';
}
