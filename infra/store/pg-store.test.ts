/**
 * The pg adapter against a real TimescaleDB server (PostgreSQL 15 + TimescaleDB, started by
 * infra/timescaledb/timescaledb.sh, or $TSDB_URL), as the server's non-superuser owner role with a
 * real pool: the store and domain contracts, then the adapter's own promises: bounded waits, typed
 * retryable errors for lost connections, and clear errors at open. Without a server the tests say
 * why and skip, except with CI=true, where that is a failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openStore } from './index.ts';
import { PgStore } from './pg-store.ts';
import { StoreError } from './store-error.ts';
import { CopyBinaryWriter } from './copy-binary.ts';
import { runTimescaleJobs } from './jobs.ts';
import { runStoreContract, type ContractHandle } from './store.contract.ts';
import { runDomainContract } from './domain.contract.ts';
import { runRegistryContract } from './stations.contract.ts';
import { freshDatabase, startPrivateServer, timescaleServerForTests, withDatabase, type FreshDatabase } from '../testing/timescaledb-server.ts';
import { freePort } from '../testing/free-port.ts';
import { waitFor } from '../testing/role-process.ts';
import type { Store } from './store.ts';

/** A transaction of `store` that runs `statement`, then holds its connection (and its locks) until `release`; `done` settles when it ends. */
async function holdTransaction(store: Store, statement: string): Promise<{ release: () => void; done: Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const done = store.transaction(async (q) => {
    await q.query(statement);
    entered();
    await held;
  });
  await Promise.race([inside, done]);
  return { release, done };
}

const server = await timescaleServerForTests();
const POOL_SIZE = 4;

async function onServer(label: string): Promise<ContractHandle> {
  if (typeof server !== 'string') throw new Error(server.skip);
  const db = await freshDatabase(server, label);
  try {
    const store = await openStore(db.url, { poolSize: POOL_SIZE });
    if (store.kind !== 'pg') throw new Error(`expected the pg adapter, got ${store.kind}`);
    return { store, cleanup: () => db.drop() };
  } catch (err) {
    await db.drop();
    throw err;
  }
}

/** Rejects with a StoreError of `code` (and a message matching `message`). */
function storeError(code: StoreError['code'], message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  };
}

