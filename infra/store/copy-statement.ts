/**
 * The COPY statement of a bulk load (`BulkRows`), for either adapter: the table and columns are
 * checked to be plain lower-case identifiers (they go into the SQL text; COPY takes no parameters),
 * and the data comes from the adapter's source: the embedded engine's virtual file `/dev/blob`, or
 * the wire protocol's `STDIN` on a server.
 */
import type { BulkRows } from './store.ts';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function copyFromStatement(rows: Pick<BulkRows, 'table' | 'columns'>, source: 'blob' | 'stdin'): string {
  for (const name of [rows.table, ...rows.columns]) {
    if (!IDENTIFIER.test(name)) throw new RangeError(`bulk load: ${JSON.stringify(name)} is not a plain lower-case identifier`);
  }
  if (rows.columns.length === 0) throw new RangeError('bulk load: no columns');
  return `COPY ${rows.table} (${rows.columns.join(', ')}) FROM ${source === 'blob' ? `'/dev/blob'` : 'STDIN'} WITH (FORMAT binary)`;
}
