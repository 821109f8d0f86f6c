/**
 * The BiLSTM network as plain typed arrays: one bidirectional LSTM layer over a sequence of
 * feature vectors, then a dense head (tanh layer, linear output) applied to the last `outSteps`
 * positions. Forward pass, loss and backpropagation through time. Pure: no IO, no clock.
 *
 * The LSTM is ONNX's (opset 7+, default activations, no peepholes), gates in ONNX order i, o, f, c:
 *   a  = W x_t + R h_{t-1} + B
 *   i = σ(a_i)  o = σ(a_o)  f = σ(a_f)  g = tanh(a_c)
 *   c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
 * The reverse direction runs the same recurrence from the last step to the first (ONNX
 * direction="bidirectional": Y[t] holds both directions' h at position t). ONNX has two bias
 * vectors (Wb, Rb); training keeps one (B) and exports Rb = 0.
 *
 * Head at output position k (sequence position t = steps - outSteps + k):
 *   z = tanh(W1 [h_fwd(t); h_bwd(t)] + b1),   p_k = w2 · z + b2
 * except the first `fixedOutputs` positions, whose output is 0.
 *
 * Parameters live in one Float64Array (layout below), so Adam, worker threads and the ONNX export
 * see one flat vector.
 */

export interface NetworkShape {
  /** Features per sequence step. */
  inputs: number;
  /** Hidden units per direction. */
  hidden: number;
  /** Units of the head's tanh layer. */
  dense: number;
  /** Sequence length. */
  steps: number;
  /** Outputs: one per position of the last `outSteps` steps. */
  outSteps: number;
  /** The first this many outputs are fixed at 0 (the base passes through: the lead-0 analysis). */
  fixedOutputs?: number;
}

/** Offsets of each tensor in the flat parameter vector. */
export interface ParamLayout {
  shape: NetworkShape;
  /** W[d]: 4H × F (row r = gate·H + unit, gates i, o, f, c). */
  W: [number, number];
  /** R[d]: 4H × H. */
  R: [number, number];
  /** B[d]: 4H. */
  B: [number, number];
  /** W1: D × 2H (row-major), b1: D, w2: D, b2: 1. */
  W1: number;
  b1: number;
  w2: number;
  b2: number;
  size: number;
}

export function paramLayout(shape: NetworkShape): ParamLayout {
  const { inputs: F, hidden: H, dense: D, steps, outSteps } = shape;
  for (const [k, v] of Object.entries(shape)) if (k !== 'fixedOutputs' && (!Number.isInteger(v) || v < 1)) throw new RangeError(`network shape: ${k} must be a positive integer, got ${v}`);
  const fixed = shape.fixedOutputs ?? 0;
  if (!Number.isInteger(fixed) || fixed < 0 || fixed >= outSteps) throw new RangeError(`network shape: fixedOutputs must be an integer in 0..${outSteps - 1}, got ${fixed}`);
  if (outSteps > steps) throw new RangeError(`network shape: outSteps ${outSteps} > steps ${steps}`);
  let o = 0;
  const take = (n: number) => { const at = o; o += n; return at; };
  const W: [number, number] = [0, 0], R: [number, number] = [0, 0], B: [number, number] = [0, 0];
  for (let d = 0; d < 2; d++) {
    W[d] = take(4 * H * F);
    R[d] = take(4 * H * H);
    B[d] = take(4 * H);
  }
  const W1 = take(D * 2 * H), b1 = take(D), w2 = take(D), b2 = take(1);
  return { shape: { ...shape }, W, R, B, W1, b1, w2, b2, size: o };
}

/** Seeded initial parameters: uniform ±1/√fan-in (as common LSTM initialisers), forget-gate bias +1. */
export function initParams(layout: ParamLayout, random: () => number): Float64Array {
  const { inputs: F, hidden: H, dense: D } = layout.shape;
  const p = new Float64Array(layout.size);
  const fill = (at: number, n: number, bound: number) => { for (let i = 0; i < n; i++) p[at + i] = (2 * random() - 1) * bound; };
  const kL = 1 / Math.sqrt(H);
  for (let d = 0; d < 2; d++) {
    fill(layout.W[d]!, 4 * H * F, kL);
    fill(layout.R[d]!, 4 * H * H, kL);
    for (let j = 0; j < H; j++) p[layout.B[d]! + 2 * H + j] = 1; // forget gate (third block)
  }
  fill(layout.W1, D * 2 * H, 1 / Math.sqrt(2 * H));
  fill(layout.w2, D, 1 / Math.sqrt(D));
  return p;
}

