// The analysis evaluator on the small baseline fixture (two crowd stations, ERA5 points, the official
// truths over three hours): option checks, the bias model it runs with, and the figures when QC
// leaves no crowd reading (both fixture stations stand alone: 'isolated'), where the analysis must be
// the background and every +60 min variant the background an hour on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analysisEvaluator, historyFromTrajectories, steadyTrajectory } from './analysis.ts';
import { close } from '../infra/testing/close.ts';
import { stationFilterRetention } from '../pipeline/index.ts';
import { UsageError } from './evaluator.ts';
import { tempDir, TRUTH_POSITION, writeBaselineFixture } from './fixtures.ts';
import { tempModelDir, writeTestBilstm } from '../models/registry/test-artifacts.ts';

const quiet = () => undefined;

describe('analysis evaluator', () => {
  const root = writeBaselineFixture();
  const chart = join(tempDir(), 'analysis.svg');
  const args = ['--data', root, '--station-lat', String(TRUTH_POSITION.lat), '--station-lon', String(TRUTH_POSITION.lon), '--chart', chart];

  it('--slow-tau-h and --diurnal-tau-h must be positive numbers of hours, --diurnal-sigma and --area-slow-sigma non-negative', async () => {
    for (const [flag, bad] of [['slow-tau-h', '0'], ['slow-tau-h', '-3'], ['slow-tau-h', 'abc'], ['diurnal-tau-h', '0'], ['diurnal-sigma', '-1'], ['diurnal-sigma', 'x'], ['area-slow-sigma', '-0.5']] as const) {
      await assert.rejects(analysisEvaluator.run({ args: [...args, `--${flag}=${bad}`], progress: quiet }), (e: unknown) => e instanceof UsageError && e.message.includes(flag), `${flag}=${bad}`);
    }
  });

  type Parts = { bias_parts: { name: string; scale: string; regressor: string; tau_h: number; sigma_k: number }[] };
  it('scores the official truth at lead 0 and +60 min with the batch\'s bias model, or the one given', async () => {
    const r = await analysisEvaluator.run({ args, progress: quiet });
    assert.deepEqual((r.detail as Parts).bias_parts.map((p) => [p.name, p.scale, p.regressor, p.tau_h, p.sigma_k]), [
      ['fast', 'area', 'level', 3, 1], ['slow', 'place', 'level', 24, 1], ['diurnal-cos', 'place', 'day-cos', 72, 1], ['diurnal-sin', 'place', 'day-sin', 72, 1], ['area-slow', 'area', 'level', 24, 1],
    ]);
    assert.ok((r.official_n as number) >= 3, `official_n ${String(r.official_n)}`); // three hours at each official truth
    for (const k of ['official_rmse_background', 'official_rmse_analysis', 'official_rmse_forecast_60', 'official_rmse_analysis_persistence_60', 'official_rmse_held_bias_60']) {
      assert.ok(Number.isFinite(r[k] as number) && (r[k] as number) >= 0, `${k} = ${String(r[k])}`);
    }
    const reasons = (r.detail as { qc_reasons: Record<string, number> }).qc_reasons;
    assert.equal(reasons.ok, 0);
    assert.equal(reasons.isolated, 4);
    // No observation: bias 0 everywhere, so the analysis is the background, and the forecast, the
    // held-bias diagnostic and the background an hour on are one and the same.
    const off = (r.detail as { official: Record<string, { rmseK: number; n: number }> }).official;
    assert.equal(off.analysis!.rmseK, off.background!.rmseK);
    assert.equal(off.forecast60!.rmseK, off.backgroundAt60!.rmseK);
    assert.equal(r.official_rmse_held_bias_60, off.backgroundAt60!.rmseK);
    assert.equal(off.forecast60!.n, 6); // the first hour has no hour before it
    // The centred figures split the same errors: per method, rmse² = crmse² + offset² over the same pairs.
    type Centred = Record<string, { crmseK: number; rmsOffsetK: number; rmseK: number; n: number; groups: number }>;
    const cOff = (r.detail as { centred: { official: Centred } }).centred.official;
    for (const [m, plain] of [['analysis', off.analysis!], ['forecast60', off.forecast60!]] as const) {
      assert.equal(cOff[m]!.n, plain.n, m);
      assert.ok(cOff[m]!.groups >= 1 && cOff[m]!.crmseK <= plain.rmseK + 1e-4, m);
      close(Math.hypot(cOff[m]!.crmseK, cOff[m]!.rmsOffsetK), plain.rmseK, { atol: 2e-4 }); // figures rounded to 4 digits
    }
    assert.equal(r.official_crmse_forecast_60, cOff.forecast60!.crmseK);
    const other = await analysisEvaluator.run({ args: [...args, '--slow-tau-h', '1', '--diurnal-tau-h', '12', '--diurnal-sigma', '0.5'], progress: quiet });
    assert.deepEqual((other.detail as Parts).bias_parts.map((p) => [p.tau_h, p.sigma_k]), [[3, 1], [1, 1], [12, 0.5], [12, 0.5], [24, 1]]);
    const noDiurnal = await analysisEvaluator.run({ args: [...args, '--diurnal-sigma', '0', '--area-slow-sigma', '0.5'], progress: quiet });
    assert.deepEqual((noDiurnal.detail as Parts).bias_parts.map((p) => [p.name, p.sigma_k]), [['fast', 1], ['slow', 1], ['area-slow', 0.5]]);
    const levels = await analysisEvaluator.run({ args: [...args, '--diurnal-sigma', '0', '--area-slow-sigma', '0'], progress: quiet });
    assert.deepEqual((levels.detail as Parts).bias_parts.map((p) => p.name), ['fast', 'slow']);
    for (const k of ['official_rmse_background', 'official_rmse_analysis', 'official_rmse_forecast_60']) {
      assert.equal(other[k], r[k], k);
      assert.equal(noDiurnal[k], r[k], k);
    }
  });

  it('scores the smoother\'s +60 min as served: a smoother answering the filter\'s trajectory scores as the forecast; none without a model', async () => {
    const identity = tempModelDir();
    writeTestBilstm(identity, 1, { identity: true });
    const r = await analysisEvaluator.run({ args: [...args, '--models', identity], progress: quiet });
    assert.equal(r.served_60_model, 'bilstm@test.1');
    const off = (r.detail as { official: Record<string, { rmseK: number; n: number }> }).official;
    assert.equal(off.served60!.n, off.forecast60!.n);
    // the served trajectory is the batch's, rounded to 0.01 K (pipeline/emit.ts) and passed through float32
    assert.ok(Math.abs((r.official_rmse_served_60 as number) - (r.official_rmse_forecast_60 as number)) <= 0.006, `${String(r.official_rmse_served_60)} against ${String(r.official_rmse_forecast_60)}`);
    const seeded = tempModelDir();
    writeTestBilstm(seeded, 2);
    const s = await analysisEvaluator.run({ args: [...args, '--models', seeded], progress: quiet });
    assert.notEqual(s.official_rmse_served_60, r.official_rmse_served_60, 'a network that corrects the trajectory scores otherwise');
    // the trajectory the network was trained on instead of the batch's (its arithmetic: the last test)
    const steady = await analysisEvaluator.run({ args: [...args, '--models', identity, '--smoother-trajectory', 'steady'], progress: quiet });
    assert.equal(steady.served_60_trajectory, 'steady');
    assert.equal(r.served_60_trajectory, 'five-part');
    assert.ok(Number.isFinite(steady.official_rmse_served_60 as number));
    // here QC keeps no reading, so every bias is 0 and both trajectories are the background's next hour
    assert.equal(steady.official_rmse_served_60, r.official_rmse_served_60);
    await assert.rejects(analysisEvaluator.run({ args: [...args, '--smoother-trajectory', 'flat'], progress: quiet }), /--smoother-trajectory must be five-part or steady/);
    // the history: the batch's 5-minute analyses by default, the hourly ones alone on request (its arithmetic: historyFromTrajectories' test)
    assert.equal(s.served_60_history, 'filled');
    const hourly = await analysisEvaluator.run({ args: [...args, '--models', seeded, '--smoother-history', 'hourly'], progress: quiet });
    assert.equal(hourly.served_60_history, 'hourly');
    assert.ok(Number.isFinite(hourly.official_rmse_served_60 as number));
    await assert.rejects(analysisEvaluator.run({ args: [...args, '--smoother-history', 'daily'], progress: quiet }), /--smoother-history must be filled or hourly/);
    const none = await analysisEvaluator.run({ args: [...args, '--models', tempModelDir()], progress: quiet });
    assert.equal(none.served_60_model, null);
    assert.equal(none.official_rmse_served_60, null);
    assert.equal(none.official_rmse_forecast_60, r.official_rmse_forecast_60);
  });

  it('the history from the trajectories emitted at the hours before: the analysis on the hour, the forecast between', () => {
    // H = 24 steps of 5 min (2 h), K = 13 (leads 0..60); two cells; earlier[0] emitted 1 h before, earlier[1] 2 h before
    const H = 24, K = 13, n = 2;
    const traj = (base: number) => Float32Array.from({ length: n * K }, (_, q) => base + 100 * Math.floor(q / K) + (q % K)); // cell t, lead k -> base + 100 t + k
    const earlier = [traj(1000), traj(2000)];
    const h = historyFromTrajectories(earlier, n, H, K, true);
    for (let t = 0; t < n; t++) {
      for (let k = 0; k < 12; k++) assert.equal(h[t * H + k], 2000 + 100 * t + k, `cell ${t} step ${k}: 2 h before + ${k * 5} min`);
      for (let k = 12; k < 24; k++) assert.equal(h[t * H + k], 1000 + 100 * t + (k - 12), `cell ${t} step ${k}: 1 h before + ${(k - 12) * 5} min`);
    }
    // hourly: the analyses 2 h and 1 h before only
    const hourly = historyFromTrajectories(earlier, n, H, K, false);
    for (let k = 0; k < H; k++) {
      if (k === 0 || k === 12) assert.equal(hourly[H + k], (k === 0 ? 2000 : 1000) + 100);
      else assert.ok(Number.isNaN(hourly[H + k]!), `step ${k} is missing`);
    }
    // an hour without an issue (a gap in the data) leaves its steps missing
    const gap = historyFromTrajectories([traj(1000), null], n, H, K, true);
    assert.ok(Number.isNaN(gap[0]!) && Number.isNaN(gap[11]!) && gap[12] === 1000 && gap[23] === 1011);
  });

  it('the steady trajectory: the background at each lead plus the lead-0 bias times the share a lasting bias keeps', () => {
    const K = 3, keep = stationFilterRetention(5, K - 1);
    const bg = [Float64Array.of(1, 10), Float64Array.of(2, 11), Float64Array.of(4, 12)]; // two rows' background at leads 0, 5, 10 min
    const tr = Float32Array.of(3, 0, 0, NaN, 0, 0); // lead-0 values 3 (bias 2) and none
    steadyTrajectory(tr, K, (k) => bg[k]!);
    close(tr[0]!, 1 + 2 * keep[0]!, { atol: 1e-6 }); // float32
    close(tr[1]!, 2 + 2 * keep[1]!, { atol: 1e-6 });
    close(tr[2]!, 4 + 2 * keep[2]!, { atol: 1e-6 });
    assert.ok(Number.isNaN(tr[3]!) && tr[4] === 0 && tr[5] === 0, 'a row without a lead-0 value stays as it is');
    assert.ok(keep[2]! < keep[1]! && keep[1]! <= 1, 'the share decays with lead');
  });
});
