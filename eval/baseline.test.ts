import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { close } from '../infra/testing/close.ts';
import { baselineOptionsFromArgs, coversFn, evaluateBaseline } from './baseline.ts';
import { UsageError } from './evaluator.ts';
import { T0, tempDir, TRUTH_POSITION, writeBaselineFixture } from './fixtures.ts';

const H = 3_600_000;
// The figures below are hand-computed from the fixture (see fixtures.ts); nowcast temperatures and
// sigmas are rounded to 0.01 by the pipeline, so those are compared to 1e-9 after that rounding.
const TOL = { atol: 1e-9 };
const quiet = () => undefined;
const stationArgs = ['--station-lat', String(TRUTH_POSITION.lat), '--station-lon', String(TRUTH_POSITION.lon)];

describe('baseline evaluator on a hand-checkable fixture', () => {
  const root = writeBaselineFixture();

  it('DWD truth: background, baseline lead 0 / 60 and persistence figures', async () => {
    const r = await evaluateBaseline(baselineOptionsFromArgs(['--data', root, ...stationArgs], quiet));
    assert.equal(r.datasets.officialFormat, 'official-dwd'); // DWD and UCO tie on overlap; the first by folder name
    assert.equal(r.period.hours, 3);
    assert.deepEqual(r.period.segments, [{ from: '2017-01-10T00:00:00Z', to: '2017-01-10T02:00:00Z', hours: 3 }]);
    const m = r.overall.methods;
    // lead 0: truth 10.5, 12.5, 12; background 10, 11, 12 -> errors -0.5, -1.5, 0
    assert.equal(m.background.n, 3);
    close(m.background.biasK, -2 / 3, TOL);
    close(m.background.maeK, 2 / 3, TOL);
    close(m.background.rmseK, Math.sqrt(2.5 / 3), TOL);
    // domain biases (median innovation): T0 +1 (A); T0+1h median(+2 A, 0 B at 00:30) = +1; T0+2h 0
    // -> nowcasts 11, 12, 12 -> errors 0.5, -0.5, 0
    close(m.baselineLead0.biasK, 0, TOL);
    close(m.baselineLead0.maeK, 1 / 3, TOL);
    close(m.baselineLead0.rmseK, Math.sqrt(0.5 / 3), TOL);
    // lead 60: truth 12.5, 12, 13.5; background 11, 12, 13; baseline = bg + b e^(-1/3) rounded:
    // 11.72, 12.72, 13 -> errors -0.78, 0.72, -0.5; persistence 10.5, 12.5, 12 -> -2, 0.5, -1.5
    assert.equal(m.baselineLead60.n, 3);
    close(m.backgroundLead60.biasK, -2 / 3, TOL);
    close(m.backgroundLead60.rmseK, Math.sqrt(2.5 / 3), TOL);
    close(m.baselineLead60.biasK, -0.56 / 3, TOL);
    close(m.baselineLead60.maeK, 2 / 3, TOL);
    close(m.baselineLead60.rmseK, Math.sqrt((0.78 ** 2 + 0.72 ** 2 + 0.5 ** 2) / 3), TOL);
    close(m.persistenceLead60.biasK, -1, TOL);
    close(m.persistenceLead60.maeK, 4 / 3, TOL);
    close(m.persistenceLead60.rmseK, Math.sqrt(6.5 / 3), TOL);
    // sigmas at lead 0: hypot(0.3, 0.3) -> 0.42 (|e| 0.5 outside), hypot(0.3, 1.4826) -> 1.51 (inside), 0.42 (|e| 0 inside)
    close(r.overall.spreadSkill.lead0.withinOneSigma, 2 / 3, TOL);
    close(r.overall.spreadSkill.lead0.rmsSigmaK, Math.sqrt((0.42 ** 2 * 2 + 1.51 ** 2) / 3), TOL);
    // lead 60: sigmas 1.43, 1.77, 1.43 against |e| 0.78, 0.72, 0.5: all inside
    close(r.overall.spreadSkill.lead60.withinOneSigma, 1, TOL);
    assert.deepEqual(Object.keys(r.byMonth), ['2017-01']);
    assert.deepEqual(r.byMonth['2017-01']!.methods, r.overall.methods);
    close(r.overall.skill.lead0VsBackground, 1 - Math.sqrt(0.5 / 3) / Math.sqrt(2.5 / 3), TOL);
    assert.equal(r.crowd.readingsUsed, 4);
    assert.equal(r.crowd.stations, 2);
    assert.equal(r.crowd.truthCellObservedFraction, 0);
    assert.equal(r.truthStations[0]!.id, '433');
  });

  it('UCO truth: every station is a truth point; one in a crowd cell gets that cell\'s bias', async () => {
    const r = await evaluateBaseline(baselineOptionsFromArgs(['--data', root, '--official', join(root, 'uco')], quiet));
    assert.equal(r.datasets.officialFormat, 'official-uco');
    assert.deepEqual(r.truthStations.map((s) => s.id), ['u1', 'u2']);
    // u1 as the DWD station above; u2 (cell of A) gets A's own innovation: 11, 13, 12 -> errors 0, 0, 0
    const m = r.overall.methods;
    assert.equal(m.baselineLead0.n, 6);
    close(m.baselineLead0.rmseK, Math.sqrt(0.5 / 6), TOL);
    close(r.crowd.truthCellObservedFraction, 0.5, TOL);
    // only u2
    const r2 = await evaluateBaseline(baselineOptionsFromArgs(['--data', root, '--official', join(root, 'uco'), '--station-id', 'u2'], quiet));
    assert.equal(r2.overall.methods.baselineLead0.n, 3);
    close(r2.overall.methods.baselineLead0.rmseK, 0, TOL);
  });

  it('--from/--to restrict the run hours (to exclusive); truth at h + 1 h may lie beyond --to', async () => {
    const r = await evaluateBaseline(baselineOptionsFromArgs(['--data', root, ...stationArgs, '--from', '2017-01-10T01:00Z', '--to', '2017-01-10T02:00Z'], quiet));
    assert.equal(r.period.hours, 1);
    assert.equal(r.overall.methods.baselineLead60.n, 1);
    close(r.overall.methods.persistenceLead60.biasK, 0.5, TOL);
  });

  it('bad arguments and data folders are usage errors', () => {
    const f = (args: string[]) => () => baselineOptionsFromArgs(args, quiet);
    assert.throws(f([]), (e: unknown) => e instanceof UsageError && /--data <dir> is required/.test(e.message));
    assert.throws(f(['--data', join(root, 'nope')]), (e: unknown) => e instanceof UsageError && /no such folder/.test(e.message));
    assert.throws(f(['--data', join(root, 'pws')]), (e: unknown) => e instanceof UsageError && /no crowd data set/.test(e.message));
    assert.throws(f(['--data', root, '--background', join(root, 'dwd')]), (e: unknown) => e instanceof UsageError && /not a background data set/.test(e.message));
    assert.throws(f(['--data', root, '--from', 'soon']), UsageError);
    assert.throws(f(['--data', root, '--from', '2017-02-01', '--to', '2017-01-01']), UsageError);
    assert.throws(f(['--data', root, '--station-lat', '95']), UsageError);
    assert.throws(f(['--data', root, '--bogus']), UsageError);
  });

  it('no overlapping hour is a usage error naming the data sets', async () => {
    const o = baselineOptionsFromArgs(['--data', root, '--from', '2018-01-01'], quiet);
    await assert.rejects(evaluateBaseline(o), (e: unknown) => e instanceof UsageError && /no background rows|overlap/.test(e.message));
  });

  it('coversFn: a background time at t or neighbours within an hour on both sides', () => {
    const c = coversFn([T0, T0 + H, T0 + 5 * H]);
    assert.equal(c(T0), true);
    assert.equal(c(T0 + H / 2), true);
    assert.equal(c(T0 + 2 * H), false); // inside a gap: only bridged by interpolation
    assert.equal(c(T0 - 1), false);
    assert.equal(c(T0 + 6 * H), false);
  });
});

