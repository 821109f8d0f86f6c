/**
 * Versioned SQL migrations: `migrations/NNN_name.sql`, applied in version order at start, each in its
 * own transaction, recorded in `schema_migrations` (version, name, sha256 checksum, applied_at).
 *
 * - An applied migration whose file changed since (checksum differs) is an error naming the file:
 *   schema history is append-only; write a new migration instead.
 * - Every step holds a transaction-scoped advisory lock, so processes starting at once against one
 *   server apply each migration exactly once (the loser of the race sees it recorded and skips it).
 * - Versions recorded in the database without a file (a newer build ran here) are tolerated.
 * - Files run statement by statement through the port's `query` (extended protocol, one statement per
 *   call); `splitSqlStatements` knows quotes, comments and dollar quoting.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.ts';
import type { Queryable, Store } from './store.ts';

/** The folder of this module's migrations (independent of the process's cwd). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Key of the advisory lock every migration step takes (an arbitrary constant of this application). */
export const MIGRATION_LOCK_KEY = 4_207_311_977;

const FILE_NAME = /^(\d{3,})_([A-Za-z0-9_-]+)\.sql$/;

export type MigrationErrorCode = 'MIGRATION_INVALID' | 'MIGRATION_CHECKSUM_MISMATCH' | 'MIGRATION_FAILED';

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    /** The migration file concerned, if any. */
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface Migration {
  version: number;
  name: string;
  /** File name, e.g. `001_init.sql`. */
  file: string;
  sql: string;
  /** sha256 (hex) of the file's text with line endings normalised to \n. */
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
  /** Wall time of the migration's transaction [ms]. */
  durationMs: number;
}

export interface MigrateOptions {
  /** Folder of `NNN_name.sql` files (default: MIGRATIONS_DIR). */
  dir?: string;
  log?: Logger;
}

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

/** Reads and orders the migration files of `dir`; a `.sql` file with a bad name or a reused version is an error. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: Migration[] = [];
  const seen = new Map<number, string>();
  for (const file of names) {
    const m = FILE_NAME.exec(file);
    if (!m || m[1] === undefined || m[2] === undefined) {
      throw new MigrationError('MIGRATION_INVALID', `migration file ${file} in ${dir} is not named NNN_name.sql`, file);
    }
    const version = Number(m[1]);
    const other = seen.get(version);
    if (other !== undefined) {
      throw new MigrationError('MIGRATION_INVALID', `migrations ${other} and ${file} share version ${version}`, file);
    }
    seen.set(version, file);
    const sql = await readFile(join(dir, file), 'utf8');
    out.push({ version, name: m[2], file, sql, checksum: checksumOf(sql) });
  }
  return out.sort((a, b) => a.version - b.version);
}

/**
 * Splits a script into statements on `;` outside quotes ('', E'', ""), comments (--, nested /* *\/)
 * and dollar-quoted bodies ($$ / $tag$). Statements that hold only comments are dropped.
 */
export function splitSqlStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let meaningful = false;
  let i = 0;
  const n = sql.length;
  const push = (end: number) => {
    if (meaningful) out.push(sql.slice(start, end).trim());
    start = end + 1;
    meaningful = false;
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? n : eol + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === "'" || c === '"') {
      const backslashEscapes = c === "'" && i > 0 && /[eE]/.test(sql[i - 1]!) && !/[A-Za-z0-9_$]/.test(sql[i - 2] ?? ' ');
      meaningful = true;
      i++;
      while (i < n) {
        if (backslashEscapes && sql[i] === '\\') i += 2;
        else if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
    } else if (c === '$' && !/[A-Za-z0-9_$]/.test(sql[i - 1] ?? ' ')) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      meaningful = true;
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? n : close + tag[0].length;
      } else i++;
    } else if (c === ';') {
      push(i);
      i++;
    } else {
      if (!/\s/.test(c)) meaningful = true;
      i++;
    }
  }
  push(n);
  return out;
}

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

async function lockAndEnsureTable(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
  await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    checksum    TEXT NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
  )`);
}

function checkUnchanged(m: Migration, row: AppliedRow): void {
  if (row.checksum !== m.checksum) {
    throw new MigrationError(
      'MIGRATION_CHECKSUM_MISMATCH',
      `migration ${m.file} was changed after it was applied (recorded sha256 ${row.checksum}, file ${m.checksum}); add a new migration instead`,
      m.file,
    );
  }
}

/** Applies the pending migrations in order; returns what it applied (empty when up to date). */
export async function migrate(store: Store, options: MigrateOptions = {}): Promise<AppliedMigration[]> {
  const migrations = await loadMigrations(options.dir ?? MIGRATIONS_DIR);
  const log = options.log;

  const recorded = await store.transaction(async (tx) => {
    await lockAndEnsureTable(tx);
    return (await tx.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations ORDER BY version')).rows;
  });
  const byVersion = new Map(recorded.map((r) => [r.version, r]));
  for (const m of migrations) {
    const row = byVersion.get(m.version);
    if (row) checkUnchanged(m, row);
  }
  const known = new Set(migrations.map((m) => m.version));
  const unknown = recorded.filter((r) => !known.has(r.version));
  if (unknown.length > 0) {
    log?.warn({ versions: unknown.map((r) => r.version) }, 'database has migrations this build does not know (newer build?)');
  }

  const applied: AppliedMigration[] = [];
  for (const m of migrations) {
    if (byVersion.has(m.version)) continue;
    const t0 = performance.now();
    const did = await store
      .transaction(async (tx) => {
        await lockAndEnsureTable(tx);
        const again = await tx.query<AppliedRow>('SELECT version, name, checksum FROM schema_migrations WHERE version = $1', [m.version]);
        const row = again.rows[0];
        if (row) {
          checkUnchanged(m, row);
          return false; // another process applied it while we waited for the lock
        }
        for (const statement of splitSqlStatements(m.sql)) await tx.query(statement);
        await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
        return true;
      })
      .catch((err: unknown) => {
        if (err instanceof MigrationError) throw err;
        const msg = err instanceof Error ? err.message : String(err);
        throw new MigrationError('MIGRATION_FAILED', `migration ${m.file} failed and was rolled back: ${msg}`, m.file, { cause: err });
      });
    if (!did) continue;
    const durationMs = Math.round(performance.now() - t0);
    log?.info({ version: m.version, name: m.name, durationMs }, 'migration applied');
    applied.push({ version: m.version, name: m.name, checksum: m.checksum, durationMs });
  }
  return applied;
}
