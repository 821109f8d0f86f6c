/**
 * The store contract: one suite of node:test tests, run unchanged against every adapter.
 * Expectations are computed from the data the tests write, never copied from engine output.
 *
 * `makeStore` opens a fresh, migrated store (as openStore does). The suite closes every store it
 * was handed (including ones from `reopen`) before calling `cleanup`, which releases the rest
 * (servers, directories).
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { runTimescaleJobs, startJobTimer } from './jobs.ts';
import { checksumOf, loadMigrations, migrate, MIGRATION_LOCK_KEY, MigrationError, MIGRATIONS_DIR } from './migrate.ts';
import { insertReadings, InvalidRowError, READING_COLUMNS, readingsCopyData, upsertSensors, writeReadings, type ReadingRow } from './readings.ts';
import type { Store } from './store.ts';

export interface ContractHandle {
  store: Store;
  /** Opens the same database again (after the suite closed `store`); only for persistent stores. */
  reopen?: () => Promise<Store>;
  cleanup: () => Promise<void>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Deterministic readings: `sensors` sensors every `stepMs` from `startMs`, `steps` steps each. */
function makeReadings(prefix: string, sensors: number, startMs: number, steps: number, stepMs: number): ReadingRow[] {
  const rows: ReadingRow[] = [];
  for (let s = 0; s < sensors; s++) {
    for (let k = 0; k < steps; k++) {
      rows.push({
        sensorId: `${prefix}-${s}`,
        timeMs: startMs + k * stepMs,
        kind: s === 0 ? 'official' : 'amateur',
        lat: 52.4 + s * 0.01,
        lon: 13.3 + s * 0.013,
        elevationM: s % 2 === 0 ? 34 + s : null,
        cell: `89${(0x1f1d4817 + s).toString(16)}ffff`,
        tempC: 10 + 3 * Math.sin((k + s) / 5) + s * 0.37 + k * 0.011,
        humidityPct: k % 3 === 0 ? null : 60 + (k % 10),
        pressureHpa: 1013.25 - s * 0.1,
      });
    }
  }
  return rows;
}

async function countReadings(store: Store, prefix: string): Promise<number> {
  const r = await store.query<{ n: number }>('SELECT count(*) AS n FROM readings WHERE sensor_id LIKE $1', [`${prefix}-%`]);
  return r.rows[0]!.n;
}

function near(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);
}

