/**
 * Our SCT against titanlib's `sct` (PyPI titanlib, pinned in infra/reference/requirements.txt) on the
 * same inputs: seeded random station sets and hours of real crowd data. titanlib runs with
 * inner_radius = 0 (each observation tested in its own box, as ours) and num_min_prof = −1 (the box
 * mean as background, as ours). titanlib's sct works on the sphere only; ours on the local plane.
 *
 * Remaining differences, by design:
 *   - iteration order: titanlib removes a flagged observation from the boxes of observations tested
 *     after it in the same iteration; ours tests every box of an iteration against the previous
 *     iteration's flags (order independent, so sharding cannot change a flag). With one iteration
 *     the two coincide (no flag of the iteration is seen); with more they may differ.
 *   - distances: ours on a plane with the mean Earth radius, titanlib on a sphere of the equatorial
 *     radius (0.11 % longer) in float32, which moves box edges and correlations slightly.
 *   - stations without elevation: titanlib flags them all; every station here has one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { referencePythonForTests, runReference, stationSet, type SctCase } from '../../infra/reference/index.ts';
import { localPlane } from '../../infra/geo/index.ts';
import { crowdHours } from '../../eval/qc/index.ts';
import { close } from '../../infra/testing/close.ts';
import type { PlanePoints } from '../analysis/oi.ts';
import { DEFAULT_QC } from './defaults.ts';
import { sct, type SctOptions } from './sct.ts';

const NETATMO = '../shared/data/netatmo_berlin_2017';
const M_PER_DEG_LAT = 111_195; // only to place the random sets in degrees; both sides get the same degrees

function caseOf(p: { lat: number[]; lon: number[]; z: number[] }, values: number[], o: Omit<SctOptions, 'check'>): SctCase {
  return {
    op: 'sct', points: p, values, num_min: o.numMin, num_max: o.numMax, inner_radius: 0, outer_radius: o.outerRadiusM,
    num_iterations: o.numIterations, num_min_prof: -1, min_elev_diff: 100, min_horizontal_scale: o.minHorizontalScaleM,
    vertical_scale: o.verticalScaleM, pos: o.pos as number, neg: o.neg as number, eps2: o.eps2 as number,
  };
}

interface RandomSet { lat: number[]; lon: number[]; z: number[]; tempC: number[]; plane: PlanePoints }

function randomSet(seed: number, n: number, sideM: number): RandomSet {
  const s = stationSet(seed, { n, sideM, maxElevM: 300, lapseKPerM: -0.0065, noiseK: 0.6, grossShare: 0.08 });
  const lat0 = 52.35, lon0 = 13.1;
  const lat = s.y.map((y) => lat0 + y / M_PER_DEG_LAT);
  const lon = s.x.map((x) => lon0 + x / (M_PER_DEG_LAT * Math.cos((lat0 * Math.PI) / 180)));
  const plane = localPlane(lat.reduce((a, v) => a + v, 0) / n);
  return { lat, lon, z: s.z, tempC: s.tempC, plane: { x: Float64Array.from(lon, (v) => plane.x(v)), y: Float64Array.from(lat, (v) => plane.y(v)), z: Float64Array.from(s.z) } };
}

/** titanlib's box (nearest num_max within the radius, by chords on its sphere) holds the same stations as ours (on the plane). */
function sameBox(s: RandomSet, c: number, o: Omit<SctOptions, 'check'>): boolean {
  const R = 6.378137e6, rad = Math.PI / 180;
  const xyz = (i: number) => [Math.cos(s.lat[i]! * rad) * Math.cos(s.lon[i]! * rad), Math.cos(s.lat[i]! * rad) * Math.sin(s.lon[i]! * rad), Math.sin(s.lat[i]! * rad)].map((v) => v * R);
  const pc = xyz(c);
  const chord = (i: number) => Math.hypot(...xyz(i).map((v, k) => v - pc[k]!));
  const planar = (i: number) => Math.hypot(s.plane.x[i]! - s.plane.x[c]!, s.plane.y[i]! - s.plane.y[c]!);
  const box = (dist: (i: number) => number) => s.lat.map((_, i) => ({ i, d: dist(i) })).filter((p) => p.d <= o.outerRadiusM).sort((a, b) => a.d - b.d).slice(0, o.numMax).map((p) => p.i).sort((a, b) => a - b).join();
  return box(chord) === box(planar);
}

