import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededUniform, stationSet } from '../../infra/reference/index.ts';
import { DEFAULT_QC } from './defaults.ts';
import { sct } from './sct.ts';

test('hilly terrain with some elevations unknown: an indefinite S is solved, the test runs (no throw)', () => {
  // Elevations up to 1500 m and 10 % unknown: the vertical term applies only between known pairs, so
  // S can be indefinite (each of these seeds has such a box; Cholesky alone threw).
  for (const seed of [1, 2, 3]) {
    const s = stationSet(seed, { n: 800, sideM: 20_000, maxElevM: 1500, lapseKPerM: -0.0065, noiseK: 0.6, grossShare: 0.08 });
    const u = seededUniform(seed);
    const z = Float64Array.from(s.z, (v) => (u() < 0.1 ? NaN : v));
    const r = sct({ x: Float64Array.from(s.x), y: Float64Array.from(s.y), z }, s.tempC, DEFAULT_QC.sct);
    const tested = r.score.filter((v) => Number.isFinite(v)).length;
    assert.ok(tested > 700, `seed ${seed}: ${tested} of 800 observations tested`);
    const caught = Array.from(r.flags).filter((f, i) => f === 1 && s.gross[i] === 1).length;
    const falseAlarms = Array.from(r.flags).filter((f, i) => f === 1 && s.gross[i] === 0).length;
    const gross = s.gross.reduce((a, g) => a + g, 0);
    // A sanity bound, not a reference (those are the titanlib comparisons): with random heights up to
    // 1.5 km, a tenth of them unknown, and cold errors judged at 8 σ, the test still discriminates.
    assert.ok(caught >= 0.4 * gross, `seed ${seed}: gross errors flagged (${caught} of ${gross})`);
    const hit = caught / gross, falseRate = falseAlarms / (800 - gross);
    assert.ok(hit > 2.5 * falseRate, `seed ${seed}: gross errors flagged ${hit.toFixed(2)}, clean ones ${falseRate.toFixed(2)}`);
  }
});
