/**
 * `npm run bench -- store [--rows N] [--batch N] [--sensors N] [--store URL | --dir PATH] [--json]`:
 * write throughput of the store through insertReadings (the ingest hot path).
 *
 * Rows are realistic: `--sensors` sensors spread over Berlin, each reporting every 5 minutes, with
 * real H3 cells (resolution 9). Only the insertReadings calls are timed (row generation is not).
 * Default store: embedded, in memory; `--store` takes any STORE_URL (a data directory, or
 * postgres://… for a TimescaleDB server: give it a database for benchmarks), `--dir` a data
 * directory. Rows already there from an earlier run within the same 5-minute slots are skipped
 * (see `inserted`).
 */
import { cellOf } from '../infra/geo/index.ts';
import { uniform } from '../ingest/index.ts';
import { insertReadings, openStore, type ReadingRow } from '../infra/store/index.ts';
import { redactUrl } from './benchmark.ts';
import type { Benchmark } from './benchmark.ts';

interface Options {
  rows: number;
  batch: number;
  sensors: number;
  url: string | undefined;
}

function parseOptions(args: string[]): Options {
  const opts: Options = { rows: 200_000, batch: 5000, sensors: 2000, url: undefined };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = args[i + 1];
    const int = (name: string) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${name} expects a positive integer, got ${String(value)}`);
      i++;
      return n;
    };
    if (flag === '--rows') opts.rows = int('--rows');
    else if (flag === '--batch') opts.batch = int('--batch');
    else if (flag === '--sensors') opts.sensors = int('--sensors');
    else if (flag === '--dir' || flag === '--store') {
      if (!value) throw new Error(`${flag} expects ${flag === '--dir' ? 'a path' : 'a store URL'}`);
      opts.url = value;
      i++;
    } else throw new Error(`unknown option ${String(flag)} (known: --rows N, --batch N, --sensors N, --store URL, --dir PATH)`);
  }
  return opts;
}

/** A deterministic stream of uniforms in [0, 1) (the simulated city's seeded hash). */
function rng(seed: number): () => number {
  let i = 0;
  return () => uniform(seed, i++);
}

interface Sensor {
  id: string;
  kind: 'official' | 'amateur';
  lat: number;
  lon: number;
  elevationM: number | null;
  cell: string;
  biasC: number;
}

function makeSensors(n: number, random: () => number): Sensor[] {
  const out: Sensor[] = [];
  for (let i = 0; i < n; i++) {
    const lat = 52.35 + random() * 0.33;
    const lon = 13.08 + random() * 0.68;
    const official = i % 100 === 0;
    out.push({
      id: official ? `dwd-${String(i).padStart(5, '0')}` : `am-${(i * 2654435761 >>> 0).toString(16)}`,
      kind: official ? 'official' : 'amateur',
      lat,
      lon,
      elevationM: official || random() < 0.3 ? 30 + random() * 90 : null,
      cell: cellOf({ lat, lon }, 9),
      biasC: official ? 0 : (random() - 0.3) * 2,
    });
  }
  return out;
}

const STEP_MS = 5 * 60_000;

export const storeBenchmark: Benchmark = {
  description: 'rows/s written to the store through insertReadings (--rows, --batch, --sensors, --store URL, --dir)',
  async run(ctx) {
    const opts = parseOptions(ctx.args);
    const random = rng(42);
    const sensors = makeSensors(opts.sensors, random);
    const ticks = Math.ceil(opts.rows / sensors.length);
    const startMs = Math.floor(Date.now() / STEP_MS) * STEP_MS - ticks * STEP_MS;

    const url = opts.url ?? 'memory://';
    const t0 = performance.now();
    const store = await openStore(url);
    const openMs = Math.round(performance.now() - t0);
    ctx.progress(`store ${redactUrl(url)} (${store.kind}) open in ${openMs} ms; writing ${opts.rows} rows in batches of ${opts.batch}`);

    let produced = 0;
    let inserted = 0;
    let elapsedMs = 0;
    let batches = 0;
    try {
      let batch: ReadingRow[] = [];
      const flush = async () => {
        const b0 = performance.now();
        inserted += await insertReadings(store, batch);
        elapsedMs += performance.now() - b0;
        batches++;
        batch = [];
        if (batches % 10 === 0) ctx.progress(`${produced}/${opts.rows} rows, ${Math.round(produced / (elapsedMs / 1000))} rows/s`);
      };
      for (let k = 0; k < ticks && produced < opts.rows; k++) {
        const tick = startMs + k * STEP_MS;
        const diurnal = 8 * Math.sin(((tick / 3_600_000) % 24) / 24 * 2 * Math.PI - Math.PI / 2);
        for (const s of sensors) {
          if (produced >= opts.rows) break;
          batch.push({
            sensorId: s.id,
            timeMs: tick + Math.floor(random() * 30) * 1000,
            kind: s.kind,
            lat: s.lat,
            lon: s.lon,
            elevationM: s.elevationM,
            cell: s.cell,
            tempC: Math.round((12 + diurnal + s.biasC + (random() - 0.5)) * 100) / 100,
            humidityPct: s.kind === 'official' || random() < 0.8 ? Math.round(40 + random() * 50) : null,
            pressureHpa: s.kind === 'official' ? Math.round((1013 + (random() - 0.5) * 10) * 10) / 10 : null,
          });
          produced++;
          if (batch.length >= opts.batch) await flush();
        }
      }
      if (batch.length > 0) await flush();
    } finally {
      await store.close();
    }

    return {
      rowsPerS: Math.round(produced / (elapsedMs / 1000)),
      rows: produced,
      inserted,
      batchSize: opts.batch,
      batches,
      sensors: sensors.length,
      elapsedMs: Math.round(elapsedMs),
      openMs,
      store: redactUrl(url),
      adapter: store.kind,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  },
};
