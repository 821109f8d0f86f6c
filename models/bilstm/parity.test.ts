/**
 * ONNX parity: the training forward pass (float64, network.ts) and onnxruntime-node running the
 * exported graph agree within 1e-4 °C on fixed inputs — for a seeded random network of the product's
 * shape, and for the shipped artifact (its weights read back from the file).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { close } from '../../infra/testing/close.ts';
import { seededRandom } from '../train/random.ts';
import { createWorkspace, forward, initParams, paramLayout, type ParamLayout } from './network.ts';
import { buildFeatures, FEATURES, HISTORY_STEPS, SEQUENCE_STEPS, TEMP_SCALE_K, TRAJECTORY_STEPS } from './features.ts';
import { bilstmFromOnnx, bilstmToOnnx } from './onnx-export.ts';

/** Fixed inputs: 6 cells with gaps, one without background, one with nothing known. */
function fixedInput() {
  const n = 6;
  const random = seededRandom(2024);
  const history = new Float64Array(n * HISTORY_STEPS);
  const filter = new Float64Array(n * TRAJECTORY_STEPS);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < HISTORY_STEPS; k++) history[i * HISTORY_STEPS + k] = random() < 0.2 ? NaN : 5 + i + Math.sin(k / 5) + random() * 0.2;
    for (let k = 0; k < TRAJECTORY_STEPS; k++) filter[i * TRAJECTORY_STEPS + k] = 5 + i + 0.05 * k;
  }
  filter.fill(NaN, 3 * TRAJECTORY_STEPS, 4 * TRAJECTORY_STEPS); // no background
  history.fill(NaN, 5 * HISTORY_STEPS, 6 * HISTORY_STEPS);
  filter.fill(NaN, 5 * TRAJECTORY_STEPS, 6 * TRAJECTORY_STEPS); // nothing known
  return { n, historySteps: HISTORY_STEPS, history, trajectorySteps: TRAJECTORY_STEPS, filter, runTimeMs: Date.UTC(2019, 6, 1, 14, 35), lon: Float64Array.from({ length: n }, (_, i) => 13 + i / 10) };
}

async function compare(layout: ParamLayout, params: Float64Array, bytes: Uint8Array): Promise<number> {
  const inp = fixedInput();
  const fb = buildFeatures(inp, 'batch-first', 'float64');
  const ft = buildFeatures(inp, 'time-major', 'float32');
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({
      x: new ort.Tensor('float32', ft.x as Float32Array, [SEQUENCE_STEPS, inp.n, FEATURES]),
      base: new ort.Tensor('float32', Float32Array.from(ft.base), [inp.n, TRAJECTORY_STEPS]),
    });
    const y = out['y']!;
    assert.deepEqual(y.dims, [inp.n, TRAJECTORY_STEPS]);
    const got = y.data as Float32Array;
    const ws = createWorkspace(layout.shape);
    const p = new Float64Array(TRAJECTORY_STEPS);
    let maxDiff = 0;
    for (let i = 0; i < inp.n; i++) {
      forward(layout, params, fb.x, i * SEQUENCE_STEPS * FEATURES, ws, p, 0);
      for (let k = 0; k < TRAJECTORY_STEPS; k++) {
        const want = fb.base[i * TRAJECTORY_STEPS + k]! + TEMP_SCALE_K * p[k]!;
        const g = got[i * TRAJECTORY_STEPS + k]!;
        if (Number.isNaN(want)) { assert.ok(Number.isNaN(g), `cell ${i} lead ${k}: NaN expected (nothing known), got ${g}`); continue; }
        // the bound: float32 inference vs float64 training differ by ~1e-6 here
        close(g, want, { atol: 1e-4 }, `cell ${i} lead ${k}`);
        maxDiff = Math.max(maxDiff, Math.abs(g - want));
      }
    }
    return maxDiff;
  } finally {
    await session.release();
  }
}

describe('BiLSTM ONNX parity', () => {
  it('a seeded network of the product shape: training forward pass = onnxruntime within 1e-4', async () => {
    const layout = paramLayout({ inputs: FEATURES, hidden: 6, dense: 5, steps: SEQUENCE_STEPS, outSteps: TRAJECTORY_STEPS, fixedOutputs: 1 });
    const random = seededRandom(11);
    const params = initParams(layout, random);
    for (let i = 0; i < params.length; i++) params[i] = params[i]! * 2; // away from the linear regime
    const rounded = Float64Array.from(Float32Array.from(params)); // what the file holds
    const bytes = bilstmToOnnx({ layout, params, tempScaleK: TEMP_SCALE_K, metadata: { name: 'test', version: '0' } });
    const back = bilstmFromOnnx(bytes);
    assert.deepEqual(back.layout, layout);
    assert.deepEqual(Array.from(back.params), Array.from(rounded), 'weights read back bit for bit');
    const diff = await compare(layout, rounded, bytes);
    assert.ok(diff > 0 || diff === 0);
  });

  it('the shipped artifact: its weights through the training forward pass = onnxruntime within 1e-4', async (t) => {
    const file = new URL('../artifacts/bilstm.onnx', import.meta.url);
    if (!existsSync(file)) {
      // the artifact is part of the repository: its absence is a failure, not a skip
      assert.fail('models/artifacts/bilstm.onnx is missing');
    }
    const bytes = new Uint8Array(readFileSync(file));
    const { layout, params, tempScaleK } = bilstmFromOnnx(bytes);
    assert.equal(tempScaleK, TEMP_SCALE_K);
    assert.equal(layout.shape.inputs, FEATURES);
    await compare(layout, params, bytes);
    t.diagnostic(`hidden ${layout.shape.hidden}, dense ${layout.shape.dense}`);
  });
});