const base: Omit<SctOptions, 'check'> = { ...DEFAULT_QC.sct };
// Thresholds no score reaches: nothing is flagged, so titanlib's in-iteration removal of flagged
// observations (see above) cannot make the boxes differ, and every score can be compared.
const NEVER = 1e9;
const SCORES: { seed: number; o: Omit<SctOptions, 'check'> }[] = [
  { seed: 21, o: { ...base, numIterations: 1, pos: NEVER, neg: NEVER } },
  // A small length-scale floor, so the box's own scale (the 10th-percentile distances) decides.
  { seed: 22, o: { ...base, numIterations: 1, minHorizontalScaleM: 50, numMax: 15, pos: NEVER, neg: NEVER } },
  { seed: 23, o: { ...base, numIterations: 1, numMin: 3, numMax: 40, outerRadiusM: 5000, verticalScaleM: 100, eps2: 0.2, pos: NEVER, neg: NEVER } },
];

test('SCT scores equal titanlib sct\'s (prob_gross_error, inner_radius 0) on seeded random sets', async (t) => {
  const python = await referencePythonForTests();
  if (typeof python !== 'string') return t.skip(python.skip);
  const sets = SCORES.map((sc) => randomSet(sc.seed, 800, 20_000));
  const { versions, results } = await runReference(python, SCORES.map((sc, k) => caseOf(sets[k]!, sets[k]!.tempC, sc.o)));
  t.diagnostic(`titanlib ${versions.titanlib}`);
  let tested = 0, otherBox = 0, maxRel = 0;
  SCORES.forEach((sc, k) => {
    const s = sets[k]!;
    const ours = sct(s.plane, s.tempC, sc.o);
    const ref = results[k]!;
    for (let i = 0; i < s.tempC.length; i++) {
      assert.equal(ours.flags[i], 0);
      assert.equal(ref.flags[i], 0);
      if (!Number.isFinite(ours.score[i]!)) {
        assert.equal(ref.score[i], 0, `seed ${sc.seed}: observation ${i} untested by ours (too few neighbours), so by titanlib`);
        continue;
      }
      tested++;
      // Where the boxes hold the same stations, scores are ε² x² / ((S⁻¹)cc σo²) from the same
      // points, but distances differ by 0.1–0.3 % (titanlib's sphere has the equatorial radius, our
      // plane keeps the scale of its reference latitude) and titanlib's matrix is float32: the
      // correlations differ by up to ~0.3 %, amplified by the box's conditioning (up to (m + ε²)/ε²,
      // ~60 here). 3 % relative, and 5e-3 absolute for scores near zero (where x_c nearly cancels);
      // thresholds are 4 and 8. (Before the length scale's quantile counted the zero distance of a
      // member to itself as titanlib does, scores differed by 10–100 % on ~80 % of observations.)
      if (!sameBox(s, i, sc.o)) {
        otherBox++;
        continue;
      }
      close(ours.score[i]!, ref.score[i]!, { atol: 5e-3, rtol: 3e-2 }, `seed ${sc.seed}: score of observation ${i}`);
      if (ref.score[i]! > 0.1) maxRel = Math.max(maxRel, Math.abs(ours.score[i]! - ref.score[i]!) / ref.score[i]!);
    }
  });
  assert.ok(tested > 2000, `most observations tested (${tested})`);
  // A box differs only where its farthest members sit within ~0.2 % of the radius or of each other.
  assert.ok(otherBox < 0.02 * tested, `${otherBox} of ${tested} boxes differ`);
  t.diagnostic(`${tested} tested; ${otherBox} boxes differ between the two distance models (left out); ${tested - otherBox} scores compared, largest relative difference (scores > 0.1) ${maxRel.toExponential(2)}`);
});

/** Agreement of two flag vectors: identical flags, and the two kinds of disagreement. */
function agreement(ours: ArrayLike<number>, ref: readonly number[]): { n: number; same: number; oursOnly: number; refOnly: number; flaggedOurs: number; flaggedRef: number } {
  assert.equal(ref.length, ours.length);
  const r = { n: ours.length, same: 0, oursOnly: 0, refOnly: 0, flaggedOurs: 0, flaggedRef: 0 };
  for (let i = 0; i < ours.length; i++) {
    const a = ours[i]!, b = ref[i]!;
    if (a === b) r.same++;
    else if (a) r.oursOnly++;
    else r.refOnly++;
    r.flaggedOurs += a;
    r.flaggedRef += b;
  }
  return r;
}

