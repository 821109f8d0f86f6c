/**
 * The trained BiLSTM as an ONNX graph, and back:
 *
 *   x [T, N, F] ─ LSTM(direction="bidirectional", hidden_size=H) ─ Y [T, 2, N, H]
 *     ─ Slice(t ≥ T − K) ─ Transpose(2,0,1,3) ─ Reshape [N, K, 2H]
 *     ─ MatMul W1ᵀ ─ Add b1 ─ Tanh ─ MatMul w2 ─ Add b2 ─ Reshape [N, K]
 *     ─ Mul lead_mask (0 on the fixed leads) ─ Mul TEMP_SCALE_K ─ Add base [N, K] ─ y [N, K]
 *
 * The graph computes exactly the training forward pass (network.ts) plus the base trajectory.
 */
import onnxProto from 'onnx-proto';
import { encodeModel, float, type Initializer } from '../onnx/onnx-model.ts';
import { paramLayout, type NetworkShape, type ParamLayout } from './network.ts';

const { onnx } = onnxProto;

export const BILSTM_INPUTS = { x: 'x', base: 'base' } as const;
export const BILSTM_OUTPUT = 'y';

export interface BilstmExport {
  layout: ParamLayout;
  params: Float64Array;
  tempScaleK: number;
  metadata: Record<string, string>;
  doc?: string;
}

function f32(p: Float64Array, at: number, n: number): Float32Array {
  return Float32Array.from(p.subarray(at, at + n));
}

export function bilstmToOnnx(o: BilstmExport): Uint8Array {
  const { layout, params: p } = o;
  const { inputs: F, hidden: H, dense: D, steps: T, outSteps: K } = layout.shape;
  const W = new Float32Array(2 * 4 * H * F);
  const R = new Float32Array(2 * 4 * H * H);
  const B = new Float32Array(2 * 8 * H); // [Wb; Rb] per direction, Rb = 0
  for (let d = 0; d < 2; d++) {
    W.set(f32(p, layout.W[d]!, 4 * H * F), d * 4 * H * F);
    R.set(f32(p, layout.R[d]!, 4 * H * H), d * 4 * H * H);
    B.set(f32(p, layout.B[d]!, 4 * H), d * 8 * H);
  }
  const W1T = new Float32Array(2 * H * D);
  for (let u = 0; u < D; u++) for (let j = 0; j < 2 * H; j++) W1T[j * D + u] = p[layout.W1 + u * 2 * H + j]!;
  const i64 = (v: number[]) => BigInt64Array.from(v.map(BigInt));
  const initializers: Initializer[] = [
    { name: 'lstm_W', dims: [2, 4 * H, F], values: W },
    { name: 'lstm_R', dims: [2, 4 * H, H], values: R },
    { name: 'lstm_B', dims: [2, 8 * H], values: B },
    { name: 'out_start', dims: [1], values: i64([T - K]) },
    { name: 'out_end', dims: [1], values: i64([T]) },
    { name: 'out_axis', dims: [1], values: i64([0]) },
    { name: 'concat_shape', dims: [3], values: i64([0, K, 2 * H]) },
    { name: 'head_W1T', dims: [2 * H, D], values: W1T },
    { name: 'head_b1', dims: [D], values: f32(p, layout.b1, D) },
    { name: 'head_w2', dims: [D, 1], values: f32(p, layout.w2, D) },
    { name: 'head_b2', dims: [1], values: f32(p, layout.b2, 1) },
    { name: 'out_shape', dims: [2], values: i64([0, K]) },
    { name: 'temp_scale', dims: [1], values: Float32Array.of(o.tempScaleK) },
    { name: 'lead_mask', dims: [K], values: Float32Array.from({ length: K }, (_, k) => (k < (layout.shape.fixedOutputs ?? 0) ? 0 : 1)) },
  ];
  return encodeModel({
    graphName: 'bilstm_next_hour',
    ...(o.doc ? { doc: o.doc } : {}),
    inputs: [
      { name: BILSTM_INPUTS.x, dims: [T, 'N', F], doc: 'features, time-major (see the model card)' },
      { name: BILSTM_INPUTS.base, dims: ['N', K], doc: 'base trajectory [°C]: the filter where it has a value, else persistence' },
    ],
    outputs: [{ name: BILSTM_OUTPUT, dims: ['N', K], doc: 'smoothed next hour [°C], leads 0..60 min' }],
    initializers,
    nodes: [
      { op: 'LSTM', inputs: ['x', 'lstm_W', 'lstm_R', 'lstm_B'], outputs: ['Y'], attributes: { direction: 'bidirectional', hidden_size: H } },
      { op: 'Slice', inputs: ['Y', 'out_start', 'out_end', 'out_axis'], outputs: ['Y_out'] },
      { op: 'Transpose', inputs: ['Y_out'], outputs: ['Y_cells'], attributes: { perm: { ints: [2, 0, 1, 3] } } },
      { op: 'Reshape', inputs: ['Y_cells', 'concat_shape'], outputs: ['h_cat'] },
      { op: 'MatMul', inputs: ['h_cat', 'head_W1T'], outputs: ['a1'] },
      { op: 'Add', inputs: ['a1', 'head_b1'], outputs: ['a1b'] },
      { op: 'Tanh', inputs: ['a1b'], outputs: ['z'] },
      { op: 'MatMul', inputs: ['z', 'head_w2'], outputs: ['p1'] },
      { op: 'Add', inputs: ['p1', 'head_b2'], outputs: ['p1b'] },
      { op: 'Reshape', inputs: ['p1b', 'out_shape'], outputs: ['p'] },
      { op: 'Mul', inputs: ['p', 'lead_mask'], outputs: ['p_masked'] },
      { op: 'Mul', inputs: ['p_masked', 'temp_scale'], outputs: ['dT'] },
      { op: 'Add', inputs: ['dT', 'base'], outputs: [BILSTM_OUTPUT] },
    ],
    metadata: o.metadata,
    producerVersion: o.metadata['version'] ?? '1',
  });
}

