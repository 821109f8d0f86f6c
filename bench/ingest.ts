/**
 * `npm run bench -- ingest [--bus memory|kafka] [--readings N] [--store URL] [--batch N] [--json]`:
 * readings end to end: produced to readings.v1, consumed by the ingest worker into the store, timed
 * from the first publish until every one is committed (queryable); then checked with count(*).
 * Kafka: $KAFKA_BROKERS (default 127.0.0.1:19092), topics with a fresh prefix. Producer and worker
 * share this process: the producer publishes 12 partitions x --batch readings at a time, then yields.
 *
 * `npm run bench -- ingest --http wu|json [--uploads N] [--stations N] [--per-upload N]`: the HTTP
 * submission paths: the submission routes on an Express app of their own (api/submission-app.ts:
 * without the full API's shared middleware), the in-process log, the ingest worker and the embedded
 * store in this process; a load generator (bench/ingest-load.ts) in another, with `--stations` concurrent
 * stations, each sending its next upload when the previous one is answered. Timed from the first
 * request until every reading is committed in the store.
 */
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { openStore, insertStation } from '../infra/store/index.ts';
import { openBus, type Bus, type OutgoingMessage } from '../infra/bus/index.ts';
import { createLogger } from '../infra/log.ts';
import { cellOf } from '../infra/geo/index.ts';
import { topicNames, topicSpecs, startIngestWorker, encodeReading, partitionKey, hashSecret, newSecret, uniform, chunkByBytes } from '../ingest/index.ts';
import { submissionApp } from '../api/index.ts';
import type { Benchmark } from './benchmark.ts';

interface Options {
  bus: 'memory' | 'kafka';
  readings: number;
  store: string;
  batch: number;
  http: 'wu' | 'json' | undefined;
  uploads: number;
  stations: number;
  perUpload: number;
}

function parseOptions(args: string[]): Options {
  const o: Options = { bus: 'memory', readings: 1_000_000, store: 'memory://', batch: 5000, http: undefined, uploads: 20_000, stations: 100, perUpload: 100 };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = args[i + 1];
    const int = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} expects a positive integer, got ${String(value)}`);
      i++;
      return n;
    };
    if (flag === '--bus') {
      if (value !== 'memory' && value !== 'kafka') throw new Error('--bus expects memory or kafka');
      o.bus = value;
      i++;
    } else if (flag === '--http') {
      if (value !== 'wu' && value !== 'json') throw new Error('--http expects wu or json');
      o.http = value;
      i++;
    } else if (flag === '--store') {
      if (!value) throw new Error('--store expects a URL or directory');
      o.store = value;
      i++;
    } else if (flag === '--readings') o.readings = int();
    else if (flag === '--batch') o.batch = int();
    else if (flag === '--uploads') o.uploads = int();
    else if (flag === '--stations') o.stations = int();
    else if (flag === '--per-upload') o.perUpload = int();
    else throw new Error(`unknown option ${flag} (known: --bus memory|kafka, --readings N, --store URL, --batch N, --http wu|json, --uploads N, --stations N, --per-upload N)`);
  }
  return o;
}

const log = createLogger('silent');
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

function brokersUrl(): string {
  return `kafka://${process.env.KAFKA_BROKERS?.trim() || '127.0.0.1:19092'}`;
}