/** `persistent`: the store keeps data across reopening (the handle then must offer `reopen`). */
export function runStoreContract(name: string, makeStore: () => Promise<ContractHandle>, options: { persistent?: boolean } = {}): void {
  describe(`store contract: ${name}`, () => {
    let handle: ContractHandle;
    let store: Store;
    let tmp: string;

    before(async () => {
      tmp = await mkdtemp(join(tmpdir(), 'store-contract-'));
      handle = await makeStore();
      store = handle.store;
    });

    after(async () => {
      await store?.close();
      await handle?.cleanup();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    });

    test('parameters and results keep the port JS types', async () => {
      const at = Date.UTC(2024, 2, 31, 1, 30, 15, 123); // a DST switch night in Europe
      const tricky = 'ünï "q" {a,b} \\ \'; NULL';
      const n = 7;
      const r = await store.query<Record<string, unknown>>(
        `SELECT $1::timestamptz AS t, $2::timestamptz AS t2, $3::float8 AS f, $4::int4 AS i, count(*) AS n,
                $5::real[] AS arr, $6::text AS nul, $7::text AS s, $8::text[] AS texts,
                sum(g)::int8 AS total, sum(g)::numeric / 8 AS num, $10::float8[] AS floats,
                ARRAY[$1::timestamptz, NULL] AS times, ARRAY[count(*), NULL] AS counts
           FROM generate_series(1, $9::int4) AS g`,
        [new Date(at), new Date(at + 1).toISOString(), 0.1 + 0.2, -42, [1.5, -2.25, 0], null, tricky, [tricky, null, 'x', 'NULL'], n, [0.1, null, -1e300]],
      );
      assert.equal(r.rowCount, 1);
      const row = r.rows[0]!;
      assert.ok(row.t instanceof Date, 'timestamptz -> Date');
      assert.equal(row.t.getTime(), at);
      assert.ok(row.t2 instanceof Date);
      assert.equal(row.t2.getTime(), at + 1);
      assert.equal(row.f, 0.1 + 0.2);
      assert.equal(row.i, -42);
      assert.equal(row.n, n, 'count(*) (int8) -> number');
      assert.equal(row.total, (n * (n + 1)) / 2, 'int8 -> number');
      assert.deepEqual(row.arr, [1.5, -2.25, 0]);
      assert.equal(row.nul, null);
      assert.equal(row.s, tricky);
      assert.deepEqual(row.texts, [tricky, null, 'x', 'NULL']);
      assert.deepEqual(row.floats, [0.1, null, -1e300]);
      assert.deepEqual(row.times, [new Date(at), null]);
      assert.deepEqual(row.counts, [n, null], 'int8[] -> number[]');
      assert.equal(row.num, (n * (n + 1)) / 2 / 8, 'numeric -> number');

      const many = await store.query<{ g: number }>('SELECT g FROM generate_series(1, $1::int4) AS g', [5]);
      assert.equal(many.rowCount, 5);
      assert.deepEqual(many.rows.map((x) => x.g), [1, 2, 3, 4, 5]);
    });

    test('errors carry the SQLSTATE code', async () => {
      await store.query(`INSERT INTO batch_runs (window_end, window_start, status, method, started_at) VALUES ('2001-01-01T00:05Z', '2001-01-01T00:00Z', 'done', 'm', now())`);
      await assert.rejects(
        store.query(`INSERT INTO batch_runs (window_end, window_start, status, method, started_at) VALUES ('2001-01-01T00:05Z', '2001-01-01T00:00Z', 'done', 'm', now())`),
        (err: { code?: string }) => err.code === '23505',
      );
    });

    test('transaction commits when fn resolves and rolls back when it throws', async () => {
      const insert = 'INSERT INTO dead_letters (source, reason, payload) VALUES ($1, $2, $3)';
      const count = async (source: string) =>
        (await store.query<{ n: number }>('SELECT count(*) AS n FROM dead_letters WHERE source = $1', [source])).rows[0]!.n;

      const value = await store.transaction(async (tx) => {
        const a = await tx.query(insert, ['tx-commit', 'r', 'p1']);
        await tx.query(insert, ['tx-commit', 'r', 'p2']);
        assert.equal(a.rowCount, 1);
        const inside = await tx.query<{ n: number }>('SELECT count(*) AS n FROM dead_letters WHERE source = $1', ['tx-commit']);
        return inside.rows[0]!.n;
      });
      assert.equal(value, 2);
      assert.equal(await count('tx-commit'), 2);

      const boom = new Error('boom');
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.query(insert, ['tx-rollback', 'r', 'p']);
          throw boom;
        }),
        (err) => err === boom,
      );
      assert.equal(await count('tx-rollback'), 0);

      // A failing statement aborts the whole transaction, earlier statements included.
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.query(insert, ['tx-sqlerror', 'r', 'p']);
          await tx.query('SELECT 1 / 0');
        }),
        (err: { code?: string }) => err.code === '22012',
      );
      assert.equal(await count('tx-sqlerror'), 0);
      // The store is usable afterwards.
      assert.equal((await store.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1);
    });

    test('migrations are applied once and recorded with their checksums', async () => {
      const files = await loadMigrations();
      assert.ok(files.length >= 2);
      const recorded = await store.query<{ version: number; name: string; checksum: string; applied_at: Date }>(
        'SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version',
      );
      assert.deepEqual(
        recorded.rows.map((r) => [r.version, r.name, r.checksum]),
        files.map((m) => [m.version, m.name, checksumOf(m.sql)]),
      );
      for (const r of recorded.rows) assert.ok(r.applied_at instanceof Date);
      assert.deepEqual(await migrate(store), [], 'second run applies nothing');
      const again = await store.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
      assert.equal(again.rows[0]!.n, files.length);
    });

    test('a new migration (with tricky SQL) applies in its own step; broken and edited ones fail', async () => {
      const dir = join(tmp, 'migrations');
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir);
      const real = await loadMigrations();
      for (const m of real) await copyFile(join(MIGRATIONS_DIR, m.file), join(dir, m.file));
      // Probe migrations numbered after the project's own.
      const probeV = real.at(-1)!.version + 1;
      const brokenV = probeV + 1;
      const pad = (v: number) => String(v).padStart(3, '0');
      await writeFile(
        join(dir, `${pad(probeV)}_contract_probe.sql`),
        `-- a comment; with a semicolon
CREATE TABLE contract_probe (id INTEGER PRIMARY KEY, note TEXT NOT NULL);
INSERT INTO contract_probe VALUES (1, 'semi;colon ''quoted'' $x$'); /* block; comment /* nested; */ */
CREATE FUNCTION contract_probe_fn() RETURNS INTEGER LANGUAGE plpgsql AS $fn$
BEGIN
  RETURN 41 + 1; -- inside; the body
END;
$fn$;
`,
      );
      // Two runs at once (as two processes starting together), held at the lock until both have
      // seen the probe pending: the migration is applied exactly once, the loser skips it.
      const hold = store.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
        await new Promise((r) => setTimeout(r, 300));
      });
      const [a, b] = await Promise.all([migrate(store, { dir }), migrate(store, { dir }), hold]);
      assert.deepEqual([...a, ...b].map((m) => [m.version, m.name]), [[probeV, 'contract_probe']]);
      assert.deepEqual(await migrate(store, { dir }), []);
      const note = await store.query<{ note: string; v: number }>('SELECT note, contract_probe_fn() AS v FROM contract_probe');
      assert.deepEqual(note.rows, [{ note: "semi;colon 'quoted' $x$", v: 42 }]);

      await writeFile(join(dir, `${pad(brokenV)}_contract_broken.sql`), 'CREATE TABLE contract_broken (x INTEGER);\nSELECT * FROM no_such_table;\n');
      await assert.rejects(migrate(store, { dir }), (err) => {
        assert.ok(err instanceof MigrationError);
        assert.equal(err.code, 'MIGRATION_FAILED');
        assert.ok(err.message.includes(`${pad(brokenV)}_contract_broken.sql`), err.message);
        return true;
      });
      const leftover = await store.query<{ t: string | null }>(`SELECT to_regclass('contract_broken')::text AS t`);
      assert.equal(leftover.rows[0]!.t, null, 'the failed migration was rolled back');
      const v4 = await store.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations WHERE version = $1', [brokenV]);
      assert.equal(v4.rows[0]!.n, 0);
      await rm(join(dir, `${pad(brokenV)}_contract_broken.sql`));

      const first = (await loadMigrations())[0]!;
      await writeFile(join(dir, first.file), `${await readFile(join(MIGRATIONS_DIR, first.file), 'utf8')}\n-- edited\n`);
      await assert.rejects(migrate(store, { dir }), (err) => {
        assert.ok(err instanceof MigrationError);
        assert.equal(err.code, 'MIGRATION_CHECKSUM_MISMATCH');
        assert.equal(err.file, first.file);
        assert.ok(err.message.includes(first.file));
        return true;
      });
    });

    test('readings, background and nowcasts are hypertables', async () => {
      const r = await store.query<{ hypertable_name: string }>('SELECT hypertable_name FROM timescaledb_information.hypertables');
      const names = new Set(r.rows.map((x) => x.hypertable_name));
      for (const t of ['readings', 'background', 'nowcasts']) assert.ok(names.has(t), `${t} is a hypertable`);
    });

    test('time_bucket over readings gives the averages of the inserted data', async () => {
      const start = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR + 2 * MINUTE; // buckets start mid-data
      const rows = makeReadings('tb', 4, start, 36, 5 * MINUTE);
      assert.equal(await insertReadings(store, rows), rows.length);

      const expected = new Map<number, { sum: number; n: number }>();
      for (const r of rows) {
        const b = Math.floor(r.timeMs / HOUR) * HOUR;
        const e = expected.get(b) ?? { sum: 0, n: 0 };
        e.sum += r.tempC;
        e.n += 1;
        expected.set(b, e);
      }
      const got = await store.query<{ bucket: Date; avg: number; n: number }>(
        `SELECT time_bucket(INTERVAL '1 hour', time) AS bucket, avg(temp_c) AS avg, count(*) AS n
           FROM readings WHERE sensor_id LIKE 'tb-%' GROUP BY bucket ORDER BY bucket`,
      );
      const want = [...expected.entries()].sort((a, b) => a[0] - b[0]);
      assert.equal(got.rows.length, want.length);
      got.rows.forEach((row, i) => {
        const [bucket, e] = want[i]!;
        assert.ok(row.bucket instanceof Date);
        assert.equal(row.bucket.getTime(), bucket);
        assert.equal(row.n, e.n);
        near(row.avg, e.sum / e.n, 1e-9, `avg of bucket ${new Date(bucket).toISOString()}`);
      });
    });

    test('insertReadings is idempotent, keeps the first of within-batch duplicates and chunks big batches', async () => {
      const base = Math.floor(Date.now() / MINUTE) * MINUTE - 2 * HOUR;
      const rows = makeReadings('idem', 3, base, 10, 5 * MINUTE);
      const dupe: ReadingRow = { ...rows[4]!, tempC: rows[4]!.tempC + 100 };
      const batch = [...rows.slice(0, 20), dupe, ...rows.slice(20)];
      const unique = rows.length;

      assert.equal(await insertReadings(store, batch, { chunkRows: 7 }), unique);
      assert.equal(await countReadings(store, 'idem'), unique);
      assert.equal(await insertReadings(store, batch, { chunkRows: 7 }), 0, 'same batch again inserts nothing');
      assert.equal(await insertReadings(store, batch), 0, 'in one statement too');
      assert.equal(await countReadings(store, 'idem'), unique);
      assert.equal(await insertReadings(store, []), 0);

      const kept = await store.query<{ temp_c: number; time: Date; elevation_m: number | null; humidity_pct: number | null }>(
        'SELECT temp_c, time, elevation_m, humidity_pct FROM readings WHERE sensor_id = $1 AND time = $2',
        [rows[4]!.sensorId, new Date(rows[4]!.timeMs)],
      );
      assert.equal(kept.rows.length, 1);
      assert.equal(kept.rows[0]!.temp_c, rows[4]!.tempC, 'the first of the duplicates is kept');
      assert.equal(kept.rows[0]!.time.getTime(), rows[4]!.timeMs);
      assert.equal(kept.rows[0]!.elevation_m, rows[4]!.elevationM);
      assert.equal(kept.rows[0]!.humidity_pct, rows[4]!.humidityPct);

      const more = makeReadings('idem', 3, base + 10 * 5 * MINUTE, 2, 5 * MINUTE);
      assert.equal(await insertReadings(store, [...rows.slice(0, 5), ...more]), more.length, 'only the new rows count');
      assert.equal(await countReadings(store, 'idem'), unique + more.length);
    });

    test('the bulk path (plain COPY first, idempotent on conflict) stores exactly what the plain path stores', async () => {
      const base = Math.floor(Date.now() / MINUTE) * MINUTE - 3 * HOUR;
      const rows = makeReadings('bulk', 4, base, 6, 5 * MINUTE);
      rows[0] = { ...rows[0]!, sensorId: 'bulk-ünï "q",\\t', timeMs: rows[0]!.timeMs + 123.4, tempC: -0.1 - 0.2, lat: 52.123456789012345 };
      const first = await writeReadings(store, rows);
      assert.deepEqual(first, { inserted: rows.length, unique: rows.length, conflicted: false });
      // Half of them again, with new ones: the COPY meets stored keys and the idempotent write takes over.
      const more = makeReadings('bulk', 4, base + 6 * 5 * MINUTE, 2, 5 * MINUTE);
      const again = await writeReadings(store, [...rows.slice(0, 12), ...more]);
      // Both adapters have the bulk load (embedded: /dev/blob; pg: COPY FROM STDIN), so the write went by it.
      assert.equal(typeof store.copyFrom, 'function', 'the adapter has a bulk load');
      assert.deepEqual(again, { inserted: more.length, unique: 12 + more.length, conflicted: true });
      // Without the COPY (as a writer does after a conflict) the same outcome, and nothing twice.
      assert.deepEqual(await writeReadings(store, rows, { copy: false }), { inserted: 0, unique: rows.length, conflicted: false });
      assert.equal(await countReadings(store, 'bulk'), rows.length + more.length);
      // Every value as written: text with quotes, commas and non-ASCII, times to the millisecond, NULLs, exact floats.
      const got = await store.query<{ sensor_id: string; time: Date; kind: string; lat: number; lon: number; elevation_m: number | null; cell: string; temp_c: number; humidity_pct: number | null; pressure_hpa: number | null }>(
        `SELECT ${READING_COLUMNS.join(', ')} FROM readings WHERE sensor_id LIKE 'bulk-%' ORDER BY sensor_id COLLATE "C", time`,
      );
      const want = [...rows, ...more]
        .map((r) => ({ sensor_id: r.sensorId, time: new Date(Math.round(r.timeMs)), kind: r.kind, lat: r.lat, lon: r.lon, elevation_m: r.elevationM, cell: r.cell, temp_c: r.tempC, humidity_pct: r.humidityPct, pressure_hpa: r.pressureHpa }))
        .sort((a, b) => (a.sensor_id < b.sensor_id ? -1 : a.sensor_id > b.sensor_id ? 1 : a.time.getTime() - b.time.getTime()));
      assert.deepEqual(got.rows, want);
    });

    test('a bulk load that meets a stored key fails whole with 23505, and inside a transaction leaves it usable', async () => {
      const base = Math.floor(Date.now() / MINUTE) * MINUTE - 4 * HOUR;
      const rows = makeReadings('bulkx', 2, base, 3, MINUTE);
      const stored = await store.transaction(async (tx) => {
        const w = await writeReadings(tx, rows);
        // A conflicting write in the same transaction: the savepoint keeps the transaction alive.
        const w2 = await writeReadings(tx, [rows[0]!, ...makeReadings('bulkx', 2, base + HOUR, 1, MINUTE)]);
        await tx.query(`INSERT INTO dead_letters (source, reason, payload) VALUES ('bulkx', 'after a conflict', '')`);
        return [w, w2];
      });
      assert.deepEqual(stored.map((w) => w.inserted), [rows.length, 2]);
      assert.equal(await countReadings(store, 'bulkx'), rows.length + 2);
      assert.equal((await store.query<{ n: number }>(`SELECT count(*) AS n FROM dead_letters WHERE source = 'bulkx'`)).rows[0]!.n, 1);
      assert.ok(store.copyFrom, 'the adapter has a bulk load');
      const data = readingsCopyData([...makeReadings('bulkx', 2, base + 2 * HOUR, 1, MINUTE), rows[1]!]);
      await assert.rejects(store.copyFrom({ table: 'readings', columns: READING_COLUMNS, data }), (err: unknown) => {
        assert.equal((err as { code?: string }).code, '23505');
        return true;
      });
      assert.equal(await countReadings(store, 'bulkx'), rows.length + 2, 'the failed COPY wrote nothing');
      assert.equal(await store.copyFrom({ table: 'readings', columns: READING_COLUMNS, data: readingsCopyData(makeReadings('bulkx', 2, base + 3 * HOUR, 2, MINUTE)) }), 4);
      await assert.rejects(store.copyFrom({ table: 'readings; DROP TABLE readings', columns: READING_COLUMNS, data }), RangeError);
    });

    test('insertReadings rejects malformed rows by field and index, writing nothing', async () => {
      const rows = makeReadings('bad', 1, Date.now() - HOUR, 3, MINUTE);
      const cases: Array<[Partial<ReadingRow>, string]> = [
        [{ tempC: Number.NaN }, 'tempC'],
        [{ lat: Number.POSITIVE_INFINITY }, 'lat'],
        [{ lon: 181 }, 'lon'],
        [{ timeMs: Number.NaN }, 'timeMs'],
        [{ humidityPct: Number.NaN }, 'humidityPct'],
        [{ sensorId: '' }, 'sensorId'],
        [{ kind: 'pirate' as ReadingRow['kind'] }, 'kind'],
      ];
      for (const [patch, field] of cases) {
        const batch = rows.map((r, i) => (i === 1 ? { ...r, ...patch } : r));
        await assert.rejects(insertReadings(store, batch), (err) => {
          assert.ok(err instanceof InvalidRowError, `${field}: ${String(err)}`);
          assert.equal(err.code, 'ROW_INVALID');
          assert.equal(err.field, field);
          assert.equal(err.index, 1);
          assert.ok(err.message.includes(`rows[1].${field}`), err.message);
          return true;
        });
      }
      assert.equal(await countReadings(store, 'bad'), 0);
    });

    test('upsertSensors registers, moves forward only, and never touches key_hash', async () => {
      const t1 = Date.UTC(2025, 5, 1, 12, 0, 0);
      const s = { sensorId: 'up-1', kind: 'amateur' as const, lat: 52.5, lon: 13.4, elevationM: 40 };
      await upsertSensors(store, [{ ...s, lastSeenMs: t1 }]);
      await store.query(`UPDATE sensors SET key_hash = 'h4sh' WHERE sensor_id = 'up-1'`);

      const t2 = t1 + 10 * MINUTE;
      // Within-batch duplicates: the latest sighting wins, whatever the order.
      await upsertSensors(store, [
        { ...s, lat: 52.51, lon: 13.41, elevationM: null, lastSeenMs: t2 },
        { ...s, lat: 52.0, lon: 13.0, elevationM: 1, lastSeenMs: t1 + MINUTE },
        { sensorId: 'up-2', kind: 'official', lat: -33.9, lon: 151.2, elevationM: 5, lastSeenMs: t2 },
      ]);
      // An older sighting moves nothing backwards.
      await upsertSensors(store, [{ ...s, lat: 10, lon: 10, elevationM: 0, lastSeenMs: t1 - HOUR }]);

      const r = await store.query<{ sensor_id: string; kind: string; lat: number; lon: number; elevation_m: number | null; key_hash: string | null; first_seen: Date; last_seen: Date }>(
        `SELECT sensor_id, kind, lat, lon, elevation_m, key_hash, first_seen, last_seen FROM sensors WHERE sensor_id LIKE 'up-%' ORDER BY sensor_id`,
      );
      assert.equal(r.rows.length, 2);
      const [one, two] = r.rows;
      assert.equal(one!.last_seen.getTime(), t2);
      assert.equal(one!.first_seen.getTime(), t1 - HOUR);
      assert.deepEqual([one!.lat, one!.lon, one!.elevation_m], [52.51, 13.41, null]);
      assert.equal(one!.key_hash, 'h4sh');
      assert.equal(two!.kind, 'official');
      assert.equal(two!.last_seen.getTime(), t2);
      assert.equal(two!.key_hash, null);

      await assert.rejects(upsertSensors(store, [{ ...s, lat: Number.NaN, lastSeenMs: t2 }]), InvalidRowError);
    });

    test('the hourly continuous aggregate fills only when its policy job runs', async () => {
      const mode = await store.query<{ materialized_only: boolean }>(
        `SELECT materialized_only FROM timescaledb_information.continuous_aggregates WHERE view_name = 'readings_hourly'`,
      );
      assert.deepEqual(mode.rows, [{ materialized_only: true }], 'a materialized-only aggregate (no real-time union)');
      // Two sensors in one cell, 5 h ago (inside the policy's [now - 3 d, now - 1 h] refresh range).
      const hourMs = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
      const rows = makeReadings('cagg', 2, hourMs + 10 * MINUTE, 3, 10 * MINUTE).map((r) => ({ ...r, cell: 'cagg-cell' }));
      assert.equal(await insertReadings(store, rows), rows.length);
      const read = () => store.query<{ hour: Date; n_readings: number; n_sensors: number; mean_temp_c: number }>(
        `SELECT hour, n_readings, n_sensors, mean_temp_c FROM readings_hourly WHERE cell = 'cagg-cell'`,
      );
      assert.equal((await read()).rows.length, 0, 'nothing before the job runs');
      const runs = await runTimescaleJobs(store);
      assert.ok(runs.some((r) => r.proc === 'policy_refresh_continuous_aggregate' && r.ok), JSON.stringify(runs));
      const after = (await read()).rows;
      assert.equal(after.length, 1);
      assert.equal(after[0]!.hour.getTime(), hourMs);
      assert.equal(after[0]!.n_readings, 6);
      assert.equal(after[0]!.n_sensors, 2);
      near(after[0]!.mean_temp_c, rows.reduce((a, r) => a + r.tempC, 0) / rows.length, 1e-9, 'hourly mean');
    });

    test('policy jobs compress old chunks and drop expired ones; data stays queryable', async () => {
      const now = Date.now();
      const ages = [500 * DAY, 30 * DAY, 10 * DAY, HOUR]; // retention 400 d, compression 7 d (002_policies.sql)
      const rows = ages.flatMap((age, a) => makeReadings(`cr${a}`, 3, now - age, 6, 5 * MINUTE));
      assert.equal(await insertReadings(store, rows), rows.length);

      const runs = await runTimescaleJobs(store);
      const failed = runs.filter((r) => !r.ok);
      assert.deepEqual(failed, [], 'every job succeeded');
      assert.ok(runs.some((r) => r.proc === 'policy_compression' && r.hypertable === 'readings'));
      assert.ok(runs.some((r) => r.proc === 'policy_retention' && r.hypertable === 'readings'));

      const chunkOf = async (t: number) =>
        (
          await store.query<{ is_compressed: boolean }>(
            `SELECT is_compressed FROM timescaledb_information.chunks
              WHERE hypertable_name = 'readings' AND range_start <= $1 AND range_end > $1`,
            [new Date(t)],
          )
        ).rows;
      assert.deepEqual(await chunkOf(now - 500 * DAY), [], 'the expired chunk is dropped');
      assert.equal(await countReadings(store, 'cr0'), 0);
      assert.deepEqual(await chunkOf(now - 10 * DAY), [{ is_compressed: true }]);
      assert.deepEqual(await chunkOf(now - 30 * DAY), [{ is_compressed: true }]);
      assert.deepEqual(await chunkOf(now - HOUR), [{ is_compressed: false }]);

      // Compressed data still answers queries, with the values written.
      for (const a of [1, 2, 3]) {
        const mine = rows.filter((r) => r.sensorId.startsWith(`cr${a}-`));
        const got = await store.query<{ n: number; avg: number; min: Date }>(
          'SELECT count(*) AS n, avg(temp_c) AS avg, min(time) AS min FROM readings WHERE sensor_id LIKE $1',
          [`cr${a}-%`],
        );
        assert.equal(got.rows[0]!.n, mine.length);
        near(got.rows[0]!.avg, mine.reduce((s, r) => s + r.tempC, 0) / mine.length, 1e-9, `avg cr${a}`);
        assert.equal(got.rows[0]!.min.getTime(), Math.min(...mine.map((r) => r.timeMs)));
      }

      // Late data into a compressed chunk: duplicates are still ignored, new rows still land.
      const late = rows.filter((r) => r.sensorId.startsWith('cr2-')).slice(0, 3);
      assert.equal(await insertReadings(store, late), 0);
      const fresh = makeReadings('cr2late', 1, now - 10 * DAY + MINUTE, 2, MINUTE);
      assert.equal(await insertReadings(store, fresh), 2);
      assert.equal(await countReadings(store, 'cr2late'), 2);
    });

    test('startJobTimer runs the jobs periodically and stop() waits for the run in flight', async () => {
      const lines: Array<{ msg?: string; jobs?: number; failed?: number }> = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(JSON.parse(chunk.toString()) as { msg?: string });
          done();
        },
      });
      const log = pino({ level: 'debug' }, sink);
      const runs = () => lines.filter((l) => l.msg === 'timescaledb jobs run');

      const stop = startJobTimer(store, 5, log);
      const deadline = Date.now() + 20_000;
      while (runs().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await stop();
      const seen = runs().length;
      assert.ok(seen >= 2, `two runs within 20 s (saw ${seen})`);
      assert.ok(runs().every((l) => (l.jobs ?? 0) > 0 && l.failed === 0), JSON.stringify(lines));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(runs().length, seen, 'no run after stop()');

      const noop = startJobTimer(store, 0, log);
      await noop();
    });

    if (options.persistent) test('reopening a persistent store keeps the data and hypertables take inserts', async () => {
      assert.ok(handle.reopen, 'a persistent store must offer reopen()');
      const before = await countReadings(store, 'idem');
      const migrations = (await store.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations')).rows[0]!.n;
      assert.ok(before > 0);
      await store.close();
      store = await handle.reopen();
      assert.equal(await countReadings(store, 'idem'), before);
      assert.equal((await store.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations')).rows[0]!.n, migrations);
      const compressed = await store.query<{ n: number }>(
        `SELECT count(*) AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'readings' AND is_compressed`,
      );
      assert.ok(compressed.rows[0]!.n > 0, 'compressed chunks survive a reopen');

      const rows = makeReadings('reopen', 2, Date.now() - 3 * DAY, 4, 5 * MINUTE);
      assert.equal(await insertReadings(store, rows), rows.length);
      assert.equal(await countReadings(store, 'reopen'), rows.length);
      const runs = await runTimescaleJobs(store);
      assert.deepEqual(runs.filter((r) => !r.ok), []);
    });
  });
}