/** Reads the network back from a model written by bilstmToOnnx (float32 weights as float64). */
export function bilstmFromOnnx(bytes: Uint8Array): { layout: ParamLayout; params: Float64Array; tempScaleK: number } {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph;
  if (!g) throw new Error('ONNX model without a graph');
  const inits = new Map<string, { dims: number[]; data: Float32Array | BigInt64Array }>();
  for (const t of g.initializer ?? []) {
    const raw = t.rawData ?? new Uint8Array();
    const copy = Uint8Array.from(raw).buffer; // a copy: decoded bytes may be a view into a larger pool
    const data = t.dataType === onnx.TensorProto.DataType.INT64 ? new BigInt64Array(copy) : new Float32Array(copy);
    inits.set(t.name ?? "", { dims: (t.dims ?? []).map(Number), data });
  }
  const get = (name: string) => {
    const v = inits.get(name);
    if (!v) throw new Error(`ONNX model has no initializer ${name}: not a BiLSTM export`);
    return v;
  };
  const Wt = get('lstm_W'), W1T = get('head_W1T'), start = get('out_start'), end = get('out_end');
  const [, G, F] = Wt.dims as [number, number, number];
  const H = G / 4;
  const [, D] = W1T.dims as [number, number];
  const T = Number((end.data as BigInt64Array)[0]);
  const mask = inits.get('lead_mask')?.data as Float32Array | undefined;
  let fixedOutputs = 0;
  while (mask && fixedOutputs < mask.length && mask[fixedOutputs] === 0) fixedOutputs++;
  const shape: NetworkShape = { inputs: F, hidden: H, dense: D, steps: T, outSteps: T - Number((start.data as BigInt64Array)[0]), ...(fixedOutputs > 0 ? { fixedOutputs } : {}) };
  const layout = paramLayout(shape);
  const p = new Float64Array(layout.size);
  const W = get('lstm_W').data, R = get('lstm_R').data, B = get('lstm_B').data;
  for (let d = 0; d < 2; d++) {
    for (let i = 0; i < 4 * H * F; i++) p[layout.W[d]! + i] = Number(W[d * 4 * H * F + i]);
    for (let i = 0; i < 4 * H * H; i++) p[layout.R[d]! + i] = Number(R[d * 4 * H * H + i]);
    for (let i = 0; i < 4 * H; i++) p[layout.B[d]! + i] = Number(B[d * 8 * H + i]) + Number(B[d * 8 * H + 4 * H + i]);
  }
  for (let u = 0; u < D; u++) for (let j = 0; j < 2 * H; j++) p[layout.W1 + u * 2 * H + j] = Number(W1T.data[j * D + u]);
  const b1 = get('head_b1').data, w2 = get('head_w2').data;
  for (let u = 0; u < D; u++) { p[layout.b1 + u] = Number(b1[u]); p[layout.w2 + u] = Number(w2[u]); }
  p[layout.b2] = Number(get('head_b2').data[0]);
  return { layout, params: p, tempScaleK: Number(get('temp_scale').data[0]) };
}