describe('eval CLI', () => {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });

  it('unknown evaluator, missing or invalid --data: a message and exit code 2', () => {
    const unknown = run(['nope', '--data', '.']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown evaluator "nope"/);
    assert.match(unknown.stderr, /baseline/);
    const none = run([]);
    assert.equal(none.status, 2);
    const missing = run(['baseline']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--data <dir> is required/);
    const invalid = run(['baseline', '--data', join(tempDir(), 'absent')]);
    assert.equal(invalid.status, 2);
    assert.match(invalid.stderr, /no such folder/);
    const empty = run(['baseline', '--data', tempDir()]);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /no crowd data set/);
  });

  it('--json: the last stdout line is one JSON object with the figures; progress on stderr', () => {
    const root = writeBaselineFixture();
    const r = run(['baseline', '--data', root, '--json', ...stationArgs]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const j = JSON.parse(lines[lines.length - 1]!);
    assert.equal(j.eval, 'baseline');
    assert.equal(j.overall.methods.background.n, 3);
    assert.equal(j.overall.methods.background.rmseK, 0.9129); // sqrt(2.5/3), rounded to 4 decimals
    assert.match(r.stderr, /\[eval baseline\] found crowd-netatmo/);
    const table = run(['baseline', '--data', root, ...stationArgs]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /baseline lead 60 min/);
    assert.match(table.stdout, /RMSE K/);
  });
});
