/**
 * The HTTP thread's side of the engine thread (engine-worker.ts): proxies implementing the store
 * port and the bus's publish over the thread's port, and the run source the API's snapshot loads
 * from (runs arrive as transferred typed arrays, so the HTTP thread copies nothing).
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../infra/config.ts';
import type { Logger } from '../infra/log.ts';
import type { Queryable, QueryResult, Store, LedgerState, RunColumns, LeadZero } from '../infra/store/index.ts';
import type { OutgoingMessage } from '../infra/bus/index.ts';
import type { BusProducer, RunSource } from '../api/index.ts';
import type { EngineEvent, EngineReply, EngineRequest } from './engine-protocol.ts';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** An error from the engine thread, with its name and code kept. */
export class EngineCallError extends Error {
  constructor(message: string, override readonly name: string, readonly code?: string) {
    super(message);
  }
}

export interface Engine {
  store: Store;
  bus: BusProducer;
  runs: RunSource;
  /** Resolves when the store, bus, ingest, simulator and scheduler run; rejects if they cannot start. */
  ready: Promise<{ storeKind: 'pglite' | 'pg'; busKind: 'memory' | 'kafka' }>;
  /** Rejects if the thread dies unexpectedly. */
  died: Promise<never>;
  /** Stops everything in the thread (the store last) and waits for the thread to exit. */
  stop(timeoutMs?: number): Promise<void>;
}

export function startEngine(config: Config, log: Logger): Engine {
  const worker = new Worker(new URL('./engine-thread.mjs', import.meta.url), { workerData: { config } });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let exited = false;
  let stopping = false;
  let readyResolve!: (v: { storeKind: 'pglite' | 'pg'; busKind: 'memory' | 'kafka' }) => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<{ storeKind: 'pglite' | 'pg'; busKind: 'memory' | 'kafka' }>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  let diedReject!: (e: Error) => void;
  const died = new Promise<never>((_, rej) => {
    diedReject = rej;
  });
  died.catch(() => undefined);
  ready.catch(() => undefined);
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));

  worker.on('message', (m: EngineReply | EngineEvent) => {
    if ('event' in m) {
      if (m.event === 'ready') readyResolve({ storeKind: m.storeKind, busKind: m.busKind });
      else readyReject(new EngineCallError(m.error.message, m.error.name, m.error.code));
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.ok) p.resolve(m.result);
    else p.reject(new EngineCallError(m.error.message, m.error.name, m.error.code));
  });
  worker.on('error', (err) => {
    log.error({ err }, 'engine thread failed');
    readyReject(err);
    diedReject(err);
  });
  worker.once('exit', (code) => {
    exited = true;
    const err = new EngineCallError(`the engine thread exited (code ${code})`, 'EngineExited', 'ENGINE_EXITED');
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    readyReject(err);
    if (!stopping) diedReject(err);
  });

  const call = <T>(req: DistributiveOmit<EngineRequest, 'id'>): Promise<T> => {
    if (exited) return Promise.reject(new EngineCallError('the engine thread has exited', 'EngineExited', 'ENGINE_EXITED'));
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...req, id } as EngineRequest);
    });
  };

  let storeKind: 'pglite' | 'pg' = config.store.url.startsWith('postgres') ? 'pg' : 'pglite';
  void ready.then((r) => {
    storeKind = r.storeKind;
  }, () => undefined);

  const store: Store = {
    get kind() {
      return storeKind;
    },
    query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      return call<QueryResult<R>>({ op: 'query', sql, params });
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const tx = await call<number>({ op: 'txBegin' });
      const q: Queryable = { query: <R = Record<string, unknown>>(sql: string, params?: unknown[]) => call<QueryResult<R>>({ op: 'txQuery', tx, sql, params }) };
      let result: T;
      try {
        result = await fn(q);
      } catch (err) {
        await call({ op: 'txEnd', tx, commit: false }).catch(() => undefined);
        throw err;
      }
      await call({ op: 'txEnd', tx, commit: true });
      return result;
    },
    async close() {
      // The engine thread owns the store; Engine.stop closes it.
    },
  };

  const bus: BusProducer = {
    publish: (topic: string, messages: OutgoingMessage[]) => call<void>({ op: 'publish', topic, messages }),
  };

  const runs: RunSource = {
    ledger: () => call<LedgerState>({ op: 'ledger' }),
    latestDoneRunTime: () => call<number | null>({ op: 'latestDoneRunTime' }),
    readRun: (runTimeMs) => call<RunColumns | null>({ op: 'readRun', runTimeMs }),
    readPast: (sinceMs, beforeMs, everyMs) => call<LeadZero[]>({ op: 'readPast', sinceMs, beforeMs, everyMs }),
  };

  return {
    store,
    bus,
    runs,
    ready,
    died,
    async stop(timeoutMs = 120_000) {
      stopping = true;
      if (!exited) {
        const timer = setTimeout(() => {
          log.error({ timeoutMs }, 'the engine did not stop in time; terminating it');
          void worker.terminate();
        }, timeoutMs);
        await call({ op: 'stop' }).catch((err: unknown) => log.warn({ err }, 'engine stop'));
        await exit;
        clearTimeout(timer);
      }
    },
  };
}
