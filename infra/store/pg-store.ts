/**
 * The server adapter: a `pg.Pool` against PostgreSQL with TimescaleDB (`postgres://` / `postgresql://`).
 *
 * Rows come back with the port's JS types: the pool has its own type parsers (never the global
 * `pg.types`) mapping INT8 and NUMERIC (and their arrays) to numbers, as PGlite does.
 * Every statement goes through the extended protocol (one statement per call), like PGlite.
 *
 * Nothing waits forever: a query waits at most `connectionTimeoutMs` for a connection, and the server
 * cancels a statement after `statementTimeoutMs` (a client-side timer backs that up, for a server
 * that no longer answers at all). The bulk load (`copyFrom`) is `COPY … FROM STDIN (FORMAT binary)`
 * through pg-copy-streams, under the same two limits. A lost connection (ECONNRESET, a server
 * restart) never surfaces as an unhandled 'error' event: it rejects the call in flight with a
 * retryable StoreError, and the broken connection leaves the pool.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import type { Logger } from '../log.ts';
import type { BulkRows, Queryable, QueryResult, Store } from './store.ts';
import { StoreError } from './store-error.ts';
import { copyFromStatement } from './copy-statement.ts';

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
  /** How long a query waits for a connection, free in the pool or newly opened [ms] (default 10000). */
  connectionTimeoutMs?: number;
  /** The server cancels a statement running longer than this [ms]; 0 = no limit (default 60000). */
  statementTimeoutMs?: number;
  /** How long an idle connection stays open before the pool closes it [ms] (default 10000). */
  idleTimeoutMs?: number;
  log?: Logger;
}

/** How long past the statement timeout the client gives up on a server that does not answer [ms]. */
const CLIENT_GRACE_MS = 10_000;

/** Socket errors of a connection that is gone or cannot be made. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND']);
/** SQLSTATEs of a server shutting down, starting up, or out of connections; class 08 is added below. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '25P03']);
/** pg's own messages for a connection that dropped or never came. */
const UNAVAILABLE_MESSAGES = /^(Connection terminated|Client has encountered a connection error|Query read timeout|Connection ended unexpectedly)/;

/** Where the store is, for messages (never the password). */
function describeServer(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the server';
  }
}

type DriverError = Error & { code?: string };

/**
 * The StoreError a driver error stands for, or undefined for errors of the SQL itself (which keep
 * their SQLSTATE). `limits` names the timeouts in messages.
 */
