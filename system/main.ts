/**
 * The composition root: reads the configuration once, opens the store and the bus, and starts the
 * roles this process runs.
 *
 * ROLE=all (the embedded default): this thread serves HTTP only; the store, the bus, the ingest
 * worker, the simulated city and the batch run in an engine thread (engine-worker.ts), reached
 * through proxies of the same ports. The API serves from an in-memory snapshot of the newest
 * finished run, so a batch never holds up a request.
 * ROLE=api | ingest | pipeline: one role per process on Kafka and a TimescaleDB server.
 */
import { setFlagsFromString } from 'node:v8';
import { loadConfig, mistypedSettings, type Config } from '../infra/config.ts';
import { createLogger, type Logger } from '../infra/log.ts';
import { openStore, startJobTimer, StoreError, type Store } from '../infra/store/index.ts';
import { openBus } from '../infra/bus/index.ts';
import { topicNames, topicSpecs, startIngestWorker, createCity, startSimulatedFeed, OFFICIAL_INTERVAL_MS } from '../ingest/index.ts';
import { startPipelineRole } from '../pipeline/index.ts';
import { modelsModule, createApp, listen, LiveSnapshot, storeRunSource, registerNowcastMetrics, collectProcessMetrics, type BusProducer, type RunSource, type ReadinessCheck, type Listening } from '../api/index.ts';
import { startEngine } from './engine.ts';
import { modelsDegraded, openModelThread, smootherFor } from './models.ts';

export interface Running {
  config: Config;
  /** The API's address when this process serves it. */
  url?: string;
  stop(): Promise<void>;
}

