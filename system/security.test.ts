// Security of the API as served (every router, the shared middleware), in-process on the embedded
// store with the in-process bus and the ingest worker behind it:
// - every operation that needs a credential, taken from /openapi.json (so a new one cannot be
//   forgotten), refuses a call without it, with a wrong one, and with a real one of the wrong kind
//   (401 or 403 with a reason), and nothing changes;
// - every route the app serves is in the document, and every write either declares its credential
//   or is listed here as public with the reason;
// - a key writes only its own station, a partner only its own stations;
// - keys and tokens are stored only as scrypt hashes, and no answer shows one;
// - security headers on every kind of answer.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tableToIPC, Table, vectorFromArray, Utf8, Float64, TimestampMillisecond } from 'apache-arrow';
import { loadConfig } from '../infra/config.ts';
import { createLogger } from '../infra/log.ts';
import { openBus, type Bus } from '../infra/bus/index.ts';
import { openStore, type Store } from '../infra/store/index.ts';
import { createApp, listen, LiveSnapshot, storeRunSource, modelsModule, type Listening } from '../api/index.ts';
import { startIngestWorker, topicNames, topicSpecs, type IngestWorker } from '../ingest/index.ts';
import { openModelRegistry } from './models.ts';

const log = createLogger('silent');
const ADMIN = 'security-admin-token-0123456789';

/** Writes anyone may call, and why. */
const PUBLIC_WRITES: Record<string, string> = {
  'post /v1/models/{name}/predict': 'computes an answer from the given inputs; writes nothing',
  'post /data/report/{key}': "Ecowitt uploads: the station's key is the path's last segment (tested below)",
};

/** Routes served under another template than the document's (Express cannot match `{y}.png`). */
const ROUTE_ALIASES: Record<string, string> = { 'get /tiles/{z}/{x}/{file}': 'get /tiles/{z}/{x}/{y}.png' };

interface Operation { method: string; path: string; auth?: { schemes: string[]; optional: boolean } }

