/**
 * Map threads for a batch worker: shards' QC runs in parallel on the machine's cores, while the store
 * stays on the worker's own thread. `size` 0 runs every map inline (tests, one core).
 */
import { Worker } from 'node:worker_threads';
import { mapShard, type MapInput, type MapOutput } from './map-stage.ts';
import type { QcOptions } from './qc/chain.ts';
import type { AnalysisOptions } from './analysis/cell-analysis.ts';
import { decodeSummary } from './artefacts.ts';

type Pending = { resolve: (v: { out: MapOutput; stageMs: Record<string, number> }) => void; reject: (e: Error) => void };

export class MapPool {
  readonly size: number;
  readonly #idle: Worker[] = [];
  readonly #all: Worker[] = [];
  readonly #waiting: (() => void)[] = [];
  readonly #pending = new Map<number, Pending>();
  /** The map each thread is running. */
  readonly #busy = new Map<Worker, number>();
  #next = 0;
  #closed = false;

  /** `size`: threads (default 0: inline). */
  constructor(size = 0) {
    this.size = Math.max(0, Math.floor(size));
  }

  #spawn(): Worker {
    const w = new Worker(new URL('./map-thread.mjs', import.meta.url));
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; out?: Omit<MapOutput, 'summary'> & { summary: Uint8Array }; stageMs?: Record<string, number>; error?: string }) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve({ out: { ...m.out!, summary: decodeSummary(m.out!.summary) }, stageMs: m.stageMs ?? {} });
      else p.reject(new Error(`map thread: ${m.error}`));
    });
    // A thread that dies fails the map it held and leaves the pool; the next map starts another.
    const dead = (err: Error): void => {
      const i = this.#all.indexOf(w);
      if (i < 0) return;
      this.#all.splice(i, 1);
      const j = this.#idle.indexOf(w);
      if (j >= 0) this.#idle.splice(j, 1);
      const id = this.#busy.get(w);
      this.#busy.delete(w);
      const p = id === undefined ? undefined : this.#pending.get(id);
      if (p && id !== undefined) { this.#pending.delete(id); p.reject(err); }
      this.#waiting.shift()?.();
    };
    w.on('error', dead);
    w.on('exit', (code) => dead(new Error(`map thread exited with code ${code}`)));
    this.#all.push(w);
    return w;
  }

  async #acquire(): Promise<Worker> {
    for (;;) {
      const w = this.#idle.pop();
      if (w) return w;
      if (this.#all.length < this.size) return this.#spawn();
      await new Promise<void>((r) => this.#waiting.push(r));
    }
  }

  #release(w: Worker): void {
    this.#idle.push(w);
    this.#waiting.shift()?.();
  }

  /** mapShard on a thread of the pool (inline when the pool has none). */
  async map(input: MapInput, qc: QcOptions, analysis: AnalysisOptions): Promise<{ out: MapOutput; stageMs: Record<string, number> }> {
    if (this.#closed) throw new Error('map pool closed');
    if (this.size === 0) {
      const stageMs: Record<string, number> = {};
      return { out: mapShard(input, qc, analysis, stageMs), stageMs };
    }
    const w = await this.#acquire();
    w.ref();
    try {
      const id = this.#next++;
      return await new Promise((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        this.#busy.set(w, id);
        w.postMessage({ id, input, qc, analysis });
      });
    } finally {
      this.#busy.delete(w);
      w.unref();
      if (this.#all.includes(w)) this.#release(w);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#all].map((w) => w.terminate()));
    this.#all.length = 0;
    this.#idle.length = 0;
  }
}
