/**
 * `npm run bench -- pipeline [--readings N] [--sensors N] [--workers N] [--map-threads N] [--store URL] [--json]`: one
 * window of N readings (default 1,000,000, from a simulated city of N/10 sensors reporting every 30 s)
 * through the whole batch on the default Berlin domain: read, QC (map), large scale + OI + Kalman
 * (reduce), and the write of every cell's nowcast and the state. The readings and the background are
 * inserted before timing. `--workers N` runs N batch workers in this process sharing the window's tasks
 * through the store's leases (on the embedded store they take turns on one engine; with
 * `--store postgres://…` the server serves them concurrently). `--map-threads N` sets each worker's QC
 * threads (default 0: on the main thread).
 * `npm run bench -- batch` is the same at the Berlin demo's size (400 sensors, every minute), run 3 times.
 */
import { cellOf } from '../infra/geo/index.ts';
import { createLogger } from '../infra/log.ts';
import { loadConfig } from '../infra/config.ts';
import { createTasks, insertReadings, openStore, openWindow, upsertBackground, type ReadingRow, type Store } from '../infra/store/index.ts';
import { HOUR_MS } from '../infra/time.ts';
import { backgroundTempC, createCity, readingInSlot, slotsBetween, type City } from '../ingest/index.ts';
import { BatchWorker, DEFAULT_ANALYSIS, DEFAULT_QC, FILTER_METHOD, makeDomain, type Domain, type WindowResult } from '../pipeline/index.ts';
import { redactUrl, type Benchmark } from './benchmark.ts';

export interface PipelineBenchOptions {
  readings?: number;
  sensors: number;
  intervalMs: number;
  workers: number;
  /** undefined: the worker's default. */
  mapThreads?: number;
  runs: number;
  url: string;
  progress: (m: string) => void;
}

