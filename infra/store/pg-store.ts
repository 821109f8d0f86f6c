/**
 * The server adapter: a `pg.Pool` against PostgreSQL with TimescaleDB (`postgres://` / `postgresql://`).
 *
 * Rows come back with the port's JS types: the pool has its own type parsers (never the global
 * `pg.types`) mapping INT8 and NUMERIC (and their arrays) to numbers, as PGlite does.
 * Every statement goes through the extended protocol (one statement per call), like PGlite.
 */
import pg from 'pg';
import type { Logger } from '../log.ts';
import type { Queryable, QueryResult, Store } from './store.ts';

const INT8 = 20;
const NUMERIC = 1700;
const INT8_ARRAY = 1016;
const NUMERIC_ARRAY = 1231;

type Parser = (value: string) => unknown;

function mapNested(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(mapNested);
  return v === null ? null : Number(v);
}

function numericArray(oid: number): Parser {
  const base = pg.types.getTypeParser(oid, 'text') as Parser;
  return (value) => mapNested(base(value));
}

const overrides = new Map<number, Parser>([
  [INT8, Number],
  [NUMERIC, Number],
  [INT8_ARRAY, numericArray(INT8_ARRAY)],
  [NUMERIC_ARRAY, numericArray(NUMERIC_ARRAY)],
]);

/** Per-pool type parsers: the port's JS types (see store.ts), leaving pg's global parsers alone. */
export const portTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    (format ?? 'text') === 'text' ? (overrides.get(oid) ?? pg.types.getTypeParser(oid, format)) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PgStoreOptions {
  /** Upper bound on open connections (default 10). */
  poolSize?: number;
  /** How long a query waits for a free connection before failing [ms]; 0 = forever (default). */
  connectionTimeoutMs?: number;
  /** How long an idle connection stays open before the pool closes it [ms] (default 10000). */
  idleTimeoutMs?: number;
  log?: Logger;
}

type ExtendedQuery = pg.QueryConfig & { queryMode: 'extended' };

async function run<R>(client: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<R>> {
  const config: ExtendedQuery = { text: sql, values: params ?? [], queryMode: 'extended' };
  const r = await client.query(config);
  return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
}

export class PgStore implements Store {
  readonly kind = 'pg' as const;
  readonly #pool: pg.Pool;
  readonly #log: Logger | undefined;
  #closed = false;

  constructor(url: string, options: PgStoreOptions = {}) {
    this.#log = options.log;
    this.#pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 0,
      idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
      types: portTypes,
    });
    // An idle client losing its server must not crash the process; the pool replaces it.
    this.#pool.on('error', (err) => this.#log?.warn({ err }, 'idle store connection failed'));
  }

  /** Creates the pool and proves a connection works (fails fast on a wrong URL or a down server). */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const store = new PgStore(url, options);
    try {
      await store.query('SELECT 1');
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
    return store;
  }

  get pool(): pg.Pool {
    return this.#pool;
  }

  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    return run<R>(this.#pool, sql, params);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const tx: Queryable = { query: <R = Record<string, unknown>>(sql: string, params?: unknown[]) => run<R>(client, sql, params) };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        // The connection is unusable (e.g. lost); drop it from the pool rather than reuse it.
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
