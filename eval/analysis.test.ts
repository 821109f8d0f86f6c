// The analysis evaluator on the small baseline fixture (two crowd stations, ERA5 points, the official
// truths over three hours): option checks, the slow time scale it runs with, and the figures when QC
// leaves no crowd reading (both fixture stations stand alone: 'isolated'), where the analysis must be
// the background and every +60 min variant the background an hour on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analysisEvaluator } from './analysis.ts';
import { UsageError } from './evaluator.ts';
import { tempDir, TRUTH_POSITION, writeBaselineFixture } from './fixtures.ts';

const quiet = () => undefined;

describe('analysis evaluator', () => {
  const root = writeBaselineFixture();
  const chart = join(tempDir(), 'analysis.svg');
  const args = ['--data', root, '--station-lat', String(TRUTH_POSITION.lat), '--station-lon', String(TRUTH_POSITION.lon), '--chart', chart];

  it('--slow-tau-h must be a positive number of hours', async () => {
    for (const bad of ['0', '-3', 'abc']) {
      await assert.rejects(analysisEvaluator.run({ args: [...args, `--slow-tau-h=${bad}`], progress: quiet }), (e: unknown) => e instanceof UsageError && /slow-tau-h/.test(e.message), bad);
    }
  });

  it('scores the official truth at lead 0 and +60 min with the batch\'s slow time scale, or the one given', async () => {
    const r = await analysisEvaluator.run({ args, progress: quiet });
    const detail = r.detail as { slow_tau_h: number; hours: number };
    assert.equal(detail.slow_tau_h, 24);
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
    const short = await analysisEvaluator.run({ args: [...args, '--slow-tau-h', '1'], progress: quiet });
    assert.equal((short.detail as { slow_tau_h: number }).slow_tau_h, 1);
    for (const k of ['official_rmse_background', 'official_rmse_analysis', 'official_rmse_forecast_60']) assert.equal(short[k], r[k], k);
  });
});
