// The API in-process on the embedded store: every error code in the catalogue, the forecast's
// Open-Meteo shape and values (JSON and FlatBuffers through the official SDK), tiles, cells,
// OpenAPI, metrics and the shared middleware.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Router } from 'express';
import { fetchWeatherApi } from 'openmeteo';
import { tableFromIPC } from 'apache-arrow';
import { openStore, writeNowcasts, claimBatchRun, finishBatchRun, failBatchRun, type Store } from '../infra/store/index.ts';
import { cellOf } from '../infra/geo/index.ts';
import { loadConfig } from '../infra/config.ts';
import { createLogger } from '../infra/log.ts';
import { HOUR_MS, MINUTE_MS } from '../infra/time.ts';
import { createApp, type AppDeps } from './app.ts';
import { API_ERRORS, ApiError } from './errors.ts';
import { LiveSnapshot, storeRunSource } from './live-snapshot.ts';
import { decodePalettePng } from './png.ts';
import { mercatorX, mercatorY } from './snapshot.ts';
import { DIFFERENCE_SCALE, paletteIndex } from './colour-scale.ts';
import type { ApiModuleFactory } from './module.ts';
import { z } from 'zod';

const runTime = Date.UTC(2026, 10, 1, 12, 0);
const now = runTime + 3 * MINUTE_MS;
const centre = { lat: 52.52, lon: 13.405 };
const corner = { lat: 52.35, lon: 13.08 }; // the box's south-west corner: its cell's centre lies outside
const temps = Array.from({ length: 13 }, (_, i) => 4 + i / 4); // exact in REAL (quarters)
const sigmas = Array.from({ length: 13 }, (_, i) => 0.5 + i / 8); // eighths

async function serve(deps: Omit<AppDeps, 'log' | 'bus'> & { bus?: AppDeps['bus'] }): Promise<{ server: Server; base: string }> {
  const app = createApp({ log: createLogger('silent'), bus: { publish: async () => undefined }, ...deps });
  const server: Server = await new Promise((resolve) => {
    const s = createServer(app).listen(0, '127.0.0.1', () => resolve(s));
  });
  const a = server.address();
  return { server, base: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.json(), headers: r.headers };
}

async function writeRun(store: Store, t: number, rows: Parameters<typeof writeNowcasts>[2]): Promise<void> {
  assert.ok(await claimBatchRun(store, { windowStartMs: t - 5 * MINUTE_MS, windowEndMs: t, method: 'm', nowMs: t, staleMs: 1 }));
  await writeNowcasts(store, { runTimeMs: t, stepMin: 5, method: 'run-method' }, rows);
  await finishBatchRun(store, t, { nowMs: t + 1000, nReadings: 3, nSensors: 2, nCells: rows.length });
}