function parse(args: string[], defaults: Omit<PipelineBenchOptions, 'progress'>): Omit<PipelineBenchOptions, 'progress'> {
  const o = { ...defaults };
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i], value = args[i + 1];
    if (value === undefined) throw new Error(`${String(name)} expects a value`);
    if (name === '--store') { o.url = value; continue; }
    if (name === '--map-threads') {
      const t = Number(value);
      if (!Number.isInteger(t) || t < 0) throw new Error(`--map-threads expects a whole number, got "${value}"`);
      o.mapThreads = t;
      continue;
    }
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} expects a positive integer, got "${value}"`);
    if (name === '--readings') { o.readings = n; o.sensors = Math.max(1, Math.round(n / 10)); }
    else if (name === '--sensors') o.sensors = n;
    else if (name === '--workers') o.workers = n;
    else if (name === '--runs') o.runs = n;
    else throw new Error(`unknown option ${String(name)} (known: --readings N, --sensors N, --workers N, --map-threads N, --runs N, --store URL)`);
  }
  return o;
}

/** The city's readings in [fromMs, toMs) as rows for the store. */
function cityReadings(city: City, fromMs: number, toMs: number, resolution: number): ReadingRow[] {
  const rows: ReadingRow[] = [];
  for (const s of city.sensors) {
    for (const slot of slotsBetween(s, fromMs, toMs)) {
      const r = readingInSlot(city, s, slot);
      if (r) rows.push({ sensorId: s.sensorId, timeMs: r.timeMs, kind: s.kind, lat: s.position.lat, lon: s.position.lon, elevationM: Math.round(s.elevationM), cell: cellOf(s.position, resolution), tempC: r.tempC, humidityPct: null, pressureHpa: null });
    }
  }
  return rows;
}

async function runWindow(store: Store, domain: Domain, workers: BatchWorker[], windowMs: number, end: number): Promise<WindowResult[]> {
  await openWindow(store, { windowStartMs: end - windowMs, windowEndMs: end, method: FILTER_METHOD, nowMs: Date.now() });
  await createTasks(store, end, domain.plan.shards.map((s) => s.id));
  return Promise.all(workers.map((w) => w.workWindow(end)));
}

export async function runPipelineBench(o: PipelineBenchOptions): Promise<Record<string, unknown>> {
  const config = loadConfig({});
  const windowMs = config.batch.windowMs;
  const domain = makeDomain(config.grid.bbox, config.grid.resolution, config.batch.shardResolution);
  const store = await openStore(o.url);
  try {
    const city = createCity({ seed: 1, bbox: config.grid.bbox, officialStations: 6, amateurSensors: o.sensors, amateurIntervalMs: o.intervalMs });
    const t0 = Date.UTC(2026, 5, 15, 12);
    const lastEnd = t0 + o.runs * windowMs;
    o.progress(`simulating ${o.sensors} sensors over ${o.runs} window(s)`);
    const rows = cityReadings(city, t0 - windowMs, lastEnd, config.grid.resolution);
    o.progress(`inserting ${rows.length} readings into ${redactUrl(o.url)} (not timed)`);
    for (let i = 0; i < rows.length; i += 100_000) {
      await insertReadings(store, rows.slice(i, i + 100_000));
      o.progress(`  ${Math.min(rows.length, i + 100_000)}/${rows.length}`);
    }
    await upsertBackground(store, city.backgroundPoints.flatMap((p) => Array.from({ length: 8 }, (_, h) => ({
      source: 'sim', pointId: p.pointId, lat: p.position.lat, lon: p.position.lon, validTimeMs: t0 - 2 * HOUR_MS + h * HOUR_MS, issuedAtMs: t0 - 3 * HOUR_MS, tempC: backgroundTempC(city, p.position, t0 - 2 * HOUR_MS + h * HOUR_MS),
    }))));
    const workers = Array.from({ length: o.workers }, (_, k) => new BatchWorker({
      store, log: createLogger('silent'), domain, windowMs, qc: DEFAULT_QC, analysis: DEFAULT_ANALYSIS, haloM: config.batch.haloM,
      workerId: `bench-${k}`, leaseMs: 600_000, maxTaskAttempts: 1, retryBaseMs: 1000, retryMaxMs: 1000, hourlyMaxSteps: config.batch.forecastHours,
      recordMaxAgeMs: 7 * 24 * HOUR_MS, pollMs: 5, ...(o.mapThreads !== undefined ? { mapThreads: o.mapThreads } : {}),
    }));
    try {
      // The window before the first timed one, so that timed windows start from a state (as in service).
      await runWindow(store, domain, workers, windowMs, t0);
      const seconds: number[] = [];
      let stages: Record<string, number> = {};
      let qcStages: Record<string, number> = {};
      let readingsPerWindow = 0;
      let peakRss = process.memoryUsage().rss;
      for (let k = 1; k <= o.runs; k++) {
        const end = t0 + k * windowMs;
        const started = performance.now();
        const results = await runWindow(store, domain, workers, windowMs, end);
        seconds.push((performance.now() - started) / 1000);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        for (const r of results) if (r.status !== 'done') throw new Error(`window ${k}: ${r.status} ${r.error ?? ''}`);
        stages = {};
        qcStages = {};
        for (const r of results) for (const [s, ms] of Object.entries(r.stageMs)) stages[s] = (stages[s] ?? 0) + ms / 1000;
        for (const r of results) for (const [s, ms] of Object.entries(r.qcStageMs)) qcStages[s] = (qcStages[s] ?? 0) + ms / 1000;
        const ledger = await store.query<{ n_readings: number }>(`SELECT n_readings FROM batch_runs WHERE window_end = $1`, [new Date(end)]);
        readingsPerWindow = ledger.rows[0]!.n_readings;
        o.progress(`window ${k}/${o.runs}: ${readingsPerWindow} readings in ${seconds.at(-1)!.toFixed(2)} s (${Object.entries(stages).map(([s, v]) => `${s} ${v.toFixed(2)} s`).join(', ')}; qc: ${Object.entries(qcStages).map(([s, v]) => `${s} ${v.toFixed(2)} s`).join(', ')})`);
      }
      const sorted = [...seconds].sort((a, b) => a - b);
      return {
        store: redactUrl(o.url),
        adapter: store.kind,
        readings: readingsPerWindow,
        sensors: city.sensors.length,
        cells: domain.grid.length,
        shards: domain.plan.shards.length,
        workers: o.workers,
        map_threads: o.mapThreads ?? 0,
        runs: o.runs,
        seconds: Number(sorted[Math.floor(sorted.length / 2)]!.toFixed(3)),
        seconds_max: Number(sorted.at(-1)!.toFixed(3)),
        stage_seconds: Object.fromEntries(Object.entries(stages).map(([s, v]) => [s, Number(v.toFixed(3))])),
        qc_stage_seconds: Object.fromEntries(Object.entries(qcStages).map(([s, v]) => [s, Number(v.toFixed(3))])),
        peak_rss_mb: Math.round(peakRss / 2 ** 20),
      };
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  } finally {
    await store.close();
  }
}

export const pipelineBenchmark: Benchmark = {
  description: 'one window of N readings (default 1,000,000) through read, QC, analysis and writes on the Berlin domain (--readings, --sensors, --workers, --runs, --store URL)',
  async run({ args, progress }) {
    const o = parse(args, { readings: 1_000_000, sensors: 100_000, intervalMs: 30_000, workers: 1, runs: 1, url: 'memory://' });
    return runPipelineBench({ ...o, progress });
  },
};

export const batchBenchmark: Benchmark = {
  description: 'batch runs at the Berlin demo size: 406 sensors every minute (--runs, --sensors, --workers, --store URL)',
  async run({ args, progress }) {
    const o = parse(args, { sensors: 400, intervalMs: 60_000, workers: 1, runs: 3, url: 'memory://' });
    return runPipelineBench({ ...o, progress });
  },
};
