/**
 * `npm run bench -- ingest [--bus memory|kafka] [--per-message N] [--readings N] [--store URL] [--batch N] [--json]`:
 * readings end to end: produced to readings.v1, consumed by the ingest worker into the store, timed
 * from the first publish until every one is committed (queryable); then checked with count(*).
 * Kafka: $KAFKA_BROKERS (default 127.0.0.1:19092), topics with a fresh prefix; the producer is a
 * process of its own (bench/ingest-produce.ts), the worker and the embedded store share this
 * process, as in `npm start`. Memory: producer, worker and store in this thread. The producer publishes
 * 12 partitions x --batch readings at a time, grouped as the system's producers group them
 * (readings of one partition key together, --per-message readings a message: default 500; 1 for a
 * message per reading).
 *
 * `npm run bench -- ingest --http wu|json [--uploads N] [--stations N] [--per-upload N]`: the HTTP
 * submission paths: the submission routes on an Express app of their own (api/submission-app.ts:
 * without the full API's shared middleware), the in-process log, the ingest worker and the embedded
 * store in this process; a load generator (bench/ingest-load.ts) in another, with `--stations` concurrent
 * stations, each sending its next upload when the previous one is answered. Each station first sends
 * one upload before the clock starts (the server verifies a key with scrypt once, then remembers it
 * for an hour; the warm-up's duration is reported); timed from the first request after it until
 * every reading is committed in the store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { openStore, insertStation } from '../infra/store/index.ts';
import { openBus, type Bus } from '../infra/bus/index.ts';
import { createLogger } from '../infra/log.ts';
import { topicNames, topicSpecs, startIngestWorker, hashSecret, newSecret, MAX_READINGS_PER_MESSAGE } from '../ingest/index.ts';
import { produceReadings, benchStartMs } from './ingest-produce.ts';
import { submissionApp } from '../api/index.ts';
import type { Benchmark } from './benchmark.ts';

interface Options {
  bus: 'memory' | 'kafka';
  /** Readings per bus message (as the system's producers group them; 1: a message each). */
  perMessage: number;
  readings: number;
  store: string;
  batch: number;
  http: 'wu' | 'json' | undefined;
  uploads: number;
  stations: number;
  perUpload: number;
}

