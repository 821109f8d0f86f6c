/** A training worker thread: runs the chunks it is sent on the shared buffers (see pool.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { paramLayout, type NetworkShape } from '../bilstm/network.ts';
import { ChunkRunner } from './chunk.ts';
import type { PoolBuffers, PoolRequest, PoolReply } from './pool.ts';

const { shape, buffers } = workerData as { shape: NetworkShape; buffers: PoolBuffers };
const layout = paramLayout(shape);
const runner = new ChunkRunner(layout);
const data = {
  x: buffers.xFloat64 ? new Float64Array(buffers.x) : new Float32Array(buffers.x),
  y: new Float64Array(buffers.y),
  order: new Int32Array(buffers.order),
  ...(buffers.partner ? { partner: new Int32Array(buffers.partner) } : {}),
  ...(buffers.partnerGap ? { partnerGap: new Int32Array(buffers.partnerGap) } : {}),
  ...(buffers.baseN ? { baseN: new Float64Array(buffers.baseN) } : {}),
  lambda: buffers.lambda,
  ...(buffers.leadWeight ? { leadWeight: buffers.leadWeight } : {}),
  ...(buffers.perIssue ? { perIssue: true } : {}),
};
const params = new Float64Array(buffers.params);
const grads = new Float64Array(buffers.grads);
const P = layout.size;

parentPort!.on('message', (req: PoolRequest) => {
  const results = req.chunks.map((c) => ({ id: c.id, ...runner.run(params, data, c.start, c.end, req.gradient ? grads.subarray(c.id * P, (c.id + 1) * P) : undefined) }));
  parentPort!.postMessage({ seq: req.seq, results } satisfies PoolReply);
});
