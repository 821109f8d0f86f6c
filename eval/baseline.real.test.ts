/**
 * The `baseline` evaluator on the real ../shared/data (Berlin 2017), restricted to 48 run hours that
 * span both months: 2017-01-20T12Z..2017-01-21T23Z (36 h, up to the held-back window) and
 * 2017-06-01T00Z..11Z (12 h). Its figures are checked against a straightforward, independent loop
 * over the raw files (only the pipeline functions under evaluation are shared).
 * Skipped when ../shared/data is absent (a user's clone), but a failure on CI.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { close } from '../infra/testing/close.ts';
import { cellCenter, cellOf } from '../infra/geo/index.ts';
import { buildBackgroundField, type BackgroundSample, nowcastWindow } from '../pipeline/index.ts';
import { baselineOptionsFromArgs, evaluateBaseline } from './baseline.ts';

const dataDir = new URL('../../shared/data/', import.meta.url);
const H = 3_600_000;
const FROM = '2017-01-20T12:00:00Z';
const TO = '2017-06-01T12:00:00Z';

function csvRows(path: string): string[][] {
  const text = gunzipSync(readFileSync(path)).toString('utf8');
  return text.split('\n').slice(1).filter((l) => l !== '').map((l) => l.split(','));
}

function gzFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith('.csv.gz')).sort().map((n) => join(dir, n));
}

it('baseline on the real Berlin 2017 data equals an independent loop; n and background RMSE are sane', async (t) => {
  if (!existsSync(dataDir)) {
    if (process.env.CI === 'true') assert.fail(`${fileURLToPath(dataDir)} is missing on CI: the real-data test must run there`);
    t.skip('../shared/data not present (user clone)');
    return;
  }
  const root = fileURLToPath(dataDir);
  const r = await evaluateBaseline(baselineOptionsFromArgs(['--data', root, '--from', FROM, '--to', TO], () => undefined));
  assert.equal(r.datasets.crowd, join(root, 'netatmo_berlin_2017'));
  assert.equal(r.datasets.official, join(root, 'dwd_berlin_tempelhof_hourly'));
  assert.equal(r.datasets.background, join(root, 'era5_berlin_2017'));

  // --- the independent loop, straight from the files
  const fromMs = Date.parse(FROM), toMs = Date.parse(TO);
  const truth = new Map<number, number>();
  for (const f of gzFiles(join(root, 'dwd_berlin_tempelhof_hourly'))) {
    for (const [time, , , ta] of csvRows(f)) if (ta !== undefined && ta !== '') truth.set(Date.parse(time!), Number(ta));
  }
  const samples: BackgroundSample[] = [];
  const bgTimes = new Set<number>();
  for (const f of gzFiles(join(root, 'era5_berlin_2017'))) {
    for (const [time, lat, lon, t2m] of csvRows(f)) {
      const ms = Date.parse(time!);
      samples.push({ pointId: `${lat}/${lon}`, lat: Number(lat), lon: Number(lon), validTimeMs: ms, tempC: Number(t2m) });
      bgTimes.add(ms);
    }
  }
  const field = buildBackgroundField(samples);
  const pos = new Map<string, { lat: number; lon: number }>();
  for (const [id, lon, lat] of readFileSync(join(root, 'netatmo_berlin_2017', 'stations.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))) {
    if (lat !== '' && lon !== '') pos.set(id!, { lat: Number(lat), lon: Number(lon) });
  }
  // hourly snapshots stamped on the full hour: select the lines by their time string (cheap)
  const wanted = new Map<string, number>();
  for (let h = fromMs; h < toMs; h += H) wanted.set(new Date(h).toISOString().replace('.000Z', 'Z'), h);
  const byHour = new Map<number, { id: string; ta: number }[]>();
  for (const f of gzFiles(join(root, 'netatmo_berlin_2017'))) {
    const lines = gunzipSync(readFileSync(f)).toString('utf8').split('\n');
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const c1 = line.indexOf(','), c2 = line.indexOf(',', c1 + 1);
      const ms = wanted.get(line.slice(c1 + 1, c2));
      if (ms === undefined) continue;
      const id = line.slice(0, c1), ta = line.slice(c2 + 1);
      if (ta === '' || !pos.has(id)) continue;
      const list = byHour.get(ms) ?? [];
      list.push({ id, ta: Number(ta) });
      byHour.set(ms, list);
    }
  }
  const station = { lat: 52.4675, lon: 13.4021 };
  const cell = cellOf(station, 9);
  const centre = cellCenter(cell);
  const hours = [...byHour.keys()].filter((h) => truth.has(h) && bgTimes.has(h)).sort((a, b) => a - b);
  const e0bg: number[] = [], e0: number[] = [], e60: number[] = [], e60bg: number[] = [], e60p: number[] = [];
  let in0 = 0, in60 = 0;
  for (const h of hours) {
    const rs = byHour.get(h)!;
    const w = {
      sensorId: rs.map((x) => x.id),
      cell: rs.map((x) => cellOf(pos.get(x.id)!, 9)),
      timeMs: rs.map(() => h),
      lat: rs.map((x) => pos.get(x.id)!.lat),
      lon: rs.map((x) => pos.get(x.id)!.lon),
      tempC: rs.map((x) => x.ta),
    };
    const nc = nowcastWindow(w, field, [{ cell, centre }], { runTimeMs: h, stepMin: 5, steps: 12 }).cells[0]!;
    const y0 = truth.get(h)!;
    e0bg.push(field.at(centre, h) - y0);
    e0.push(nc.tempsC[0]! - y0);
    if (Math.abs(e0[e0.length - 1]!) <= nc.sigmasC[0]!) in0++;
    const y1 = truth.get(h + H);
    if (y1 !== undefined && bgTimes.has(h + H)) {
      e60.push(nc.tempsC[12]! - y1);
      e60bg.push(field.at(centre, h + H) - y1);
      e60p.push(y0 - y1);
      if (Math.abs(e60[e60.length - 1]!) <= nc.sigmasC[12]!) in60++;
    }
  }
  const stats = (e: number[]) => {
    let s = 0, a = 0, q = 0;
    for (const x of e) { s += x; a += Math.abs(x); q += x * x; }
    return { biasK: s / e.length, maeK: a / e.length, rmseK: Math.sqrt(q / e.length), n: e.length };
  };

  // --- n: every overlapping hour has a valid truth here (36 in January up to the held-back window, 12 in June)
  assert.equal(hours.length, 48);
  assert.equal(r.period.hours, hours.length);
  assert.equal(r.overall.methods.background.n, hours.length);
  assert.equal(r.overall.methods.baselineLead0.n, hours.length);
  // lead 60 loses 2017-01-21T23Z: its h + 1 h lies in the held-back window (no truth, no background)
  assert.equal(r.overall.methods.baselineLead60.n, 47);
  assert.deepEqual(Object.keys(r.byMonth), ['2017-01', '2017-06']);
  assert.equal(r.byMonth['2017-01']!.methods.background.n, 36);
  assert.equal(r.byMonth['2017-06']!.methods.background.n, 12);

  // --- physically sane
  const bgRmse = r.overall.methods.background.rmseK;
  assert.ok(Number.isFinite(bgRmse) && bgRmse >= 0.3 && bgRmse <= 5, `background RMSE ${bgRmse} K outside 0.3..5 K`);

  // --- the same numbers as the independent loop (same order of summation: 1e-9 K is float noise)
  const tol = { atol: 1e-9 };
  for (const [name, errors] of [['background', e0bg], ['baselineLead0', e0], ['baselineLead60', e60], ['backgroundLead60', e60bg], ['persistenceLead60', e60p]] as const) {
    const want = stats(errors);
    const got = r.overall.methods[name];
    assert.equal(got.n, want.n, `${name} n`);
    close(got.biasK, want.biasK, tol, `${name} bias`);
    close(got.maeK, want.maeK, tol, `${name} MAE`);
    close(got.rmseK, want.rmseK, tol, `${name} RMSE`);
  }
  close(r.overall.spreadSkill.lead0.withinOneSigma, in0 / e0.length, tol, 'within 1 sigma, lead 0');
  close(r.overall.spreadSkill.lead60.withinOneSigma, in60 / e60.length, tol, 'within 1 sigma, lead 60');
});
