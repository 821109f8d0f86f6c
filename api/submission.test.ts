// Registration and every submission path in-process: the app on an ephemeral port, the embedded
// store, the in-process bus and the real ingest worker behind it, so "accepted" is checked in the
// readings table. Every refusal's status, reason and counter.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tableToIPC, Table, vectorFromArray, Utf8, Float64, TimestampMillisecond } from 'apache-arrow';
import { openStore, type Store } from '../infra/store/index.ts';
import { openBus, type Bus } from '../infra/bus/index.ts';
import { createLogger } from '../infra/log.ts';
import { topicNames, topicSpecs, startIngestWorker, refusalCount, type IngestWorker } from '../ingest/index.ts';
import { submissionApp } from './submission-app.ts';
import { DEFAULT_SUBMISSION_LIMITS, SUBMIT_SLICE, submitValues, type SubmissionContext } from './submission.ts';
import type { StationPosition } from '../ingest/index.ts';
import type { OutgoingMessage } from '../infra/bus/index.ts';
import { listen, type Listening } from './server.ts';
import { close } from '../infra/testing/close.ts';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

const log = createLogger('silent');
const ADMIN = 'admin-secret-token-for-tests';
const topics = topicNames('sub.');
const NOW = Date.now();

async function until(cond: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('station registry and submission over HTTP', () => {
  let store: Store;
  let bus: Bus;
  let worker: IngestWorker;
  let listening: Listening;
  let base: string;

  before(async () => {
    store = await openStore('memory://', { log });
    bus = openBus('memory://');
    await bus.ensureTopics(topicSpecs(topics, 3));
    worker = await startIngestWorker({ bus, topics, store, log, groupId: 'sub-ingest', resolution: 9, maxBatch: 500 });
    await worker.ready;
    const app = submissionApp({ store, bus, readingsTopic: topics.readings, partitionResolution: 5, log, adminToken: ADMIN, limits: { jsonMaxReadings: 5, arrowMaxRows: 10, registrationsPerHour: 4, backlogMs: 2 * 86_400_000 } });
    listening = await listen(app, { host: '127.0.0.1', port: 0 });
    base = listening.url;
  });

  after(async () => {
    await listening.close(0);
    await worker.stop();
    await bus.close();
    await store.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const admin = { authorization: `Bearer ${ADMIN}` };
  const count = async (sensorId: string) => (await store.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE sensor_id = $1', [sensorId])).rows[0]!.n;
  const iso = (ms: number) => new Date(ms).toISOString();

  let station: { id: string; key: string };
  let other: { id: string; key: string };

  it('registers an amateur station: 201 with its id and key, shown once; the key is stored only as a scrypt hash', async () => {
    const r = await post('/v1/stations', { name: 'Balcony', latitude: 52.52, longitude: 13.405, elevation: 40 });
    assert.equal(r.status, 201);
    const body = await r.json();
    assert.match(body.id, /^st-[a-z2-7]{12}$/);
    assert.ok(body.key.startsWith(`${body.id}.`) && body.key.length >= body.id.length + 30);
    assert.equal(body.kind, 'amateur');
    station = { id: body.id, key: body.key };
    const row = (await store.query<{ key_hash: string }>('SELECT key_hash FROM sensors WHERE sensor_id = $1', [body.id])).rows[0]!;
    assert.match(row.key_hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.ok(!row.key_hash.includes(body.key.split('.')[1]));
    const got = await (await fetch(`${base}/v1/stations/${body.id}`)).json();
    assert.deepEqual({ ...got, registered: undefined }, { id: body.id, name: 'Balcony', kind: 'amateur', latitude: 52.52, longitude: 13.405, elevation: 40, external_id: null, registered: undefined, disabled: false, last_reading: null });
    assert.doesNotMatch(JSON.stringify(got), /key|scrypt/);
    other = await (await post('/v1/stations', { name: 'Garden', latitude: 52.45, longitude: 13.3 })).json();
  });

  it('refuses a malformed registration naming the field, and official stations without the admin token', async () => {
    const bad = await post('/v1/stations', { name: 'x', latitude: 95, longitude: 13 });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).reason, /^latitude: /);
    const official = await post('/v1/stations', { name: 'DWD', latitude: 52.4, longitude: 13.4, kind: 'official' });
    assert.equal(official.status, 403);
    assert.equal((await official.json()).code, 'FORBIDDEN');
    const ok = await post('/v1/stations', { name: 'DWD Tempelhof', latitude: 52.4675, longitude: 13.4021, kind: 'official', external_id: '433' }, admin);
    assert.equal(ok.status, 201);
    assert.equal((await ok.json()).kind, 'official');
    const edit = await fetch(`${base}/v1/stations/${station.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
    assert.equal(edit.status, 401, 'no credential');
  });

  it('rate-limits registration per client address (429 with Retry-After)', async () => {
    // 4 per hour: two above, this and the next; the admin's does not count.
    assert.equal((await post('/v1/stations', { name: 'c', latitude: 52.5, longitude: 13.4 })).status, 201);
    assert.equal((await post('/v1/stations', { name: 'd', latitude: 52.5, longitude: 13.4 })).status, 201);
    const before = await refusalCount('registration', 'rate_limited');
    const limited = await post('/v1/stations', { name: 'e', latitude: 52.5, longitude: 13.4 });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal(await refusalCount('registration', 'rate_limited'), before + 1);
  });

  it('JSON: accepts a batch (202), stores it once however often it is sent, and shows the last reading', async () => {
    const readings = [0, 1, 2].map((i) => ({ time: iso(NOW - (10 - i) * 60_000), temperature_2m: 3 + i / 10, relative_humidity_2m: 80 }));
    const auth = { authorization: `Bearer ${station.key}` };
    const r = await post('/v1/readings', { readings: [...readings, readings[0]] }, auth);
    assert.equal(r.status, 202);
    assert.deepEqual(await r.json(), { station_id: station.id, accepted: 3, duplicates: 1 });
    assert.equal((await post('/v1/readings', { station_id: station.id, readings }, auth)).status, 202);
    await until(async () => (await count(station.id)) === 3 && worker.stats.readings >= 6, 'the readings stored');
    const row = (await store.query<{ lat: number; lon: number; kind: string }>('SELECT lat, lon, kind FROM readings WHERE sensor_id = $1 LIMIT 1', [station.id])).rows[0]!;
    assert.deepEqual(row, { lat: 52.52, lon: 13.405, kind: 'amateur' }, 'position and kind from the registry');
    const got = await (await fetch(`${base}/v1/stations/${station.id}`)).json();
    assert.deepEqual(got.last_reading, { time: readings[2]!.time, temperature_2m: 3.2 });
    const page = await (await fetch(`${base}/v1/stations/${station.id}/readings?start=${iso(NOW - 3_600_000)}&end=${iso(NOW)}`)).json();
    assert.deepEqual(page.readings.map((x: { temperature_2m: number }) => x.temperature_2m), [3, 3.1, 3.2]);
  });

  it('JSON refusals: 401 wrong key, 403 another station, 400 naming the field, 413 too many, 415 other types; none stored', async () => {
    const one = [{ time: iso(NOW - 60_000), temperature_2m: 5 }];
    const cases: [RequestInit & { path?: string }, number, RegExp][] = [
      [{ headers: { authorization: `Bearer ${station.id}.wrongwrongwrongwrongwrongwrong` }, body: JSON.stringify({ readings: one }) }, 401, /incorrect/],
      [{ headers: {}, body: JSON.stringify({ readings: one }) }, 401, /key is required/],
      [{ headers: { authorization: `Bearer ${station.key}` }, body: JSON.stringify({ station_id: other.id, readings: one }) }, 403, /^station_id: /],
      [{ headers: { authorization: `Bearer ${station.key}` }, body: JSON.stringify({ readings: [{ time: iso(NOW), temperature_2m: 75 }] }) }, 400, /^readings\[0\]\.temperature_2m: 75 °C is outside/],
      [{ headers: { authorization: `Bearer ${station.key}` }, body: JSON.stringify({ readings: [{ time: 'yesterday', temperature_2m: 5 }] }) }, 400, /^readings\[0\]\.time: expected ISO 8601/],
      [{ headers: { authorization: `Bearer ${station.key}` }, body: JSON.stringify({ readings: [...one, { time: iso(NOW - 3 * 86_400_000), temperature_2m: 5 }] }) }, 400, /^readings\[1\]\.time: .* older than the backlog horizon/],
      [{ headers: { authorization: `Bearer ${station.key}` }, body: JSON.stringify({ readings: [{ time: iso(NOW + 3_600_000), temperature_2m: 5 }] }) }, 400, /in the future/],
      [{ headers: { authorization: `Bearer ${station.key}` }, body: '{"readings": [' }, 400, /could not be parsed/],
      [{ headers: { authorization: `Bearer ${station.key}` }, body: JSON.stringify({ readings: Array.from({ length: 6 }, (_, i) => ({ time: iso(NOW - i * 60_000), temperature_2m: 1 })) }) }, 413, /limit of 5/],
      [{ headers: { authorization: `Bearer ${station.key}`, 'content-type': 'text/plain' }, body: 'hello' }, 415, /Content-Type/],
    ];
    const reasons = ['wrong_key', 'impossible_value', 'too_old', 'in_future'] as const;
    const before = await Promise.all(reasons.map((x) => refusalCount('json', x)));
    for (const [init, status, reason] of cases) {
      const r = await fetch(`${base}/v1/readings`, { method: 'POST', ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
      const body = await r.json();
      assert.equal(r.status, status, JSON.stringify(body));
      assert.match(body.reason, reason);
    }
    // Each refusal counted once (a value's problem was counted twice before).
    assert.deepEqual(await Promise.all(reasons.map((x) => refusalCount('json', x))), before.map((n) => n + 1));
    assert.equal(await count(other.id), 0);
  });

  it('Weather Underground: answers exactly as WU does and stores °C', async () => {
    const q = new URLSearchParams({ ID: station.id, PASSWORD: station.key, dateutc: new Date(NOW - 120_000).toISOString().slice(0, 19).replace('T', ' '), tempf: '50', humidity: '71', baromin: '29.92', dewptf: '41', action: 'updateraw', softwaretype: 'weewx-5.1', realtime: '1', rtfreq: '2.5', windspeedmph: '3', unknownfield: 'x' });
    const r = await fetch(`${base}/weatherstation/updateweatherstation.php?${q}`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /^text\/plain/);
    assert.equal(await r.text(), 'success');
    const t = Math.floor((NOW - 120_000) / 1000) * 1000;
    await until(async () => (await store.query('SELECT 1 FROM readings WHERE sensor_id = $1 AND time = $2', [station.id, new Date(t)])).rows.length === 1, 'the WU reading');
    const row = (await store.query<{ temp_c: number; humidity_pct: number; pressure_hpa: number }>('SELECT temp_c, humidity_pct, pressure_hpa FROM readings WHERE sensor_id = $1 AND time = $2', [station.id, new Date(t)])).rows[0]!;
    close(row.temp_c, 10, { atol: 1e-9 }); // 50 °F is exactly 10 °C
    assert.equal(row.humidity_pct, 71);
    close(row.pressure_hpa, 29.92 * 33.86389, { atol: 1e-9 });

    // The request exactly as weewx's Wunderground uploader (weewx.restx.AmbientThread.format_url) writes it:
    // action first, PASSWORD url-quoted, dateutc quoted with %20 and %3A, zero-padded humidity, many fields.
    const d = new Date(NOW - 180_000);
    const p2 = (n: number) => String(n).padStart(2, '0');
    const weewxDate = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}%20${p2(d.getUTCHours())}%3A${p2(d.getUTCMinutes())}%3A${p2(d.getUTCSeconds())}`;
    const weewx = await fetch(`${base}/weatherstation/updateweatherstation.php?action=updateraw&ID=${station.id}&PASSWORD=${encodeURIComponent(station.key)}&softwaretype=weewx-5.1.0&baromin=29.921&dateutc=${weewxDate}&dailyrainin=0.00&dewptf=38.2&rainin=0.00&humidity=071&tempf=47.3&UV=0.00&winddir=225&windgustmph=004.0&windspeedmph=002.0`);
    assert.equal(weewx.status, 200);
    assert.equal(await weewx.text(), 'success');
    await until(async () => (await store.query('SELECT 1 FROM readings WHERE sensor_id = $1 AND time = $2', [station.id, new Date(Math.floor((NOW - 180_000) / 1000) * 1000)])).rows.length === 1, 'the weewx-shaped upload');

    const form = new URLSearchParams({ ID: station.id, PASSWORD: station.key, dateutc: 'now', tempf: '32' });
    const p = await fetch(`${base}/weatherstation/updateweatherstation.php`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    assert.equal(await p.text(), 'success');

    const wrong = await fetch(`${base}/weatherstation/updateweatherstation.php?ID=${station.id}&PASSWORD=nope&dateutc=now&tempf=50`);
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('content-type')!, /^text\/plain/);
    assert.match(await wrong.text(), /INVALIDPASSWORDID/);
    const otherId = await fetch(`${base}/weatherstation/updateweatherstation.php?ID=${other.id}&PASSWORD=${encodeURIComponent(station.key)}&dateutc=now&tempf=50`);
    assert.equal(otherId.status, 401);
    const noTemp = await fetch(`${base}/weatherstation/updateweatherstation.php?ID=${station.id}&PASSWORD=${encodeURIComponent(station.key)}&dateutc=now&humidity=50`);
    assert.equal(noTemp.status, 400);
    assert.match(await noTemp.text(), /^tempf: missing/);
    const missing = await fetch(`${base}/weatherstation/updateweatherstation.php?ID=${station.id}&PASSWORD=${encodeURIComponent(station.key)}&dateutc=now&tempf=-9999`);
    assert.equal(missing.status, 400);
  });

  it('Ecowitt: the key in the path binds the console; its PASSKEY is pinned on the first upload', async () => {
    const upload = (key: string, passkey: string, extra: Record<string, string> = {}) =>
      fetch(`${base}/data/report/${key}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ PASSKEY: passkey, stationtype: 'GW1000B_V1.7.3', dateutc: new Date(NOW - 60_000).toISOString().slice(0, 19).replace('T', ' '), tempinf: '72.1', humidityin: '40', baromrelin: '29.9', baromabsin: '29.8', tempf: '41', humidity: '88', wh65batt: '0', freq: '868M', model: 'GW1000_Pro', ...extra }) });
    const first = await upload(other.key, 'A1B2C3D4E5F60718293A4B5C6D7E8F90');
    assert.equal(first.status, 200, await first.clone().text());
    assert.equal(await first.text(), 'OK');
    const t = Math.floor((NOW - 60_000) / 1000) * 1000;
    await until(async () => (await store.query('SELECT 1 FROM readings WHERE sensor_id = $1 AND time = $2', [other.id, new Date(t)])).rows.length === 1, 'the Ecowitt reading');
    const row = (await store.query<{ temp_c: number }>('SELECT temp_c FROM readings WHERE sensor_id = $1 AND time = $2', [other.id, new Date(t)])).rows[0]!;
    close(row.temp_c, 5, { atol: 1e-9 }); // 41 °F is exactly 5 °C
    const intruder = await upload(other.key, 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF');
    assert.equal(intruder.status, 403);
    assert.equal((await upload(`${other.id}.notthekeynotthekeynotthekey`, 'A1B2C3D4E5F60718293A4B5C6D7E8F90')).status, 401);
    const noKey = await fetch(`${base}/data/report/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'PASSKEY=A1B2C3D4E5F60718293A4B5C6D7E8F90&tempf=40&dateutc=now' });
    assert.equal(noKey.status, 401);
    assert.equal((await upload(other.key, 'A1B2C3D4E5F60718293A4B5C6D7E8F90', { tempf: '' })).status, 400);
    // The admin unbinds; the new console binds on its next upload.
    const unbind = await fetch(`${base}/v1/stations/${other.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...admin }, body: '{"unbind_ecowitt": true}' });
    assert.equal(unbind.status, 200);
    assert.equal((await upload(other.key, 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF', { dateutc: 'now' })).status, 200);
  });

  it('Sensor.Community: the firmware\'s request (basic auth, its JSON) is stored as the station, stamped on arrival', async () => {
    // As the airRohr firmware's HTTP client sends it (headers and body spacing from its source).
    const send = (auth: string | null, body: string, path = '/data/sensor-community') => new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = httpRequest(`${base}${path}`, { method: 'POST', headers: {
        'User-Agent': 'NRZ-2024-135/13374211/a4cf12e3b7d0', Connection: 'close', 'Content-Type': 'application/json', 'X-Sensor': 'esp8266-13374211', 'X-MAC-ID': 'esp8266-a4cf12e3b7d0',
        ...(auth ? { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}), 'Content-Length': Buffer.byteLength(body),
      } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    const body = (values: string) => `{"esp8266id": "13374211", "software_version": "NRZ-2024-135", "sensordatavalues":[${values}]}`;
    const bme = body('{"value_type":"SDS_P1","value":"12.40"},{"value_type":"BME280_temperature","value":"3.85"},{"value_type":"BME280_pressure","value":"100872.16"},{"value_type":"BME280_humidity","value":"81.30"},{"value_type":"signal","value":"-71"}');
    const t0 = Date.now();
    const stationBefore = await count(station.id);
    const ok = await send(`${other.id}:${other.key}`, bme);
    assert.equal(ok.status, 202, ok.body);
    assert.deepEqual(JSON.parse(ok.body), { station_id: other.id, accepted: 1, duplicates: 0 });
    await until(async () => (await store.query('SELECT 1 FROM readings WHERE sensor_id = $1 AND temp_c = 3.85', [other.id])).rows.length === 1, 'the Sensor.Community reading');
    const row = (await store.query<{ time: Date; humidity_pct: number; pressure_hpa: number }>('SELECT time, humidity_pct, pressure_hpa FROM readings WHERE sensor_id = $1 AND temp_c = 3.85', [other.id])).rows[0]!;
    assert.ok(row.time.getTime() >= t0 - 1000 && row.time.getTime() <= Date.now() + 1000, 'stamped on arrival');
    close(row.humidity_pct, 81.3, { atol: 1e-4 });
    close(row.pressure_hpa, 1008.7216, { atol: 1e-3 });
    // Refusals: no credentials or wrong ones (challenged), another station's key, no temperature, not JSON.
    const before = await refusalCount('sensor_community', 'wrong_key');
    const refusals: [string | null, string, number, RegExp][] = [
      [null, bme, 401, /user to the station id/],
      [`${other.id}:${other.id}.wrongwrongwrongwrongwrongwrong`, bme, 401, /incorrect/],
      [`${station.id}:${other.key}`, bme, 401, /incorrect/],
      [`${other.id}:${other.key}`, body('{"value_type":"SDS_P1","value":"3.0"}'), 400, /^sensordatavalues: no temperature/],
      [`${other.id}:${other.key}`, body('{"value_type":"BME280_temperature","value":"95.00"}'), 400, /^BME280_temperature: 95 °C is outside/],
      [`${other.id}:${other.key}`, '{"esp8266id": "1", ', 400, /could not be parsed/],
    ];
    for (const [auth, b, status, reason] of refusals) {
      const r = await send(auth, b);
      assert.equal(r.status, status, `${auth}: ${r.body}`);
      assert.match(JSON.parse(r.body).reason, reason);
      if (status === 401) assert.match(String(r.headers['www-authenticate']), /^Basic realm=/);
    }
    assert.equal(await refusalCount('sensor_community', 'wrong_key'), before + 2);
    assert.equal(await count(station.id), stationBefore, 'nothing written as the other station');
  });

  it('a station\'s QC: before any batch, none of its readings judged yet and no record; an unknown station 404', async () => {
    const r = await fetch(`${base}/v1/stations/${station.id}/quality`);
    assert.equal(r.status, 200);
    const q = await r.json();
    assert.equal(q.id, station.id);
    assert.equal(q.until, null);
    assert.ok(Date.parse(q.since) <= Date.now() - 3_590_000, 'the last hour');
    assert.deepEqual({ readings: q.readings, record: q.record, ok: q.reasons.ok, buddy: q.reasons.buddy }, { readings: [], record: null, ok: 0, buddy: 0 });
    assert.equal((await fetch(`${base}/v1/stations/st-aaaaaaaaaaaa/quality`)).status, 404);
  });

  it('Arrow bulk: a partner token writes for its own stations only', async () => {
    const partnerRes = await post('/v1/partners', { name: 'Fleet' }, admin);
    assert.equal(partnerRes.status, 201);
    const partner = await partnerRes.json();
    assert.match(partner.token, /^pt-[0-9a-f]{12}\./);
    const pauth = { authorization: `Bearer ${partner.token}` };
    const s1 = await (await post('/v1/stations', { name: 'fleet-1', latitude: 52.5, longitude: 13.3 }, pauth)).json();
    const s2 = await (await post('/v1/stations', { name: 'fleet-2', latitude: 52.6, longitude: 13.5 }, pauth)).json();
    const ipc = (ids: string[], temps: (number | null)[], times = ids.map((_, i) => NOW - 60_000 * (i + 1))) =>
      tableToIPC(new Table({ station_id: vectorFromArray(ids, new Utf8()), time: vectorFromArray(times, new TimestampMillisecond()), temperature_2m: vectorFromArray(temps, new Float64()) }), 'stream');
    const send = (body: Uint8Array, headers: Record<string, string> = pauth) => fetch(`${base}/v1/readings`, { method: 'POST', headers: { 'content-type': 'application/vnd.apache.arrow.stream', ...headers }, body: Buffer.from(body) });
    const ok = await send(ipc([s1.id, s2.id, s1.id], [1.5, 2.5, 3.5]));
    assert.equal(ok.status, 202, await ok.clone().text());
    assert.deepEqual(await ok.json(), { accepted: 3, duplicates: 0 });
    await until(async () => (await count(s1.id)) === 2 && (await count(s2.id)) === 1, 'the Arrow rows');
    const notOwned = await send(ipc([s1.id, station.id], [1, 2]));
    assert.equal(notOwned.status, 403);
    assert.match((await notOwned.json()).reason, new RegExp(`station ${station.id} is not one of`));
    assert.equal((await send(ipc([s1.id], [1]), { authorization: `Bearer ${partner.id}.wrongwrongwrongwrongwrong` })).status, 401);
    assert.equal((await send(ipc([s1.id], [1]), { authorization: `Bearer ${station.key}` })).status, 401);
    assert.equal((await send(ipc(Array(11).fill(s1.id), Array(11).fill(1), Array.from({ length: 11 }, (_, i) => NOW - i * 1000)))).status, 413);
    const nullTemp = await send(ipc([s1.id], [null]));
    assert.equal(nullTemp.status, 400);
    assert.match((await nullTemp.json()).reason, /^temperature_2m\[0\]/);
    const garbage = await send(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    assert.equal(garbage.status, 400);
    // The partner may also send JSON for one of its stations.
    const j = await post('/v1/readings', { station_id: s2.id, readings: [{ time: iso(NOW - 5_000), temperature_2m: 9 }] }, pauth);
    assert.equal(j.status, 202);
    assert.equal((await post('/v1/readings', { station_id: station.id, readings: [{ time: iso(NOW - 5_000), temperature_2m: 9 }] }, pauth)).status, 403);
  });

  it('admin edits: a disabled station is refused (403); a rotated key replaces the old one', async () => {
    const patch = (body: unknown) => fetch(`${base}/v1/stations/${station.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...admin }, body: JSON.stringify(body) });
    const reading = { readings: [{ time: iso(NOW - 30_000), temperature_2m: 4 }] };
    assert.equal((await patch({ disabled: true })).status, 200);
    assert.equal((await post('/v1/readings', reading, { authorization: `Bearer ${station.key}` })).status, 403);
    assert.equal((await patch({ disabled: false })).status, 200);
    const rotated = await (await patch({ rotate_key: true })).json();
    assert.ok(rotated.key && rotated.key !== station.key);
    assert.equal((await post('/v1/readings', reading, { authorization: `Bearer ${station.key}` })).status, 401);
    assert.equal((await post('/v1/readings', reading, { authorization: `Bearer ${rotated.key}` })).status, 202);
    assert.equal((await fetch(`${base}/v1/stations/st-nosuchstation`)).status, 404);
  });

  it('owners edit their own station (by its key, or its partner\'s token): name, position, a new key; never another\'s, never the admin\'s fields', async () => {
    const patch = (id: string, body: unknown, token?: string) => fetch(`${base}/v1/stations/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    // The station's own key: it moved to another balcony, and its key leaked.
    const moved = await patch(other.id, { name: 'Garden, new house', latitude: 52.4601, longitude: 13.3102, elevation: 37 }, other.key);
    assert.equal(moved.status, 200, await moved.clone().text());
    assert.deepEqual(await moved.json().then((b) => [b.name, b.latitude, b.longitude, b.elevation]), ['Garden, new house', 52.4601, 13.3102, 37]);
    const rotated = await (await patch(other.id, { rotate_key: true }, other.key)).json();
    assert.ok(rotated.key && rotated.key !== other.key && rotated.key.startsWith(`${other.id}.`));
    const reading = (t: number) => ({ readings: [{ time: iso(NOW - t), temperature_2m: 6 }] });
    assert.equal((await post('/v1/readings', reading(41_000), { authorization: `Bearer ${other.key}` })).status, 401, 'the old key is dead at once');
    assert.equal((await post('/v1/readings', reading(42_000), { authorization: `Bearer ${rotated.key}` })).status, 202);
    await until(async () => (await store.query('SELECT 1 FROM readings WHERE sensor_id = $1 AND time = $2 AND lat = 52.4601', [other.id, new Date(NOW - 42_000)])).rows.length === 1, 'a reading at the new position');
    other = { id: other.id, key: rotated.key };
    // Refused: another station's key, an old key, the admin's fields, a partner for a station not its own.
    const refusals: [string, unknown, string | undefined, number, RegExp][] = [
      [other.id, { name: 'taken' }, station.key, 401, /not station/],
      [other.id, { name: 'taken' }, `${other.id}.notthekeynotthekeynotthekey`, 401, /not station/],
      [other.id, { disabled: true }, other.key, 403, /^disabled: only the admin/],
      [other.id, { kind: 'official', external_id: '1' }, other.key, 403, /^kind, external_id: only the admin/],
    ];
    const partner = await (await post('/v1/partners', { name: 'Fleet 2' }, admin)).json();
    const own = await (await post('/v1/stations', { name: 'fleet2-1', latitude: 52.5, longitude: 13.45 }, { authorization: `Bearer ${partner.token}` })).json();
    refusals.push([other.id, { name: 'taken' }, partner.token, 403, /is not one of/]);
    for (const [id, body, token, status, reason] of refusals) {
      const r = await patch(id, body, token);
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${await r.clone().text()}`);
      assert.match((await r.json()).reason, reason);
    }
    const got = await (await fetch(`${base}/v1/stations/${other.id}`)).json();
    assert.deepEqual([got.name, got.kind, got.disabled], ['Garden, new house', 'amateur', false], 'nothing refused changed anything');
    // A partner edits its own station.
    const fleet = await patch(own.id, { name: 'fleet2-1, renamed' }, partner.token);
    assert.equal(fleet.status, 200);
    assert.equal((await fleet.json()).name, 'fleet2-1, renamed');
  });
});

describe('a submission the bus fails (its retries exhausted, a broker unreachable)', () => {
  let store: Store;
  let listening: Listening;
  let base: string;
  let failing = true;

  before(async () => {
    store = await openStore('memory://', { log });
    const bus = { publish: async () => { if (failing) throw new Error('Connection error: connect ECONNREFUSED'); } };
    const app = submissionApp({ store, bus, readingsTopic: topics.readings, partitionResolution: 5, log, limits: { publishTimeoutMs: 2000 } });
    listening = await listen(app, { host: '127.0.0.1', port: 0 });
    base = listening.url;
  });
  after(async () => {
    await listening.close(0);
    await store.close();
  });

  it('is answered 503 BUS_UNAVAILABLE with Retry-After and a reason, never 500 nor the bus\'s own error, and accepted once the bus is back', async () => {
    const reg = await fetch(`${base}/v1/stations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', latitude: 52.5, longitude: 13.4 }) });
    const { key } = (await reg.json()) as { key: string };
    const send = () => fetch(`${base}/v1/readings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ readings: [{ time: new Date(NOW - 60_000).toISOString(), temperature_2m: 4 }] }) });
    const r = await send();
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '2');
    const body = (await r.json()) as { code: string; reason: string };
    assert.equal(body.code, 'BUS_UNAVAILABLE');
    assert.match(body.reason, /failed the send.*retry/);
    assert.doesNotMatch(JSON.stringify(body), /ECONNREFUSED/, 'the bus\'s own error (brokers, addresses) stays in the log');
    failing = false;
    assert.equal((await send()).status, 202);
  });
});

