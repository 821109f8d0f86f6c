/**
 * The served next hour: the smoother's trajectory blended with the previous issue's served one
 * (a time-lagged blend, pure). For an issue j whose previous issue at the same place came g slots
 * (of 5 minutes) earlier:
 *
 *   F_j[k] = w_k · NN_j[k] + (1 − w_k) · F_prev[k + g]   where k + g < K and F_prev[k + g] is a number
 *   F_j[k] = NN_j[k]                                      otherwise
 *
 * with K the trajectory's steps (13: leads 0 … 60 min), NN_j the network's trajectory and F_prev the
 * trajectory served at the previous issue (itself blended: the rule is recursive, an exponentially
 * weighted mean of the issues' forecasts for one target time). Lead 0 is never blended (w_0 = 1: it
 * stays the analysis); the last lead (60 min) has no earlier forecast and stays the network's. With no
 * previous trajectory, or g < 1 or g ≥ K, F_j = NN_j.
 *
 * The weights: w_k = 1 − (1 − wMin) · (k / (K − 1)) for the "linear" shape (1 at lead 0, wMin at lead
 * 60), w_k = wMin for k ≥ 1 for the "constant" shape.
 */

export const BLEND_SHAPES = ['constant', 'linear'] as const;
export type BlendShape = (typeof BLEND_SHAPES)[number];

export interface IssueBlend {
  /** The weight of the new issue's own trajectory at its last lead ("linear") or every lead ≥ 1 ("constant"), in (0, 1]. */
  wMin: number;
  shape: BlendShape;
}

/** The blend served with the BiLSTM (chosen on the training run's validation weeks; README, "The next hour on real data"). */
export const SERVED_BLEND: Readonly<IssueBlend> = Object.freeze({ wMin: 0.6, shape: 'linear' });

/** No blend: the network's trajectory as it is. */
export const NO_BLEND: Readonly<IssueBlend> = Object.freeze({ wMin: 1, shape: 'constant' });

export class BlendError extends Error {
  readonly code = 'BLEND_INVALID';
}

/** w_0 … w_{K−1} of a blend. */
export function blendWeights(b: IssueBlend, steps: number): Float64Array {
  if (!(b.wMin > 0 && b.wMin <= 1)) throw new BlendError(`blend weight wMin must be in (0, 1], got ${b.wMin}`);
  if (!BLEND_SHAPES.includes(b.shape)) throw new BlendError(`blend shape must be one of ${BLEND_SHAPES.join(', ')}, got "${String(b.shape)}"`);
  if (!Number.isInteger(steps) || steps < 1) throw new BlendError(`trajectory steps must be a positive integer, got ${steps}`);
  const w = new Float64Array(steps);
  for (let k = 0; k < steps; k++) {
    w[k] = k === 0 ? 1 : b.shape === 'constant' ? b.wMin : 1 - (1 - b.wMin) * (k / (steps - 1));
  }
  return w;
}

/**
 * One issue: `out[outAt + k]` for k < steps from `nn[nnAt + k]` and, when `prev` is given, `prev[prevAt + k + gap]`.
 * `out` may be `nn` itself (in place) but must not overlap `prev`.
 */
export function blendIssue(o: {
  weights: ArrayLike<number>;
  steps: number;
  nn: ArrayLike<number>;
  nnAt?: number;
  prev: ArrayLike<number> | null;
  prevAt?: number;
  gap: number;
  out: { [k: number]: number };
  outAt?: number;
}): void {
  const K = o.steps, nnAt = o.nnAt ?? 0, prevAt = o.prevAt ?? 0, outAt = o.outAt ?? 0;
  const usePrev = o.prev !== null && Number.isInteger(o.gap) && o.gap >= 1 && o.gap < K;
  for (let k = 0; k < K; k++) {
    const a = o.nn[nnAt + k]!;
    const w = o.weights[k]!;
    const b = usePrev && k + o.gap < K && w < 1 ? o.prev![prevAt + k + o.gap]! : NaN;
    o.out[outAt + k] = Number.isNaN(b) ? a : w * a + (1 - w) * b;
  }
}

/**
 * Issues of several series at once, in order: rows grouped by series, ascending slots within one
 * (`series[i]`, `slot[i]`); each row blended with the row before it when that one is of the same
 * series (gap = slot difference). The n × steps served trajectories.
 */
export function blendIssueSequence(o: { nn: ArrayLike<number>; n: number; steps: number; series: ArrayLike<number>; slot: ArrayLike<number>; blend: IssueBlend }): Float64Array {
  const K = o.steps;
  if (o.nn.length !== o.n * K) throw new BlendError(`trajectories hold ${o.nn.length} values, expected n × steps = ${o.n} × ${K}`);
  if (o.series.length !== o.n || o.slot.length !== o.n) throw new BlendError(`series/slot hold ${o.series.length}/${o.slot.length} rows, expected ${o.n}`);
  const weights = blendWeights(o.blend, K);
  const out = new Float64Array(o.n * K);
  for (let i = 0; i < o.n; i++) {
    const same = i > 0 && o.series[i - 1] === o.series[i];
    if (same && o.slot[i]! <= o.slot[i - 1]!) throw new BlendError(`row ${i}: slots of one series must ascend (${o.slot[i - 1]} then ${o.slot[i]})`);
    blendIssue({ weights, steps: K, nn: o.nn, nnAt: i * K, prev: same ? out : null, prevAt: (i - 1) * K, gap: same ? o.slot[i]! - o.slot[i - 1]! : 0, out, outAt: i * K });
  }
  return out;
}

/** The serving rule in words and numbers (for the model card and the README). */
export function blendDescription(b: IssueBlend, steps: number): { rule: string; wMin: number; shape: BlendShape; weights: number[] } {
  return {
    rule: 'served[k] = w_k · y[k] + (1 − w_k) · prev[k + g], with prev the trajectory served at the same place g five-minute steps earlier, where k + g < '
      + `${steps} and prev has a value; else y[k]; lead 0 stays the analysis (w_0 = 1)`,
    wMin: b.wMin, shape: b.shape,
    weights: Array.from(blendWeights(b, steps), (w) => Math.round(w * 1000) / 1000),
  };
}
