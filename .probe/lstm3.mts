import * as ort from 'onnxruntime-node';
import { encodeModel } from '../models/onnx/onnx-model.ts';
const F = 10;
const rnd = (n: number) => Float32Array.from({ length: n }, () => (Math.random() - 0.5) * 0.3);
for (const [H, T] of [[8, 37], [12, 37], [16, 37], [32, 37], [16, 25]]) {
const bytes = encodeModel({ graphName: 'p', inputs: [{ name: 'x', dims: [T, 'N', F] }], outputs: [{ name: 'y', dims: [T, 2, 'N', H] }],
  initializers: [{ name: 'W', dims: [2, 4 * H, F], values: rnd(2 * 4 * H * F) }, { name: 'R', dims: [2, 4 * H, H], values: rnd(2 * 4 * H * H) }, { name: 'B', dims: [2, 8 * H], values: rnd(16 * H) }],
  nodes: [{ op: 'LSTM', inputs: ['x', 'W', 'R', 'B'], outputs: ['y'], attributes: { direction: 'bidirectional', hidden_size: H } }] });
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const N = 10000;
    const x = new ort.Tensor('float32', rnd(T * N * F), [T, N, F]);
    await s.run({ x });
    const t0 = performance.now(); const reps = 3;
    for (let r = 0; r < reps; r++) await s.run({ x });
    const ms = (performance.now() - t0) / reps;
    console.log(`H ${H} T ${T} N ${N}: ${ms.toFixed(1)} ms -> ${(ms / N * 100000).toFixed(0)} ms per 100k`);
}
