// Hostile HTTP input against the whole app as served (api/server.ts's listener, every router, the
// shared middleware): huge bounding boxes, absurd zoom levels, thousands of coordinates, deeply nested
// JSON, long strings, oversized bodies and slow clients (slowloris) each get a 400, 413 or 408 with a
// reason, nothing answers 5xx, and the process's memory stays bounded while it refuses them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { loadConfig } from '../../infra/config.ts';
import { createLogger } from '../../infra/log.ts';
import { openStore, type Store } from '../../infra/store/index.ts';
import { createApp, listen, LiveSnapshot, storeRunSource, type Listening } from '../../api/index.ts';

const log = createLogger('silent');
const HEADERS_TIMEOUT_MS = 600;
const REQUEST_TIMEOUT_MS = 1500;

describe('hostile HTTP input', () => {
  let store: Store;
  let listening: Listening;
  let base: string;
  let port: number;

  before(async () => {
    const config = loadConfig({ STORE_URL: 'memory://', RATE_LIMIT_PER_MIN: '0', ADMIN_TOKEN: 'an-admin-token-of-the-test' });
    store = await openStore('memory://', { log });
    const live = new LiveSnapshot({ source: storeRunSource(store), log, pollMs: 60_000, keepPastMs: 3_600_000 });
    listening = await listen(createApp({ store, bus: { publish: async () => undefined }, log, config, live }), { host: '127.0.0.1', port: 0, headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS });
    base = listening.url;
    port = Number(new URL(base).port);
  });
  after(async () => {
    await listening.close(100);
    await store.close();
  });

  /** The answer must be one of `statuses`, JSON in the error catalogue's shape with a reason (plain text on the upload protocols' paths). */
  async function refused(what: string, r: Response, statuses: number[]): Promise<string> {
    const text = await r.text();
    assert.ok(statuses.includes(r.status), `${what}: ${r.status} ${text.slice(0, 300)}`);
    if (r.headers.get('content-type')?.startsWith('text/plain')) {
      assert.ok(text.length > 10, `${what}: a reason (${text})`);
      return text;
    }
    const body = JSON.parse(text) as { error: boolean; code: string; reason: string };
    assert.equal(body.error, true, what);
    assert.ok(body.reason.length > 10, `${what}: a reason (${body.reason})`);
    return body.reason;
  }

  it('huge bounding boxes, absurd zoom levels and leads, thousands of coordinates', async () => {
    for (const bbox of ['-180,-90,180,90', '13,52,14,53', '0,0,1e308,1e308', 'NaN,1,2,3', '1,2,3', '-1e999,0,0,0']) {
      await refused(`bbox ${bbox}`, await fetch(`${base}/v1/cells?bbox=${bbox}`), [400, 413]);
    }
    for (const t of ['99/1/1.png', '-1/0/0.png', '1e9/0/0.png', '20/99999999999/1.png', '3/1/1.jpg', '0/0/0.png?lead=7', '0/0/0.png?lead=-5', '0/0/0.png?lead=1e9', '%ff/0/0.png']) {
      await refused(`tile ${t}`, await fetch(`${base}/tiles/${t}`), [400]);
    }
    const many = (n: number, v: number) => Array.from({ length: n }, () => v).join(',');
    await refused('1,001 points', await fetch(`${base}/v1/forecast?latitude=${many(1001, 52.5)}&longitude=${many(1001, 13.4)}`), [400, 413]);
    await refused('5,000 points', await fetch(`${base}/v1/forecast?latitude=${many(5000, 52.5)}&longitude=${many(5000, 13.4)}`), [400, 413]);
    await refused('an URL of 100 kB', await fetch(`${base}/v1/forecast?latitude=${'5'.repeat(100_000)}&longitude=1`), [413]);
    await refused('lists of different lengths', await fetch(`${base}/v1/forecast?latitude=${many(10, 52.5)}&longitude=${many(9, 13.4)}`), [400]);
    await refused('too many steps', await fetch(`${base}/v1/forecast?latitude=${many(1000, 52.5)}&longitude=${many(1000, 13.4)}&minutely_15=temperature_2m&past_days=92&forecast_days=16`), [400, 413]);
    await refused('a thousand variables', await fetch(`${base}/v1/forecast?latitude=52.5&longitude=13.4&hourly=${Array.from({ length: 1000 }, (_, i) => `v${i}`).join(',')}`), [400]);
    await refused('a repeated parameter', await fetch(`${base}/v1/forecast?${'latitude=52.5&'.repeat(2000)}longitude=13.4`), [400]);
  });

  it('deeply nested JSON, long strings, wrong types and oversized bodies', async () => {
    const post = (path: string, body: string | Buffer, type = 'application/json', headers: Record<string, string> = {}) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': type, ...headers }, body: body as BodyInit });
    const nested = (depth: number) => `{"name":${'['.repeat(depth)}${']'.repeat(depth)},"latitude":52.5,"longitude":13.4}`;
    await refused('nested 5,000 deep (within the body limit)', await post('/v1/stations', nested(5000)), [400]);
    await refused('nested 1,000,000 deep', await post('/v1/stations', nested(1_000_000)), [400, 413]);
    await refused('nested readings', await post('/v1/readings', `{"readings":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 'application/json', { authorization: 'Bearer st-abc.0123456789abcdef0123' }), [400, 401]);
    await refused('a name of 1 MB', await post('/v1/stations', JSON.stringify({ name: 'x'.repeat(1 << 20), latitude: 52.5, longitude: 13.4 })), [413]);
    await refused('a name of 1,000 characters', await post('/v1/stations', JSON.stringify({ name: 'x'.repeat(1000), latitude: 52.5, longitude: 13.4 })), [400]);
    await refused('a name with a NUL', await post('/v1/stations', JSON.stringify({ name: 'a\u0000b', latitude: 52.5, longitude: 13.4 })), [400]);
    await refused('latitude as text', await post('/v1/stations', JSON.stringify({ name: 'n', latitude: '52.5', longitude: 13.4 })), [400]);
    await refused('latitude 1e308', await post('/v1/stations', JSON.stringify({ name: 'n', latitude: 1e308, longitude: 13.4 })), [400]);
    await refused('not JSON', await post('/v1/stations', '{"name": "n", '), [400]);
    await refused('a body of 20 MB', await post('/v1/readings', Buffer.alloc(20 << 20, 0x20), 'application/json', { authorization: 'Bearer st-abc.0123456789abcdef0123' }), [413]);
    await refused('an Arrow body of 20 MB', await post('/v1/readings', Buffer.alloc(20 << 20, 1), 'application/vnd.apache.arrow.stream', { authorization: 'Bearer pt-abc.0123456789abcdef0123' }), [413]);
    await refused('a token of 60 kB', await post('/v1/readings', '{}', 'application/json', { authorization: `Bearer ${'a'.repeat(60_000)}` }), [400, 401, 413]);
    await refused('an Ecowitt key of 10 kB', await post(`/data/report/${'k'.repeat(10_000)}`, 'tempf=40', 'application/x-www-form-urlencoded'), [401]);
    await refused('a station id of 30 kB', await fetch(`${base}/v1/stations/${'s'.repeat(30_000)}`), [400, 404]);
    await refused('a models call with a huge tensor', await post('/v1/models/bilstm/predict', JSON.stringify({ inputs: { x: { dims: [1e9, 1e9], data: [] } } })), [400, 404, 413]);
  });

  it('a slow client (slowloris) gets 408 and is disconnected, for a slow head and a slow body', { timeout: 20_000 }, async () => {
    const slow = (head: string, drip: string, everyMs: number) => new Promise<{ response: string; afterMs: number }>((resolve, reject) => {
      const t0 = Date.now();
      const socket = connect(port, '127.0.0.1');
      let response = '';
      let timer: NodeJS.Timeout | undefined;
      socket.on('connect', () => {
        socket.write(head);
        timer = setInterval(() => socket.writable && socket.write(drip), everyMs);
      });
      socket.on('data', (d) => (response += d.toString()));
      socket.on('error', () => undefined); // a reset after the answer
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ response, afterMs: Date.now() - t0 });
      });
      setTimeout(() => { clearInterval(timer); socket.destroy(); reject(new Error(`still connected after 10 s; got ${JSON.stringify(response)}`)); }, 10_000);
    });
    const head = await slow('GET /v1/forecast?latitude=52.5&longitude=13.4 HTTP/1.1\r\nHost: x\r\n', 'X-Slow: 1\r\n', 100);
    assert.match(head.response, /^HTTP\/1\.1 408 /);
    assert.match(head.response, /"code":"REQUEST_TIMEOUT"/);
    // Checked every second at most (connectionsCheckingInterval): closed within the timeout plus that.
    assert.ok(head.afterMs < HEADERS_TIMEOUT_MS + 3000, `closed after ${head.afterMs} ms`);
    const body = await slow('POST /v1/stations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{', ' ', 100);
    assert.match(body.response, /^HTTP\/1\.1 408 /);
    assert.ok(body.afterMs < REQUEST_TIMEOUT_MS + 3000, `closed after ${body.afterMs} ms`);
  });

  it('memory stays bounded while refusing 200 oversized bodies and 2,000 huge-box requests', { timeout: 120_000 }, async () => {
    const rss0 = process.memoryUsage().rss;
    const big = Buffer.alloc(5 << 20, 0x20); // 5 MB each: 1 GB refused in all
    for (let i = 0; i < 200; i++) {
      const r = await fetch(`${base}/v1/stations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
      assert.equal(r.status, 413);
      await r.arrayBuffer();
    }
    for (let i = 0; i < 2000; i += 20) {
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/v1/cells?bbox=-180,-90,180,90`)));
      for (const r of answers) {
        assert.equal(r.status, 413);
        await r.arrayBuffer();
      }
    }
    const grewMb = (process.memoryUsage().rss - rss0) / 2 ** 20;
    // Had the bodies been buffered, 1 GB would have passed through; 200 MB leaves room for the client's own buffers and the GC's lag.
    assert.ok(grewMb < 200, `RSS grew ${grewMb.toFixed(0)} MB`);
  });
});
