/**
 * `npm run bench -- ingest-insert [--rows N] [--store URL] [--json]`: the ways to insert readings,
 * compared on one store: rows per second of wall time and per CPU-second of this process (the
 * embedded engine runs in it, so CPU time is the engine's work plus ours, and it does not move when
 * other processes load the machine; with --store postgres://… the server's CPU is not counted).
 *
 *   unnest       INSERT … SELECT FROM unnest($1::text[], …) ON CONFLICT DO NOTHING (the insert path's
 *                fallback, and its whole story on an adapter without a bulk load)
 *   port-copy    the insert path as the worker runs it (writeReadings): a binary COPY through the
 *                port's bulk load (`copyFrom`: /dev/blob embedded, COPY FROM STDIN on pg), falling back
 *                to unnest on a conflict (none here)
 *   values       multi-row INSERT … VALUES ($1,…),(…) ON CONFLICT DO NOTHING, 3,000 rows a statement
 *                (PGlite's parameter limit is 32,767)
 *   copy-stage   CSV COPY into a temporary table, then INSERT … SELECT … ON CONFLICT DO NOTHING (embedded only)
 *   copy         CSV COPY straight into readings: no duplicate handling, so only a reference (embedded only)
 *
 * Each variant writes `--rows` new rows (5,000 per statement or COPY) into a fresh store after a
 * warm-up of the same size; 2,000 sensors over Berlin, 5 minutes apart.
 */
import { openStore, insertReadings, writeReadings, type ReadingRow, type Store } from '../infra/store/index.ts';
import type { PgliteStore } from '../infra/store/pglite-store.ts';
import { cellOf } from '../infra/geo/index.ts';
import { uniform } from '../ingest/index.ts';
import type { Benchmark } from './benchmark.ts';

const CHUNK = 5000;
const VALUES_CHUNK = 3000;
const COLUMNS = 'sensor_id, time, kind, lat, lon, elevation_m, cell, temp_c, humidity_pct, pressure_hpa';

function makeRows(n: number, tick0: number): ReadingRow[] {
  const rows: ReadingRow[] = [];
  for (let i = 0; i < n; i++) {
    const s = i % 2000;
    const lat = 52.35 + uniform(3, 2 * s) * 0.33;
    const lon = 13.08 + uniform(3, 2 * s + 1) * 0.68;
    rows.push({ sensorId: `ins-${s}`, timeMs: Date.UTC(2026, 0, 1) + (tick0 + Math.floor(i / 2000)) * 300_000, kind: 'amateur', lat, lon, elevationM: null, cell: cellOf({ lat, lon }, 9), tempC: 5 + (i % 97) / 10, humidityPct: 60, pressureHpa: null });
  }
  return rows;
}

const csv = (rows: readonly ReadingRow[]) =>
  rows.map((r) => `${r.sensorId},${new Date(r.timeMs).toISOString()},${r.kind},${r.lat},${r.lon},${r.elevationM ?? ''},${r.cell},${r.tempC},${r.humidityPct ?? ''},${r.pressureHpa ?? ''}`).join('\n');

type Variant = (store: Store, rows: ReadingRow[]) => Promise<void>;

const variants: Record<string, Variant> = {
  unnest: async (store, rows) => {
    for (let i = 0; i < rows.length; i += CHUNK) await insertReadings(store, rows.slice(i, i + CHUNK), { copy: false });
  },
  'port-copy': async (store, rows) => {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const w = await writeReadings(store, rows.slice(i, i + CHUNK));
      if (w.conflicted || store.copyFrom === undefined) throw new Error('port-copy: the write did not go by the bulk load');
    }
  },
  values: async (store, rows) => {
    for (let i = 0; i < rows.length; i += VALUES_CHUNK) {
      const params: unknown[] = [];
      const tuples: string[] = [];
      for (const r of rows.slice(i, i + VALUES_CHUNK)) {
        const b = params.length;
        params.push(r.sensorId, new Date(r.timeMs).toISOString(), r.kind, r.lat, r.lon, r.elevationM, r.cell, r.tempC, r.humidityPct, r.pressureHpa);
        tuples.push(`($${b + 1},$${b + 2}::timestamptz,$${b + 3},$${b + 4}::float8,$${b + 5}::float8,$${b + 6}::float8,$${b + 7},$${b + 8}::float8,$${b + 9}::float8,$${b + 10}::float8)`);
      }
      await store.query(`INSERT INTO readings (${COLUMNS}) VALUES ${tuples.join(',')} ON CONFLICT (sensor_id, time) DO NOTHING`, params);
    }
  },
  'copy-stage': async (store, rows) => {
    const db = (store as PgliteStore).pglite;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const blob = new Blob([csv(rows.slice(i, i + CHUNK))]);
      await db.transaction(async (tx) => {
        await tx.query(`CREATE TEMP TABLE IF NOT EXISTS readings_stage (LIKE readings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
        await tx.query(`COPY readings_stage (${COLUMNS}) FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob });
        await tx.query(`INSERT INTO readings SELECT * FROM readings_stage ON CONFLICT (sensor_id, time) DO NOTHING`);
      });
    }
  },
  copy: async (store, rows) => {
    const db = (store as PgliteStore).pglite;
    for (let i = 0; i < rows.length; i += CHUNK) await db.query(`COPY readings (${COLUMNS}) FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob: new Blob([csv(rows.slice(i, i + CHUNK))]) });
  },
};

export const ingestInsertBenchmark: Benchmark = {
  description: 'insert variants compared: unnest, the port\'s binary COPY, multi-row VALUES, CSV COPY (--rows N, --store URL)',
  async run(ctx) {
    let rows = 100_000;
    let url = 'memory://';
    for (let i = 0; i < ctx.args.length; i++) {
      const a = ctx.args[i];
      if (a === '--rows') rows = Number(ctx.args[++i]);
      else if (a === '--store') url = ctx.args[++i] ?? '';
      else throw new Error(`unknown option ${a} (known: --rows N, --store URL)`);
    }
    if (!Number.isInteger(rows) || rows < CHUNK) throw new Error(`--rows must be an integer >= ${CHUNK}`);
    const out: Record<string, unknown> = { store: url, rows };
    for (const [name, run] of Object.entries(variants)) {
      const store = await openStore(url);
      try {
        if (store.kind !== 'pglite' && name.startsWith('copy')) {
          out[name] = 'not measured: a CSV COPY from a PGlite /dev/blob, embedded only';
          continue;
        }
        await store.query(`DELETE FROM readings WHERE sensor_id LIKE 'ins-%'`);
        await run(store, makeRows(rows, 0)); // warm-up, and a table that is not empty
        const data = makeRows(rows, 10_000);
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        await run(store, data);
        const cpu = process.cpuUsage(c0);
        const wallS = (performance.now() - t0) / 1000;
        const cpuS = (cpu.user + cpu.system) / 1e6;
        const n = (await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE sensor_id LIKE 'ins-%'`)).rows[0]!.n;
        if (n !== 2 * rows) throw new Error(`${name}: ${n} rows stored, expected ${2 * rows}`);
        out[name] = { rows_per_s: Math.round(rows / wallS), rows_per_cpu_s: Math.round(rows / cpuS) };
        ctx.progress(`${name}: ${Math.round(rows / wallS)} rows/s, ${Math.round(rows / cpuS)} rows per CPU-second`);
        await store.query(`DELETE FROM readings WHERE sensor_id LIKE 'ins-%'`);
      } finally {
        await store.close();
      }
    }
    return out;
  },
};
