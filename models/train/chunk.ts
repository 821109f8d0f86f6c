/**
 * One chunk of a mini-batch: the summed loss of its sequences and, for training, the summed
 * gradient. The unit of work of the worker threads; the same code runs in-process.
 *
 * Loss of a row r (normalised units, p = network output, y = target residual, w = lead weights, 1
 * unless given):
 *   Σ_k w_k (p_k − y_k)²                               over the leads with a reading
 * and, when r has a partner r' (the next issue at the same station, g steps later) and λ > 0, also
 * the partner's squared error and the revision penalty (jumpiness between consecutive issues):
 *   λ Σ_{k=g}^{K−1} ((b'_{k−g} + p'_{k−g}) − (b_k + p_k))²
 * where b is the base trajectory over TEMP_SCALE_K: the two issues' forecasts for the same time.
 *
 * With `perIssue`, a row's squared error is scaled by (K − F) / n, n being its targets at the leads the
 * network corrects (F fixed leads excluded): every issue weighs the same whatever its sampling (an
 * hourly issue's one target at +60 min as much as a 5-minute issue's twelve), where by default every
 * target does. The revision penalty is not scaled.
 */
import { backward, createWorkspace, forward, squaredError, type ParamLayout, type Workspace } from '../bilstm/network.ts';

export interface ChunkData {
  /** Features, batch-first: row r at r·T·F. */
  x: Float32Array | Float64Array;
  /** Targets (normalised residuals), K per row, NaN where missing. */
  y: Float64Array;
  /** Rows in the order of the current pass. */
  order: Int32Array;
  /** Per row: the row of the next issue at the same station, or −1. */
  partner?: Int32Array;
  /** Per row: how many steps later that issue is (1 where absent). */
  partnerGap?: Int32Array;
  /** Per row: the base trajectory / TEMP_SCALE_K, K values. */
  baseN?: Float64Array;
  /** Weight of the revision penalty. */
  lambda?: number;
  /** Per lead: the weight of its squared error (K values; absent: 1 each). */
  leadWeight?: ArrayLike<number>;
  /** Scale each row's squared error so that every issue weighs the same (see above). */
  perIssue?: boolean;
}

/** (K − F) / the targets of row r at leads F…K−1 (1 when it has none): a row's error scale when every issue weighs the same. */
function issueScale(y: ArrayLike<number>, r: number, K: number, F: number): number {
  let n = 0;
  for (let k = F; k < K; k++) if (!Number.isNaN(y[r * K + k]!)) n++;
  return n > 0 ? (K - F) / n : 1;
}

export class ChunkRunner {
  private readonly ws: Workspace;
  private readonly ws2: Workspace;
  private readonly out: Float64Array;
  private readonly out2: Float64Array;
  private readonly dOut: Float64Array;
  private readonly dOut2: Float64Array;

  constructor(private readonly layout: ParamLayout) {
    const K = layout.shape.outSteps;
    this.ws = createWorkspace(layout.shape);
    this.ws2 = createWorkspace(layout.shape);
    this.out = new Float64Array(K);
    this.out2 = new Float64Array(K);
    this.dOut = new Float64Array(K);
    this.dOut2 = new Float64Array(K);
  }

  /** Rows order[start..end): loss sum and target count; when `grad` is given it is zeroed and filled. */
  run(params: Float64Array, d: ChunkData, start: number, end: number, grad?: Float64Array): { sum: number; count: number; penalty: number } {
    const { steps: T, inputs: F, outSteps: K } = this.layout.shape;
    const lambda = d.lambda ?? 0;
    if (grad) grad.fill(0);
    let sum = 0, count = 0, penalty = 0;
    for (let q = start; q < end; q++) {
      const r = d.order[q]!;
      const xAt = r * T * F;
      forward(this.layout, params, d.x, xAt, this.ws, this.out, 0);
      const e = this.error(this.out, d, r, this.dOut);
      sum += e.sum;
      count += e.count;
      const p = lambda > 0 && d.partner && d.baseN ? d.partner[r]! : -1;
      if (p >= 0) {
        const xAt2 = p * T * F;
        forward(this.layout, params, d.x, xAt2, this.ws2, this.out2, 0);
        const e2 = this.error(this.out2, d, p, this.dOut2);
        sum += e2.sum;
        count += e2.count;
        const b = d.baseN!;
        const g = d.partnerGap ? d.partnerGap[r]! : 1;
        for (let k = g; k < K; k++) {
          const diff = b[p * K + k - g]! + this.out2[k - g]! - (b[r * K + k]! + this.out[k]!);
          const pen = lambda * diff * diff;
          penalty += pen;
          sum += pen;
          this.dOut2[k - g] = this.dOut2[k - g]! + 2 * lambda * diff;
          this.dOut[k] = this.dOut[k]! - 2 * lambda * diff;
        }
        if (grad) backward(this.layout, params, d.x, xAt2, this.ws2, this.dOut2, 0, grad);
      }
      if (grad && (e.count > 0 || p >= 0)) backward(this.layout, params, d.x, xAt, this.ws, this.dOut, 0, grad);
    }
    return { sum, count, penalty };
  }

  /** Row r's squared error and its gradient in dOut, scaled per issue when asked (the count too, so the loss stays a mean per target-equivalent). */
  private error(out: Float64Array, d: ChunkData, r: number, dOut: Float64Array): { sum: number; count: number } {
    const K = this.layout.shape.outSteps;
    const e = squaredError(out, 0, d.y, r * K, K, dOut, 0, d.leadWeight);
    if (!d.perIssue) return e;
    const s = issueScale(d.y, r, K, this.layout.shape.fixedOutputs ?? 0);
    for (let k = 0; k < K; k++) dOut[k] = dOut[k]! * s;
    return { sum: e.sum * s, count: e.count * s };
  }
}
