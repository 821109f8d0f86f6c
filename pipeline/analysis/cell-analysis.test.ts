// The reduce step's time dimension: each cell's state is advanced from where it was last valid and
// updated with the window's large-scale estimate (the area's parts) and local increment (the place's
// parts) through the regressors of the window's time; a cell with no
// state, or a part with none (written by a model with fewer parts), starts at the prior; and the
// allocation-free lead forecaster that emit uses equals the plain predict-and-sum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyseCells, biasAtLead, cellState, copyCellState, emptyCellStates, LeadForecaster, type AnalysisObservations } from './cell-analysis.ts';
import { DEFAULT_ANALYSIS } from './defaults.ts';
import { packedIndex, packedSize, partsPrior, partsTotal, predictParts, regressorsAt, updateParts, type PartsState } from './kalman.ts';
import { close } from '../../infra/testing/close.ts';

const HOUR = 3_600_000;
const model = DEFAULT_ANALYSIS.process;
const n = model.length;

/** A positive-definite state: means and a covariance L Lᵀ from a fixed lower-triangular L. */
function someState(seed: number): PartsState {
  const meanK = Float64Array.from({ length: n }, (_, i) => Math.sin(seed + i) * 0.8);
  const L = (i: number, j: number) => (j > i ? 0 : i === j ? 0.5 + 0.1 * i : 0.1 * Math.cos(seed * (i + 1) + j));
  const covK2 = new Float64Array(packedSize(n));
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    let v = 0;
    for (let k = 0; k <= j; k++) v += L(i, k) * L(j, k);
    covK2[packedIndex(i, j)] = v;
  }
  return { meanK, covK2 };
}

function put(states: ReturnType<typeof emptyCellStates>, c: number, s: PartsState, validMs: number): void {
  s.meanK.forEach((x, i) => { states.meanK[i]![c] = x; });
  s.covK2.forEach((x, k) => { states.covK2[k]![c] = x; });
  states.validMs[c] = validMs;
}

test('the lead forecaster equals predict then sum, at every lead and hour of day', () => {
  const t0 = Date.UTC(2021, 0, 15, 17, 35);
  const states = emptyCellStates(3, n);
  for (let c = 0; c < 3; c++) put(states, c, someState(c + 1), t0);
  const lead = new LeadForecaster(model);
  for (const leadMs of [0, 5 * 60_000, HOUR, 7 * HOUR, 30 * HOUR]) {
    lead.at(t0, leadMs);
    for (let c = 0; c < 3; c++) {
      const want = biasAtLead(cellState(states, c, model), t0, leadMs, model);
      const got = lead.bias(states, c);
      close(got.biasK, want.biasK, { atol: 1e-14 }, `bias, cell ${c}, lead ${leadMs}`);
      close(got.varK2, want.varK2, { atol: 1e-14 }, `variance, cell ${c}, lead ${leadMs}`);
    }
  }
});

test('analyseCells: each cell advanced from its own time, its area parts updated with g and its place parts with the increment; no state or a missing part starts at the prior', () => {
  const t = Date.UTC(2021, 6, 3, 4, 0);
  const targets = { x: Float64Array.of(0, 5000, 10000), y: new Float64Array(3), z: new Float64Array(3).fill(NaN) };
  const previous = emptyCellStates(3, n);
  const s0 = someState(7);
  put(previous, 0, s0, t - 2 * HOUR);
  // Cell 1: no state. Cell 2: a state of a two-part model, resumed into this one.
  const two = emptyCellStates(1, 2);
  two.meanK[0]![0] = 0.4; two.meanK[1]![0] = -0.9;
  two.covK2[0]![0] = 0.3; two.covK2[1]![0] = 0.05; two.covK2[2]![0] = 0.2;
  two.validMs[0] = t - HOUR;
  copyCellState(two, 0, previous, 2);
  const noObs: AnalysisObservations = {
    x: new Float64Array(0), y: new Float64Array(0), z: new Float64Array(0), innovationK: new Float64Array(0), official: new Uint8Array(0),
    offsetK: new Float64Array(0), offsetWeight: new Float64Array(0), reliability: new Float64Array(0), newestMs: new Float64Array(0),
  };
  const large = { biasK: 0.8, varK2: 0.3 };
  const out = analyseCells(targets, previous, noObs, large, t, DEFAULT_ANALYSIS);
  // No sensor in reach: the area's parts see g with its variance, the place's an increment of 0 with σ_S².
  const r = DEFAULT_ANALYSIS.localSigmaK ** 2;
  const h = regressorsAt(model, t), hArea = regressorsAt(model, t, undefined, 'area'), hPlace = regressorsAt(model, t, undefined, 'place');
  assert.deepEqual(Array.from(hArea, (v, i) => v + hPlace[i]!), Array.from(h), 'every part in one scale');
  const resumed = partsPrior(model);
  resumed.meanK.set([0.4, -0.9]);
  resumed.covK2.set([0.3, 0.05, 0.2]);
  const update = (s: PartsState) => updateParts(updateParts(s, hArea, large.biasK, large.varK2), hPlace, 0, r);
  const expected = [update(predictParts(s0, 2 * HOUR, model)), update(partsPrior(model)), update(predictParts(resumed, HOUR, model))];
  expected.forEach((e, c) => {
    const got = cellState(out, c, model);
    for (let i = 0; i < n; i++) close(got.meanK[i]!, e.meanK[i]!, { atol: 1e-14 }, `cell ${c}: x${i}`);
    for (let k = 0; k < packedSize(n); k++) close(got.covK2[k]!, e.covK2[k]!, { atol: 1e-14 }, `cell ${c}: P[${k}]`);
    const total = partsTotal(e, h);
    close(out.biasK[c]!, total.biasK, { atol: 1e-14 }, `cell ${c}: bias`);
    close(out.varK2[c]!, total.varK2, { atol: 1e-14 }, `cell ${c}: variance`);
    assert.equal(out.validMs[c], t);
    assert.equal(out.nObs[c], 0);
  });
});
