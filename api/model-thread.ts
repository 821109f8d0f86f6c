/**
 * The HTTP thread's side of the model thread (model-thread-worker.ts): a ModelService whose list,
 * cards and health are the thread's last reported state, and whose predictions run in the thread.
 *
 * At most `maxQueued` predictions, holding at most `maxQueuedBytes` of bodies, wait for the thread;
 * one more is refused (NOT_READY, Retry-After), not queued without bound (a request alone is always
 * taken). A thread that dies fails the predictions it held (INTERNAL), reports its models failing,
 * refuses predictions (NOT_READY, Retry-After) until it is back, and is started again after a second.
 */
import { Worker } from 'node:worker_threads';
import type { ModelCard, RegistryHealth, RegistryOptions } from '../models/index.ts';
import type { Logger } from '../infra/log.ts';
import { ApiError } from './errors.ts';
import type { ModelService, ModelSummary } from './model-service.ts';
import type { FromModelThread, ModelThreadData, ModelThreadState, ToModelThread } from './model-thread-protocol.ts';

export interface ModelThreadOptions extends Omit<RegistryOptions, 'log'> {
  dir: string;
  log?: Logger;
  /** The thread's log level (default: the log's own, else info). */
  logLevel?: string;
  /** Predictions that may wait for the thread (default 16). */
  maxQueued?: number;
  /** Bytes of request bodies that may wait for the thread (default 256 MiB). */
  maxQueuedBytes?: number;
  /** Wait before starting a thread that died (default 1 s). */
  restartMs?: number;
}

type Pending = { bytes: number; resolve: (json: string) => void; reject: (e: Error) => void };

export class ModelThread implements ModelService {
  #worker!: Worker;
  #state: ModelThreadState = { list: [], health: { status: 'degraded', models: [] } };
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #closing = false;
  /** The thread has reported its registry and not exited since. */
  #up = false;
  #restart?: NodeJS.Timeout;
  readonly #data: ModelThreadData;
  readonly #maxQueued: number;
  readonly #maxQueuedBytes: number;
  #queuedBytes = 0;

  private constructor(private readonly o: ModelThreadOptions) {
    this.#data = {
      dir: o.dir,
      pollMs: o.pollMs ?? 0,
      expected: [...(o.expected ?? [])],
      logLevel: o.logLevel ?? o.log?.level ?? 'info',
      ...(o.intraOpThreads !== undefined ? { intraOpThreads: o.intraOpThreads } : {}),
    };
    this.#maxQueued = o.maxQueued ?? 16;
    this.#maxQueuedBytes = o.maxQueuedBytes ?? 256 * 1024 * 1024;
  }

  /** Starts the thread; resolves once its registry has loaded the folder. */
  static async open(o: ModelThreadOptions): Promise<ModelThread> {
    const t = new ModelThread(o);
    await t.#spawn();
    return t;
  }

  #spawn(): Promise<void> {
    const w = new Worker(new URL('./model-thread.mjs', import.meta.url), { workerData: this.#data });
    this.#worker = w;
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      w.on('message', (m: FromModelThread) => {
        if (m.kind === 'state') {
          this.#state = m.state;
          if (!opened) { opened = true; this.#up = true; resolve(); }
          return;
        }
        if (m.kind === 'open-failed') { reject(new Error(`the model thread could not open ${this.#data.dir}: ${m.reason}`)); return; }
        if (m.kind === 'closed') return;
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        this.#queuedBytes -= p.bytes;
        if (m.kind === 'answer') p.resolve(m.json);
        else p.reject(new ApiError(m.code, m.reason, m.retryAfterS !== undefined ? { retryAfterS: m.retryAfterS } : {}));
      });
      w.on('error', (err) => this.o.log?.error({ err }, 'model thread error'));
      w.on('exit', (code) => {
        if (this.#worker !== w) return;
        this.#up = false;
        const why = `the model thread exited (code ${code})`;
        for (const p of this.#pending.values()) p.reject(new ApiError('INTERNAL', `${why} during the prediction.`));
        this.#pending.clear();
        this.#queuedBytes = 0;
        if (!opened) { reject(new Error(why)); return; }
        if (this.#closing) return;
        this.o.log?.error({ code }, 'the model thread exited; starting it again');
        this.#state = {
          list: this.#state.list.map((m) => ({ name: m.name, status: 'failing' })),
          health: { status: 'degraded', models: this.#state.health.models.map((m) => ({ name: m.name, status: 'failing', error: why, failures: m.failures + 1 })) },
        };
        this.#restart = setTimeout(() => {
          this.#restart = undefined;
          if (!this.#closing) this.#spawn().catch((err: unknown) => this.o.log?.error({ err }, 'the model thread did not start again'));
        }, this.o.restartMs ?? 1000);
        this.#restart.unref();
      });
    });
  }

  list(): ModelSummary[] {
    return this.#state.list;
  }

  card(name: string): ModelCard | undefined {
    return this.#state.list.find((m) => m.name === name)?.card;
  }

  health(): RegistryHealth {
    return this.#state.health;
  }

  predict(name: string, body: Uint8Array): Promise<string> {
    if (this.#closing) return Promise.reject(new ApiError('NOT_READY', 'The models are shutting down.'));
    if (!this.#up) return Promise.reject(new ApiError('NOT_READY', 'The model thread is starting again; try again shortly.', { retryAfterS: 1 }));
    const busy = this.#pending.size >= this.#maxQueued || (this.#pending.size > 0 && this.#queuedBytes + body.byteLength > this.#maxQueuedBytes);
    if (busy) {
      const mb = (this.#queuedBytes / 1048576).toFixed(0);
      return Promise.reject(new ApiError('NOT_READY', `${this.#pending.size} predictions (${mb} MB) are waiting for the model thread; try again shortly.`, { retryAfterS: 1 }));
    }
    const id = this.#next++;
    // A body that owns its whole buffer moves to the thread; a slice of a shared one is copied.
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
    const msg: ToModelThread = { kind: 'predict', id, name, body };
    return new Promise<string>((resolve, reject) => {
      this.#pending.set(id, { bytes: body.byteLength, resolve, reject });
      this.#queuedBytes += body.byteLength;
      this.#worker.postMessage(msg, own ? [body.buffer as ArrayBuffer] : []);
    });
  }

  /** Ends the thread as a crash would (fault tests: what it held fails, it is started again). */
  async terminateThread(): Promise<void> {
    await this.#worker.terminate();
  }

  /** The thread's pending predictions (the queue the bound applies to). */
  get queued(): number {
    return this.#pending.size;
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#restart) clearTimeout(this.#restart);
    const w = this.#worker;
    const closed = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      t.unref();
      w.on('message', (m: FromModelThread) => { if (m.kind === 'closed') { clearTimeout(t); resolve(); } });
      w.once('exit', () => { clearTimeout(t); resolve(); });
    });
    w.postMessage({ kind: 'close' } satisfies ToModelThread);
    await closed;
    await w.terminate();
  }
}
