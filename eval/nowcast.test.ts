/**
 * `npm run eval -- nowcast` end to end on hand-checkable data in the real formats: a 5-minute
 * logger warming 0.1 K per step and an hourly DWD series warming 1 K per hour, no background; test
 * double models. Persistence and the filter (persistence without a background) are then off by
 * exactly 1.2 K (logger) and 1 K (hourly) at lead 60, and change by 0.1 K between issues.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { close } from '../infra/testing/close.ts';
import { arToOnnx, type ArModel } from '../models/index.ts';
import { writeModel, writeTestBilstm, tempModelDir } from '../models/registry/test-artifacts.ts';
import { iso, tempDir, writeGz } from './fixtures.ts';

const T0 = Date.UTC(2018, 4, 2, 0);
const root = fileURLToPath(new URL('..', import.meta.url));

function writeData(): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'logger'));
  mkdirSync(join(dir, 'dwd'));
  const rows = ['time,delay_min,ta,rh,abs_pressure_hpa,wind_ave_ms,wind_gust_ms,wind_dir_idx,rain_counter_mm,status'];
  for (let k = 0; k < 144; k++) rows.push(`${iso(T0 + k * 300_000)},5,${(10 + 0.1 * k).toFixed(1)},80,1010,1,2,4,0,0`);
  rows.push(`${iso(T0 + 144 * 300_000)},5,,80,1010,1,2,4,0,64`); // lost contact: no value
  writeGz(join(dir, 'logger', 'obs.csv.gz'), rows);
  writeGz(join(dir, 'dwd', 'obs.csv.gz'), ['time,station_id,qn_9,ta,rh', ...Array.from({ length: 13 }, (_, h) => `${iso(T0 + h * 3_600_000)},433,3,${5 + h},80`)]);
  return dir;
}

function writeModels(): string {
  const dir = tempModelDir();
  writeTestBilstm(dir);
  for (const [name, ar] of [['ar-5min', { lagSteps: [1], leadSteps: Array.from({ length: 12 }, (_, i) => i + 1), coef: Array.from({ length: 12 }, () => [0]), intercept: Array(12).fill(0), rows: [] }], ['ar-hourly', { lagSteps: [12], leadSteps: [12], coef: [[1]], intercept: [0], rows: [] }]] as [string, ArModel][]) {
    writeModel(dir, name, arToOnnx(ar, { name, version: '0' }), {
      version: '0', description: 'test double', ar,
      inputs: [{ name: 'lags', dims: ['N', ar.lagSteps.length + 1], type: 'float32' }], outputs: [{ name: 'y', dims: ['N', ar.leadSteps.length], type: 'float32' }],
    });
  }
  return dir;
}

describe('eval nowcast', () => {
  it('--json ends with the figures; persistence, filter and AR are the closed forms; a chart is written', () => {
    const data = writeData(), models = writeModels();
    const chart = join(tempDir(), 'chart.svg');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'eval/main.ts', 'nowcast', '--data', data, '--models', models, '--chart', chart, '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const f = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    for (const k of ['eval', 'n', 'mae_60_persistence', 'mae_60_ar', 'mae_60_filter', 'mae_60_bilstm', 'rmse_60_persistence', 'rmse_60_ar', 'rmse_60_bilstm', 'jumpiness_filter', 'jumpiness_bilstm']) assert.ok(k in f, `field ${k}`);
    assert.equal(f.eval, 'nowcast');
    // logger issues: slots 24..131 have a reading 60 min later (108); hourly: 02:00..11:00 (10)
    assert.equal(f.n_5min_lead60, 108);
    assert.equal(f.n_hourly_lead60, 10);
    assert.equal(f.n, 118);
    const tol = { atol: 1e-3 }; // figures are rounded to 3 decimals
    close(f.mae_60_persistence, (108 * 1.2 + 10 * 1) / 118, tol);
    close(f.mae_60_filter, f.mae_60_persistence, tol); // no background: the filter persists the analysis
    // by station: the logger's persistence is off by 1.2 K at lead 60, the hourly series' by 1 K
    const byId = Object.fromEntries(f.stations.map((st: { id: string }) => [st.id, st]));
    assert.deepEqual(Object.keys(byId).sort(), ['dwd:433', 'pws:logger']);
    assert.equal(byId['pws:logger'].n_60, 108);
    assert.equal(byId['dwd:433'].n_60, 10);
    close(byId['pws:logger'].mae_60.persistence, 1.2, tol);
    close(byId['dwd:433'].mae_60.persistence, 1, tol);
    close(byId['dwd:433'].mae_60.ar, 0, tol);
    close(f.mae_60_persistence_hourly, 1, tol);
    close(f.mae_15_persistence_5min, 0.3, tol);
    // AR doubles: the 5-minute one is persistence (zero coefficients); the hourly one extrapolates the last hour's change exactly
    close(f.mae_60_ar_hourly, 0, tol);
    close(f.jumpiness_persistence, 0.1, tol);
    close(f.jumpiness_filter, 0.1, tol);
    // the logger rises steadily, so persistence revises every target time one way: its jumpiness is its floor
    close(f.jumpiness_floor.persistence, 0.1, tol);
    close(f.jumpiness_by_gap_min['5'].floor.persistence, 0.1, tol);
    assert.ok(f.jumpiness_floor.bilstm <= f.jumpiness_bilstm + 1e-9);
    assert.ok(Number.isFinite(f.mae_60_bilstm) && Number.isFinite(f.jumpiness_bilstm));
    // the served BiLSTM is the raw one blended with the previous issue: lead 60 is never blended (no earlier forecast of it)
    for (const k of ['mae_60_bilstm_raw', 'rmse_60_bilstm_raw', 'jumpiness_bilstm_raw']) assert.ok(Number.isFinite(f[k]), `field ${k}`);
    close(f.mae_60_bilstm, f.mae_60_bilstm_raw, tol);
    close(f.mae_60_bilstm_hourly, f.mae_60_bilstm_raw_hourly, tol);
    // the cold start: the network on the 5-minute issues with 0, 6 and 12 steps of history, beside
    // persistence and the network with all of it on the same cases
    close(f.cold_start.persistence.mae_15, 0.3, tol);
    close(f.cold_start.persistence.mae_60, 1.2, tol);
    for (const lead of [5, 15, 30, 60]) close(f.cold_start.full[`mae_${lead}`], f[`mae_${lead}_bilstm_raw_5min`], tol);
    for (const m of [0, 6, 12]) for (const lead of [5, 15, 30, 60]) assert.ok(Number.isFinite(f.cold_start[`history_${m}`][`mae_${lead}`]), `history_${m} lead ${lead}`);
    assert.equal(f.blend.weights.length, 13);
    assert.equal(f.blend.weights[0], 1);
    assert.ok(existsSync(chart) && readFileSync(chart, 'utf8').includes('<svg'));
    assert.match(r.stderr, /\[eval nowcast\]/);
  });

  it('--blend-w 1 serves the raw network; a bad blend is a usage error (exit 2)', () => {
    const data = writeData(), models = writeModels();
    const run = (...extra: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'eval/main.ts', 'nowcast', '--data', data, '--models', models, '--chart', join(tempDir(), 'c.svg'), '--json', ...extra], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    const r = run('--blend-w', '1');
    assert.equal(r.status, 0, r.stderr);
    const f = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    for (const lead of [5, 15, 30, 60]) assert.equal(f[`mae_${lead}_bilstm_5min`], f[`mae_${lead}_bilstm_raw_5min`], `lead ${lead}`);
    assert.equal(f.jumpiness_bilstm, f.jumpiness_bilstm_raw);
    const bad = run('--blend-w', '0');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /wMin must be in \(0, 1\]/);
    const badSplit = run('--split', 'test');
    assert.equal(badSplit.status, 2);
    assert.match(badSplit.stderr, /--split expects all, validation or train/);
    const badEvery = run('--history-every', '0');
    assert.equal(badEvery.status, 2);
    assert.match(badEvery.stderr, /--history-every expects a positive integer/);
    // an hourly history (every 12th step) on the logger: persistence and the filter do not use the history
    const thin = run('--history-every', '12');
    assert.equal(thin.status, 0, thin.stderr);
    const ft = JSON.parse(thin.stdout.trim().split('\n').at(-1)!);
    assert.equal(ft.history_every, 12);
    assert.equal(ft.mae_60_persistence, f.mae_60_persistence);
    assert.equal(ft.mae_60_filter, f.mae_60_filter);
    assert.equal(ft.history_hold, false);
    const held = run('--history-every', '12', '--history-hold');
    assert.equal(held.status, 0, held.stderr);
    const fh = JSON.parse(held.stdout.trim().split('\n').at(-1)!);
    assert.equal(fh.history_hold, true);
    assert.equal(fh.mae_60_persistence, f.mae_60_persistence);
    assert.notEqual(fh.mae_5_bilstm_raw_5min, ft.mae_5_bilstm_raw_5min, 'a held history is another input than a missing one');
    const holdAlone = run('--history-hold');
    assert.equal(holdAlone.status, 2);
    assert.match(holdAlone.stderr, /--history-hold needs --history-every/);
  });

  it('a folder without station series is a usage error (exit 2)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'eval/main.ts', 'nowcast', '--data', tempDir(), '--models', writeModels()], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no station series/);
  });
});
