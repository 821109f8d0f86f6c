import { test } from 'node:test';
import assert from 'node:assert/strict';
import { predictBias, steadyStateGain, updateBias, type BiasState } from './kalman.ts';
import { close } from '../../infra/testing/close.ts';

const HOUR = 3_600_000;
const p = { tauMs: 3 * HOUR, sigmaK: 1.5 };

test('predict relaxes toward zero and the variance toward sigma², scaling with the time step', () => {
  const s: BiasState = { biasK: 2, varK2: 0.1 };
  const one = predictBias(s, HOUR, p);
  close(one.biasK, 2 * Math.exp(-1 / 3), { atol: 1e-15 }, 'bias after 1 h');
  close(one.varK2, 0.1 * Math.exp(-2 / 3) + 2.25 * (1 - Math.exp(-2 / 3)), { atol: 1e-15 }, 'variance after 1 h');
  // Twelve 5-minute steps equal one 1-hour step (the process is Markov in continuous time).
  let t = s;
  for (let i = 0; i < 12; i++) t = predictBias(t, HOUR / 12, p);
  close(t.biasK, one.biasK, { atol: 1e-14 }, 'bias');
  close(t.varK2, one.varK2, { atol: 1e-14 }, 'variance');
  const far = predictBias(s, 1000 * HOUR, p);
  close(far.biasK, 0, { atol: 1e-12 }, 'bias long after');
  close(far.varK2, 2.25, { atol: 1e-12 }, 'variance long after');
});

test('update: the scalar closed form; infinite r leaves the state alone', () => {
  const u = updateBias({ biasK: 1, varK2: 3 }, 2, 1);
  close(u.biasK, 1 + 0.75 * 1, { atol: 1e-15 }, 'bias'); // K = 3/4
  close(u.varK2, 0.75, { atol: 1e-15 }, 'variance');
  assert.deepEqual(updateBias({ biasK: 1, varK2: 3 }, 2, Infinity), { biasK: 1, varK2: 3 });
  assert.throws(() => updateBias({ biasK: 0, varK2: 1 }, 0, 0), /rK2 must be > 0/);
});

test('the gain of the iterated filter converges to the closed-form steady state', () => {
  for (const [dt, r] of [[5 * 60_000, 0.25], [HOUR, 1], [HOUR / 4, 4]] as const) {
    let s: BiasState = { biasK: 0, varK2: 10 };
    let k = 0;
    for (let i = 0; i < 2000; i++) {
      s = predictBias(s, dt, p);
      k = s.varK2 / (s.varK2 + r);
      s = updateBias(s, 0, r);
    }
    close(k, steadyStateGain(dt, r, p), { atol: 1e-12 }, `gain (dt ${dt} ms, r ${r})`); // geometric convergence after 2000 steps
  }
});