// The target is 95 % at the product's settings (the first and third). The second halves the thresholds
// and runs 3 iterations: a quarter of the set is flagged, and titanlib's in-iteration removal cascades
// further than our three passes (it flags more), so its bound is 90 %.
const FLAGS: { seed: number; o: Omit<SctOptions, 'check'>; minAgreement: number }[] = [
  { seed: 31, o: base, minAgreement: 0.95 },
  { seed: 32, o: { ...base, numIterations: 3, pos: 2, neg: 4 }, minAgreement: 0.9 },
  { seed: 33, o: { ...base, minHorizontalScaleM: 100, numMax: 20 }, minAgreement: 0.95 },
];

test('SCT flags agree with titanlib sct (inner_radius 0) on at least 95 % of observations at the product settings, seeded random sets', async (t) => {
  const python = await referencePythonForTests();
  if (typeof python !== 'string') return t.skip(python.skip);
  const sets = FLAGS.map((sc) => randomSet(sc.seed, 800, 20_000));
  const { results } = await runReference(python, FLAGS.map((sc, k) => caseOf(sets[k]!, sets[k]!.tempC, sc.o)));
  FLAGS.forEach((sc, k) => {
    const s = sets[k]!;
    const a = agreement(sct(s.plane, s.tempC, sc.o).flags, results[k]!.flags);
    t.diagnostic(`seed ${sc.seed}: ${a.same} of ${a.n} flags identical (${((100 * a.same) / a.n).toFixed(2)} %); flagged by ours ${a.flaggedOurs}, by titanlib ${a.flaggedRef}; ours only ${a.oursOnly}, titanlib only ${a.refOnly}`);
    assert.ok(a.flaggedOurs > 0, 'some observations are flagged');
    // Disagreements come from the iteration order and the distance model (see the top of this file).
    assert.ok(a.same >= sc.minAgreement * a.n, `seed ${sc.seed}: ${a.same} of ${a.n} flags identical`);
  });
});

test('SCT flags agree with titanlib sct on at least 95 % of stations in hours of real crowd data (Netatmo Berlin 2017)', async (t) => {
  if (!existsSync(NETATMO)) {
    const reason = `${NETATMO} is absent: the real-data comparison needs the Netatmo Berlin 2017 crowd data beside the checkout`;
    if (process.env.CI === 'true') assert.fail(`${reason} (CI=true: missing data is a failure)`);
    return t.skip(reason);
  }
  const python = await referencePythonForTests();
  if (typeof python !== 'string') return t.skip(python.skip);
  const hours = await crowdHours(NETATMO, ['2017-01-03T12:00:00Z', '2017-06-03T13:00:00Z']);
  const o = DEFAULT_QC.sct;
  // Also both run to convergence (titanlib 5 iterations, ours 10): what is left then is the
  // distance model alone, and the rest of the difference at 2 iterations is the iteration scheme.
  const converged = { ...o, numIterations: 10 };
  const { results } = await runReference(python, hours.flatMap((h) => [caseOf(h, h.tempC, o), caseOf(h, h.tempC, { ...o, numIterations: 5 })]));
  let n = 0, same = 0, sameConverged = 0;
  hours.forEach((h, k) => {
    const a = agreement(sct(h.plane, h.tempC, o).flags, results[2 * k]!.flags);
    const c = agreement(sct(h.plane, h.tempC, converged).flags, results[2 * k + 1]!.flags);
    t.diagnostic(`${h.hour}: ${a.same} of ${a.n} flags identical (${((100 * a.same) / a.n).toFixed(2)} %); flagged by ours ${a.flaggedOurs}, by titanlib ${a.flaggedRef}; ours only ${a.oursOnly}, titanlib only ${a.refOnly}. Converged: ${c.same} identical (${((100 * c.same) / c.n).toFixed(2)} %), flagged ${c.flaggedOurs} and ${c.flaggedRef}`);
    assert.ok(a.flaggedOurs > 0, 'real crowd data has SCT outliers');
    n += a.n;
    same += a.same;
    sameConverged += c.same;
  });
  assert.ok(same >= 0.95 * n, `${same} of ${n} flags identical`);
  // Converged, only the distance models differ (box edges, correlations within ~0.3 %): 99 %.
  assert.ok(sameConverged >= 0.99 * n, `converged: ${sameConverged} of ${n} flags identical`);
});
