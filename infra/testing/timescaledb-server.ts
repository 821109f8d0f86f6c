/**
 * The TimescaleDB server tests use: $TSDB_URL (a postgres:// URL of a role that may create databases)
 * if set; otherwise infra/timescaledb/timescaledb.sh starts (or reuses) the local server on
 * 127.0.0.1:$TSDB_PORT (15432), building TimescaleDB first if its build is not cached yet. Where the
 * script cannot run (no PostgreSQL and no root for apt-get, no source archive and no cached build) the
 * answer is the script's reason to skip, except with CI=true, where a missing server is an error.
 *
 * Each suite takes a database of its own (`freshDatabase`), owned by the server's non-superuser role,
 * so suites running side by side on one server never see each other's rows.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PgStore } from '../store/pg-store.ts';
import { freePort } from './free-port.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'infra', 'timescaledb', 'timescaledb.sh');
/** A cold start builds TimescaleDB (about 3 minutes on 2 cores, plus apt-get); a warm one takes a second. */
const START_TIMEOUT_MS = 900_000;

let found: Promise<string | { skip: string }> | undefined;

/** The server's URL (its non-superuser owner role), or why there is none here. */
export function timescaleServerForTests(): Promise<string | { skip: string }> {
  found ??= find();
  return found;
}

/** Exit 0: the script can run here; exit 3: it cannot, with the reason on stderr. */
function cannotRunReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const check = spawnSync('bash', [script, 'check'], { encoding: 'utf8', env });
  if (check.status === 0) return undefined;
  const why = (check.stderr || check.stdout).trim().replace(/^timescaledb\.sh: (cannot run here: )?/, '');
  if (check.status === 3) return why;
  throw new Error(`timescaledb.sh check failed (exit ${check.status}): ${why}`);
}

async function find(): Promise<string | { skip: string }> {
  const fromEnv = process.env.TSDB_URL?.trim();
  if (fromEnv) return fromEnv;
  const why = cannotRunReason();
  if (why) {
    const reason = `no TimescaleDB server: TSDB_URL is unset and infra/timescaledb/timescaledb.sh cannot start one: ${why}`;
    if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: a missing server is a failure)`);
    return { skip: reason };
  }
  // Idempotent: reuses a running server. A failure here is a real failure, not a skip.
  return urlFrom((await promisify(execFile)('bash', [script, 'start'], { timeout: START_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 })).stdout);
}

function urlFrom(stdout: string): string {
  const m = /^STORE_URL=(\S+)$/m.exec(stdout);
  if (!m?.[1]) throw new Error(`timescaledb.sh start printed no STORE_URL:\n${stdout.slice(-2000)}`);
  return m[1];
}

/** `url` with another database (and optionally another password). */
export function withDatabase(url: string, database: string, password?: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (password !== undefined) u.password = password;
  return u.toString();
}

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty database on the server at `serverUrl`, owned by its role (dropped with `drop`). */
export async function freshDatabase(serverUrl: string, label = 'test'): Promise<FreshDatabase> {
  const name = `${label.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30)}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = await PgStore.open(serverUrl, { poolSize: 1 });
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.close();
  }
  return {
    url: withDatabase(serverUrl, name),
    async drop() {
      const a = await PgStore.open(serverUrl, { poolSize: 1 });
      try {
        // TimescaleDB's scheduler may hold a connection to the database as the bootstrap superuser,
        // which our role may not terminate (42501): retry for a few seconds, then leave the database
        // to the throwaway cluster rather than fail the suite over its cleanup.
        const deadline = Date.now() + 5000;
        for (;;) {
          try {
            await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
            return;
          } catch (err) {
            if ((err as { code?: string }).code !== '42501' || Date.now() > deadline) {
              if ((err as { code?: string }).code === '42501') return;
              throw err;
            }
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      } finally {
        await a.close();
      }
    },
  };
}

/**
 * A server of the caller's own (its own port and data directory), for tests that stop and restart
 * it; the shared one must never be stopped. `preload` overrides shared_preload_libraries ('' for a
 * server that does not load TimescaleDB). Answers the skip reason where the script cannot run.
 */
export interface PrivateServer {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops it and deletes its data directory. */
  destroy(): Promise<void>;
}

export async function startPrivateServer(options: { preload?: string } = {}): Promise<PrivateServer | { skip: string }> {
  const shared = await timescaleServerForTests(); // also builds the extension once, if needed
  if (typeof shared !== 'string') return shared;
  if (process.env.TSDB_URL?.trim()) {
    const why = cannotRunReason();
    if (why) {
      const reason = `a private TimescaleDB server is needed (it is stopped and restarted) and timescaledb.sh cannot start one: ${why}`;
      if (process.env.CI === 'true') throw new Error(reason);
      return { skip: reason };
    }
  }
  const port = await freePort();
  const parent = await mkdtemp(join(tmpdir(), 'tsdb-private-'));
  await chmod(parent, 0o755); // run as root, the script hands the data directory to the postgres user
  const env = { ...process.env, TSDB_PORT: String(port), TSDB_DATA_DIR: join(parent, 'data'), ...(options.preload !== undefined ? { TSDB_PRELOAD: options.preload } : {}) };
  const run = async (cmd: string) => (await promisify(execFile)('bash', [script, cmd], { env, timeout: START_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 })).stdout;
  const url = urlFrom(await run('start'));
  return {
    url,
    port,
    start: async () => void (await run('start')),
    stop: async () => void (await run('stop')),
    destroy: async () => {
      await run('reset');
      await rm(parent, { recursive: true, force: true });
    },
  };
}
