/**
 * Worker threads over shared memory: the features, targets, the pass order, the parameters and one
 * gradient buffer per chunk live in SharedArrayBuffers; a request names chunks (ranges of the pass
 * order) and each worker fills its chunks' gradients. The caller sums chunk gradients in chunk
 * order, so a result does not depend on how many workers ran or which finished first.
 * With 0 workers the chunks run in-process (tests, one-core machines).
 */
import { Worker } from 'node:worker_threads';
import { paramLayout, type NetworkShape } from '../bilstm/network.ts';
import { ChunkRunner } from './chunk.ts';

export interface PoolBuffers {
  x: SharedArrayBuffer;
  xFloat64: boolean;
  y: SharedArrayBuffer;
  order: SharedArrayBuffer;
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  partner?: SharedArrayBuffer;
  partnerGap?: SharedArrayBuffer;
  baseN?: SharedArrayBuffer;
  lambda: number;
  leadWeight?: number[];
  perIssue?: boolean;
}

export interface ChunkSpec {
  id: number;
  start: number;
  end: number;
}

export interface PoolRequest {
  seq: number;
  gradient: boolean;
  chunks: ChunkSpec[];
}

export interface ChunkResult {
  id: number;
  sum: number;
  count: number;
  penalty: number;
}

export interface PoolReply {
  seq: number;
  results: ChunkResult[];
}

export interface TrainingPool {
  readonly workers: number;
  readonly params: Float64Array;
  readonly order: Int32Array;
  /** Chunk gradients, chunk id × parameters. */
  readonly grads: Float64Array;
  run(chunks: ChunkSpec[], gradient: boolean): Promise<ChunkResult[]>;
  close(): Promise<void>;
}

export function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * 8));
}

export function sharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * 4));
}

export function sharedInt32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(n * 4));
}

export async function openPool(o: { shape: NetworkShape; x: Float32Array | Float64Array; y: Float64Array; partner?: Int32Array; partnerGap?: Int32Array; baseN?: Float64Array; lambda?: number; leadWeight?: ArrayLike<number>; perIssue?: boolean; rows: number; maxChunks: number; workers: number }): Promise<TrainingPool> {
  const layout = paramLayout(o.shape);
  for (const [name, a] of [['x', o.x], ['y', o.y], ['partner', o.partner], ['partnerGap', o.partnerGap], ['baseN', o.baseN]] as const) if (a) if (!(a.buffer instanceof SharedArrayBuffer)) throw new TypeError(`${name} must live in a SharedArrayBuffer`);
  const params = sharedFloat64(layout.size);
  const grads = sharedFloat64(layout.size * o.maxChunks);
  const order = sharedInt32(o.rows);
  const buffers: PoolBuffers = {
    x: o.x.buffer as SharedArrayBuffer, xFloat64: o.x instanceof Float64Array, y: o.y.buffer as SharedArrayBuffer,
    order: order.buffer as SharedArrayBuffer, params: params.buffer as SharedArrayBuffer, grads: grads.buffer as SharedArrayBuffer,
    ...(o.partner ? { partner: o.partner.buffer as SharedArrayBuffer } : {}), ...(o.partnerGap ? { partnerGap: o.partnerGap.buffer as SharedArrayBuffer } : {}), ...(o.baseN ? { baseN: o.baseN.buffer as SharedArrayBuffer } : {}), lambda: o.lambda ?? 0,
    ...(o.leadWeight ? { leadWeight: Array.from(o.leadWeight) } : {}), ...(o.perIssue ? { perIssue: true } : {}),
  };
  if (o.workers === 0) {
    const runner = new ChunkRunner(layout);
    const data = { x: o.x, y: o.y, order, ...(o.partner ? { partner: o.partner } : {}), ...(o.partnerGap ? { partnerGap: o.partnerGap } : {}), ...(o.baseN ? { baseN: o.baseN } : {}), lambda: o.lambda ?? 0, ...(o.leadWeight ? { leadWeight: o.leadWeight } : {}), ...(o.perIssue ? { perIssue: true } : {}) };
    return {
      workers: 0, params, order, grads,
      async run(chunks, gradient) {
        return chunks.map((c) => ({ id: c.id, ...runner.run(params, data, c.start, c.end, gradient ? grads.subarray(c.id * layout.size, (c.id + 1) * layout.size) : undefined) }));
      },
      async close() {},
    };
  }
  const url = new URL('./worker-entry.mjs', import.meta.url);
  const workers = Array.from({ length: o.workers }, () => new Worker(url, { workerData: { shape: o.shape, buffers }, execArgv: [] }));
  let seq = 0;
  const pending = new Map<number, { left: number; results: ChunkResult[]; resolve: (r: ChunkResult[]) => void; reject: (e: Error) => void }>();
  for (const w of workers) {
    w.on('message', (reply: PoolReply) => {
      const p = pending.get(reply.seq);
      if (!p) return;
      p.results.push(...reply.results);
      if (--p.left === 0) {
        pending.delete(reply.seq);
        p.resolve(p.results.sort((a, b) => a.id - b.id));
      }
    });
    w.on('error', (err) => { for (const p of pending.values()) p.reject(err); pending.clear(); });
  }
  return {
    workers: o.workers, params, order, grads,
    run(chunks, gradient) {
      const s = ++seq;
      const perWorker = workers.map(() => [] as ChunkSpec[]);
      chunks.forEach((c, i) => perWorker[i % workers.length]!.push(c));
      const used = perWorker.filter((l) => l.length > 0).length;
      return new Promise((resolve, reject) => {
        pending.set(s, { left: used, results: [], resolve, reject });
        perWorker.forEach((l, i) => { if (l.length > 0) workers[i]!.postMessage({ seq: s, gradient, chunks: l } satisfies PoolRequest); });
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