export function storeErrorOf(err: unknown, limits: { server: string; connectionTimeoutMs: number; statementTimeoutMs: number }): StoreError | undefined {
  if (err instanceof StoreError) return err;
  if (!(err instanceof Error)) return undefined;
  const code = (err as DriverError).code;
  const msg = err.message;
  if (msg.startsWith('timeout exceeded when trying to connect') || msg.includes('due to connection timeout')) {
    return new StoreError('STORE_UNAVAILABLE', `no store connection to ${limits.server} within ${limits.connectionTimeoutMs} ms (STORE_CONNECT_TIMEOUT_MS)`, { cause: err });
  }
  if (code === '57014' && /statement timeout/.test(msg)) {
    return new StoreError('STORE_TIMEOUT', `a statement ran longer than ${limits.statementTimeoutMs} ms (STORE_STATEMENT_TIMEOUT_MS) and was cancelled: ${msg}`, { cause: err });
  }
  if (msg.startsWith('Query read timeout')) {
    return new StoreError('STORE_UNAVAILABLE', `${limits.server} did not answer a statement within ${limits.statementTimeoutMs + CLIENT_GRACE_MS} ms: ${msg}`, { cause: err });
  }
  if ((code !== undefined && (SOCKET_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08'))) || UNAVAILABLE_MESSAGES.test(msg)) {
    return new StoreError('STORE_UNAVAILABLE', `store unavailable at ${limits.server}: ${msg}`, { cause: err });
  }
  if (code === '53100') {
    return new StoreError('STORE_DISK_FULL', `the disk of ${limits.server} is full: ${msg}`, { cause: err });
  }
  if (code === '28P01' || code === '28000' || code === '3D000') {
    return new StoreError('STORE_REFUSED', `${limits.server} refused the connection: ${msg}`, { cause: err });
  }
  return undefined;
}

type ExtendedQuery = pg.QueryConfig & { queryMode: 'extended' };

async function run<R>(client: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<R>> {
  const config: ExtendedQuery = { text: sql, values: params ?? [], queryMode: 'extended' };
  const r = await client.query(config);
  return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
}

/**
 * One `COPY … FROM STDIN` on a checked-out connection: the rows' bytes as the COPY data; resolves the
 * rows appended. Past `timeoutMs` (when > 0) the load is abandoned with a "Query read timeout" error,
 * and the caller must drop the connection (it is left mid-COPY).
 */
async function copyOn(client: pg.PoolClient, sql: string, rows: BulkRows, timeoutMs: number): Promise<number> {
  const stream = client.query(copyFromStdin(sql));
  const timer = timeoutMs > 0 ? setTimeout(() => stream.destroy(new Error(`Query read timeout: COPY not done after ${timeoutMs} ms`)), timeoutMs) : undefined;
  try {
    await pipeline(Readable.from([Buffer.from(rows.data.buffer, rows.data.byteOffset, rows.data.byteLength)]), stream);
    return stream.rowCount;
  } finally {
    clearTimeout(timer);
  }
}

export class PgStore implements Store {
  readonly kind = 'pg' as const;
  readonly #pool: pg.Pool;
  readonly #log: Logger | undefined;
  readonly #limits: { server: string; connectionTimeoutMs: number; statementTimeoutMs: number };
  #closed = false;

  constructor(url: string, options: PgStoreOptions = {}) {
    this.#log = options.log;
    const connectionTimeoutMs = options.connectionTimeoutMs ?? 10_000;
    const statementTimeoutMs = options.statementTimeoutMs ?? 60_000;
    this.#limits = { server: describeServer(url), connectionTimeoutMs, statementTimeoutMs };
    this.#pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: connectionTimeoutMs,
      idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs, query_timeout: statementTimeoutMs + CLIENT_GRACE_MS } : {}),
      keepAlive: true,
      types: portTypes,
    });
    // An idle client losing its server must not crash the process; the pool replaces it.
    this.#pool.on('error', (err) => this.#log?.warn({ err: err.message }, 'idle store connection lost'));
  }

  /**
   * Creates the pool and proves the server is usable: it answers, takes the credentials, and has the
   * TimescaleDB extension preloaded. Each failure is one StoreError naming STORE_URL.
   */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
    const store = new PgStore(url, options);
    const where = store.#limits.server;
    try {
      const r = await store.query<{ available: string | null; loader: string | null }>(
        `SELECT (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
                current_setting('timescaledb.disable_load', true) AS loader`,
      );
      const row = r.rows[0];
      if (!row?.available) {
        throw new StoreError('STORE_NO_TIMESCALEDB', `STORE_URL: the server at ${where} has no TimescaleDB extension (none in pg_available_extensions); install TimescaleDB for its PostgreSQL version and preload it (shared_preload_libraries = 'timescaledb')`);
      }
      if (row.loader === null) { // the loader's setting exists only when it is preloaded
        throw new StoreError('STORE_NO_TIMESCALEDB', `STORE_URL: the server at ${where} has TimescaleDB ${row.available} installed but does not preload it; set shared_preload_libraries = 'timescaledb' in its postgresql.conf and restart it`);
      }
    } catch (err) {
      await store.close().catch(() => undefined);
      if (err instanceof StoreError && err.message.startsWith('STORE_URL: ')) throw err;
      if (err instanceof StoreError) throw new StoreError(err.code, `STORE_URL: ${err.message}`, { cause: err.cause ?? err });
      throw err;
    }
    return store;
  }

  get pool(): pg.Pool {
    return this.#pool;
  }

  #wrap(err: unknown): unknown {
    return storeErrorOf(err, this.#limits) ?? err;
  }

  async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    try {
      return await run<R>(this.#pool, sql, params);
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  /**
   * COPY … FROM STDIN (FORMAT binary) (see Queryable.copyFrom), as a transaction of its one statement:
   * a connection lost or a load abandoned mid-COPY is handled (and the connection dropped) as there.
   */
  async copyFrom(rows: BulkRows): Promise<number> {
    copyFromStatement(rows, 'stdin'); // a bad identifier rejects with a RangeError before any connection is taken
    return this.transaction((tx) => tx.copyFrom!(rows));
  }

  /** The client-side limit of a bulk load: as for a statement, the server's timeout plus a grace [ms]. */
  #copyTimeoutMs(): number {
    return this.#limits.statementTimeoutMs > 0 ? this.#limits.statementTimeoutMs + CLIENT_GRACE_MS : 0;
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw this.#wrap(err);
    }
    // While checked out the pool does not listen for the client's errors: without this, a server
    // dropping the connection between two statements would be an unhandled 'error' event.
    let lost: Error | undefined;
    const onError = (err: Error) => {
      lost ??= err;
      this.#log?.warn({ err: err.message }, 'store connection lost during a transaction');
    };
    client.on('error', onError);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const tx: Queryable = {
        query: async <R = Record<string, unknown>>(sql: string, params?: unknown[]) => {
          try {
            return await run<R>(client, sql, params);
          } catch (err) {
            throw this.#wrap(err);
          }
        },
        copyFrom: async (rows: BulkRows) => {
          const sql = copyFromStatement(rows, 'stdin');
          try {
            return await copyOn(client, sql, rows, this.#copyTimeoutMs());
          } catch (err) {
            // No SQLSTATE: the COPY was abandoned (its client-side limit) and the connection is left mid-COPY.
            if (typeof (err as { code?: unknown } | null)?.code !== 'string') lost ??= err instanceof Error ? err : new Error(String(err));
            throw this.#wrap(err);
          }
        },
      };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (lost) {
        broken = lost;
      } else {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // The connection is unusable; drop it from the pool rather than reuse it.
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
      }
      const wrapped = this.#wrap(err);
      // A statement that failed because the connection went away reports that, not a side effect.
      throw lost && !(wrapped instanceof StoreError) ? (storeErrorOf(lost, this.#limits) ?? wrapped) : wrapped;
    } finally {
      client.removeListener('error', onError);
      client.release(broken ?? lost);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}