async function waitFor(cond: () => boolean, what: string, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The bus path: N readings from 2,000 sensors over Berlin, 5 minutes apart per sensor. */
async function busPath(o: Options, progress: (m: string) => void): Promise<Record<string, unknown>> {
  const SENSORS = 2000;
  const sensors = Array.from({ length: SENSORS }, (_, i) => {
    const p = { lat: 52.35 + uniform(7, 2 * i) * 0.33, lon: 13.08 + uniform(7, 2 * i + 1) * 0.68 };
    return { id: `bench-${i}`, ...p, key: partitionKey(p, 5), cell: cellOf(p, 9) };
  });
  const t0 = Date.now() - Math.ceil(o.readings / SENSORS) * 300_000 - 600_000;
  const bus: Bus = openBus(o.bus === 'kafka' ? brokersUrl() : 'memory://', { clientId: 'bench-ingest', logger: log });
  const topics = topicNames(o.bus === 'kafka' ? `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.` : '');
  await bus.ensureTopics(topicSpecs(topics, 12));
  const store = await openStore(o.store, { log });
  try {
    const worker = await startIngestWorker({ bus, store, log, topics, groupId: `${topics.readings}.bench`, resolution: 9, maxBatch: o.batch });
    await worker.ready;
    progress(`${o.bus} bus, store ${o.store}: producing ${o.readings.toLocaleString('en')} readings`);
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    // The producer makes 12 partitions x --batch readings at a time (a producer at full speed), sends
    // them in sends of at most MAX_SEND_BYTES (Kafka refuses record batches over 1 MiB), then yields.
    const CHUNK = 12 * o.batch;
    let produced = 0;
    let lastReport = start;
    for (let i = 0; i < o.readings; i += CHUNK) {
      const msgs: OutgoingMessage[] = [];
      for (let j = i; j < Math.min(o.readings, i + CHUNK); j++) {
        const s = sensors[j % SENSORS]!;
        msgs.push({ key: s.key, value: encodeReading({ sensorId: s.id, timeMs: t0 + Math.floor(j / SENSORS) * 300_000, kind: 'amateur', lat: s.lat, lon: s.lon, elevationM: null, tempC: 5 + (j % 200) / 20, humidityPct: 60, pressureHpa: null }) });
      }
      for (const part of chunkByBytes(msgs)) await bus.publish(topics.readings, part);
      produced += msgs.length;
      await new Promise((r) => setImmediate(r)); // let the worker in
      if (performance.now() - lastReport > 2000) {
        lastReport = performance.now();
        progress(`produced ${produced.toLocaleString('en')}, stored ${worker.stats.inserted.toLocaleString('en')} (${Math.round(worker.stats.inserted / ((lastReport - start) / 1000)).toLocaleString('en')}/s)`);
      }
    }
    const producedS = (performance.now() - start) / 1000;
    let last = 0;
    await waitFor(() => {
      if (performance.now() - last > 2000) {
        last = performance.now();
        progress(`stored ${worker.stats.inserted.toLocaleString('en')} of ${o.readings.toLocaleString('en')}`);
      }
      return worker.stats.readings + worker.stats.deadLetters >= o.readings;
    }, 'every reading consumed', 3_600_000);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    await worker.stop();
    const n = (await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE sensor_id LIKE 'bench-%'`)).rows[0]!.n;
    return {
      bus: o.bus, store: o.store, readings: o.readings, seconds: round(seconds), readings_per_s: Math.round(o.readings / seconds),
      // This process's CPU time (producer, worker and the embedded engine; not the broker's): steadier than wall time on a shared machine.
      cpu_seconds: round(cpuSeconds), readings_per_cpu_s: Math.round(o.readings / cpuSeconds),
      dlq: worker.stats.deadLetters, stored: n, inserted: worker.stats.inserted, produce_seconds: round(producedS), batch: o.batch, peak_rss_mb: peakRssMb(),
    };
  } finally {
    await bus.close();
    await store.close();
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The HTTP paths: `stations` registered stations uploading concurrently from a second process. */
async function httpPath(o: Options, progress: (m: string) => void): Promise<Record<string, unknown>> {
  const store = await openStore(o.store, { log });
  const bus = openBus('memory://');
  const topics = topicNames();
  await bus.ensureTopics(topicSpecs(topics, 12));
  const worker = await startIngestWorker({ bus, store, log, topics, groupId: 'bench-http', resolution: 9, maxBatch: o.batch });
  const perUpload = o.http === 'wu' ? 1 : o.perUpload;
  const app = submissionApp({ store, bus, readingsTopic: topics.readings, partitionResolution: 5, log, limits: { backlogMs: 30 * 86_400_000, jsonMaxReadings: Math.max(1000, perUpload) } });
  const server = await new Promise<Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  server.keepAliveTimeout = 65_000; // longer than the client's, so idle keep-alive connections are not cut under it
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  try {
    progress(`registering ${o.stations} stations (scrypt-hashed keys)`);
    const stations = await Promise.all(Array.from({ length: o.stations }, async (_, i) => {
      const id = `st-bench${String(i).padStart(4, '0')}`;
      const key = newSecret(id);
      await insertStation(store, { stationId: id, kind: 'amateur', name: `bench ${i}`, externalId: null, lat: 52.4 + (i % 10) * 0.02, lon: 13.2 + Math.floor(i / 10) * 0.04, elevationM: null, ownerPartner: null, keyHash: await hashSecret(key), nowMs: Date.now() });
      return { id, key };
    }));
    const expected = o.uploads * perUpload;
    progress(`${o.http === 'wu' ? 'Weather Underground' : 'JSON'}: ${o.uploads.toLocaleString('en')} uploads of ${perUpload} from ${o.stations} concurrent stations`);
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./ingest-load.ts', import.meta.url))], {
      env: { ...process.env, LOAD_URL: url, LOAD_MODE: o.http, LOAD_UPLOADS: String(o.uploads), LOAD_PER_UPLOAD: String(perUpload), LOAD_STATIONS: JSON.stringify(stations) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`load generator exited ${code}`);
    const load = JSON.parse(out.trim().split('\n').at(-1)!) as { ok: number; failed: number; retries: number; seconds: number; statuses: Record<string, number> };
    const httpSeconds = (performance.now() - start) / 1000;
    await waitFor(() => worker.stats.readings + worker.stats.deadLetters >= load.ok * perUpload, 'every accepted reading stored', 600_000);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const n = (await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE sensor_id LIKE 'st-bench%'`)).rows[0]!.n;
    return {
      path: o.http, bus: 'memory', store: o.store, stations: o.stations, uploads: o.uploads, readings_per_upload: perUpload,
      accepted_uploads: load.ok, refused_uploads: load.failed, retried_requests: load.retries, statuses: load.statuses,
      http_seconds: round(httpSeconds), uploads_per_s: Math.round(load.ok / httpSeconds), readings_per_s_http: Math.round((load.ok * perUpload) / httpSeconds),
      readings: expected, stored: n, seconds: round(seconds), readings_per_s: Math.round(n / seconds), server_cpu_seconds: round((cpu.user + cpu.system) / 1e6), dlq: worker.stats.deadLetters, peak_rss_mb: peakRssMb(),
    };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await worker.stop();
    await bus.close();
    await store.close();
  }
}

export const ingestBenchmark: Benchmark = {
  description: 'readings/s end to end through the bus into the store (--bus memory|kafka, --readings N), or over HTTP (--http wu|json)',
  async run(ctx) {
    const o = parseOptions(ctx.args);
    return o.http ? httpPath(o, ctx.progress) : busPath(o, ctx.progress);
  },
};
