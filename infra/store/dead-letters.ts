/** Records that could not be accepted, kept with their cause. */
import type { Queryable } from './store.ts';

export interface DeadLetter {
  /** Where it came from, e.g. `readings.v1/3@1042` or `api`. */
  source: string;
  reason: string;
  payload: string;
}

/**
 * PostgreSQL's text cannot hold NUL (U+0000): a hostile payload carrying one would fail the insert,
 * and with it the batch, again and again. It is kept visible as U+2400 (SYMBOL FOR NULL).
 */
export function storableText(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\u2400') : s;
}

export async function insertDeadLetters(q: Queryable, rows: readonly DeadLetter[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(`INSERT INTO dead_letters (source, reason, payload) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`, [
    rows.map((r) => storableText(r.source)),
    rows.map((r) => storableText(r.reason)),
    rows.map((r) => storableText(r.payload)),
  ]);
}
