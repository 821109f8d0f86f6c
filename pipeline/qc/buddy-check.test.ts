import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stationSet } from '../../infra/reference/index.ts';
import { buddyCheck, STANDARD_LAPSE_RATE_K_PER_M, type BuddyCheckOptions } from './buddy-check.ts';

/**
 * The buddy check written out by brute force (every pair), with the nearest `maxBuddies` neighbours
 * within the radius (by distance, ties by index): the reference for the capped neighbour search,
 * which titanlib does not have.
 */
function bruteForce(x: number[], y: number[], z: number[], v: number[], o: BuddyCheckOptions): number[] {
  const n = x.length;
  const nbs = x.map((_, i) => x.map((_x, j) => ({ j, d: Math.hypot(x[j]! - x[i]!, y[j]! - y[i]!) }))
    .filter((p) => p.j !== i && p.d <= o.radiusM).sort((a, b) => a.d - b.d || a.j - b.j).slice(0, o.maxBuddies ?? Infinity).map((p) => p.j));
  const flags = new Array<number>(n).fill(0);
  for (let it = 0; it < o.numIterations; it++) {
    const prev = [...flags];
    let added = 0;
    for (let i = 0; i < n; i++) {
      if (prev[i] || nbs[i]!.length < o.numMin) continue;
      const vals = nbs[i]!.filter((j) => !prev[j] && !(o.maxElevDiffM > 0 && Math.abs(z[j]! - z[i]!) > o.maxElevDiffM))
        .map((j) => v[j]! + (o.maxElevDiffM > 0 ? (z[i]! - z[j]!) * o.elevGradientKPerM : 0));
      if (vals.length < o.numMin) continue;
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
      const std = Math.max(o.minStdK, Math.sqrt(variance + variance / vals.length));
      if (Math.abs(v[i]! - mean) / std > o.threshold) { flags[i] = 1; added++; }
    }
    if (added === 0) break;
  }
  return flags;
}

test('the nearest maxBuddies neighbours: the same flags as a brute-force check over every pair', () => {
  const o: BuddyCheckOptions = { radiusM: 3000, numMin: 3, threshold: 2.5, maxElevDiffM: 200, elevGradientKPerM: STANDARD_LAPSE_RATE_K_PER_M, minStdK: 0.5, numIterations: 3 };
  let flagged = 0;
  for (const [seed, maxBuddies] of [[41, 5], [42, 20], [43, 50]] as const) {
    const s = stationSet(seed, { n: 700, sideM: 12_000, maxElevM: 300, lapseKPerM: -0.0065, noiseK: 0.6, grossShare: 0.08 });
    const ours = buddyCheck({ x: Float64Array.from(s.x), y: Float64Array.from(s.y), z: Float64Array.from(s.z) }, s.tempC, { ...o, maxBuddies });
    const expected = bruteForce(s.x, s.y, s.z, s.tempC, { ...o, maxBuddies });
    assert.deepEqual(Array.from(ours), expected, `seed ${seed}, maxBuddies ${maxBuddies}`); // the same arithmetic: identical
    flagged += expected.reduce((a, f) => a + f, 0);
  }
  assert.ok(flagged > 50, `outliers are flagged (${flagged})`);
});