describe('a submission while the bus acknowledges nothing (Kafka down)', () => {
  let store: Store;
  let listening: Listening;
  let base: string;
  let release: () => void = () => {};

  before(async () => {
    store = await openStore('memory://', { log });
    const hanging = { publish: () => new Promise<void>((r) => (release = r)) };
    const app = submissionApp({ store, bus: hanging, readingsTopic: topics.readings, partitionResolution: 5, log, limits: { publishTimeoutMs: 300 } });
    listening = await listen(app, { host: '127.0.0.1', port: 0 });
    base = listening.url;
  });
  after(async () => {
    release();
    await listening.close(0);
    await store.close();
  });

  it('is answered 503 BUS_UNAVAILABLE with Retry-After and a reason, within the timeout, on every path', async () => {
    const reg = await fetch(`${base}/v1/stations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', latitude: 52.5, longitude: 13.4 }) });
    const { id, key } = (await reg.json()) as { id: string; key: string };
    const t0 = Date.now();
    const r = await fetch(`${base}/v1/readings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ readings: [{ time: new Date(NOW - 60_000).toISOString(), temperature_2m: 4 }] }) });
    const took = Date.now() - t0;
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '1');
    const body = (await r.json()) as { code: string; reason: string };
    assert.equal(body.code, 'BUS_UNAVAILABLE');
    assert.match(body.reason, /not acknowledged.*retry/);
    // 300 ms of timeout plus a scrypt verification of the key (~0.1 s); the bound leaves room for load.
    assert.ok(took < 5000, `answered after ${took} ms`);
    assert.ok((await refusalCount('json', 'bus_unavailable')) >= 1);
    const wu = await fetch(`${base}/weatherstation/updateweatherstation.php?ID=${id}&PASSWORD=${encodeURIComponent(key)}&dateutc=now&tempf=40`);
    assert.equal(wu.status, 503, 'the Weather-Underground path fails fast too');
    assert.ok(wu.headers.get('retry-after'));
  });
});

