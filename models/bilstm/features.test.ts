import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { close } from '../../infra/testing/close.ts';
import { buildFeatures, FEATURES, FeatureShapeError, HISTORY_STEPS, SEQUENCE_STEPS, TEMP_SCALE_K, TRAJECTORY_STEPS, TROPICAL_YEAR_DAYS } from './features.ts';

const T0 = Date.UTC(2021, 2, 20, 12, 0); // noon UTC
const tol = { atol: 1e-12 }; // float64 arithmetic on values of order 1

function input(n: number, o: { history?: number[][]; filter?: number[][]; lon?: number[] } = {}) {
  const history = new Float64Array(n * HISTORY_STEPS).fill(NaN);
  const filter = new Float64Array(n * TRAJECTORY_STEPS).fill(NaN);
  o.history?.forEach((h, i) => h.forEach((v, k) => { history[i * HISTORY_STEPS + k] = v; }));
  o.filter?.forEach((f, i) => f.forEach((v, k) => { filter[i * TRAJECTORY_STEPS + k] = v; }));
  return { n, historySteps: HISTORY_STEPS, history, trajectorySteps: TRAJECTORY_STEPS, filter, runTimeMs: T0, lon: Float64Array.from(o.lon ?? Array(n).fill(0)) };
}

describe('BiLSTM features', () => {
  it('anchors on the lead-0 analysis, masks gaps and keeps the filter as the base', () => {
    const h = Array.from({ length: HISTORY_STEPS }, (_, k) => 10 + k / 10);
    h[5] = NaN; // a gap
    const f = Array.from({ length: TRAJECTORY_STEPS }, (_, k) => 13 + k / 12);
    const r = buildFeatures(input(1, { history: [h], filter: [f] }), 'batch-first', 'float64');
    const at = (t: number, j: number) => r.x[t * FEATURES + j]!;
    close(at(0, 0), (10 - 13) / TEMP_SCALE_K, tol);
    assert.equal(at(0, 1), 1);
    assert.equal(at(5, 0), 0);
    assert.equal(at(5, 1), 0, 'gap masked, not interpolated');
    assert.equal(at(0, 4), 0);
    close(at(0, 5), -2, tol, 'two hours before lead 0');
    const last = SEQUENCE_STEPS - 1;
    close(at(last, 2), (14 - 13) / TEMP_SCALE_K, tol);
    assert.equal(at(last, 3), 1);
    assert.equal(at(last, 4), 1);
    close(at(last, 5), 1, tol);
    assert.equal(at(HISTORY_STEPS, 0), 0, 'no history value in the future');
    close(r.base[12]!, 14, tol);
  });

  it('without a background: persistence of the last analysis with the trajectory mask 0', () => {
    const h = Array(HISTORY_STEPS).fill(NaN);
    h[HISTORY_STEPS - 3] = 7.5;
    const r = buildFeatures(input(1, { history: [h] }), 'batch-first', 'float64');
    for (let k = 0; k < TRAJECTORY_STEPS; k++) {
      close(r.base[k]!, 7.5, tol);
      assert.equal(r.x[(HISTORY_STEPS + k) * FEATURES + 3], 0);
    }
    // lead 0 known (the analysis), no background after it
    const f = [8, ...Array(12).fill(NaN)];
    const r2 = buildFeatures(input(1, { history: [h], filter: [f] }), 'batch-first', 'float64');
    close(r2.base[5]!, 8, tol);
    assert.equal(r2.x[HISTORY_STEPS * FEATURES + 3], 1);
    assert.equal(r2.x[(HISTORY_STEPS + 1) * FEATURES + 3], 0);
    close(r2.x[(HISTORY_STEPS - 3) * FEATURES]!, (7.5 - 8) / TEMP_SCALE_K, tol);
  });

  it('a cell with nothing known gets zero features and a NaN base', () => {
    const r = buildFeatures(input(2, { filter: [[], Array(13).fill(3)] }), 'batch-first', 'float64');
    assert.ok(r.base.subarray(0, 13).every(Number.isNaN));
    assert.ok(r.x.subarray(0, SEQUENCE_STEPS * FEATURES).every((v) => v === 0));
    assert.equal(r.base[13], 3);
  });

  it('time of day is local solar time; time of year the epoch-day phase', () => {
    const lon = 15; // one hour ahead of UTC
    const r = buildFeatures(input(1, { filter: [Array(13).fill(1)], lon: [lon] }), 'batch-first', 'float64');
    const t = HISTORY_STEPS; // lead 0 at 12:00 UTC = 13:00 local solar time
    const angle = (2 * Math.PI * 13) / 24;
    close(r.x[t * FEATURES + 6]!, Math.sin(angle), { atol: 1e-9 }, 'rotation accumulates ~37 rounding steps');
    close(r.x[t * FEATURES + 7]!, Math.cos(angle), { atol: 1e-9 });
    const days = T0 / 86_400_000;
    const ya = (2 * Math.PI * (days % TROPICAL_YEAR_DAYS)) / TROPICAL_YEAR_DAYS;
    close(r.x[t * FEATURES + 8]!, Math.sin(ya), tol);
    close(r.x[t * FEATURES + 9]!, Math.cos(ya), tol);
  });

  it('time-major and batch-first hold the same values', () => {
    const inp = input(3, { history: [[1, 2], [], [4]], filter: [Array(13).fill(2), [5], []] });
    const a = buildFeatures(inp, 'batch-first');
    const b = buildFeatures(inp, 'time-major');
    for (let i = 0; i < 3; i++) for (let t = 0; t < SEQUENCE_STEPS; t++) for (let j = 0; j < FEATURES; j++) {
      assert.equal(a.x[(i * SEQUENCE_STEPS + t) * FEATURES + j], b.x[(t * 3 + i) * FEATURES + j]);
    }
  });

  it('refuses mismatched sizes, naming both', () => {
    const inp = input(2);
    assert.throws(() => buildFeatures({ ...inp, filter: new Float64Array(25) }, 'time-major'), (e: unknown) => e instanceof FeatureShapeError && /filter has 25 values, expected 26/.test(e.message));
    assert.throws(() => buildFeatures({ ...inp, trajectorySteps: 12 }, 'time-major'), /trajectorySteps must be 13/);
  });
});
