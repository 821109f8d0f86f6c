// A seconds-long training smoke run on a tiny synthetic set: the loss falls, early stopping keeps the
// best epoch, and the result is the same bit for bit in-process and on a worker thread.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { close } from '../../infra/testing/close.ts';
import { FEATURES, SEQUENCE_STEPS, TRAJECTORY_STEPS } from '../bilstm/features.ts';
import { sharedFloat32, sharedFloat64, sharedInt32 } from './pool.ts';
import { seededRandom } from './random.ts';
import { skillLeadWeights, trainNetwork } from './trainer.ts';

function syntheticSet(n: number) {
  // the target residual at every lead is 0.5 × the trajectory feature at that step: learnable
  const random = seededRandom(1);
  const x = sharedFloat32(n * SEQUENCE_STEPS * FEATURES);
  const y = sharedFloat64(n * TRAJECTORY_STEPS);
  const baseN = sharedFloat64(n * TRAJECTORY_STEPS);
  const partner = sharedInt32(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const slope = random() - 0.5;
    for (let t = 0; t < SEQUENCE_STEPS; t++) {
      const at = (i * SEQUENCE_STEPS + t) * FEATURES;
      const future = t >= SEQUENCE_STEPS - TRAJECTORY_STEPS;
      x[at + 2] = future ? slope * (t - 24) / 12 : 0;
      x[at + 4] = future ? 1 : 0;
      x[at + 5] = (t - 24) / 12;
    }
    for (let k = 0; k < TRAJECTORY_STEPS; k++) y[i * TRAJECTORY_STEPS + k] = 0.5 * slope * k / 12;
    if (i % 2 === 0 && i + 1 < n) partner[i] = i + 1;
  }
  return { x, y, baseN, partner };
}

it('training smoke run: the loss falls; in-process and worker thread give identical parameters', async () => {
  const n = 96;
  const d = syntheticSet(n);
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const data = { ...d, trainRows: rows.filter((i) => i % 4 !== 3 && i % 2 === 0), validationRows: rows.filter((i) => i % 4 === 3) };
  const opts = { shape: { inputs: FEATURES, hidden: 3, dense: 3, steps: SEQUENCE_STEPS, outSteps: TRAJECTORY_STEPS }, seed: 4, maxEpochs: 6, patience: 2, batchSize: 8, chunkSize: 4, learningRate: 0.01, revisionWeight: 1 };
  const a = await trainNetwork(data, { ...opts, workers: 0 });
  const b = await trainNetwork(data, { ...opts, workers: 1 });
  assert.deepEqual(Array.from(a.params), Array.from(b.params), 'same parameters whatever runs the chunks');
  assert.ok(a.epochs.at(-1)!.trainLoss < a.epochs[0]!.trainLoss, `train loss ${a.epochs[0]!.trainLoss} -> ${a.epochs.at(-1)!.trainLoss}`);
  assert.equal(a.bestValidationLoss, Math.min(...a.epochs.map((e) => e.validationLoss)));
  // Lead weights reach the worker threads too, and change the result.
  const leadWeight = skillLeadWeights(d.y, TRAJECTORY_STEPS, data.trainRows);
  const c = await trainNetwork(data, { ...opts, leadWeight, workers: 0 });
  const e = await trainNetwork(data, { ...opts, leadWeight, workers: 1 });
  assert.deepEqual(Array.from(c.params), Array.from(e.params), 'weighted: same parameters whatever runs the chunks');
  assert.notDeepEqual(Array.from(c.params), Array.from(a.params));
});

it('skill lead weights: the mean base error over the lead\'s own, a lead never off (lead 0) at the smallest positive one', () => {
  // Two rows, three leads: mean squared residuals 0 (lead 0), (1 + 9)/2 = 5 and (4 + 16)/2 = 10 (a NaN skipped in a third row).
  const y = Float64Array.of(0, 1, 2, 0, 3, 4, 0, NaN, NaN);
  const w = skillLeadWeights(y, 3, Int32Array.of(0, 1, 2));
  // floor 5 for lead 0: v = [5, 5, 10], mean 20/3
  const mean = 20 / 3;
  close(w[0]!, mean / 5, { atol: 1e-12 }, 'lead 0');
  close(w[1]!, mean / 5, { atol: 1e-12 }, 'lead 1');
  close(w[2]!, mean / 10, { atol: 1e-12 }, 'lead 2');
  close(w[0]! * 5 + w[1]! * 5 + w[2]! * 10, 20, { atol: 1e-12 }, 'the loss keeps its scale');
  assert.throws(() => skillLeadWeights(new Float64Array(6), 3, Int32Array.of(0, 1)), /non-zero residual/);
});
