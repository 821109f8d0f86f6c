/**
 * Our localised OI against gridpp's `optimal_interpolation` and `optimal_interpolation_full` (PyPI
 * gridpp, pinned in infra/reference/requirements.txt) on the same seeded random point sets, in
 * Cartesian coordinates: increments and analysis-variance ratios at every target.
 *
 * gridpp builds its correlations in float32 (armadillo then inverts in double), so the comparison
 * is to float32 precision amplified by the conditioning of P + R: see the tolerances below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonNumbers, referencePythonForTests, runReference, seededUniform, stationSet, type OiCase } from '../../infra/reference/index.ts';
import { close } from '../../infra/testing/close.ts';
import { optimalInterpolation, type OiObservations, type PlanePoints } from './oi.ts';
import { barnes } from './structure.ts';

interface Scenario {
  name: string;
  seed: number;
  nObs: number;
  nTargets: number;
  sideM: number;
  h: number;
  v: number;
  localizationM: number;
  maxPoints: number;
  /** Share of observations and targets with unknown elevation (no vertical term for them, in both). */
  unknownElevShare: number;
}

// The first two are dense enough that most targets have far more observations in reach than maxPoints.
const SCENARIOS: Scenario[] = [
  { name: 'dense, max_points 5 of ~60 in reach, elevation term', seed: 1, nObs: 400, nTargets: 150, sideM: 20_000, h: 3000, v: 150, localizationM: 3.64 * 3000, maxPoints: 5, unknownElevShare: 0 },
  { name: 'dense, max_points 20, elevation term, some elevations unknown', seed: 2, nObs: 400, nTargets: 150, sideM: 20_000, h: 2500, v: 100, localizationM: 8000, maxPoints: 20, unknownElevShare: 0.1 },
  { name: 'sparse, every observation in reach used (max_points above the neighbours), no vertical term', seed: 3, nObs: 40, nTargets: 150, sideM: 30_000, h: 5000, v: 0, localizationM: 15_000, maxPoints: 50, unknownElevShare: 0 },
  { name: 'short localisation: targets out of reach keep the background', seed: 4, nObs: 60, nTargets: 150, sideM: 40_000, h: 1500, v: 200, localizationM: 3000, maxPoints: 10, unknownElevShare: 0 },
];

function inputsOf(sc: Scenario): { targets: PlanePoints; obs: OiObservations } {
  const u = seededUniform(sc.seed * 7919);
  const st = stationSet(sc.seed, { n: sc.nObs, sideM: sc.sideM, maxElevM: 400, lapseKPerM: -0.0065, noiseK: 0.5, grossShare: 0.05 });
  const z = st.z.map((v) => (u() < sc.unknownElevShare ? NaN : v));
  const obs: OiObservations = {
    x: Float64Array.from(st.x), y: Float64Array.from(st.y), z: Float64Array.from(z),
    // Innovations around a non-zero mean, ratios σo²/σb² from 0.1 (official-like) to 2 (noisy crowd).
    innovation: Float64Array.from(st.tempC, (t) => t - 9.5),
    ratio: Float64Array.from(st.x, () => 0.1 + 1.9 * u()),
  };
  const nt = sc.nTargets;
  const targets: PlanePoints = {
    x: Float64Array.from({ length: nt }, () => u() * sc.sideM),
    y: Float64Array.from({ length: nt }, () => u() * sc.sideM),
    z: Float64Array.from({ length: nt }, () => (u() < sc.unknownElevShare ? NaN : 400 * u())),
  };
  return { targets, obs };
}

function caseOf(sc: Scenario, targets: PlanePoints, obs: OiObservations, allowExtrapolation: boolean): OiCase {
  return {
    op: 'oi',
    targets: { x: Array.from(targets.x), y: Array.from(targets.y), z: jsonNumbers(targets.z) },
    obs: { x: Array.from(obs.x), y: Array.from(obs.y), z: jsonNumbers(obs.z), innovation: Array.from(obs.innovation), ratio: Array.from(obs.ratio) },
    h: sc.h, v: sc.v, localization: sc.localizationM, max_points: sc.maxPoints, allow_extrapolation: allowExtrapolation,
  };
}

