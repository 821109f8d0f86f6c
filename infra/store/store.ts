/**
 * The store port: SQL against TimescaleDB, embedded (PGlite + timescaledb, WASM) or a server (pg).
 *
 * Both adapters return rows with the same JavaScript types (proved by store.contract.ts):
 * TIMESTAMPTZ -> Date, DOUBLE PRECISION / REAL -> number, INTEGER -> number, BIGINT -> number
 * (only used for counts and ids well below 2^53), TEXT -> string, arrays -> JS arrays, NULL -> null.
 */

export interface QueryResult<R> {
  rows: R[];
  /** Rows affected by INSERT/UPDATE/DELETE, or returned by SELECT. */
  rowCount: number;
}

/** Rows for a bulk load: `columns` of `table`, in PostgreSQL's binary COPY format (copy-binary.ts). */
export interface BulkRows {
  /** A plain lower-case identifier (no schema, no quoting). */
  table: string;
  columns: readonly string[];
  data: Uint8Array;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /**
   * Optional bulk load, `COPY table (columns) FROM … (FORMAT binary)`: one statement that appends the
   * rows and returns how many. It fails as that statement does (a key already stored: SQLSTATE 23505,
   * and nothing of it is written). An adapter without it is written to with plain statements
   * (readings.ts falls back by itself).
   */
  copyFrom?(rows: BulkRows): Promise<number>;
  /**
   * Optional bulk read, `COPY (<query>) TO … (FORMAT binary)`: the query's rows in PostgreSQL's binary
   * COPY format, one buffer (read with CopyBinaryReader). COPY takes no parameters, so the query's
   * values are literals the caller formats from checked numbers. An adapter without it is read with
   * plain statements.
   */
  copyOut?(query: string): Promise<Uint8Array>;
}

export interface Store extends Queryable {
  readonly kind: 'pglite' | 'pg';
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
