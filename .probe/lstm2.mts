import * as ort from 'onnxruntime-node';
import { encodeModel } from '../models/onnx/onnx-model.ts';
const H = 16, F = 10, T = 37;
const rnd = (n: number) => Float32Array.from({ length: n }, () => (Math.random() - 0.5) * 0.3);
const bytes = encodeModel({ graphName: 'p', inputs: [{ name: 'x', dims: [T, 'N', F] }], outputs: [{ name: 'y', dims: [T, 2, 'N', H] }],
  initializers: [{ name: 'W', dims: [2, 4 * H, F], values: rnd(2 * 4 * H * F) }, { name: 'R', dims: [2, 4 * H, H], values: rnd(2 * 4 * H * H) }, { name: 'B', dims: [2, 8 * H], values: rnd(16 * H) }],
  nodes: [{ op: 'LSTM', inputs: ['x', 'W', 'R', 'B'], outputs: ['y'], attributes: { direction: 'bidirectional', hidden_size: H } }] });
for (const threads of [1, 2]) {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  for (const N of [100, 1000, 10000]) {
    const x = new ort.Tensor('float32', rnd(T * N * F), [T, N, F]);
    await s.run({ x });
    const t0 = performance.now(); const reps = Math.max(1, Math.round(20000 / N));
    for (let r = 0; r < reps; r++) await s.run({ x });
    const ms = (performance.now() - t0) / reps;
    console.log(`threads ${threads} N ${N}: ${ms.toFixed(1)} ms -> ${(ms / N * 100000).toFixed(0)} ms per 100k`);
  }
}
