/**
 * `npm run bench -- batch [--runs N] [--sensors N] [--store URL] [--json]`: one batch run over the
 * default Berlin domain (18,012 cells at resolution 9): read the window, build the field, correct
 * every cell, write the nowcasts and the ledger. Readings and background come from the simulated
 * city, inserted before timing. Default store: embedded, in memory; `--store` takes any STORE_URL,
 * e.g. postgres://… for a TimescaleDB server. The windows are fixed (June 2026), so a server
 * database serves one run: give each run a fresh database for benchmarks.
 */
import { openStore, insertReadings, upsertBackground, type ReadingRow } from '../infra/store/index.ts';
import { cellOf } from '../infra/geo/index.ts';
import { createLogger } from '../infra/log.ts';
import { loadConfig } from '../infra/config.ts';
import { backgroundTempC, createCity, readingInSlot, slotsBetween } from '../ingest/index.ts';
import { domainGrid, runBatch } from '../pipeline/index.ts';
import { redactUrl, type Benchmark } from './benchmark.ts';

const H = 3_600_000;

function parse(args: string[]): { runs: number; sensors: number; url: string } {
  const o = { runs: 3, sensors: 400, url: 'memory://' };
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '--store') {
      if (!args[i + 1]) throw new Error('--store expects a store URL');
      o.url = args[i + 1]!;
      continue;
    }
    const n = Number(args[i + 1]);
    if (args[i] !== '--runs' && args[i] !== '--sensors') throw new Error(`unknown option ${String(args[i])} (known: --runs N, --sensors N, --store URL)`);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${String(args[i])} expects a positive integer`);
    if (args[i] === '--runs') o.runs = n;
    else o.sensors = n;
  }
  return o;
}

export const batchBenchmark: Benchmark = {
  description: 'one batch run over the Berlin domain (--runs, --sensors, --store URL)',
  async run({ args, progress }) {
    const o = parse(args);
    const config = loadConfig({});
    const windowMs = config.batch.windowMs;
    const store = await openStore(o.url);
    try {
      const city = createCity({ seed: 1, bbox: config.grid.bbox, officialStations: 6, amateurSensors: o.sensors, amateurIntervalMs: 60_000 });
      const t0 = Date.UTC(2026, 5, 15, 12);
      const lastEnd = t0 + o.runs * windowMs;
      const rows: ReadingRow[] = [];
      for (const s of city.sensors) {
        for (const slot of slotsBetween(s, t0 - windowMs, lastEnd)) {
          const r = readingInSlot(city, s, slot);
          if (r) rows.push({ sensorId: s.sensorId, timeMs: r.timeMs, kind: s.kind, lat: s.position.lat, lon: s.position.lon, elevationM: null, cell: cellOf(s.position, config.grid.resolution), tempC: r.tempC, humidityPct: null, pressureHpa: null });
        }
      }
      await insertReadings(store, rows);
      await upsertBackground(store, city.backgroundPoints.flatMap((p) => Array.from({ length: 6 }, (_, h) => ({
        source: 'sim', pointId: p.pointId, lat: p.position.lat, lon: p.position.lon, validTimeMs: t0 - H + h * H, issuedAtMs: t0 - 2 * H, tempC: backgroundTempC(city, p.position, t0 - H + h * H),
      }))));
      const gridStart = performance.now();
      const grid = domainGrid(config.grid.bbox, config.grid.resolution);
      const gridMs = performance.now() - gridStart;
      progress(`${rows.length} readings, ${grid.length} cells; running ${o.runs} batches`);
      const times: number[] = [];
      let last;
      for (let k = 1; k <= o.runs; k++) {
        const started = performance.now();
        last = await runBatch({ store, log: createLogger('silent'), grid, windowMs }, t0 + k * windowMs);
        if (last.status === 'skipped') throw new Error(`batch ${k}: its window is already in the ledger of ${redactUrl(o.url)}; use a fresh database`);
        if (last.status !== 'done') throw new Error(`batch ${k} ${last.status}: ${last.error ?? ''}`);
        times.push(performance.now() - started);
        progress(`batch ${k}/${o.runs}: ${times.at(-1)!.toFixed(0)} ms`);
      }
      times.sort((a, b) => a - b);
      return {
        store: redactUrl(o.url),
        adapter: store.kind,
        cells: grid.length,
        readingsPerWindow: last!.nReadings,
        sensors: last!.nSensors,
        runs: o.runs,
        batchMsMedian: Math.round(times[Math.floor(times.length / 2)]!),
        batchMsMax: Math.round(times.at(-1)!),
        gridBuildMs: Math.round(gridMs),
        peakRssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      };
    } finally {
      await store.close();
    }
  },
};