describe('api', () => {
  const config = loadConfig({ RATE_LIMIT_PER_MIN: '0' });
  let store: Store;
  let live: LiveSnapshot;
  let server: Server;
  let base: string;
  const cell = cellOf(centre, 9);
  const edgeCell = cellOf(corner, 9);
  const thrower: ApiModuleFactory = () => {
    const router = Router();
    router.get('/v1/test-fault', () => {
      throw new Error('a fault of ours');
    });
    return { router, docs: [{ method: 'get', path: '/v1/test-fault', summary: 'a route that fails', query: z.object({ why: z.string().optional().describe('no reason') }), responses: { 500: { description: 'always' } } }] };
  };

  before(async () => {
    store = await openStore('memory://');
    live = new LiveSnapshot({ source: storeRunSource(store), log: createLogger('silent'), pollMs: 60_000, keepPastMs: 6 * HOUR_MS });
    ({ server, base } = await serve({ store, config, live, now: () => now, modules: [thrower] }));
  });
  after(async () => {
    await close(server);
    await store.close();
  });

  it('the error catalogue in the README is the one the code has', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = Object.fromEntries([...readme.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
    assert.deepEqual(documented, { ...API_ERRORS });
  });

  it('NOT_READY with Retry-After before any batch has finished, saying so', async () => {
    await live.refresh();
    const r = await getJson(`${base}/v1/forecast?latitude=52.52&longitude=13.405`);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '30');
    assert.equal(r.body.code, 'NOT_READY');
    assert.match(r.body.reason, /No batch run has finished yet/);
  });

  it('serves the newest finished run from the snapshot in the Open-Meteo shape, with provenance', async () => {
    await writeRun(store, runTime - HOUR_MS, [{ cell, tempsC: temps.map(() => 3), sigmasC: sigmas, nObs: 1 }]);
    await writeRun(store, runTime, [
      { cell, tempsC: temps, sigmasC: sigmas, nObs: 2, method: 'kalman-oi', hourlyStartMs: runTime + HOUR_MS, hourlyTempsC: [7, 8, 9], hourlySigmasC: [2, 1.5, 2.5], newestObsMs: runTime - 2 * MINUTE_MS },
      { cell: edgeCell, tempsC: temps, sigmasC: sigmas, nObs: 0 },
    ]);
    await live.refresh();
    assert.equal(live.current?.runTimeMs, runTime);
    const r = await getJson(`${base}/v1/forecast?latitude=52.52&longitude=13.405`);
    assert.equal(r.status, 200);
    const b = r.body;
    assert.deepEqual(Object.keys(b).slice(0, 7), ['latitude', 'longitude', 'generationtime_ms', 'utc_offset_seconds', 'timezone', 'timezone_abbreviation', 'elevation']);
    assert.equal(b.cell, cell);
    assert.equal(b.method, 'kalman-oi');
    assert.equal(b.observations_in_cell, 2);
    assert.equal(b.newest_observation, '2026-11-01T11:58:00.000Z');
    assert.equal(b.newest_observation_age_s, 120);
    assert.equal(b.stale, false);
    assert.ok(Math.abs(b.latitude - 52.52) < 0.01 && Math.abs(b.longitude - 13.405) < 0.01, 'the cell centre, as Open-Meteo answers its grid point');
    assert.deepEqual(b.current, { time: '2026-11-01T12:00', interval: 300, temperature_2m: 4, temperature_2m_sigma: 0.5 });
    assert.equal(b.minutely_5.time[12], '2026-11-01T13:00');
    assert.deepEqual(b.minutely_5.temperature_2m, temps);
    assert.deepEqual(b.minutely_5.temperature_2m_sigma, sigmas.map((v) => Math.round(v * 100) / 100)); // served to 0.01 K
    assert.equal(b.current_units.temperature_2m, '°C');
    const h = await getJson(`${base}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(h.body.last_good_batch.window_end, '2026-11-01T12:00:00.000Z');
    assert.equal(h.body.snapshot.run_time, '2026-11-01T12:00:00.000Z');
    assert.equal(h.body.status, 'ok');
    assert.equal(h.body.last_good_batch.smoother, null);
    // A batch whose smoother failed served the filter's trajectory: degraded, saying why.
    const failed = "failed in 2 of 4 shards (the filter's trajectory is served there): bilstm@1.x: model file missing";
    await store.query('UPDATE batch_runs SET smoother = $1 WHERE window_end = $2', [failed, new Date(runTime)]);
    await live.refresh();
    const hd = await getJson(`${base}/healthz`);
    assert.equal(hd.status, 200);
    assert.equal(hd.body.status, 'degraded');
    assert.equal(hd.body.reason, `the last batch's smoother ${failed}`);
    assert.equal(hd.body.last_good_batch.smoother, failed);
    await store.query('UPDATE batch_runs SET smoother = $1 WHERE window_end = $2', ['bilstm@1.x', new Date(runTime)]);
    await live.refresh();
    assert.equal((await getJson(`${base}/healthz`)).body.status, 'ok');
    const ready = await getJson(`${base}/readyz`);
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
  });

  it('hourly and minutely_15 over Open-Meteo time ranges: past runs, the nowcast hour, then the hourly steps', async () => {
    const r = await getJson(`${base}/v1/forecast?latitude=52.52&longitude=13.405&hourly=temperature_2m&minutely_15=temperature_2m&forecast_hours=3&past_hours=1&forecast_minutely_15=4`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.hourly.time, ['2026-11-01T11:00', '2026-11-01T12:00', '2026-11-01T13:00', '2026-11-01T14:00']);
    // 11:00 from the earlier run's lead 0; 12:00 and 13:00 the nowcast's steps 0 and 12; 14:00 the hourly step.
    assert.deepEqual(r.body.hourly.temperature_2m, [3, 4, 7, 8]);
    assert.deepEqual(r.body.hourly.temperature_2m_sigma, [0.5, 0.5, 2, 1.5]);
    assert.deepEqual(r.body.minutely_15.time, ['2026-11-01T12:00', '2026-11-01T12:15', '2026-11-01T12:30', '2026-11-01T12:45']);
    assert.deepEqual(r.body.minutely_15.temperature_2m, [4, 4.75, 5.5, 6.25]);
    // Default range: 7 days from today's midnight, nulls where nothing is known.
    const d = await getJson(`${base}/v1/forecast?latitude=52.52&longitude=13.405&hourly=temperature_2m,relative_humidity_2m`);
    assert.equal(d.body.hourly.time.length, 168);
    assert.equal(d.body.hourly.time[0], '2026-11-01T00:00');
    assert.equal(d.body.hourly.temperature_2m[12], 4);
    assert.equal(d.body.hourly.temperature_2m[0], null);
    assert.ok(d.body.hourly.relative_humidity_2m.every((v: unknown) => v === null), 'a known variable we do not compute is null throughout');
  });

  it('temperature_unit, timeformat and timezone=auto as Open-Meteo applies them', async () => {
    const r = await getJson(`${base}/v1/forecast?latitude=52.52&longitude=13.405&current=temperature_2m&temperature_unit=fahrenheit&timezone=auto`);
    assert.equal(r.body.timezone, 'Europe/Berlin');
    assert.equal(r.body.utc_offset_seconds, 3600);
    assert.equal(r.body.timezone_abbreviation, 'GMT+1');
    assert.equal(r.body.current.time, '2026-11-01T13:00');
    assert.equal(r.body.current.temperature_2m, 39.2); // 4 °C
    assert.equal(r.body.current.temperature_2m_sigma, 0.9); // 0.5 K
    assert.equal(r.body.current_units.temperature_2m, '°F');
    const u = await getJson(`${base}/v1/forecast?latitude=52.52&longitude=13.405&current=temperature_2m&timeformat=unixtime`);
    assert.equal(u.body.current.time, runTime / 1000);
    assert.equal(u.body.current_units.time, 'unixtime');
  });

  it('a list of points answers an array; a point whose cell centre lies outside the box is served', async () => {
    const r = await getJson(`${base}/v1/forecast?latitude=52.52,${corner.lat}&longitude=13.405,${corner.lon}&current=temperature_2m`);
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 2);
    assert.equal(r.body[1].cell, edgeCell);
    assert.ok(r.body[1].latitude < corner.lat || r.body[1].longitude < corner.lon, 'this cell\'s centre is outside the box');
    assert.equal(r.body[1].current.temperature_2m, 4);
  });

  it('format=flatbuffers decodes with the official SDK (npm openmeteo) to the JSON values', async () => {
    const [resp] = await fetchWeatherApi(`${base}/v1/forecast`, { latitude: 52.52, longitude: 13.405, hourly: 'temperature_2m,temperature_2m_sigma', current: 'temperature_2m', minutely_15: 'temperature_2m', forecast_hours: 3, past_hours: 1, forecast_minutely_15: 4, timezone: 'auto' });
    assert.ok(resp);
    assert.ok(Math.abs(resp.latitude() - 52.52) < 0.01);
    assert.equal(resp.utcOffsetSeconds(), 3600);
    assert.equal(resp.timezone(), 'Europe/Berlin');
    const hourly = resp.hourly()!;
    assert.equal(Number(hourly.time()), (runTime - HOUR_MS) / 1000);
    assert.equal(Number(hourly.timeEnd()), (runTime + 3 * HOUR_MS) / 1000);
    assert.equal(hourly.interval(), 3600);
    assert.deepEqual([...hourly.variables(0)!.valuesArray()!], [3, 4, 7, 8]);
    assert.equal(hourly.variables(0)!.variable(), 47); // Variable.temperature
    assert.equal(hourly.variables(0)!.altitude(), 2);
    assert.deepEqual([...hourly.variables(1)!.valuesArray()!], [0.5, 0.5, 2, 1.5]);
    assert.equal(hourly.variables(1)!.aggregation(), 11); // Aggregation.spread: the sigma
    assert.equal(resp.current()!.variables(0)!.value(), 4);
    assert.deepEqual([...resp.minutely15()!.variables(0)!.valuesArray()!], [4, 4.75, 5.5, 6.25]);
    const two = await fetchWeatherApi(`${base}/v1/forecast`, { latitude: [52.52, corner.lat], longitude: [13.405, corner.lon], current: 'temperature_2m', temperature_unit: 'fahrenheit' });
    assert.equal(two.length, 2);
    assert.deepEqual(two.map((r) => Number(r.locationId())), [0, 1]);
    assert.equal(two[1]!.current()!.variables(0)!.value(), Math.fround(39.2)); // 4 °C, as float32
    assert.equal(two[1]!.current()!.variables(0)!.unit(), 9); // Unit.fahrenheit
  });

  it('format=csv in Open-Meteo\'s layout holds the JSON answer\'s values, one block per section; several points get location_id', async () => {
    const q = 'hourly=temperature_2m&current=temperature_2m&minutely_15=temperature_2m&daily=temperature_2m_max&forecast_hours=3&past_hours=1&forecast_minutely_15=4&forecast_days=1&timezone=auto';
    const r = await fetch(`${base}/v1/forecast?latitude=52.52&longitude=13.405&${q}&format=csv`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(r.headers.get('content-disposition') ?? '', /^attachment; filename="nowcast-52\.52N13\.4\dE\.csv"$/);
    const j = (await getJson(`${base}/v1/forecast?latitude=52.52&longitude=13.405&${q}`)).body;
    const blocks = (await r.text()).trimEnd().split('\n\n').map((b) => b.split('\n').map((line) => line.split(',')));
    assert.deepEqual(blocks[0], [
      ['latitude', 'longitude', 'elevation', 'utc_offset_seconds', 'timezone', 'timezone_abbreviation'],
      [String(j.latitude), String(j.longitude), 'NaN', '3600', 'Europe/Berlin', j.timezone_abbreviation],
    ]);
    const csvValue = (v: number | null) => (v === null ? 'NaN' : v.toFixed(2));
    const expect = (times: (string | number)[], cols: Record<string, (number | null)[]>) => [
      ['time', ...Object.keys(cols).map((k) => `${k} (°C)`)],
      ...times.map((t, k) => [String(t), ...Object.values(cols).map((vs) => csvValue(vs[k]!))]),
    ];
    assert.deepEqual(blocks[1], expect([j.current.time], { temperature_2m: [j.current.temperature_2m], temperature_2m_sigma: [j.current.temperature_2m_sigma] }));
    assert.deepEqual(blocks[2], expect(j.minutely_15.time, { temperature_2m: j.minutely_15.temperature_2m, temperature_2m_sigma: j.minutely_15.temperature_2m_sigma }));
    assert.deepEqual(blocks[3], expect(j.hourly.time, { temperature_2m: j.hourly.temperature_2m, temperature_2m_sigma: j.hourly.temperature_2m_sigma }));
    assert.deepEqual(blocks[4]![0], ['time', 'temperature_2m_max']);
    assert.deepEqual(blocks[4]!.slice(1).map((row) => row[0]), j.daily.time, 'days as dates');
    assert.equal(blocks.length, 5);
    assert.deepEqual(blocks[3]!.slice(1).map((row) => row[1]), ['3.00', '4.00', '7.00', '8.00']);
    // Several points: location_id first, ids from 0; unixtime; no location block on request.
    const two = await (await fetch(`${base}/v1/forecast?latitude=52.52,${corner.lat}&longitude=13.405,${corner.lon}&current=temperature_2m&timeformat=unixtime&format=csv&location_information=omit`)).text();
    const t = Math.floor(now / (5 * MINUTE_MS)) * 5 * MINUTE_MS / 1000;
    assert.equal(two, `location_id,time,temperature_2m (°C),temperature_2m_sigma (°C)\n0,${t},4.00,0.50\n1,${t},4.00,0.50\n`);
    const withIds = (await (await fetch(`${base}/v1/forecast?latitude=52.52,${corner.lat}&longitude=13.405,${corner.lon}&current=temperature_2m&format=csv`)).text()).split('\n');
    assert.equal(withIds[0], 'location_id,latitude,longitude,elevation,utc_offset_seconds,timezone,timezone_abbreviation');
    assert.match(withIds[1]!, /^0,52\.5\d*,13\.4\d*,NaN,0,GMT,GMT$/);
    assert.match(withIds[2]!, /^1,52\.3\d*,13\.0\d*,NaN,0,GMT,GMT$/);
  });

  it('INVALID_PARAMETER for bad input, with Open-Meteo\'s reasons', async () => {
    const cases: [string, RegExp][] = [
      ['', /latitude/], ['latitude=52.5', /longitude/], ['latitude=abc&longitude=13.4', /latitude/],
      ['latitude=95&longitude=13.4', /Latitude must be in range of -90 to 90/], ['latitude=52.5&longitude=-181', /Longitude/],
      ['latitude=52.5&latitude=52.6&longitude=13.4', /once/], ['latitude=Infinity&longitude=1', /latitude/], ['latitude=0x10&longitude=1', /latitude/],
      ['latitude=52.5,52.6&longitude=13.4', /same number/], ['latitude=52.5&longitude=13.4&hourly=tempp', /invalid String value tempp for key hourly/],
      ['latitude=52.5&longitude=13.4&temperature_unit=kelvin', /TemperatureUnit/], ['latitude=52.5&longitude=13.4&timezone=Mars/Base', /timezone/],
      ['latitude=52.5&longitude=13.4&forecast_days=17', /Forecast days is invalid/], ['latitude=52.5&longitude=13.4&start_date=2026-11-01', /must both be set/],
      ['latitude=52.5&longitude=13.4&format=xlsx', /ForecastResultFormat/], ['latitude=52.5&longitude=13.4&format=csv&location_information=top', /OutputLocationInformation/], [`latitude=${Array(1001).fill('52.5').join(',')}&longitude=13.4`, /more than 1000/],
      [`latitude=52.5&longitude=13.4&hourly=${'x'.repeat(5000)}`, /invalid String value/],
      ['latitude=52.5&longitude=13.4&start_hour=2026-11-01T10:00', /^Parameter 'start_hour' and 'end_hour' must both be set\.$/],
      ['latitude=52.5&longitude=13.4&start_minutely_15=2026-11-01T10:00&end_minutely_15=2026-11-01T09:00', /^Parameter 'end_minutely_15' must not be before 'start_minutely_15'\.$/],
      // several disagreements: the days' first, then the hours', then the quarter-hours'
      ['latitude=52.5&longitude=13.4&end_minutely_15=2026-11-01T10:00&start_hour=2026-11-01T10:00', /^Parameter 'start_hour' and 'end_hour' must both be set\.$/],
      ['latitude=52.5&longitude=13.4&end_hour=2026-11-01T10:00&end_date=2026-11-01', /^Parameter 'start_date' and 'end_date' must both be set\.$/],
    ];
    for (const [q, reason] of cases) {
      const r = await getJson(`${base}/v1/forecast?${q}`);
      assert.equal(r.status, 400, q.slice(0, 80));
      assert.equal(r.body.error, true);
      assert.equal(r.body.code, 'INVALID_PARAMETER');
      assert.match(r.body.reason, reason, q.slice(0, 80));
    }
  });

  it('OUTSIDE_COVERAGE, NOT_FOUND and PAYLOAD_TOO_LARGE', async () => {
    const far = await getJson(`${base}/v1/forecast?latitude=48.85&longitude=2.35`);
    assert.equal(far.status, 404);
    assert.equal(far.body.code, 'OUTSIDE_COVERAGE');
    const u = await getJson(`${base}/v2/nothing`);
    assert.deepEqual(u, { status: 404, body: { error: true, code: 'NOT_FOUND', reason: 'No route for GET /v2/nothing.' }, headers: u.headers });
    const many = Array(1000).fill('52.5').join(',');
    const big = await getJson(`${base}/v1/forecast?latitude=${many}&longitude=${Array(1000).fill('13.4').join(',')}&minutely_15=temperature_2m&forecast_days=16`);
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'PAYLOAD_TOO_LARGE');
    const box = await getJson(`${base}/v1/cells?bbox=13.0,52.3,13.8,52.7`);
    assert.equal(box.status, 413, 'the whole city is too many cells for one answer');
  });

  it('INTERNAL for a fault in any router, logged, with the catalogue\'s body', async () => {
    const r = await getJson(`${base}/v1/test-fault`);
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { error: true, code: 'INTERNAL', reason: 'Internal error.' });
  });

  it('RATE_LIMITED after the budget of a key or address, with Retry-After', async () => {
    const { server: s, base: b } = await serve({ store, config: loadConfig({ RATE_LIMIT_PER_MIN: '3' }), live, now: () => now });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${b}/v1/forecast?latitude=52.52&longitude=13.405`)).status, 200);
      const r = await getJson(`${b}/v1/forecast?latitude=52.52&longitude=13.405`);
      assert.equal(r.status, 429);
      assert.equal(r.body.code, 'RATE_LIMITED');
      assert.equal(r.headers.get('retry-after'), '20'); // one token of 3/min takes 20 s
      assert.equal((await fetch(`${b}/v1/forecast?latitude=52.52&longitude=13.405&apikey=other`)).status, 200, 'another key has its own budget');
    } finally {
      await close(s);
    }
  });

  it('a failing batch is reported beside the last good run; too old a run is NOT_READY saying why', async () => {
    await claimBatchRun(store, { windowStartMs: runTime, windowEndMs: runTime + 5 * MINUTE_MS, method: 'm', nowMs: now, staleMs: 1 });
    await failBatchRun(store, runTime + 5 * MINUTE_MS, runTime + 6 * MINUTE_MS, 'no background forecast valid around 12:05');
    await live.refresh();
    const r = await getJson(`${base}/v1/forecast?latitude=52.52&longitude=13.405`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.batch_status, { failing: true, reason: 'no background forecast valid around 12:05', failed_at: '2026-11-01T12:06:00.000Z', last_good_run: '2026-11-01T12:00:00.000Z' });
    const { server: s, base: b } = await serve({ store, config, live, now: () => runTime + 3 * HOUR_MS });
    try {
      const old = await getJson(`${b}/v1/forecast?latitude=52.52&longitude=13.405`);
      assert.equal(old.status, 503);
      assert.equal(old.body.code, 'NOT_READY');
      assert.match(old.body.reason, /Batches are failing .*no background forecast valid around 12:05.*last good run is 2026-11-01T12:00:00.000Z/);
    } finally {
      await close(s);
    }
  });

  it('map tiles: PNG on the fixed scale, transparent without data, ETag and 304, bad tiles 400', async () => {
    const z = 14;
    const x = Math.floor(mercatorX(centre.lon) * 2 ** z);
    const y = Math.floor(mercatorY(centre.lat) * 2 ** z);
    const r = await fetch(`${base}/tiles/${z}/${x}/${y}.png?lead=60`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    const png = decodePalettePng(new Uint8Array(await r.arrayBuffer()));
    assert.equal(png.width, 256);
    const painted = png.indices.filter((i) => i !== 0);
    assert.ok(painted.length > 100, `painted pixels: ${painted.length}`);
    assert.ok(painted.every((i) => i === paletteIndex(7)), 'lead 60 is 7 °C everywhere the cell covers');
    assert.equal(png.alpha[0], 0, 'index 0 is transparent');
    const etag = r.headers.get('etag')!;
    assert.match(r.headers.get('cache-control')!, /max-age=\d+/);
    assert.equal((await fetch(`${base}/tiles/${z}/${x}/${y}.png?lead=60`, { headers: { 'if-none-match': etag } })).status, 304);
    const empty = decodePalettePng(new Uint8Array(await (await fetch(`${base}/tiles/3/0/0.png`)).arrayBuffer()));
    assert.ok(empty.indices.every((i) => i === 0));
    for (const bad of ['21/0/0.png', '2/4/0.png', '2/0/0.jpg', '-1/0/0.png', '2/0/0.png?lead=7', '2/0/0.png?lead=65']) {
      const b = await getJson(`${base}/tiles/${bad}`);
      assert.equal(b.status, 400, bad);
      assert.equal(b.body.code, 'INVALID_PARAMETER');
    }
    const tj = await getJson(`${base}/tiles.json`);
    assert.equal(tj.body.tilejson, '3.0.0');
    assert.match(tj.body.tiles[0], /\/tiles\/\{z\}\/\{x\}\/\{y\}\.png$/);
    assert.equal(tj.body.temperature_scale.colors.length, 11);
    assert.deepEqual(tj.body.layers, ['temperature', 'difference']);
    assert.deepEqual([tj.body.difference_scale.min_c, tj.body.difference_scale.max_c], [-3, 3]);
    assert.equal(tj.body.difference_medians_c.length, tj.body.leads_min.length);
    assert.equal(tj.body.difference_medians_c[12], 7, 'lead 60: every cell 7 °C, so the median too');

    // The difference layer: its own ETag and cache entry; every cell at the median here, so the middle colour.
    const d = await fetch(`${base}/tiles/${z}/${x}/${y}.png?lead=60&layer=difference`);
    assert.equal(d.status, 200);
    assert.notEqual(d.headers.get('etag'), etag);
    const dp = decodePalettePng(new Uint8Array(await d.arrayBuffer()));
    const dPainted = dp.indices.filter((i) => i !== 0);
    assert.equal(dPainted.length, painted.length, 'the same pixels painted');
    assert.ok(dPainted.every((i) => i === paletteIndex(0, DIFFERENCE_SCALE)));
    assert.equal((await fetch(`${base}/tiles/${z}/${x}/${y}.png?lead=60&layer=difference`, { headers: { 'if-none-match': etag } })).status, 200, 'the temperature tile\'s ETag does not match the difference tile');
    const badLayer = await getJson(`${base}/tiles/${z}/${x}/${y}.png?layer=anomaly`);
    assert.equal(badLayer.status, 400);
    assert.match(badLayer.body.reason, /Parameter 'layer' must be one of temperature, difference\. Given: 'anomaly'/);
  });

  it('a configured basemap: named in the TileJSON with its attribution, and its origin allowed by the page\'s policy; none by default', async () => {
    const own = await fetch(`${base}/`);
    const ownCsp = own.headers.get('content-security-policy')!;
    assert.match(ownCsp, /connect-src 'self';/, 'no basemap: this server only');
    assert.equal((await getJson(`${base}/tiles.json`)).body.basemap, null);
    const config = loadConfig({ RATE_LIMIT_PER_MIN: '0', MAP_BASEMAP_URL: 'https://tiles.example.org/osm/{z}/{x}/{y}.png', MAP_BASEMAP_ATTRIBUTION: '© OpenStreetMap contributors' });
    const { server: s, base: b } = await serve({ store, config, live, now: () => now });
    try {
      const page = await fetch(`${b}/`);
      assert.equal(page.status, 200);
      const csp = page.headers.get('content-security-policy')!;
      assert.match(csp, /connect-src 'self' https:\/\/tiles\.example\.org;/);
      assert.match(csp, /img-src 'self' data: blob: https:\/\/tiles\.example\.org;/);
      assert.match(csp, /script-src|default-src 'self'/, 'scripts still from this server only');
      const tj = await getJson(`${b}/tiles.json`);
      assert.deepEqual(tj.body.basemap, { tiles: ['https://tiles.example.org/osm/{z}/{x}/{y}.png'], attribution: '© OpenStreetMap contributors' });
    } finally {
      await close(s);
    }
  });

  it('/v1/cells as GeoJSON hexagons and as Arrow IPC', async () => {
    const bbox = '13.40,52.51,13.41,52.53';
    const g = await getJson(`${base}/v1/cells?bbox=${bbox}&lead=15`);
    assert.equal(g.status, 200);
    assert.equal(g.body.type, 'FeatureCollection');
    const f = g.body.features.find((x: any) => x.properties.cell === cell);
    assert.ok(f);
    assert.equal(f.properties.temperature_2m, 4.75);
    assert.equal(f.properties.lead_min, 15);
    assert.equal(f.geometry.coordinates[0].length, 7, 'a closed hexagon');
    const a = await fetch(`${base}/v1/cells?bbox=${bbox}`, { headers: { accept: 'application/vnd.apache.arrow.stream' } });
    assert.equal(a.headers.get('content-type'), 'application/vnd.apache.arrow.stream');
    const t = tableFromIPC(new Uint8Array(await a.arrayBuffer()));
    assert.equal(t.numRows, 1);
    assert.equal(String(t.getChild('cell')!.get(0)), cell);
    assert.equal(t.getChild('temperature_2m')!.get(0), 4);
    // Cacheable per run, lead and format; revalidated with the ETag.
    const etag = g.headers.get('etag')!;
    assert.match(etag, /^"[0-9a-z]+-3-g"$/);
    assert.match(g.headers.get('vary') ?? '', /\bAccept\b/, 'the answer depends on Accept');
    assert.match(g.headers.get('cache-control') ?? '', /^public, max-age=\d+$/);
    assert.equal((await fetch(`${base}/v1/cells?bbox=${bbox}&lead=15`, { headers: { accept: 'application/vnd.apache.arrow.stream' } })).headers.get('etag'), etag.replace('-g"', '-a"'), 'Arrow is another answer');
    const again = await fetch(`${base}/v1/cells?bbox=${bbox}&lead=15`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal((await again.arrayBuffer()).byteLength, 0);
    assert.equal((await fetch(`${base}/v1/cells?bbox=${bbox}&lead=20`, { headers: { 'if-none-match': etag } })).status, 200, 'another lead is another answer');
    assert.equal((await getJson(`${base}/v1/cells?bbox=1,2,3`)).status, 400);
  });

  it('OpenAPI 3.1 lists every route, the modules\' included; metrics, CORS, security headers, compression', async () => {
    const o = await getJson(`${base}/openapi.json`);
    assert.equal(o.body.openapi, '3.1.0');
    for (const p of ['/v1/forecast', '/tiles/{z}/{x}/{y}.png', '/v1/cells', '/healthz', '/readyz', '/metrics', '/v1/test-fault']) assert.ok(o.body.paths[p], p);
    const params = o.body.paths['/v1/forecast'].get.parameters.map((p: any) => p.name);
    for (const p of ['latitude', 'longitude', 'hourly', 'minutely_15', 'forecast_hours', 'format']) assert.ok(params.includes(p), p);
    assert.equal(o.body.paths['/v1/test-fault'].get.parameters[0].name, 'why');
    const m = await (await fetch(`${base}/metrics`)).text();
    assert.match(m, /http_request_duration_seconds_bucket\{[^}]*route="\/v1\/forecast"/);
    const opt = await fetch(`${base}/v1/forecast`, { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'GET' } });
    assert.equal(opt.status, 204);
    assert.equal(opt.headers.get('access-control-allow-origin'), '*');
    const r = await fetch(`${base}/v1/forecast?latitude=52.52&longitude=13.405&hourly=temperature_2m`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(r.headers.get('content-encoding'), 'gzip');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal((await r.json()).hourly.time.length, 168);
  });

  it('STORE_UNAVAILABLE and an unhealthy /healthz when the store is gone before a run was loaded', async () => {
    const gone = await openStore('memory://');
    const l = new LiveSnapshot({ source: storeRunSource(gone), log: createLogger('silent'), pollMs: 60_000, keepPastMs: HOUR_MS });
    const { server: s2, base: b2 } = await serve({ store: gone, config, live: l });
    await gone.close();
    try {
      await l.refresh();
      const r = await getJson(`${b2}/v1/forecast?latitude=52.52&longitude=13.405`);
      assert.equal(r.status, 503);
      assert.equal(r.body.code, 'STORE_UNAVAILABLE');
      assert.equal(r.headers.get('retry-after'), '5');
      const h = await getJson(`${b2}/healthz`);
      assert.equal(h.status, 503);
      assert.equal(h.body.status, 'unavailable');
      const ready = await getJson(`${b2}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(ready.body.checks.store.ok, false);
    } finally {
      await close(s2);
    }
  });

  it('never answers 500 to hostile input: 4xx with a reason (seeded fuzz over every route)', async () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const values = ['', '0', '-1', '52.52', '13.405', '1e309', 'NaN', '-0', '9'.repeat(400), '%00', '%E0%A4%A', '..%2F..', '52.5,,13', '[]', '{}', 'ä€😀', 'temperature_2m', 'auto', 'Europe/Berlin', 'unixtime', 'flatbuffers', '2026-13-45', '2026-11-01T25:61', ','.repeat(300)];
    const keys = ['latitude', 'longitude', 'hourly', 'current', 'minutely_15', 'minutely_5', 'daily', 'timezone', 'timeformat', 'temperature_unit', 'forecast_days', 'past_days', 'forecast_hours', 'past_hours', 'start_date', 'end_date', 'start_hour', 'end_hour', 'format', 'elevation', 'bbox', 'lead', 'apikey'];
    const paths = ['/v1/forecast', '/v1/cells', '/tiles/12/2200/1343.png', '/tiles/99999999/1/1.png', '/tiles/%ZZ/1/1.png', '/tiles.json', '/openapi.json', '/healthz', '/readyz', '/v1/forecast/%ZZ', '/%FF%FE'];
    for (let i = 0; i < 250; i++) {
      const params: string[] = [];
      if (rnd() < 0.8) params.push(`latitude=${pick(['52.52', '52.4,52.5', pick(values)])}`, `longitude=${pick(['13.405', '13.3,13.4', pick(values)])}`);
      const n = Math.floor(rnd() * 5);
      for (let k = 0; k < n; k++) params.push(`${pick(keys)}=${pick(values)}`);
      const url = `${base}${pick(paths)}?${params.join('&')}`;
      const r = await fetch(url);
      const text = await r.text();
      assert.ok(r.status < 500 || r.status === 503, `${r.status} for ${url.slice(0, 200)}: ${text.slice(0, 200)}`);
      if (r.status >= 400) assert.match(text, /"reason":/, url.slice(0, 200));
    }
  });

  it('ApiError carries its status from the catalogue', () => {
    assert.equal(new ApiError('PAYLOAD_TOO_LARGE', 'x').status, 413);
  });
});
