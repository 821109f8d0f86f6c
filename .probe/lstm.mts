import * as ort from 'onnxruntime-node';
import { encodeModel } from '../models/onnx/onnx-model.ts';
for (const H of [16, 24, 32]) {
  const F = 10, T = 37;
  const rnd = (n: number) => Float32Array.from({ length: n }, () => (Math.random() - 0.5) * 0.3);
  const bytes = encodeModel({ graphName: 'p', inputs: [{ name: 'x', dims: [T, 'N', F] }], outputs: [{ name: 'y', dims: [T, 2, 'N', H] }],
    initializers: [{ name: 'W', dims: [2, 4 * H, F], values: rnd(2 * 4 * H * F) }, { name: 'R', dims: [2, 4 * H, H], values: rnd(2 * 4 * H * H) }, { name: 'B', dims: [2, 8 * H], values: rnd(16 * H) }],
    nodes: [{ op: 'LSTM', inputs: ['x', 'W', 'R', 'B'], outputs: ['y'], attributes: { direction: 'bidirectional', hidden_size: H } }] });
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 2 });
  const N = 100000;
  const x = new ort.Tensor('float32', rnd(T * N * F), [T, N, F]);
  for (let r = 0; r < 2; r++) { const t0 = performance.now(); await s.run({ x }); console.log(H, 'ms', (performance.now() - t0).toFixed(0)); }
}
