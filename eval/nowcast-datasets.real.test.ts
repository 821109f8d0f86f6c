/**
 * The station series of the real ../shared/data, found by columns: the Falkensee logger (3-minute in
 * 2017) fills nearly every 5-minute slot of a March week, DWD Tempelhof is hourly, the 23 UCO
 * stations are there, and ERA5 covers both 2017 stations. Skipped when ../shared/data is absent
 * (a user's clone), a failure on CI.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadStationSeries } from './nowcast-datasets.ts';

const dataDir = new URL('../../shared/data/', import.meta.url);

it('real data: logger, official hourly series and background found by columns and put on the 5-minute grid', async (t) => {
  if (!existsSync(dataDir)) {
    if (process.env.CI === 'true') assert.fail(`${fileURLToPath(dataDir)} is missing on CI: the real-data test must run there`);
    t.skip('../shared/data not present (user clone)');
    return;
  }
  const from = Date.UTC(2017, 2, 1), to = Date.UTC(2017, 2, 8);
  const set = await loadStationSeries(fileURLToPath(dataDir), { range: { fromMs: from, toMs: to } });
  const ids = set.stations.map((s) => s.series.id);
  assert.ok(ids.includes('pws:falkensee_pws') && ids.includes('dwd:433'), ids.join(', '));
  const pws = set.stations.find((s) => s.series.id === 'pws:falkensee_pws')!;
  const dwd = set.stations.find((s) => s.series.id === 'dwd:433')!;
  const valid = (a: Float64Array) => a.reduce((n, v) => n + (Number.isNaN(v) ? 0 : 1), 0);
  const slots = (to - from) / 300_000;
  assert.ok(valid(pws.series.values) > 0.95 * slots, `logger fills ${valid(pws.series.values)} of ${slots} slots`);
  assert.equal(valid(dwd.series.values), 7 * 24); // one value an hour, every hour of the week
  assert.ok(pws.background && valid(pws.background) > 0.99 * pws.series.values.length, 'ERA5 covers the logger in 2017');
  assert.ok(dwd.background, 'ERA5 covers Tempelhof in 2017');
  // the UCO set holds 2019-2020 only: nothing in this week
  assert.equal(set.stations.filter((s) => s.series.id.startsWith('uco:')).length, 0);
  // physically sane: a March week near Berlin
  for (const v of pws.series.values) if (!Number.isNaN(v)) assert.ok(v > -20 && v < 30, `${v} °C`);
});