describe('security', () => {
  let store: Store;
  let bus: Bus;
  let worker: IngestWorker;
  let listening: Listening;
  let base: string;
  let closeRegistry: () => Promise<void>;
  let routes: string[];
  let doc: { paths: Record<string, Record<string, { security?: Record<string, unknown>[] }>>; components: { securitySchemes: Record<string, unknown> } };
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  let partner: { id: string; token: string };

  const call = (method: string, path: string, o: { body?: string | Uint8Array; type?: string; auth?: string } = {}) =>
    fetch(`${base}${path}`, { method: method.toUpperCase(), headers: { ...(o.type ? { 'content-type': o.type } : {}), ...(o.auth ? { authorization: o.auth } : {}) }, ...(o.body !== undefined ? { body: o.body as BodyInit } : {}) });

  before(async () => {
    const config = loadConfig({ STORE_URL: 'memory://', RATE_LIMIT_PER_MIN: '0', ADMIN_TOKEN: ADMIN, MODELS_POLL_MS: '0' });
    store = await openStore('memory://', { log });
    bus = openBus('memory://');
    const topics = topicNames();
    await bus.ensureTopics(topicSpecs(topics, 2));
    worker = await startIngestWorker({ bus, topics, store, log, groupId: 'security', resolution: 9, maxBatch: 500 });
    const registry = await openModelRegistry(config, log);
    closeRegistry = () => registry.close();
    const live = new LiveSnapshot({ source: storeRunSource(store), log, pollMs: 60_000, keepPastMs: 3_600_000 });
    const app = createApp({ store, bus, log, config, live, modules: [modelsModule(registry)] });
    const walk = (stack: { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }[], out: string[]): string[] => {
      for (const l of stack) {
        if (l.route) for (const m of Object.keys(l.route.methods)) out.push(`${m} ${l.route.path.replace(/:(\w+)/g, '{$1}')}`);
        else if (l.handle?.stack) walk(l.handle.stack as typeof stack, out);
      }
      return out;
    };
    routes = walk((app.express as unknown as { router: { stack: Parameters<typeof walk>[0] } }).router.stack, []);
    listening = await listen(app, { host: '127.0.0.1', port: 0 });
    base = listening.url;
    doc = (await (await fetch(`${base}/openapi.json`)).json()) as typeof doc;
    const register = async (auth?: string) => (await (await call('post', '/v1/stations', { type: 'application/json', body: JSON.stringify({ name: 'sec', latitude: 52.5, longitude: 13.4 }), ...(auth ? { auth } : {}) })).json()) as { id: string; key: string };
    a = await register();
    partner = (await (await call('post', '/v1/partners', { type: 'application/json', body: JSON.stringify({ name: 'fleet' }), auth: `Bearer ${ADMIN}` })).json()) as { id: string; token: string };
    b = await register(`Bearer ${partner.token}`);
    assert.ok(a.key && b.key && partner.token, 'set-up');
  });
  after(async () => {
    await listening?.close(100);
    await worker?.stop();
    await bus?.close();
    await closeRegistry?.();
    await store?.close();
  });

  const operations = (): Operation[] => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => {
    const sec = op.security;
    return { method, path, ...(sec ? { auth: { schemes: sec.flatMap((s) => Object.keys(s)), optional: sec.some((s) => Object.keys(s).length === 0) } } : {}) };
  }));

  it('every route served is in the OpenAPI document, and every write declares its credential or is public for a stated reason', () => {
    const documented = new Set(operations().map((o) => `${o.method} ${o.path}`));
    const undocumented = routes.filter((r) => !documented.has(ROUTE_ALIASES[r] ?? r) && !/^post \/data\/report\/?$/.test(r)); // the console path's variants without a key: 401, same handler
    assert.deepEqual(undocumented, [], 'routes missing from /openapi.json');
    const undeclared = operations().filter((o) => o.method !== 'get' && !o.auth && !(`${o.method} ${o.path}` in PUBLIC_WRITES)).map((o) => `${o.method} ${o.path}`);
    assert.deepEqual(undeclared, [], 'writes without a declared credential: declare `auth` in their RouteDoc, or list them in PUBLIC_WRITES with the reason');
    for (const o of operations()) for (const s of o.auth?.schemes ?? []) assert.ok(s in doc.components.securitySchemes, `${o.method} ${o.path}: scheme ${s} is defined`);
  });

  it('every operation that needs a credential refuses none, a wrong one, and a real one of the wrong kind; nothing changes', async (t) => {
    const time = new Date(Date.now() - 60_000).toISOString();
    const arrow = tableToIPC(new Table({ station_id: vectorFromArray([b.id], new Utf8()), time: vectorFromArray([Date.now() - 60_000], new TimestampMillisecond()), temperature_2m: vectorFromArray([3], new Float64()) }), 'stream');
    // A valid request of each operation, given its credential (null: the operation takes it in the query).
    const requests: Record<string, (cred: string | null) => { path: string; body?: string | Uint8Array; type?: string }> = {
      'patch /v1/stations/{id}': () => ({ path: `/v1/stations/${a.id}`, type: 'application/json', body: JSON.stringify({ name: 'taken over', rotate_key: true }) }),
      'post /v1/partners': () => ({ path: '/v1/partners', type: 'application/json', body: JSON.stringify({ name: 'intruder' }) }),
      'patch /v1/partners/{id}': () => ({ path: `/v1/partners/${partner.id}`, type: 'application/json', body: JSON.stringify({ rotate_token: true, disabled: true }) }),
      'post /v1/readings': () => ({ path: '/v1/readings', type: 'application/json', body: JSON.stringify({ station_id: b.id, readings: [{ time, temperature_2m: 4 }] }) }),
      'get /weatherstation/updateweatherstation.php': (cred) => ({ path: `/weatherstation/updateweatherstation.php?ID=${a.id}&dateutc=now&tempf=40${cred === null ? '' : `&PASSWORD=${encodeURIComponent(cred)}`}` }),
      'post /weatherstation/updateweatherstation.php': (cred) => ({ path: '/weatherstation/updateweatherstation.php', type: 'application/x-www-form-urlencoded', body: `ID=${a.id}&dateutc=now&tempf=40${cred === null ? '' : `&PASSWORD=${encodeURIComponent(cred)}`}` }),
      'post /data/sensor-community': () => ({ path: '/data/sensor-community', type: 'application/json', body: JSON.stringify({ esp8266id: '1', sensordatavalues: [{ value_type: 'BME280_temperature', value: '4.00' }] }) }),
    };
    // How a credential travels: in the query or form (WU), as A's basic-auth password (Sensor.Community), or as a bearer token.
    const authHeader = (schemes: string[], cred: string) => (schemes.includes('stationBasic') ? `Basic ${Buffer.from(`${a.id}:${cred}`).toString('base64')}` : `Bearer ${cred}`);
    const guarded = operations().filter((o) => o.auth && !o.auth.optional);
    assert.ok(guarded.length >= 6, `${guarded.length} guarded operations`);
    const wrongKind = (schemes: string[]) => [
      ...(schemes.includes('admin') ? [] : [ADMIN]),
      ...(schemes.includes('partner') ? [] : [partner.token]),
      ...(schemes.includes('station') || schemes.includes('stationPassword') ? [] : schemes.includes('stationBasic') ? [b.key] : [a.key, b.key]),
    ];
    const wrong = [
      'garbage', `${a.id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, `${partner.id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, `${ADMIN}x`, ADMIN.slice(0, -1),
      `${a.key.slice(0, -1)}${a.key.endsWith('A') ? 'B' : 'A'}`, `${partner.token}x`,
    ];
    let tried = 0;
    for (const op of guarded) {
      const key = `${op.method} ${op.path}`;
      const make = requests[key];
      assert.ok(make, `no request for ${key}: add one to this test`);
      const inQuery = op.auth!.schemes.includes('stationPassword');
      for (const cred of [null, ...wrong, ...wrongKind(op.auth!.schemes)]) {
        const r = make(inQuery ? cred : null);
        const res = await call(op.method, r.path, { ...(r.body !== undefined ? { body: r.body } : {}), ...(r.type ? { type: r.type } : {}), ...(!inQuery && cred !== null ? { auth: authHeader(op.auth!.schemes, cred) } : {}) });
        const text = await res.text();
        assert.ok(res.status === 401 || res.status === 403, `${key} with ${cred === null ? 'no credential' : `"${cred.slice(0, 12)}…"`}: ${res.status} ${text.slice(0, 200)}`);
        assert.ok(text.length > 5, `${key}: a reason`);
        tried++;
      }
      if (key === 'post /v1/readings') {
        const arrowRes = await call('post', '/v1/readings', { type: 'application/vnd.apache.arrow.stream', body: arrow, auth: `Bearer ${a.key}` });
        assert.ok(arrowRes.status === 401 || arrowRes.status === 403, `Arrow bulk with a station key: ${arrowRes.status}`);
      }
    }
    // Nothing changed: the station's name and key, the partner, no new partner, no reading.
    const st = await store.query<{ name: string }>(`SELECT name FROM sensors WHERE sensor_id = $1`, [a.id]);
    assert.equal(st.rows[0]!.name, 'sec');
    const partners = await store.query<{ n: number; disabled: number }>(`SELECT count(*)::int AS n, count(disabled_at)::int AS disabled FROM partners`);
    assert.deepEqual(partners.rows[0], { n: 1, disabled: 0 });
    const ok = await call('post', '/v1/readings', { type: 'application/json', body: JSON.stringify({ readings: [{ time, temperature_2m: 4 }] }), auth: `Bearer ${a.key}` });
    assert.equal(ok.status, 202, 'the untouched key still works');
    await new Promise((r) => setTimeout(r, 300));
    const readings = await store.query<{ sensor_id: string }>(`SELECT sensor_id FROM readings`);
    assert.deepEqual(readings.rows.map((r) => r.sensor_id), [a.id], 'only the one valid submission was stored');
    t.diagnostic(`${tried} refused calls over ${guarded.length} guarded operations: ${guarded.map((o) => `${o.method} ${o.path}`).join(', ')}`);
  });

  it('a key writes only its own station; a partner only its own stations', async () => {
    const time = new Date(Date.now() - 120_000).toISOString();
    const json = (auth: string, body: unknown) => call('post', '/v1/readings', { type: 'application/json', body: JSON.stringify(body), auth: `Bearer ${auth}` });
    assert.equal((await json(a.key, { station_id: b.id, readings: [{ time, temperature_2m: 1 }] })).status, 403, "A's key naming B");
    assert.equal((await json(partner.token, { station_id: a.id, readings: [{ time, temperature_2m: 1 }] })).status, 403, "the partner naming A (not its station)");
    const edit = (auth: string) => call('patch', `/v1/stations/${a.id}`, { type: 'application/json', body: JSON.stringify({ name: 'taken over', rotate_key: true }), auth: `Bearer ${auth}` });
    assert.equal((await edit(b.key)).status, 401, "B's key editing A");
    assert.equal((await edit(partner.token)).status, 403, 'the partner editing A (not its station)');
    const arrow = tableToIPC(new Table({ station_id: vectorFromArray([b.id, a.id], new Utf8()), time: vectorFromArray([Date.now() - 120_000, Date.now() - 120_000], new TimestampMillisecond()), temperature_2m: vectorFromArray([1, 1], new Float64()) }), 'stream');
    assert.equal((await call('post', '/v1/readings', { type: 'application/vnd.apache.arrow.stream', body: arrow, auth: `Bearer ${partner.token}` })).status, 403, 'Arrow bulk with a row of a station that is not the partner\'s');
    assert.equal((await call('get', `/weatherstation/updateweatherstation.php?ID=${b.id}&PASSWORD=${encodeURIComponent(a.key)}&dateutc=now&tempf=40`)).status, 401, "WU with B's id and A's key");
    const eco = await call('post', `/data/report/${encodeURIComponent(`${b.id}.${a.key.split('.')[1]}`)}`, { type: 'application/x-www-form-urlencoded', body: `PASSKEY=AA&dateutc=now&tempf=40` });
    assert.equal(eco.status, 401, "Ecowitt with B's id and A's secret");
    const sc = await call('post', '/data/sensor-community', { type: 'application/json', body: JSON.stringify({ sensordatavalues: [{ value_type: 'temperature', value: '40' }] }), auth: `Basic ${Buffer.from(`${b.id}:${a.key}`).toString('base64')}` });
    assert.equal(sc.status, 401, "Sensor.Community with B's id and A's key");
    await new Promise((r) => setTimeout(r, 300));
    const n = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE time = $1`, [new Date(time)]);
    assert.equal(n.rows[0]!.n, 0, 'none of them was stored');
  });

  it('keys and tokens are stored only as scrypt hashes, and no answer shows one', async () => {
    const rows = await store.query<{ key_hash: string }>(`SELECT key_hash FROM sensors WHERE sensor_id = ANY($1::text[])`, [[a.id, b.id]]);
    const tokens = await store.query<{ token_hash: string }>(`SELECT token_hash FROM partners`);
    for (const h of [...rows.rows.map((r) => r.key_hash), ...tokens.rows.map((r) => r.token_hash)]) {
      assert.match(h, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    }
    for (const secret of [a.key, b.key, partner.token]) {
      const s = secret.split('.')[1]!;
      const dump = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM sensors s FULL JOIN partners p ON false WHERE s::text LIKE $1 OR p::text LIKE $1`, [`%${s}%`]);
      assert.equal(dump.rows[0]!.n, 0, 'the secret is nowhere in the registry');
    }
    const shown = await (await call('get', `/v1/stations/${a.id}`)).text();
    assert.ok(!/key|hash|scrypt/i.test(shown), shown);
  });

  it('security headers on JSON, the fast path, errors and the map page', async () => {
    for (const [path, extra] of [['/v1/stations/nope', null], ['/v1/forecast?latitude=52.5&longitude=13.4', null], ['/openapi.json', null], ['/', 'content-security-policy']] as const) {
      const r = await fetch(`${base}${path}`);
      await r.arrayBuffer();
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(r.headers.get('x-frame-options'), 'SAMEORIGIN', path);
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(r.headers.get('x-powered-by'), null, path);
      if (extra) assert.match(r.headers.get(extra) ?? '', /default-src 'self'/, path);
    }
  });
});