if (typeof server !== 'string') {
  test('pg adapter on a TimescaleDB server', (t) => t.skip(server.skip));
} else {
  const name = `pg on a TimescaleDB server (non-superuser owner, pool of ${POOL_SIZE})`;
  runStoreContract(name, () => onServer('store_contract'));
  runDomainContract(name, () => onServer('domain_contract'));
  runRegistryContract(name, () => onServer('registry_contract'));

  describe('pg adapter: bounded waits and lost connections', () => {
    let db: FreshDatabase;
    let probe: PgStore;
    before(async () => {
      db = await freshDatabase(server, 'pg_adapter');
      probe = await PgStore.open(db.url, { poolSize: 2 });
    });
    after(async () => {
      await probe?.close();
      await db?.drop();
    });

    /** Terminates the server backends of `store`'s pool (as the same role: no superuser needed). */
    async function killBackendsOf(applicationName: string): Promise<number> {
      const r = await probe.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
        [applicationName],
      );
      return r.rows[0]!.n;
    }
    const urlNamed = (app: string) => `${db.url}?application_name=${app}`;

    test('the role is no superuser and owns its database', async () => {
      const r = await probe.query<{ su: boolean; owner: string; me: string }>(
        `SELECT rolsuper AS su, pg_get_userbyid(d.datdba) AS owner, current_user AS me
           FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`,
      );
      assert.equal(r.rows[0]!.su, false);
      assert.equal(r.rows[0]!.owner, r.rows[0]!.me);
    });

    test('a query waits for a pool connection no longer than connectionTimeoutMs', async () => {
      const store = await PgStore.open(db.url, { poolSize: 1, connectionTimeoutMs: 300 });
      try {
        const { release, done: tx } = await holdTransaction(store, 'SELECT 1');
        const t0 = Date.now();
        await assert.rejects(store.query('SELECT 1'), storeError('STORE_UNAVAILABLE', /within 300 ms \(STORE_CONNECT_TIMEOUT_MS\)/));
        const waited = Date.now() - t0;
        assert.ok(waited >= 250 && waited < 5000, `failed after ${waited} ms`);
        release();
        await tx;
        assert.deepEqual((await store.query('SELECT 2 AS x')).rows, [{ x: 2 }], 'the pool serves again once the connection is free');
      } finally {
        await store.close();
      }
    });

    test('a statement longer than statementTimeoutMs is cancelled with a retryable STORE_TIMEOUT', async () => {
      const store = await PgStore.open(db.url, { poolSize: 2, statementTimeoutMs: 200 });
      try {
        const t0 = Date.now();
        await assert.rejects(store.query('SELECT pg_sleep(5)'), (err: unknown) => {
          storeError('STORE_TIMEOUT', /200 ms \(STORE_STATEMENT_TIMEOUT_MS\)/)(err);
          assert.equal((err as StoreError).retryable, true);
          return true;
        });
        assert.ok(Date.now() - t0 < 4000, 'cancelled by the server, not waited out');
        await assert.rejects(store.transaction((q) => q.query('SELECT pg_sleep(5)')), storeError('STORE_TIMEOUT'));
        assert.deepEqual((await store.query('SELECT 3 AS x')).rows, [{ x: 3 }]);
      } finally {
        await store.close();
      }
    });

    test('a connection dropped inside a transaction is a retryable STORE_UNAVAILABLE, not a crash; the pool recovers', async () => {
      const app = `drop_tx_${process.pid}`;
      const store = await PgStore.open(urlNamed(app), { poolSize: 2 });
      try {
        await store.query('CREATE TABLE IF NOT EXISTS drop_probe (k int PRIMARY KEY)');
        // Between two statements: the server drops the connection while the client holds it.
        await assert.rejects(
          store.transaction(async (q) => {
            await q.query('INSERT INTO drop_probe VALUES (1)');
            assert.equal(await killBackendsOf(app), 1);
            await new Promise((r) => setTimeout(r, 200)); // the client sees the socket close ('error' event)
            await q.query('INSERT INTO drop_probe VALUES (2)');
          }),
          (err: unknown) => {
            storeError('STORE_UNAVAILABLE')(err);
            assert.equal((err as StoreError).retryable, true);
            return true;
          },
        );
        // During a statement.
        const sleeping = assert.rejects(store.transaction((q) => q.query('SELECT pg_sleep(10)')), storeError('STORE_UNAVAILABLE'));
        const deadline = Date.now() + 5000;
        while ((await killBackendsOf(app)) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await sleeping;
        // Nothing of the broken transactions was committed, and the same pool works again.
        assert.deepEqual((await store.query('SELECT count(*) AS n FROM drop_probe')).rows, [{ n: 0 }]);
        await store.transaction((q) => q.query('INSERT INTO drop_probe VALUES (3)'));
        assert.deepEqual((await store.query('SELECT k FROM drop_probe')).rows, [{ k: 3 }]);
      } finally {
        await store.close();
      }
    });

    test('idle pooled connections dropped by the server are replaced; a query in flight fails typed', async () => {
      const app = `drop_idle_${process.pid}`;
      const store = await PgStore.open(urlNamed(app), { poolSize: 3, idleTimeoutMs: 60_000 });
      try {
        await Promise.all([store.query('SELECT pg_sleep(0.05)'), store.query('SELECT pg_sleep(0.05)'), store.query('SELECT pg_sleep(0.05)')]);
        assert.ok((await killBackendsOf(app)) >= 1);
        await new Promise((r) => setTimeout(r, 200));
        assert.deepEqual((await store.query('SELECT 4 AS x')).rows, [{ x: 4 }]);
        const sleeping = assert.rejects(store.query('SELECT pg_sleep(10)'), storeError('STORE_UNAVAILABLE', /terminat/i));
        const deadline = Date.now() + 5000;
        while ((await killBackendsOf(app)) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await sleeping;
        assert.deepEqual((await store.query('SELECT 5 AS x')).rows, [{ x: 5 }]);
      } finally {
        await store.close();
      }
    });

    test('a bulk load (COPY FROM STDIN) is bounded like a statement: blocked past statementTimeoutMs it is STORE_TIMEOUT, its connection dropped it is STORE_UNAVAILABLE; nothing half-written, the pool recovers', async () => {
      const app = `copy_${process.pid}`;
      const store = await PgStore.open(urlNamed(app), { poolSize: 2, statementTimeoutMs: 300 });
      const rowsOf = (...keys: string[]) => {
        const w = new CopyBinaryWriter(2, 64);
        for (const k of keys) w.tuple().text(k).float8(k.length);
        return { table: 'copy_probe', columns: ['k', 'v'], data: w.finish() };
      };
      try {
        await store.query('CREATE TABLE IF NOT EXISTS copy_probe (k text PRIMARY KEY, v float8)');
        assert.equal(await store.copyFrom(rowsOf('a', 'bb')), 2);
        // Another session holds the table: the COPY waits on the lock until the server cancels it.
        const { release, done: holder } = await holdTransaction(probe, 'LOCK TABLE copy_probe IN ACCESS EXCLUSIVE MODE');
        const t0 = Date.now();
        await assert.rejects(store.copyFrom(rowsOf('c')), storeError('STORE_TIMEOUT', /300 ms \(STORE_STATEMENT_TIMEOUT_MS\)/));
        assert.ok(Date.now() - t0 < 5000, 'cancelled by the server, not waited out');
        await assert.rejects(store.transaction((q) => q.copyFrom!(rowsOf('c'))), storeError('STORE_TIMEOUT'));
        // The same wait, ended by the server dropping the connection instead.
        const unbounded = await PgStore.open(urlNamed(app), { poolSize: 2, statementTimeoutMs: 0 });
        try {
          const blocked = assert.rejects(unbounded.copyFrom(rowsOf('d')), storeError('STORE_UNAVAILABLE'));
          await waitFor('the blocked COPY\'s backend terminated', async () => {
            const r = await probe.query<{ n: number }>(`SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'COPY%'`, [app]);
            return r.rows[0]!.n > 0 ? true : undefined;
          }, { timeoutMs: 5000, everyMs: 20 });
          await blocked;
          release();
          await holder;
          assert.equal(await unbounded.copyFrom(rowsOf('e')), 1, 'the pool serves again');
        } finally {
          await unbounded.close();
        }
        assert.equal(await store.copyFrom(rowsOf('f')), 1);
        assert.deepEqual((await store.query('SELECT k FROM copy_probe ORDER BY k')).rows.map((r) => (r as { k: string }).k), ['a', 'bb', 'e', 'f'], 'nothing of the failed loads was written');
      } finally {
        await store.close();
      }
    });

    test("policy jobs: the owner runs its own hypertables' and aggregates' jobs, never TimescaleDB's internal ones", async () => {
      const store = await openStore(db.url, { poolSize: 2 });
      try {
        const all = await store.query<{ job_id: number; proc_name: string; hypertable_name: string | null }>(
          'SELECT job_id, proc_name, hypertable_name FROM timescaledb_information.jobs WHERE scheduled',
        );
        assert.ok(all.rows.some((j) => j.proc_name === 'policy_job_stat_history_retention'), 'the server has an internal job');
        const runs = await runTimescaleJobs(store);
        assert.deepEqual(runs.filter((r) => !r.ok), [], 'no job fails (none is run without permission)');
        const ours = all.rows.filter((j) => j.hypertable_name !== null).map((j) => `${j.proc_name} ${j.hypertable_name}`).sort();
        assert.deepEqual(runs.map((r) => `${r.proc} ${r.hypertable}`).sort(), ours);
        assert.ok(ours.includes('policy_refresh_continuous_aggregate readings_hourly') && ours.includes('policy_compression readings'), ours.join(', '));
      } finally {
        await store.close();
      }
    });

    test('open: a wrong password, a missing database or no server is one error naming STORE_URL', async () => {
      await assert.rejects(PgStore.open(withDatabase(db.url, new URL(db.url).pathname.slice(1), 'not-the-password')), storeError('STORE_REFUSED', /^STORE_URL: .*password authentication failed/));
      await assert.rejects(PgStore.open(withDatabase(db.url, 'no_such_database')), storeError('STORE_REFUSED', /^STORE_URL: .*does not exist/));
      const closed = await freePort();
      const nobody = new URL(db.url);
      nobody.port = String(closed);
      await assert.rejects(PgStore.open(nobody.toString(), { connectionTimeoutMs: 2000 }), storeError('STORE_UNAVAILABLE', /^STORE_URL: .*ECONNREFUSED/));
    });
  });

  describe('pg adapter: a server without TimescaleDB loaded', () => {
    let plain: Awaited<ReturnType<typeof startPrivateServer>> | undefined;
    before(async () => {
      plain = await startPrivateServer({ preload: '' });
    });
    after(async () => {
      if (plain && 'destroy' in plain) await plain.destroy();
    });

    test('open refuses it with one error naming STORE_URL and shared_preload_libraries', async (t) => {
      if (!plain || 'skip' in plain) return t.skip(plain?.skip ?? 'no private server');
      await assert.rejects(PgStore.open(plain.url), storeError('STORE_NO_TIMESCALEDB', /^STORE_URL: .*shared_preload_libraries/));
    });
  });
}
