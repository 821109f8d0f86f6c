// BPTT against central finite differences, on every parameter of a small network.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { close } from '../../infra/testing/close.ts';
import { seededRandom } from '../train/random.ts';
import { backward, createWorkspace, forward, initParams, paramLayout, squaredError, type NetworkShape } from './network.ts';

const shape: NetworkShape = { inputs: 3, hidden: 4, dense: 3, steps: 6, outSteps: 3, fixedOutputs: 1 };

function lossOf(p: Float64Array, x: Float64Array, y: Float64Array, n: number): number {
  const layout = paramLayout(shape);
  const ws = createWorkspace(shape);
  const out = new Float64Array(shape.outSteps);
  const d = new Float64Array(shape.outSteps);
  let sum = 0;
  for (let s = 0; s < n; s++) {
    forward(layout, p, x, s * shape.steps * shape.inputs, ws, out, 0);
    sum += squaredError(out, 0, y, s * shape.outSteps, shape.outSteps, d, 0).sum;
  }
  return sum;
}

describe('BiLSTM network', () => {
  it('analytic gradients equal central finite differences for every parameter', () => {
    const layout = paramLayout(shape);
    const random = seededRandom(7);
    const p = initParams(layout, random);
    // larger weights than the initialiser so that every gate works away from its linear region
    for (let i = 0; i < p.length; i++) p[i] = p[i]! * 1.5 + (random() - 0.5) * 0.2;
    const n = 2;
    const x = Float64Array.from({ length: n * shape.steps * shape.inputs }, () => 2 * random() - 1);
    const y = Float64Array.from({ length: n * shape.outSteps }, () => random() - 0.5);
    y[1] = NaN; // a missing target contributes nothing
    const ws = createWorkspace(shape);
    const grad = new Float64Array(layout.size);
    const out = new Float64Array(shape.outSteps);
    const dOut = new Float64Array(shape.outSteps);
    for (let s = 0; s < n; s++) {
      const xAt = s * shape.steps * shape.inputs;
      forward(layout, p, x, xAt, ws, out, 0);
      squaredError(out, 0, y, s * shape.outSteps, shape.outSteps, dOut, 0);
      backward(layout, p, x, xAt, ws, dOut, 0, grad);
    }
    const eps = 1e-6;
    let checked = 0;
    for (let i = 0; i < layout.size; i++) {
      const keep = p[i]!;
      p[i] = keep + eps;
      const up = lossOf(p, x, y, n);
      p[i] = keep - eps;
      const down = lossOf(p, x, y, n);
      p[i] = keep;
      const numeric = (up - down) / (2 * eps);
      // central differences in float64: truncation O(eps²) ~ 1e-12, rounding ~ 1e-16/eps ~ 1e-10
      close(grad[i]!, numeric, { atol: 1e-8, rtol: 1e-6 }, `dL/dθ[${i}]`);
      checked++;
    }
    assert.equal(checked, layout.size);
    assert.ok(grad.some((g) => Math.abs(g) > 1e-3), 'gradients are not all ~0');
  });

  it('the reverse direction sees the future: changing the last step changes the first output', () => {
    const layout = paramLayout(shape);
    const p = initParams(layout, seededRandom(3));
    const ws = createWorkspace(shape);
    const x = new Float64Array(shape.steps * shape.inputs).fill(0.1);
    const a = new Float64Array(shape.outSteps), b = new Float64Array(shape.outSteps);
    forward(layout, p, x, 0, ws, a, 0);
    x[(shape.steps - 1) * shape.inputs] = 1;
    forward(layout, p, x, 0, ws, b, 0);
    assert.ok(Math.abs(a[1]! - b[1]!) > 1e-6, 'output 1 depends on the last step through the backward direction');
    assert.equal(a[0], 0, 'the fixed first output');
  });

  it('refuses a shape with outSteps beyond the sequence', () => {
    assert.throws(() => paramLayout({ ...shape, outSteps: 7 }), /outSteps 7 > steps 6/);
  });
});