function parseOptions(args: string[]): Options {
  const o: Options = { bus: 'memory', perMessage: MAX_READINGS_PER_MESSAGE, readings: 1_000_000, store: 'memory://', batch: 5000, http: undefined, uploads: 20_000, stations: 100, perUpload: 100 };
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
    else if (flag === '--per-message') o.perMessage = int();
    else if (flag === '--uploads') o.uploads = int();
    else if (flag === '--stations') o.stations = int();
    else if (flag === '--per-upload') o.perUpload = int();
    else throw new Error(`unknown option ${flag} (known: --bus memory|kafka, --per-message N, --readings N, --store URL, --batch N, --http wu|json, --uploads N, --stations N, --per-upload N)`);
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

/**
 * The bus path. Kafka: the worker and the embedded store in this process, the producer in a process
 * of its own. Memory: the in-process log, so the producer, the worker and the store share this thread.
 */
async function busPath(o: Options, progress: (m: string) => void): Promise<Record<string, unknown>> {
  const t0 = benchStartMs(o.readings);
  const kafka = o.bus === 'kafka';
  const bus: Bus = openBus(kafka ? brokersUrl() : 'memory://', { clientId: 'bench-ingest', logger: log });
  const topics = topicNames(kafka ? `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.` : '');
  await bus.ensureTopics(topicSpecs(topics, 12));
  const store = await openStore(o.store, { log });
  let child: ChildProcess | undefined;
  try {
    const groupId = `${topics.readings}.bench`;
    const worker = await startIngestWorker({ bus, store, log, topics, groupId, resolution: 9, maxBatch: o.batch });
    await worker.ready;
    progress(`${o.bus} bus, store ${o.store}: producing ${o.readings.toLocaleString('en')} readings${kafka ? ' from another process' : ''}`);
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    let produced = 0;
    let producer: { seconds: number; cpu_seconds: number } | undefined;
    let producerExit: Promise<number | null> | undefined;
    if (kafka) {
      child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./ingest-produce.ts', import.meta.url))], {
        env: { ...process.env, PRODUCE_BROKERS: brokersUrl().slice('kafka://'.length), PRODUCE_TOPIC: topics.readings, PRODUCE_READINGS: String(o.readings), PRODUCE_BATCH: String(o.batch), PRODUCE_PER_MESSAGE: String(o.perMessage), PRODUCE_T0_MS: String(t0) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      producerExit = new Promise<number | null>((r) => child!.once('exit', r)).then((code) => {
        if (code === 0) producer = JSON.parse(out.trim().split('\n').at(-1)!) as { seconds: number; cpu_seconds: number };
        return code;
      });
    } else {
      let lastReport = start;
      await produceReadings(bus, { topic: topics.readings, readings: o.readings, batch: o.batch, perMessage: o.perMessage, t0Ms: t0, onChunk: (n) => {
        produced = n;
        if (performance.now() - lastReport > 2000) {
          lastReport = performance.now();
          progress(`produced ${produced.toLocaleString('en')}, stored ${worker.stats.inserted.toLocaleString('en')} (${Math.round(worker.stats.inserted / ((lastReport - start) / 1000)).toLocaleString('en')}/s)`);
        }
      } });
    }
    let last = 0;
    await waitFor(() => {
      if (performance.now() - last > 2000) {
        last = performance.now();
        progress(`stored ${worker.stats.inserted.toLocaleString('en')} of ${o.readings.toLocaleString('en')} (${Math.round(worker.stats.inserted / ((last - start) / 1000)).toLocaleString('en')}/s)`);
      }
      if (child && child.exitCode !== null && child.exitCode !== 0) throw new Error(`the producer exited ${child.exitCode}`);
      return worker.stats.readings + worker.stats.deadLetters >= o.readings;
    }, 'every reading consumed', 3_600_000);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (producerExit && (await producerExit) !== 0) throw new Error('the producer failed');
    await worker.stop();
    const n = (await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE sensor_id LIKE 'bench-%'`)).rows[0]!.n;
    return {
      bus: o.bus, store: o.store, readings: o.readings, readings_per_message: o.perMessage, seconds: round(seconds), readings_per_s: Math.round(o.readings / seconds),
      // This process's CPU time (the worker and the embedded engine; with the in-process log the
      // producer too; never the broker's): steadier than wall time on a shared machine.
      cpu_seconds: round(cpuSeconds), readings_per_cpu_s: Math.round(o.readings / cpuSeconds),
      ...(producer ? { producer_seconds: round(producer.seconds), producer_cpu_seconds: round(producer.cpu_seconds) } : {}),
      dlq: worker.stats.deadLetters, stored: n, inserted: worker.stats.inserted, batch: o.batch, peak_rss_mb: peakRssMb(),
    };
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
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
    // Each station's first upload (its key verified with scrypt, then remembered) comes before the clock.
    const expected = (o.uploads + o.stations) * perUpload;
    progress(`${o.http === 'wu' ? 'Weather Underground' : 'JSON'}: one warm-up upload per station, then ${o.uploads.toLocaleString('en')} uploads of ${perUpload} from ${o.stations} concurrent stations`);
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./ingest-load.ts', import.meta.url))], {
      env: { ...process.env, LOAD_URL: url, LOAD_MODE: o.http, LOAD_UPLOADS: String(o.uploads), LOAD_PER_UPLOAD: String(perUpload), LOAD_STATIONS: JSON.stringify(stations) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let start = 0;
    let cpu0 = process.cpuUsage();
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (start === 0 && out.includes('"phase":"timed"')) {
        start = performance.now();
        cpu0 = process.cpuUsage();
      }
    });
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    if (code !== 0) throw new Error(`load generator exited ${code}`);
    const load = JSON.parse(out.trim().split('\n').at(-1)!) as { ok: number; failed: number; retries: number; seconds: number; cpu_seconds: number; warmup_seconds: number; statuses: Record<string, number> };
    const httpSeconds = (performance.now() - start) / 1000;
    await waitFor(() => worker.stats.readings + worker.stats.deadLetters >= (load.ok + o.stations) * perUpload, 'every accepted reading stored', 600_000);
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const serverCpuS = (cpu.user + cpu.system) / 1e6;
    const n = (await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE sensor_id LIKE 'st-bench%'`)).rows[0]!.n;
    return {
      path: o.http, bus: 'memory', store: o.store, stations: o.stations, uploads: o.uploads, readings_per_upload: perUpload,
      warmup_uploads: o.stations, warmup_seconds: round(load.warmup_seconds),
      accepted_uploads: load.ok, refused_uploads: load.failed, retried_requests: load.retries, statuses: load.statuses,
      http_seconds: round(httpSeconds), uploads_per_s: Math.round(load.ok / httpSeconds), readings_per_s_http: Math.round((load.ok * perUpload) / httpSeconds),
      // Readings stored: the warm-up's and the timed phase's; timed until the last is stored.
      readings: expected, stored: n, seconds: round(seconds), readings_per_s: Math.round((load.ok * perUpload) / seconds),
      // CPU of the timed phase: the server process (routes, worker, engine) and the load generator.
      server_cpu_seconds: round(serverCpuS), server_cpu_ms_per_upload: round((1000 * serverCpuS) / load.ok), client_cpu_seconds: round(load.cpu_seconds),
      dlq: worker.stats.deadLetters, peak_rss_mb: peakRssMb(),
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
