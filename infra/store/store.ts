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

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
}

export interface Store extends Queryable {
  readonly kind: 'pglite' | 'pg';
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