test('OI matches gridpp optimal_interpolation(_full): increments and variance ratios on seeded random sets', async (t) => {
  const python = await referencePythonForTests();
  if (typeof python !== 'string') return t.skip(python.skip);
  const runs = SCENARIOS.flatMap((sc) => [true, false].map((allow) => ({ sc, allow, ...inputsOf(sc) })));
  const { versions, results } = await runReference(python, runs.map((r) => caseOf(r.sc, r.targets, r.obs, r.allow)));
  t.diagnostic(`gridpp ${versions.gridpp}`);
  let compared = 0, bounded = 0, outside = 0, maxIncErr = 0, maxVarErr = 0;
  runs.forEach((r, k) => {
    const ref = results[k]!;
    const ours = optimalInterpolation(r.targets, r.obs, { structure: barnes(r.sc.h, r.sc.v, r.sc.localizationM), maxPoints: r.sc.maxPoints, allowExtrapolation: r.allow });
    const label = `${r.sc.name}, allow_extrapolation=${r.allow}`;
    const free = r.allow ? undefined : optimalInterpolation(r.targets, r.obs, { structure: barnes(r.sc.h, r.sc.v, r.sc.localizationM), maxPoints: r.sc.maxPoints, allowExtrapolation: true });
    let limited = 0;
    for (let i = 0; i < r.targets.x.length; i++) {
      const inc = ref.increment[i]!, incFull = ref.increment_full[i]!, vr = ref.variance_ratio[i]!;
      assert.equal(inc, incFull, `${label}: gridpp's two entry points agree at target ${i}`);
      const loose = r.sc.unknownElevShare > 0;
      const inc_ = ours.increment[i]!, vr_ = ours.varianceRatio[i]!;
      if (!(vr >= 0 && vr <= 1)) outside++;
      if (loose) {
        // A vertical term only between points of known elevation makes P inconsistent: P + R can be
        // indefinite and nearly singular (gridpp then answers variance ratios outside [0, 1] too), which
        // amplifies gridpp's float32 rounding ~10-100 fold: 1e-4 relative, 2e-5 absolute.
        close(inc_, inc, { atol: 2e-5, rtol: 1e-4 }, `${label}: increment at target ${i}`);
        close(vr_, vr, { atol: 2e-5, rtol: 1e-4 }, `${label}: variance ratio at target ${i}`);
      } else {
        // Increments are O(1 K); gridpp's float32 correlations carry ~6e-8 relative error, amplified
        // by (P + R)⁻¹ (condition number up to ~(k + 0.1) / 0.1 for k points and ratios >= 0.1), and the
        // result is rounded to float32: 2e-5 K absolute plus 1e-5 relative covers that with margin.
        close(inc_, inc, { atol: 2e-5, rtol: 1e-5 }, `${label}: increment at target ${i}`);
        // Variance ratios lie in (0, 1]: the same float32 argument, 1e-5 absolute.
        close(vr_, vr, { atol: 1e-5 }, `${label}: variance ratio at target ${i}`);
        maxIncErr = Math.max(maxIncErr, Math.abs(inc_ - inc));
        maxVarErr = Math.max(maxVarErr, Math.abs(vr_ - vr));
      }
      if (free && Math.abs(free.increment[i]! - ours.increment[i]!) > 1e-9) limited++;
      compared++;
    }
    if (!r.allow) bounded += limited;
    if (r.sc.seed <= 2) assert.ok(Array.from(ours.used).some((u) => u === r.sc.maxPoints), `${label}: max_points binds somewhere`);
  });
  // The bounding branch must actually be exercised, or the allow_extrapolation=false runs prove nothing.
  assert.ok(bounded > 0, 'some increments were bounded');
  t.diagnostic(`${compared} targets compared; with every elevation known, largest |increment difference| ${maxIncErr.toExponential(2)} K, largest |variance ratio difference| ${maxVarErr.toExponential(2)}; ${bounded} increments bounded; ${outside} variance ratios outside [0, 1] (gridpp's, where elevations are partly unknown)`);
});