/** Starts the roles of `config`; returns a handle that stops them in reverse order. */
export async function start(config: Config, log: Logger): Promise<Running> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (err) {
        log.error({ err }, 'error while stopping');
      }
    }
  };
  log.info({ role: config.role, store: redact(config.store.url), bus: config.bus.url }, 'starting');
  try {
    if (config.role === 'all') return { config, ...(await startEmbedded(config, log, stops)), stop: stopAll };
    if (config.role === 'api') return { config, ...(await startApiRole(config, log, stops)), stop: stopAll };
    await startWorkerRole(config, log, stops);
    return { config, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Serves the API with `store`, `bus` and `runs` (proxies or the real ports). */
async function serveApi(config: Config, log: Logger, stops: (() => Promise<void>)[], ports: { store: Store; bus: BusProducer; runs: RunSource; checks: Record<string, ReadinessCheck> }): Promise<{ listening: Listening; live: LiveSnapshot }> {
  const live = new LiveSnapshot({ source: ports.runs, log, pollMs: config.api.snapshotPollMs, keepPastMs: config.api.pastKeepMs });
  collectProcessMetrics();
  // The models of the API, on their own thread: /v1/models, predictions, and whether a missing or failing model degrades the service.
  const models = await openModelThread(config, log);
  stops.push(() => models.close());
  registerNowcastMetrics({ live, store: ports.store, models });
  const checks = { ...ports.checks, models: async () => { const why = modelsDegraded(models); if (why) throw new Error(why); } };
  const app = createApp({ store: ports.store, bus: ports.bus, log, config, live, checks, modules: [modelsModule(models)], degraded: () => modelsDegraded(models) });
  // Listen before anything slow: a taken port stops the process at once, with the reason.
  const listening = await listen(app, { host: config.host, port: config.port, headersTimeoutMs: config.api.headersTimeoutMs, requestTimeoutMs: config.api.requestTimeoutMs });
  stops.push(() => listening.close());
  log.info({ url: listening.url, map: `${listening.url}/`, try: `${listening.url}/v1/forecast?latitude=52.52&longitude=13.405` }, 'api listening');
  return { listening, live };
}

async function startEmbedded(config: Config, log: Logger, stops: (() => Promise<void>)[]): Promise<{ url: string }> {
  // The engine's proxies exist before the thread is up; calls wait in its queue until it is.
  const e = startEngine(config, log);
  stops.push(() => e.stop());
  const { listening, live } = await serveApi(config, log, stops, {
    store: e.store,
    bus: e.bus,
    runs: e.runs,
    checks: { bus: async () => { await e.ready; }, engine: async () => { await Promise.race([e.ready, e.died]); } },
  });
  await Promise.race([e.ready, e.died]);
  void e.died.catch((err: unknown) => {
    log.fatal({ err }, 'the engine thread died; exiting');
    process.exit(1);
  });
  live.start();
  stops.push(async () => live.stop());
  return { url: listening.url };
}

async function startApiRole(config: Config, log: Logger, stops: (() => Promise<void>)[]): Promise<{ url: string }> {
  const store = await openStore(config.store.url, storeOptions(config, log));
  stops.push(() => store.close());
  const bus = openBus(config.bus.url, { clientId: config.bus.clientId, logger: log.child({ component: 'bus' }) });
  stops.push(() => bus.close());
  const topics = topicNames(config.bus.topicPrefix);
  await bus.ensureTopics(topicSpecs(topics, config.bus.partitions));
  const { listening, live } = await serveApi(config, log, stops, {
    store, bus, runs: storeRunSource(store),
    checks: { bus: () => bus.ensureTopics(topicSpecs(topics, config.bus.partitions)) },
  });
  live.start();
  stops.push(async () => live.stop());
  return { url: listening.url };
}

async function startWorkerRole(config: Config, log: Logger, stops: (() => Promise<void>)[]): Promise<void> {
  const store = await openStore(config.store.url, storeOptions(config, log));
  stops.push(() => store.close());
  // TimescaleDB's policy jobs, run by the process that runs batches.
  if (config.role === 'pipeline' && config.store.jobsIntervalMs > 0) {
    const stopJobs = startJobTimer(store, config.store.jobsIntervalMs, log);
    stops.push(async () => stopJobs());
  }
  const bus = openBus(config.bus.url, { clientId: config.bus.clientId, logger: log.child({ component: 'bus' }) });
  stops.push(() => bus.close());
  const topics = topicNames(config.bus.topicPrefix);
  await bus.ensureTopics(topicSpecs(topics, config.bus.partitions));
  if (config.role === 'ingest') {
    const worker = await startIngestWorker({ bus, topics, store, log, groupId: config.bus.ingestGroupId, resolution: config.grid.resolution, maxBatch: config.bus.ingestMaxBatch });
    stops.push(() => worker.stop());
  }
  if (config.sim.enabled) {
    const city = createCity({ seed: config.sim.seed, bbox: config.grid.bbox, officialStations: config.sim.officialStations, amateurSensors: config.sim.amateurSensors, amateurIntervalMs: config.sim.amateurIntervalMs });
    // Backfill two windows, and at least one report of every simulated station (officials report every 10 min).
    const feed = await startSimulatedFeed({ bus, topics, city, partitionResolution: config.grid.partitionResolution, backfillMs: Math.max(2 * config.batch.windowMs, OFFICIAL_INTERVAL_MS + 60_000), log });
    stops.push(() => feed.stop());
  }
  if (config.role === 'pipeline') {
    const pipeline = startPipelineRole({ store, log, config, ...(await smootherFor(config, log, stops)) });
    stops.push(() => pipeline.stop());
  }
}

/** The store's connection settings from the configuration (every process opens its store with them). */
export function storeOptions(config: Config, log: Logger) {
  return { poolSize: config.store.poolSize, idleTimeoutMs: config.store.idleTimeoutMs, connectionTimeoutMs: config.store.connectTimeoutMs, statementTimeoutMs: config.store.statementTimeoutMs, log };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * How far V8 lets the old generation grow past what the last major collection kept before the next
 * one [%]. V8 picks 10–300 % by itself, favouring throughput, and a server that runs a batch every few
 * minutes then swings by a heap's worth of garbage between collections: under the soak's load the
 * embedded default's engine thread went from ~85 to ~210 MiB and back, the HTTP thread from ~75 to
 * ~175 MiB (`npm run bench -- soak`). 25 % swung less but raised the API's p99 inside a batch to
 * 10–13 ms (`npm run bench -- api`); 50 % keeps it at 7–8 ms.
 */
const HEAP_GROWING_PERCENT = 50;

async function main(): Promise<void> {
  // Process-wide, read by every thread's collector: set before the engine and map threads start.
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  for (const m of mistypedSettings(process.env)) log.warn({ variable: m.name, meant: m.meant }, m.message);
  // A signal during start-up still closes whatever was opened: start() is awaited, then stopped.
  let stopping = false;
  let running: Promise<Running | null> = Promise.resolve(null);
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'already stopping; waiting for the store to close');
      return;
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    void running
      .then((r) => r?.stop())
      .then(() => {
        log.info('stopped');
        process.exit(0);
      }, (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  running = start(config, log).catch((err: unknown) => {
    const e = err as { code?: string; message?: string };
    log.fatal({ code: e.code, err }, e.message ?? 'start failed');
    // A store that cannot be used (wrong password, no TimescaleDB) is one line naming STORE_URL.
    process.stderr.write(err instanceof StoreError ? `${err.message}\n` : `cannot start: ${e.message ?? String(err)}\n`);
    process.exit(1);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    // A store that cannot be used (wrong password, no TimescaleDB, no server) is one line naming STORE_URL.
    const line = err instanceof StoreError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`${line}\n`);
    process.exit(1);
  });
}
