/**
 * One chunk of a mini-batch: the summed squared error of its sequences and, for training, the
 * summed gradient. The unit of work of the worker threads; the same code runs in-process.
 */
import { backward, createWorkspace, forward, squaredError, type ParamLayout, type Workspace } from '../bilstm/network.ts';

export interface ChunkData {
  /** Features, batch-first: row r at r·T·F. */
  x: Float32Array | Float64Array;
  /** Targets (normalised residuals), K per row, NaN where missing. */
  y: Float64Array;
  /** Rows in the order of the current pass. */
  order: Int32Array;
}

export class ChunkRunner {
  private readonly ws: Workspace;
  private readonly out: Float64Array;
  private readonly dOut: Float64Array;

  constructor(private readonly layout: ParamLayout) {
    this.ws = createWorkspace(layout.shape);
    this.out = new Float64Array(layout.shape.outSteps);
    this.dOut = new Float64Array(layout.shape.outSteps);
  }

  /** Rows order[start..end): loss sum and target count; when `grad` is given it is zeroed and filled. */
  run(params: Float64Array, d: ChunkData, start: number, end: number, grad?: Float64Array): { sum: number; count: number } {
    const { steps: T, inputs: F, outSteps: K } = this.layout.shape;
    if (grad) grad.fill(0);
    let sum = 0, count = 0;
    for (let q = start; q < end; q++) {
      const r = d.order[q]!;
      const xAt = r * T * F;
      forward(this.layout, params, d.x, xAt, this.ws, this.out, 0);
      const e = squaredError(this.out, 0, d.y, r * K, K, this.dOut, 0);
      sum += e.sum;
      count += e.count;
      if (grad && e.count > 0) backward(this.layout, params, d.x, xAt, this.ws, this.dOut, 0, grad);
    }
    return { sum, count };
  }
}
