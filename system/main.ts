/**
 * The composition root: reads the configuration once, opens the store and the bus, and starts the
 * roles this process runs (ROLE=all: every role plus the simulated city, on the embedded default).
 */
import type { Server } from 'node:http';
import { loadConfig, type Config } from '../infra/config.ts';
import { createLogger, type Logger } from '../infra/log.ts';
import { openStore, startJobTimer } from '../infra/store/index.ts';
import { openBus } from '../infra/bus/index.ts';
import { topicNames, topicSpecs, startIngestWorker, createCity, startSimulatedFeed } from '../ingest/index.ts';
import { domainGrid, startScheduler } from '../pipeline/index.ts';
import { createApp } from '../api/index.ts';

export interface Running {
  config: Config;
  /** The API's address when this process serves it. */
  url?: string;
  stop(): Promise<void>;
}

/** Starts the roles of `config`; returns a handle that stops them in reverse order. */
export async function start(config: Config, log: Logger): Promise<Running> {
  const stops: (() => Promise<void>)[] = [];
  const has = (role: 'api' | 'ingest' | 'pipeline') => config.role === 'all' || config.role === role;
  log.info({ role: config.role, store: redact(config.store.url), bus: config.bus.url }, 'starting');

  const store = await openStore(config.store.url, { poolSize: config.store.poolSize, idleTimeoutMs: config.store.idleTimeoutMs, log });
  stops.push(() => store.close());
  if (store.kind === 'pglite' && config.store.jobsIntervalMs > 0) {
    const stopJobs = startJobTimer(store, config.store.jobsIntervalMs, log);
    stops.push(async () => stopJobs());
  }
  const bus = openBus(config.bus.url, { clientId: config.bus.clientId, logger: log.child({ component: 'bus' }) });
  stops.push(() => bus.close());
  const topics = topicNames(config.bus.topicPrefix);
  await bus.ensureTopics(topicSpecs(topics, config.bus.partitions));

  if (has('ingest')) {
    const worker = await startIngestWorker({ bus, topics, store, log, groupId: config.bus.ingestGroupId, resolution: config.grid.resolution, maxBatch: config.bus.ingestMaxBatch });
    stops.push(() => worker.stop());
  }
  if (config.sim.enabled) {
    const city = createCity({ seed: config.sim.seed, bbox: config.grid.bbox, officialStations: config.sim.officialStations, amateurSensors: config.sim.amateurSensors, amateurIntervalMs: config.sim.amateurIntervalMs });
    const feed = await startSimulatedFeed({ bus, topics, city, partitionResolution: config.grid.partitionResolution, backfillMs: 2 * config.batch.windowMs, log });
    stops.push(() => feed.stop());
  }
  if (has('pipeline')) {
    const grid = domainGrid(config.grid.bbox, config.grid.resolution);
    log.info({ cells: grid.length, resolution: config.grid.resolution }, 'domain grid ready');
    const scheduler = startScheduler({ store, log, grid, windowMs: config.batch.windowMs, retentionMs: config.batch.retentionMs, intervalMs: config.batch.intervalMs, lagMs: config.batch.lagMs });
    stops.push(() => scheduler.stop());
  }
  let url: string | undefined;
  if (has('api')) {
    const app = createApp({ store, log, bbox: config.grid.bbox, resolution: config.grid.resolution, maxAgeMs: Math.max(2 * 3_600_000, 4 * config.batch.intervalMs),
      submission: { store, bus, readingsTopic: topics.readings, partitionResolution: config.grid.partitionResolution, log, adminToken: config.submission.adminToken, limits: config.submission } });
    const server: Server = await new Promise((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
    const addr = server.address();
    url = typeof addr === 'object' && addr ? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${addr.port}` : undefined;
    stops.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    log.info({ url, try: `${url}/v1/forecast?latitude=52.52&longitude=13.405` }, 'api listening');
  }
  return {
    config,
    url,
    async stop() {
      for (const s of stops.reverse()) {
        try {
          await s();
        } catch (err) {
          log.error({ err }, 'error while stopping');
        }
      }
    },
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  const running = await start(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    running.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