/** Per-sequence scratch for the forward pass and BPTT (allocated once per worker). */
export interface Workspace {
  /** Gate activations per direction and step: [d][t][4H] (i, o, f, g). */
  gates: Float64Array;
  /** Cell state and tanh(c) per direction and step: [d][t][H]. */
  c: Float64Array;
  tc: Float64Array;
  /** Hidden state per direction and step: [d][t][H]. */
  h: Float64Array;
  /** Head activations per output step: [k][D]. */
  z: Float64Array;
  /** Gradient w.r.t. h from the head, per direction and step: [d][t][H]. */
  dhExt: Float64Array;
  dh: Float64Array;
  dc: Float64Array;
  da: Float64Array;
  dhcat: Float64Array;
  da1: Float64Array;
}

export function createWorkspace(shape: NetworkShape): Workspace {
  const { hidden: H, dense: D, steps: T, outSteps: K } = shape;
  return {
    gates: new Float64Array(2 * T * 4 * H),
    c: new Float64Array(2 * T * H),
    tc: new Float64Array(2 * T * H),
    h: new Float64Array(2 * T * H),
    z: new Float64Array(K * D),
    dhExt: new Float64Array(2 * T * H),
    dh: new Float64Array(H),
    dc: new Float64Array(H),
    da: new Float64Array(4 * H),
    dhcat: new Float64Array(2 * H),
    da1: new Float64Array(D),
  };
}

function sigmoid(a: number): number {
  return 1 / (1 + Math.exp(-a));
}

/**
 * Forward pass of one sequence: x[xAt + t·F + j] (step-major), outputs written to out[outAt + k].
 * Fills the workspace for `backward`.
 */
export function forward(layout: ParamLayout, p: Float64Array, x: ArrayLike<number>, xAt: number, ws: Workspace, out: Float64Array, outAt: number): void {
  const { inputs: F, hidden: H, dense: D, steps: T, outSteps: K } = layout.shape;
  const G = 4 * H;
  const { gates, c, tc, h, z } = ws;
  for (let d = 0; d < 2; d++) {
    const Wd = layout.W[d]!, Rd = layout.R[d]!, Bd = layout.B[d]!;
    for (let s = 0; s < T; s++) {
      const t = d === 0 ? s : T - 1 - s;
      const prev = d === 0 ? t - 1 : t + 1; // valid when s > 0
      const gAt = (d * T + t) * G;
      const hAt = (d * T + t) * H;
      const hPrevAt = (d * T + prev) * H;
      const x0 = xAt + t * F;
      for (let r = 0; r < G; r++) {
        let a = p[Bd + r]!;
        const wr = Wd + r * F;
        for (let j = 0; j < F; j++) a += p[wr + j]! * x[x0 + j]!;
        if (s > 0) {
          const rr = Rd + r * H;
          for (let j = 0; j < H; j++) a += p[rr + j]! * h[hPrevAt + j]!;
        }
        gates[gAt + r] = r < 3 * H ? sigmoid(a) : Math.tanh(a);
      }
      for (let j = 0; j < H; j++) {
        const i = gates[gAt + j]!, o = gates[gAt + H + j]!, f = gates[gAt + 2 * H + j]!, g = gates[gAt + 3 * H + j]!;
        const cv = (s > 0 ? f * c[hPrevAt + j]! : 0) + i * g;
        const tcv = Math.tanh(cv);
        c[hAt + j] = cv;
        tc[hAt + j] = tcv;
        h[hAt + j] = o * tcv;
      }
    }
  }
  const fixed = layout.shape.fixedOutputs ?? 0;
  for (let k = 0; k < K; k++) {
    if (k < fixed) { out[outAt + k] = 0; continue; }
    const t = T - K + k;
    const fAt = t * H, bAt = (T + t) * H;
    let y = p[layout.b2]!;
    for (let u = 0; u < D; u++) {
      const row = layout.W1 + u * 2 * H;
      let a = p[layout.b1 + u]!;
      for (let j = 0; j < H; j++) a += p[row + j]! * h[fAt + j]! + p[row + H + j]! * h[bAt + j]!;
      const zv = Math.tanh(a);
      z[k * D + u] = zv;
      y += p[layout.w2 + u]! * zv;
    }
    out[outAt + k] = y;
  }
}

/**
 * Backpropagation through time for the sequence last passed to `forward` (same workspace), given
 * dL/dp_k in dOut[dOutAt + k]; adds dL/dθ into grad.
 */
