/**
 * The engine thread of the embedded default: the store (embedded TimescaleDB), the in-process bus,
 * the ingest worker, the simulated city and the batch scheduler, off the thread that serves HTTP.
 * It answers the HTTP thread's port calls (engine-protocol.ts) and stops on request, closing the
 * store last, so its data directory's lock goes with it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../infra/config.ts';
import { createLogger } from '../infra/log.ts';
import { openStore, startJobTimer, ledgerState, latestDoneRunTime, readRunColumns, runColumnBuffers, doneRunTimesSince, readLeadZero, type Store, type Queryable } from '../infra/store/index.ts';
import { openBus, type Bus } from '../infra/bus/index.ts';
import { topicNames, topicSpecs, startIngestWorker, createCity, startSimulatedFeed, OFFICIAL_INTERVAL_MS } from '../ingest/index.ts';
import { startPipelineRole } from '../pipeline/index.ts';
import { smootherFor } from './models.ts';
import type { EngineData, EngineEvent, EngineReply, EngineRequest } from './engine-protocol.ts';

const port = parentPort!;
const { config } = workerData as EngineData;
const log = createLogger(config.logLevel).child({ thread: 'engine' });

const stops: (() => Promise<void>)[] = [];
/** How long a graceful stop waits for the ingest worker to store what the in-process log holds. */
const DRAIN_TIMEOUT_MS = 60_000;
let store: Store | undefined;
let bus: Bus | undefined;

function errorOf(err: unknown): { message: string; name: string; code?: string } {
  const e = err as { message?: string; name?: string; code?: unknown };
  return { message: e?.message ?? String(err), name: e?.name ?? 'Error', ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
}

function post(m: EngineReply | EngineEvent, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
}

async function start(c: Config): Promise<void> {
  const s = await openStore(c.store.url, { poolSize: c.store.poolSize, idleTimeoutMs: c.store.idleTimeoutMs, connectionTimeoutMs: c.store.connectTimeoutMs, statementTimeoutMs: c.store.statementTimeoutMs, log });
  store = s;
  stops.push(() => s.close());
  // TimescaleDB's policy jobs, run by the thread that runs batches.
  if (c.store.jobsIntervalMs > 0) {
    const stopJobs = startJobTimer(s, c.store.jobsIntervalMs, log);
    stops.push(async () => stopJobs());
  }
  const b = openBus(c.bus.url, { clientId: c.bus.clientId, logger: log.child({ component: 'bus' }) });
  bus = b;
  stops.push(() => b.close());
  const topics = topicNames(c.bus.topicPrefix);
  await b.ensureTopics(topicSpecs(topics, c.bus.partitions));
  const worker = await startIngestWorker({ bus: b, topics, store: s, log, groupId: c.bus.ingestGroupId, resolution: c.grid.resolution, maxBatch: c.bus.ingestMaxBatch });
  stops.push(() => worker.stop());
  // The in-process log dies with this thread: on a graceful stop, what it accepted is stored first
  // (after the simulator and the pipeline have stopped, before the worker does).
  stops.push(async () => {
    const t0 = performance.now();
    const left = await worker.drain(DRAIN_TIMEOUT_MS);
    if (left > 0) log.error({ left, timeoutMs: DRAIN_TIMEOUT_MS }, 'stopping with messages of the in-process log not stored: they are lost');
    else log.info({ ms: Math.round(performance.now() - t0) }, 'in-process log drained');
  });
  if (c.sim.enabled) {
    const city = createCity({ seed: c.sim.seed, bbox: c.grid.bbox, officialStations: c.sim.officialStations, amateurSensors: c.sim.amateurSensors, amateurIntervalMs: c.sim.amateurIntervalMs });
    // Backfill two windows, and at least one report of every simulated station (officials report every 10 min).
    const feed = await startSimulatedFeed({ bus: b, topics, city, partitionResolution: c.grid.partitionResolution, backfillMs: Math.max(2 * c.batch.windowMs, OFFICIAL_INTERVAL_MS + 60_000), log });
    stops.push(() => feed.stop());
  }
  const pipeline = startPipelineRole({ store: s, log, config: c, ...(await smootherFor(c, log, stops)) });
  stops.push(() => pipeline.stop());
}

let stopping: Promise<void> | null = null;
async function stopAll(): Promise<void> {
  stopping ??= (async () => {
    await started.catch(() => undefined);
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (err) {
        log.error({ err }, 'error while stopping');
      }
    }
    log.info('engine stopped');
  })();
  return stopping;
}

// Open transactions by id: each waits for its end from the HTTP thread.
const ROLLBACK = Symbol('rollback');
const txs = new Map<number, { tx: Queryable; end: (commit: boolean) => void; done: Promise<unknown> }>();
let nextTx = 1;

function beginTx(s: Store): Promise<number> {
  const id = nextTx++;
  return new Promise((ready, fail) => {
    let opened = false;
    const done = s.transaction(async (tx) => {
      const commit = await new Promise<boolean>((end) => {
        txs.set(id, { tx, end, done });
        opened = true;
        ready(id);
      });
      if (!commit) throw ROLLBACK;
    });
    done.catch((err: unknown) => {
      if (!opened) fail(err);
    });
  });
}

async function endTx(id: number, commit: boolean): Promise<void> {
  const t = txs.get(id);
  if (!t) throw new Error(`no open transaction ${id}`);
  txs.delete(id);
  t.end(commit);
  try {
    await t.done;
  } catch (err) {
    if (err !== ROLLBACK) throw err;
  }
}

async function handle(m: EngineRequest): Promise<{ result: unknown; transfer?: ArrayBuffer[] }> {
  if (m.op === 'stop') {
    await stopAll();
    return { result: null };
  }
  await started;
  if (stopping) throw Object.assign(new Error('the engine is stopping'), { code: 'ENGINE_STOPPING' });
  const s = store!;
  switch (m.op) {
    case 'query': return { result: await s.query(m.sql, m.params) };
    case 'txBegin': return { result: await beginTx(s) };
    case 'txQuery': {
      const t = txs.get(m.tx);
      if (!t) throw new Error(`no open transaction ${m.tx}`);
      return { result: await t.tx.query(m.sql, m.params) };
    }
    case 'txEnd': return { result: await endTx(m.tx, m.commit) };
    case 'publish': return { result: await bus!.publish(m.topic, m.messages) };
    case 'ledger': return { result: await ledgerState(s) };
    case 'latestDoneRunTime': return { result: await latestDoneRunTime(s) };
    case 'readRun': {
      const run = await readRunColumns(s, m.runTimeMs);
      return { result: run, transfer: run ? runColumnBuffers(run) : [] };
    }
    case 'readPast': {
      const times = (await doneRunTimesSince(s, m.sinceMs, m.everyMs)).filter((t) => t < m.beforeMs);
      const past = await readLeadZero(s, times);
      return { result: past, transfer: past.flatMap((p) => [p.tempC.buffer as ArrayBuffer, p.sigmaC.buffer as ArrayBuffer]) };
    }
  }
}

port.on('message', (m: EngineRequest) => {
  handle(m).then(
    ({ result, transfer }) => {
      post({ id: m.id, ok: true, result }, transfer);
      if (m.op === 'stop') port.close();
    },
    (err: unknown) => post({ id: m.id, ok: false, error: errorOf(err) }),
  );
});

const started = start(config);
started.then(
  () => post({ event: 'ready', storeKind: store!.kind, busKind: bus!.kind }),
  async (err: unknown) => {
    log.error({ err }, 'engine failed to start');
    await stopAll();
    post({ event: 'fatal', error: errorOf(err) });
    port.close();
  },
);
