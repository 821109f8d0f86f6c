// The revision penalty's and the lead weights' gradients against central finite differences (the squared
// error part is checked in network.test.ts), and their exact values on hand-checkable cases.
import { it } from 'node:test';
import { close } from '../../infra/testing/close.ts';
import { initParams, paramLayout, type NetworkShape } from '../bilstm/network.ts';
import { ChunkRunner } from './chunk.ts';
import { seededRandom } from './random.ts';

for (const [gap, leadWeight, perIssue] of [[1, undefined, false], [2, undefined, false], [1, [0.5, 3, 1, 0.25], false], [1, undefined, true]] as const) it(`loss with a partner ${gap} step(s) later and the revision penalty${leadWeight ? ', leads weighted' : ''}${perIssue ? ', every issue weighing the same' : ''}: analytic gradient = finite differences`, () => {
  const shape: NetworkShape = { inputs: 3, hidden: 3, dense: 2, steps: 6, outSteps: 4 };
  const layout = paramLayout(shape);
  const random = seededRandom(9);
  const p = initParams(layout, random);
  const rows = 3;
  const x = Float64Array.from({ length: rows * shape.steps * shape.inputs }, () => 2 * random() - 1);
  const y = Float64Array.from({ length: rows * shape.outSteps }, () => random() - 0.5);
  y[5] = NaN;
  const baseN = Float64Array.from({ length: rows * shape.outSteps }, () => random());
  if (perIssue) y[9] = y[10] = NaN; // rows with 4, 3 and 2 targets: scales 1, 4/3 and 2
  const data = { x, y, order: Int32Array.of(0, 2), partner: Int32Array.of(1, -1, -1), partnerGap: Int32Array.of(gap, 0, 0), baseN, lambda: 3, ...(leadWeight ? { leadWeight } : {}), perIssue };
  const runner = new ChunkRunner(layout);
  const grad = new Float64Array(layout.size);
  runner.run(p, data, 0, 2, grad);
  const eps = 1e-6;
  for (let i = 0; i < layout.size; i++) {
    const keep = p[i]!;
    p[i] = keep + eps;
    const up = runner.run(p, data, 0, 2).sum;
    p[i] = keep - eps;
    const down = runner.run(p, data, 0, 2).sum;
    p[i] = keep;
    // central differences in float64 (see network.test.ts)
    close(grad[i]!, (up - down) / (2 * eps), { atol: 1e-8, rtol: 1e-6 }, `dL/dθ[${i}]`);
  }
});

it('the penalty compares the forecasts for the same time: with a gap of g, lead k against the partner\'s lead k − g', () => {
  // A network whose output is 0 (all parameters 0): the penalty is λ Σ_{k=g}^{K−1} (b'_{k−g} − b_k)².
  const shape: NetworkShape = { inputs: 2, hidden: 2, dense: 2, steps: 5, outSteps: 4 };
  const layout = paramLayout(shape);
  const p = new Float64Array(layout.size);
  const x = new Float64Array(2 * shape.steps * shape.inputs);
  const y = new Float64Array(2 * shape.outSteps).fill(NaN);
  const baseN = Float64Array.of(0, 1, 2, 3, /* partner */ 10, 20, 30, 40);
  const runner = new ChunkRunner(layout);
  for (const [gap, expected] of [[1, (10 - 1) ** 2 + (20 - 2) ** 2 + (30 - 3) ** 2], [2, (10 - 2) ** 2 + (20 - 3) ** 2], [3, (10 - 3) ** 2]] as const) {
    const r = runner.run(p, { x, y, order: Int32Array.of(0), partner: Int32Array.of(1, -1), partnerGap: Int32Array.of(gap, 0), baseN, lambda: 2 }, 0, 1);
    close(r.penalty, 2 * expected, { atol: 1e-9 }, `gap ${gap}`); // exact sums of small integers
  }
});

it('lead weights multiply each lead\'s squared error', () => {
  // A network whose output is 0: the loss is Σ_k w_k y_k² over the leads with a target.
  const shape: NetworkShape = { inputs: 2, hidden: 2, dense: 2, steps: 5, outSteps: 4 };
  const layout = paramLayout(shape);
  const p = new Float64Array(layout.size);
  const x = new Float64Array(shape.steps * shape.inputs);
  const y = Float64Array.of(1, 2, NaN, 3);
  const runner = new ChunkRunner(layout);
  const plain = runner.run(p, { x, y, order: Int32Array.of(0) }, 0, 1);
  close(plain.sum, 1 + 4 + 9, { atol: 1e-12 }, 'unweighted');
  const weighted = runner.run(p, { x, y, order: Int32Array.of(0), leadWeight: [2, 0.5, 7, 1] }, 0, 1);
  close(weighted.sum, 2 * 1 + 0.5 * 4 + 9, { atol: 1e-12 }, 'weighted');
  close(weighted.count, 3, { atol: 0 }, 'targets counted, not weighed');
});

it('every issue weighing the same: a row\'s squared error times (K − F) / its targets at the corrected leads; the penalty unscaled', () => {
  // A network whose output is 0 (lead 0 fixed): the loss of a row is s Σ_k y_k², s = 3 / (its targets at leads 1…3).
  const shape: NetworkShape = { inputs: 2, hidden: 2, dense: 2, steps: 5, outSteps: 4, fixedOutputs: 1 };
  const layout = paramLayout(shape);
  const p = new Float64Array(layout.size);
  const x = new Float64Array(3 * shape.steps * shape.inputs);
  const y = Float64Array.of(0, 1, 2, 3, /* hourly: one target */ 0, NaN, NaN, 4, /* none */ 0, NaN, NaN, NaN);
  const runner = new ChunkRunner(layout);
  const one = (r: number, perIssue: boolean) => runner.run(p, { x, y, order: Int32Array.of(r), perIssue }, 0, 1);
  close(one(0, true).sum, 1 + 4 + 9, { atol: 1e-12 }, 'every lead with a target: unchanged');
  close(one(1, false).sum, 16, { atol: 1e-12 }, 'hourly row, every target the same');
  close(one(1, true).sum, 3 * 16, { atol: 1e-12 }, 'hourly row, every issue the same');
  close(one(2, true).sum, 0, { atol: 0 }, 'no target: nothing');
  // the revision penalty stays as it was
  const baseN = Float64Array.of(0, 1, 2, 3, 10, 20, 30, 40, 0, 0, 0, 0);
  const pair = (perIssue: boolean) => runner.run(p, { x, y, order: Int32Array.of(0), partner: Int32Array.of(1, -1, -1), partnerGap: Int32Array.of(1, 0, 0), baseN, lambda: 2, perIssue }, 0, 1);
  close(pair(true).penalty, pair(false).penalty, { atol: 0 }, 'penalty');
  close(pair(true).sum - pair(false).sum, 2 * 16, { atol: 1e-12 }, 'only the hourly partner\'s error grows (× 3)');
});
