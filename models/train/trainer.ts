/**
 * Mini-batch training of the BiLSTM: Adam, a seeded initialisation and shuffle, the squared error
 * of the normalised residuals, chunks spread over worker threads, the validation loss after every
 * epoch and early stopping (the best epoch's parameters are kept).
 *
 * Reproducible: for a given seed, data and options the parameters are the same bit for bit,
 * whatever the number of workers (chunk gradients are summed in chunk order).
 */
import { initParams, paramLayout, type NetworkShape } from '../bilstm/network.ts';
import { Adam } from './adam.ts';
import { openPool, type ChunkSpec } from './pool.ts';
import { seededRandom, shuffle } from './random.ts';
import type { ProgressBar } from './progress-bar.ts';

export interface TrainData {
  /** Features, batch-first, in a SharedArrayBuffer. */
  x: Float32Array | Float64Array;
  /** Normalised residual targets, outSteps per row (NaN missing), in a SharedArrayBuffer. */
  y: Float64Array;
  trainRows: Int32Array;
  validationRows: Int32Array;
  /** Per row: the next issue's row at the same station or −1, and the base / TEMP_SCALE_K (for the revision penalty). */
  partner?: Int32Array;
  /** Per row: how many steps later the partner issue is (default 1). */
  partnerGap?: Int32Array;
  baseN?: Float64Array;
}

export interface TrainOptions {
  shape: NetworkShape;
  seed: number;
  maxEpochs: number;
  /** Stop after this many epochs without a better validation loss. */
  patience: number;
  batchSize: number;
  /** Sequences per chunk (the unit of work of a worker); batchSize must be a multiple. */
  chunkSize: number;
  learningRate: number;
  /** Learning rate multiplied by this after every epoch. */
  learningRateDecay?: number;
  clipNorm?: number;
  workers: number;
  /** Weight of the revision (jumpiness) penalty between consecutive issues; 0: none. */
  revisionWeight?: number;
  /** Per-lead weights of the squared error (see skillLeadWeights); absent: 1 each. */
  leadWeight?: ArrayLike<number>;
  /** `target` (default): every target weighs the same; `issue`: every issue does (see ChunkData.perIssue). */
  issueWeighting?: 'target' | 'issue';
  bar?: ProgressBar;
  log?: (line: string) => void;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  validationLoss: number;
  /** The revision penalty's share of the validation loss. */
  validationPenalty: number;
  seconds: number;
}

export interface TrainResult {
  params: Float64Array;
  bestEpoch: number;
  bestValidationLoss: number;
  epochs: EpochRecord[];
  seconds: number;
  stoppedEarly: boolean;
}

/**
 * Lead weights that give every lead the same say in skill terms: w_k = v̄ / v_k, where v_k is the base
 * trajectory's mean squared error at lead k over `rows` (the targets are residuals from it) and v̄ the
 * mean of the v_k, so Σ w_k v_k = Σ v_k (the loss keeps its scale). Unweighted, the squared error of
 * the hour ahead outweighs that of the next five minutes by the ratio of their variances (tens), and the
 * network spends nothing on the short leads. A lead whose residual is always 0 (lead 0, where the
 * base is the reading) takes the smallest positive v_k.
 */
export function skillLeadWeights(y: Float64Array, K: number, rows: ArrayLike<number>): Float64Array {
  const sum = new Float64Array(K), n = new Float64Array(K);
  for (let q = 0; q < rows.length; q++) {
    const at = rows[q]! * K;
    for (let k = 0; k < K; k++) {
      const v = y[at + k]!;
      if (Number.isNaN(v)) continue;
      sum[k] = sum[k]! + v * v;
      n[k] = n[k]! + 1;
    }
  }
  const v = Float64Array.from(sum, (x, k) => (n[k]! > 0 ? x / n[k]! : NaN));
  const positive = Array.from(v).filter((x) => x > 1e-12);
  if (positive.length === 0) throw new RangeError('no lead with a non-zero residual: the targets cannot weigh the leads');
  const floor = Math.min(...positive);
  const vk = Float64Array.from(v, (x) => (Number.isFinite(x) ? Math.max(x, floor) : floor));
  const mean = vk.reduce((a, b) => a + b, 0) / K;
  return Float64Array.from(vk, (x) => mean / x);
}

