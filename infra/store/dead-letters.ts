/** Records that could not be accepted, kept with their cause. */
import type { Queryable } from './store.ts';

export interface DeadLetter {
  /** Where it came from, e.g. `readings.v1/3@1042` or `api`. */
  source: string;
  reason: string;
  payload: string;
}

export async function insertDeadLetters(q: Queryable, rows: readonly DeadLetter[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(`INSERT INTO dead_letters (source, reason, payload) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`, [
    rows.map((r) => r.source),
    rows.map((r) => r.reason),
    rows.map((r) => r.payload),
  ]);
}
