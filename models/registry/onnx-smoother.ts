/**
 * The BiLSTM as the batch's NextHourSmoother: features for every cell of the window, batched runs of
 * the registry's session, the smoothed next hour back in the port's layout.
 *
 * `smooth` rejects (ModelError, FeatureShapeError) when the model is missing, the input is
 * malformed or the run fails; the batch then keeps the filter's trajectory. A cell with neither a
 * trajectory nor any history comes back NaN (nothing to smooth).
 */
import type { NextHourSmoother, SmootherInput } from '../smoother.ts';
import { buildFeatures, checkFeatureInput, FEATURES, SEQUENCE_STEPS, TRAJECTORY_STEPS } from '../bilstm/features.ts';
import type { ModelRegistry } from './registry.ts';

/**
 * Most cells per onnxruntime run: bounds the LSTM's intermediate tensors (~N × 37 × 2 × H floats), which
 * onnxruntime's arena keeps for the session's life. 4,096 is as fast as 32,768 per cell and holds a
 * quarter of the memory (`npm run bench -- models --batch N`: peak RSS 408 against 949 MiB for 100,000 cells).
 */
export const SMOOTHER_BATCH_CELLS = 4096;

/** The port's input, optionally with one lead-0 time per row (evaluation over many issue times at once). */
export interface SmootherRowsInput extends SmootherInput {
  rowRunTimeMs?: ArrayLike<number> & { subarray?: unknown };
}

export interface OnnxSmoother extends NextHourSmoother {
  /** The registry's version of the model now (changes on a hot reload). */
  readonly version: string;
  smooth(input: SmootherRowsInput): Promise<Float32Array>;
}

/**
 * `concurrency`: batches in flight at once (default 1). onnxruntime-node runs a session on the calling
 * thread, so batches in flight only interleave their feature building with the runs; the cores are
 * used by the session's own intra-op threads (the registry's `intraOpThreads`).
 */
export function createOnnxSmoother(registry: ModelRegistry, name = 'bilstm', o: { batchCells?: number; concurrency?: number } = {}): OnnxSmoother {
  const maxBatch = o.batchCells ?? SMOOTHER_BATCH_CELLS;
  const concurrency = Math.max(1, o.concurrency ?? 1);
  return {
    name,
    get version() {
      return registry.version(name) ?? 'missing';
    },
    async smooth(input: SmootherRowsInput): Promise<Float32Array> {
      const rowTimes = input.rowRunTimeMs;
      checkFeatureInput({ ...input, ...(rowTimes ? { runTimeMs: rowTimes } : {}) }); // sizes of the whole input, named in the error
      const out = new Float32Array(input.n * TRAJECTORY_STEPS);
      // equal batches, their number a multiple of the lanes, none above maxBatch
      const lanes = Math.min(concurrency, Math.max(1, input.n));
      const count = Math.ceil(Math.ceil(input.n / maxBatch) / lanes) * lanes;
      const batch = Math.max(1, Math.ceil(input.n / count));
      const runBatch = async (from: number): Promise<void> => {
        const n = Math.min(batch, input.n - from);
        const part = {
          n,
          historySteps: input.historySteps,
          history: input.history.subarray(from * input.historySteps, (from + n) * input.historySteps),
          trajectorySteps: input.trajectorySteps,
          filter: input.filter.subarray(from * input.trajectorySteps, (from + n) * input.trajectorySteps),
          runTimeMs: rowTimes ? Float64Array.from({ length: n }, (_, q) => rowTimes[from + q]!) : input.runTimeMs,
          lon: input.lon.subarray(from, from + n),
        };
        const f = buildFeatures(part, 'time-major', 'float32');
        const r = await registry.run(name, {
          x: { dims: [SEQUENCE_STEPS, n, FEATURES], data: f.x as Float32Array },
          base: { dims: [n, TRAJECTORY_STEPS], data: Float32Array.from(f.base) },
        });
        out.set(r.outputs['y']!.data, from * TRAJECTORY_STEPS);
      };
      const starts: number[] = [];
      for (let from = 0; from < input.n; from += batch) starts.push(from);
      let next = 0;
      const lane = async () => { while (next < starts.length) await runBatch(starts[next++]!); };
      await Promise.all(Array.from({ length: Math.min(lanes, starts.length) }, lane));
      return out;
    },
  };
}