export async function trainNetwork(data: TrainData, o: TrainOptions): Promise<TrainResult> {
  if (o.batchSize % o.chunkSize !== 0) throw new RangeError(`batchSize ${o.batchSize} is not a multiple of chunkSize ${o.chunkSize}`);
  if (data.trainRows.length === 0 || data.validationRows.length === 0) throw new RangeError(`need training and validation rows (have ${data.trainRows.length} and ${data.validationRows.length})`);
  const layout = paramLayout(o.shape);
  const P = layout.size;
  const random = seededRandom(o.seed);
  const init = initParams(layout, random);
  const chunksPerBatch = o.batchSize / o.chunkSize;
  const valChunks = Math.ceil(data.validationRows.length / o.chunkSize);
  const rows = Math.max(data.trainRows.length, data.validationRows.length);
  const pool = await openPool({ shape: o.shape, x: data.x, y: data.y, ...(data.partner ? { partner: data.partner } : {}), ...(data.partnerGap ? { partnerGap: data.partnerGap } : {}), ...(data.baseN ? { baseN: data.baseN } : {}), lambda: o.revisionWeight ?? 0, ...(o.leadWeight ? { leadWeight: o.leadWeight } : {}), ...(o.issueWeighting === 'issue' ? { perIssue: true } : {}), rows, maxChunks: Math.max(chunksPerBatch, 1), workers: o.workers });
  const started = performance.now();
  try {
    pool.params.set(init);
    const adam = new Adam(P, { learningRate: o.learningRate, clipNorm: o.clipNorm ?? 5 });
    const grad = new Float64Array(P);
    const perm = Int32Array.from(data.trainRows);
    const epochs: EpochRecord[] = [];
    let best = { loss: Infinity, epoch: 0, params: Float64Array.from(init) };
    let stoppedEarly = false;

    const validate = async (): Promise<{ loss: number; penalty: number }> => {
      pool.order.set(data.validationRows);
      let sum = 0, count = 0, penalty = 0;
      for (let c0 = 0; c0 < valChunks; c0 += chunksPerBatch) {
        const chunks: ChunkSpec[] = [];
        for (let c = c0; c < Math.min(valChunks, c0 + chunksPerBatch); c++) chunks.push({ id: c - c0, start: c * o.chunkSize, end: Math.min(data.validationRows.length, (c + 1) * o.chunkSize) });
        for (const r of await pool.run(chunks, false)) { sum += r.sum; count += r.count; penalty += r.penalty; }
      }
      return { loss: sum / Math.max(count, 1), penalty: penalty / Math.max(count, 1) };
    };

    for (let epoch = 1; epoch <= o.maxEpochs; epoch++) {
      const t0 = performance.now();
      shuffle(perm, random);
      pool.order.set(perm);
      const batches = Math.floor(perm.length / o.batchSize);
      let sum = 0, count = 0;
      o.bar?.start(`epoch ${epoch}/${o.maxEpochs}`, batches);
      for (let b = 0; b < batches; b++) {
        const chunks: ChunkSpec[] = Array.from({ length: chunksPerBatch }, (_, c) => ({ id: c, start: b * o.batchSize + c * o.chunkSize, end: b * o.batchSize + (c + 1) * o.chunkSize }));
        const results = await pool.run(chunks, true);
        grad.fill(0);
        let bs = 0, bc = 0;
        for (const r of results) {
          bs += r.sum;
          bc += r.count;
          const g = pool.grads.subarray(r.id * P, (r.id + 1) * P);
          for (let i = 0; i < P; i++) grad[i] = grad[i]! + g[i]!;
        }
        if (bc > 0) {
          for (let i = 0; i < P; i++) grad[i] = grad[i]! / bc;
          const params = Float64Array.from(pool.params);
          adam.step(params, grad);
          pool.params.set(params);
        }
        sum += bs;
        count += bc;
        o.bar?.update(b + 1, `loss ${(sum / Math.max(count, 1)).toFixed(4)}`);
      }
      const trainLoss = sum / Math.max(count, 1);
      const v = await validate();
      const validationLoss = v.loss;
      const seconds = (performance.now() - t0) / 1000;
      epochs.push({ epoch, trainLoss, validationLoss, validationPenalty: v.penalty, seconds });
      const improved = validationLoss < best.loss;
      if (improved) best = { loss: validationLoss, epoch, params: Float64Array.from(pool.params) };
      o.bar?.finish(`loss ${trainLoss.toFixed(4)} | validation ${validationLoss.toFixed(4)}${improved ? ' (best)' : ''} | ${seconds.toFixed(0)} s`);
      o.log?.(`epoch ${epoch}: train ${trainLoss.toFixed(5)} validation ${validationLoss.toFixed(5)} (${seconds.toFixed(1)} s)`);
      if (epoch - best.epoch >= o.patience) { stoppedEarly = true; break; }
      adam.learningRate *= o.learningRateDecay ?? 1;
    }
    return { params: best.params, bestEpoch: best.epoch, bestValidationLoss: best.loss, epochs, seconds: (performance.now() - started) / 1000, stoppedEarly };
  } finally {
    await pool.close();
  }
}
