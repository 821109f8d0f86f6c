import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { close } from '../../infra/testing/close.ts';
import { seededRandom } from '../train/random.ts';
import { arToOnnx, fitAr, predictAr } from './ar-model.ts';

/** Increments following an AR(1): d_t = φ d_{t−1} + ε, so y(t+1) = y + φ (y − y(t−1)) is the best one-step forecast. */
function arSeries(n: number, phi: number, seed: number) {
  const random = seededRandom(seed);
  const values = new Float64Array(n);
  let d = 0;
  for (let t = 1; t < n; t++) {
    const eps = (random() + random() + random() - 1.5) * 0.2; // near-Gaussian, sd 0.1
    d = phi * d + eps;
    values[t] = values[t - 1]! + d;
  }
  values[100] = NaN; // a gap: rows touching it are left out
  return { id: 'ar', lat: 0, lon: 0, startMs: 0, values, sampling: 'sub-hourly' as const };
}

describe('AR baseline', () => {
  it('least squares recovers the generating coefficients; two-step forecasts follow φ + φ²', () => {
    const phi = 0.6;
    const m = fitAr([arSeries(40_000, phi, 3)], { lagSteps: [1, 2], leadSteps: [1, 2], keep: () => true });
    // standard error of the estimates ~ 1/sqrt(40,000) = 0.005: 5 standard errors
    close(m.coef[0]![0]!, phi, { atol: 0.025 });
    close(m.coef[0]![1]!, 0, { atol: 0.025 });
    close(m.coef[1]![0]!, phi + phi * phi, { atol: 0.05 }); // y(t+2) − y = d(t+1) + d(t+2): E = (φ + φ²) d
    close(m.intercept[0]!, 0, { atol: 0.005 });
    assert.ok(m.rows[0]! < 40_000 - 2);
  });

  it('the ONNX export equals predictAr (onnxruntime, float32)', async () => {
    const m = fitAr([arSeries(5_000, 0.4, 4)], { lagSteps: [1, 2, 3], leadSteps: [1, 6, 12], keep: (_s, slot) => slot % 2 === 0 });
    const values = [10.2, 10.4, 10.1, 10.9];
    const want = new Float64Array(3);
    assert.equal(predictAr(m, values, 3, want), true);
    const session = await ort.InferenceSession.create(arToOnnx(m, { name: 'ar', version: '0' }));
    const out = await session.run({ lags: new ort.Tensor('float32', Float32Array.from(values), [1, 4]) });
    const got = out['y']!.data as Float32Array;
    // float32 weights and sums on values ~10: ~1e-6 K
    for (let i = 0; i < 3; i++) close(got[i]!, want[i]!, { atol: 1e-4 });
    await session.release();
    assert.equal(predictAr(m, [NaN, 1, 2, 3], 3, want), false, 'a missing lag: no forecast');
  });
});