describe('submitValues in slices', () => {
  const positions = ['a', 'b', 'c'].map((s, k): StationPosition => ({ stationId: `st-${s}`, kind: 'amateur', lat: 52.4 + k * 0.05, lon: 13.3 + k * 0.05, elevationM: null }));
  const T = Date.now() - 3_600_000;
  const items = (n: number) => Array.from({ length: n }, (_, i) => ({ station: positions[i % 3]!, value: { timeMs: T - Math.floor(i / 3) * 1000, tempC: 10 + (i % 7) / 10, humidityPct: null, pressureHpa: null } }));
  const context = (published: OutgoingMessage[]): SubmissionContext => ({
    publisher: { publish: async (m: OutgoingMessage[]) => { published.push(...m); } } as unknown as SubmissionContext['publisher'],
    partitionResolution: 5, log, limits: { ...DEFAULT_SUBMISSION_LIMITS, backlogMs: 86_400_000 }, now: Date.now,
  } as SubmissionContext);
  const readingsOf = (ms: OutgoingMessage[]) => ms.flatMap((m) => [JSON.parse(new TextDecoder().decode(m.value))].flat() as { sensorId: string; timeMs: number }[]);

  it(`checks, de-duplicates and encodes ${SUBMIT_SLICE} at a time, yielding between, and publishes once`, async () => {
    const n = 2 * SUBMIT_SLICE + 345;
    const its = items(n);
    its[SUBMIT_SLICE + 10] = { ...its[10]! }; // the same station and time as an item of the first slice
    const published: OutgoingMessage[] = [];
    let turns = 0;
    let done = false;
    const tick = () => { if (!done) { turns++; setImmediate(tick); } };
    setImmediate(tick);
    const r = await submitValues(context(published), 'arrow', its);
    done = true;
    assert.deepEqual(r, { ok: true, result: { accepted: n - 1, duplicates: 1 } });
    const got = readingsOf(published);
    assert.equal(got.length, n - 1);
    assert.equal(new Set(got.map((x) => `${x.sensorId} ${x.timeMs}`)).size, n - 1);
    assert.ok(turns >= 2, `other work ran between the slices (${turns} turns)`);
  });

  it('a bad value in a later slice refuses the whole submission, named by its index, and publishes nothing', async () => {
    const its = items(2 * SUBMIT_SLICE);
    its[SUBMIT_SLICE + 7] = { ...its[0]!, value: { ...its[0]!.value, tempC: 99 } };
    const published: OutgoingMessage[] = [];
    const r = await submitValues(context(published), 'arrow', its, (i) => ({ temp: `temperature_2m[${i}]` }));
    assert.deepEqual(r, { ok: false, problem: { field: `temperature_2m[${SUBMIT_SLICE + 7}]`, reason: 'impossible_value', message: '99 °C is outside -90..60 °C' } });
    assert.deepEqual(published, []);
  });
});