export function backward(layout: ParamLayout, p: Float64Array, x: ArrayLike<number>, xAt: number, ws: Workspace, dOut: ArrayLike<number>, dOutAt: number, grad: Float64Array): void {
  const { inputs: F, hidden: H, dense: D, steps: T, outSteps: K } = layout.shape;
  const G = 4 * H;
  const { gates, c, tc, h, z, dhExt, dh, dc, da, dhcat, da1 } = ws;
  dhExt.fill(0);
  const fixed = layout.shape.fixedOutputs ?? 0;
  for (let k = fixed; k < K; k++) {
    const g = dOut[dOutAt + k]!;
    if (g === 0) continue;
    const t = T - K + k;
    const fAt = t * H, bAt = (T + t) * H;
    grad[layout.b2] = grad[layout.b2]! + g;
    dhcat.fill(0);
    for (let u = 0; u < D; u++) {
      const zv = z[k * D + u]!;
      grad[layout.w2 + u] = grad[layout.w2 + u]! + g * zv;
      da1[u] = g * p[layout.w2 + u]! * (1 - zv * zv);
    }
    for (let u = 0; u < D; u++) {
      const a1 = da1[u]!;
      if (a1 === 0) continue;
      grad[layout.b1 + u] = grad[layout.b1 + u]! + a1;
      const row = layout.W1 + u * 2 * H;
      for (let j = 0; j < H; j++) {
        grad[row + j] = grad[row + j]! + a1 * h[fAt + j]!;
        grad[row + H + j] = grad[row + H + j]! + a1 * h[bAt + j]!;
        dhcat[j] = dhcat[j]! + a1 * p[row + j]!;
        dhcat[H + j] = dhcat[H + j]! + a1 * p[row + H + j]!;
      }
    }
    for (let j = 0; j < H; j++) {
      dhExt[fAt + j] = dhExt[fAt + j]! + dhcat[j]!;
      dhExt[bAt + j] = dhExt[bAt + j]! + dhcat[H + j]!;
    }
  }
  for (let d = 0; d < 2; d++) {
    const Wd = layout.W[d]!, Rd = layout.R[d]!, Bd = layout.B[d]!;
    dh.fill(0);
    dc.fill(0);
    for (let s = T - 1; s >= 0; s--) {
      const t = d === 0 ? s : T - 1 - s;
      const prev = d === 0 ? t - 1 : t + 1;
      const gAt = (d * T + t) * G;
      const hAt = (d * T + t) * H;
      const hPrevAt = (d * T + prev) * H;
      for (let j = 0; j < H; j++) {
        const dhv = dh[j]! + dhExt[hAt + j]!;
        const i = gates[gAt + j]!, o = gates[gAt + H + j]!, f = gates[gAt + 2 * H + j]!, g = gates[gAt + 3 * H + j]!;
        const tcv = tc[hAt + j]!;
        const dcv = dc[j]! + dhv * o * (1 - tcv * tcv);
        const cPrev = s > 0 ? c[hPrevAt + j]! : 0;
        da[j] = dcv * g * i * (1 - i);
        da[H + j] = dhv * tcv * o * (1 - o);
        da[2 * H + j] = dcv * cPrev * f * (1 - f);
        da[3 * H + j] = dcv * i * (1 - g * g);
        dc[j] = dcv * f;
      }
      const x0 = xAt + t * F;
      dh.fill(0);
      for (let r = 0; r < G; r++) {
        const a = da[r]!;
        if (a === 0) continue;
        grad[Bd + r] = grad[Bd + r]! + a;
        const wr = Wd + r * F;
        for (let j = 0; j < F; j++) grad[wr + j] = grad[wr + j]! + a * x[x0 + j]!;
        if (s > 0) {
          const rr = Rd + r * H;
          for (let j = 0; j < H; j++) {
            grad[rr + j] = grad[rr + j]! + a * h[hPrevAt + j]!;
            dh[j] = dh[j]! + a * p[rr + j]!;
          }
        }
      }
    }
  }
}

/**
 * Squared-error loss of one sequence's outputs against targets (NaN targets are skipped), each output's
 * term times `weight[k]` when given (the count stays the number of targets); writes dL/dp.
 */
export function squaredError(out: ArrayLike<number>, outAt: number, target: ArrayLike<number>, targetAt: number, n: number, dOut: Float64Array, dOutAt: number, weight?: ArrayLike<number>): { sum: number; count: number } {
  let sum = 0, count = 0;
  for (let k = 0; k < n; k++) {
    const y = target[targetAt + k]!;
    if (Number.isNaN(y)) { dOut[dOutAt + k] = 0; continue; }
    const e = out[outAt + k]! - y;
    const w = weight ? weight[k]! : 1;
    sum += w * e * e;
    count++;
    dOut[dOutAt + k] = 2 * w * e;
  }
  return { sum, count };
}
