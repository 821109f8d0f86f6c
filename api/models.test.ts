// The model routes (mounted in the app, its error mapping): list, card, predict and its 400s, served by
// a registry on the HTTP thread and by the model thread alike; then what only the thread does: the
// HTTP thread stays free during a large prediction, the queue is bounded, a dead thread comes back.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openStore, type Store } from '../infra/store/index.ts';
import { createLogger } from '../infra/log.ts';
import { loadConfig } from '../infra/config.ts';
import { LiveSnapshot, storeRunSource } from './live-snapshot.ts';
import { ModelRegistry } from '../models/index.ts';
import { tempModelDir, writeAffine } from '../models/registry/test-artifacts.ts';
import { createApp } from './app.ts';
import { modelsModule, modelsRouteDocs, predictRequestSchema } from './models.ts';
import { ModelThread } from './model-thread.ts';
import { waitFor } from '../infra/testing/role-process.ts';
import { registryModelService, type ModelService } from './model-service.ts';

/** The app with the model routes of `models` on a local port. */
async function serve(models: ModelService): Promise<{ base: string; close: () => Promise<void> }> {
  const store = await openStore('memory://');
  const log = createLogger('silent');
  const config = loadConfig({ RATE_LIMIT_PER_MIN: '0' });
  const live = new LiveSnapshot({ source: storeRunSource(store), log, pollMs: config.api.snapshotPollMs, keepPastMs: config.api.pastKeepMs });
  const app = createApp({ store, bus: { publish: async () => undefined }, log, config, live, modules: [modelsModule(models)] });
  const server: Server = await new Promise((resolve) => { const s = createServer(app).listen(0, '127.0.0.1', () => resolve(s)); });
  const a = server.address();
  return {
    base: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await models.close();
      await store.close();
    },
  };
}

const post = (url: string, body: unknown, raw = false) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? String(body) : JSON.stringify(body) });

const services: [string, (dir: string) => Promise<ModelService>][] = [
  ['a registry on the HTTP thread', async (dir) => registryModelService(await ModelRegistry.open(dir, { expected: ['bilstm'] }))],
  ['the model thread', (dir) => ModelThread.open({ dir, expected: ['bilstm'], logLevel: 'silent' })],
];

for (const [label, open] of services) describe(`api: /v1/models, served by ${label}`, () => {
  let base: string;
  let close: () => Promise<void>;

  before(async () => {
    const dir = tempModelDir();
    writeAffine(dir, 'affine', 2, '7');
    ({ base, close } = await serve(await open(dir)));
  });
  after(() => close());

  it('documents its three routes with the schemas it validates with', async () => {
    assert.deepEqual(modelsRouteDocs.map((d) => `${d.method} ${d.path}`), ['get /v1/models', 'get /v1/models/{name}', 'post /v1/models/{name}/predict']);
    const body = modelsRouteDocs[2]!.body!.content['application/json'];
    assert.equal(body, predictRequestSchema);
    const registry = await ModelRegistry.open(tempModelDir());
    assert.equal(typeof modelsModule(registry)({} as Parameters<ReturnType<typeof modelsModule>>[0]).router, 'function'); // the module needs nothing from the context
    await registry.close();
  });

  it('lists the models with version and status', async () => {
    const r = await fetch(`${base}/v1/models`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { models: [
      { name: 'affine', version: '7', status: 'ok', description: 'test double: y = 2·x + 1' },
      { name: 'bilstm', version: null, status: 'missing', description: null },
    ] });
  });

  it('serves a card; an unknown or unloaded model is NOT_FOUND', async () => {
    const r = await fetch(`${base}/v1/models/affine`);
    assert.equal(r.status, 200);
    const card = await r.json();
    assert.equal(card.version, '7');
    assert.match(card.sha256, /^[0-9a-f]{64}$/);
    for (const name of ['bilstm', 'nope', 'Bad%20Name']) {
      const u = await fetch(`${base}/v1/models/${name}`);
      assert.equal(u.status, 404);
      const b = await u.json();
      assert.equal(b.error, true);
      assert.equal(b.code, 'NOT_FOUND');
    }
  });

  it('predicts; null is a missing value both ways', async () => {
    const r = await post(`${base}/v1/models/affine/predict`, { inputs: { x: { dims: [2, 3], data: [0, 1, 2, 3, null, 5] } } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { model: 'affine', version: '7', outputs: { y: { dims: [2, 3], data: [1, 3, 5, 7, null, 11] } } });
  });

  it('clear 4xx: wrong shape, wrong size, unknown input, wrong type, malformed JSON, a body too large', async () => {
    const cases: [unknown, RegExp, boolean?][] = [
      [{ inputs: { x: { dims: [2, 4], data: Array(8).fill(0) } } }, /dimension 1 is 4, the model takes 3/],
      [{ inputs: { x: { dims: [2, 3], data: [1, 2] } } }, /has 2 values, its dimensions \[2, 3\] make 6/],
      [{ inputs: { x: { dims: [1, 3], data: [1, 2, 3] }, z: { dims: [1], data: [0] } } }, /no input "z"/],
      [{ inputs: {} }, /input "x" is missing/],
      [{ inputs: { x: { dims: [1, 3], data: ['a', 2, 3] } } }, /inputs\.x\.data\.0/],
      [{ inputz: {} }, /Invalid request body/],
      ['{"inputs": ', /Unreadable request body/, true],
    ];
    for (const [body, reason, raw] of cases) {
      const r = await post(`${base}/v1/models/affine/predict`, body, raw);
      assert.equal(r.status, 400, JSON.stringify(body));
      const b = await r.json();
      assert.equal(b.error, true);
      assert.equal(b.code, 'INVALID_PARAMETER');
      assert.match(b.reason, reason);
    }
    const missing = await post(`${base}/v1/models/bilstm/predict`, { inputs: {} });
    assert.equal(missing.status, 404);
    const huge = await post(`${base}/v1/models/affine/predict`, ' '.repeat(64 * 1024 * 1024 + 1), true);
    assert.equal(huge.status, 413);
    assert.deepEqual(await huge.json(), { error: true, code: 'PAYLOAD_TOO_LARGE', reason: 'The request body is larger than 64 MiB.' });
  });
});

describe('api: the model thread', () => {
  let dir: string;
  before(() => {
    dir = tempModelDir();
    writeAffine(dir, 'affine', 2, '7');
  });

  /** A request of `rows` × 3 values for the affine model, and the value its answer holds at `i`. */
  const affineBody = (rows: number): string => JSON.stringify({ inputs: { x: { dims: [rows, 3], data: Array.from({ length: rows * 3 }, (_, i) => (i % 1000) / 8) } } });
  const affineAt = (i: number): number => 2 * ((i % 1000) / 8) + 1;

  it('keeps the HTTP thread free while it decodes and runs a large request', async () => {
    const { base, close } = await serve(await ModelThread.open({ dir, logLevel: 'silent' }));
    try {
      const rows = 1_300_000; // 3.9 million values, near the request limit
      const body = affineBody(rows);
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const t0 = performance.now();
      const r = await post(`${base}/v1/models/affine/predict`, body, true);
      const bytes = await r.arrayBuffer();
      const ms = performance.now() - t0;
      delay.disable();
      assert.equal(r.status, 200);
      const out = JSON.parse(new TextDecoder().decode(bytes)) as { outputs: { y: { dims: number[]; data: number[] } } };
      assert.deepEqual(out.outputs.y.dims, [rows, 3]);
      for (const i of [0, 1, 999, 1000, rows * 3 - 1]) assert.ok(Math.abs(out.outputs.y.data[i]! - affineAt(i)) < 1e-4, `value ${i}`);
      // On the HTTP thread the decode, the run and the encode hold the loop for most of the request
      // (with a registry there the longest stall was about 80 % of it); here only moving bytes does
      // (35-45 ms of 1.6 s).
      const stallMs = delay.max / 1e6;
      assert.ok(stallMs < ms / 4, `the HTTP thread stalled ${stallMs.toFixed(0)} ms of a ${ms.toFixed(0)} ms request`);
    } finally {
      await close();
    }
  });

  it('refuses a prediction beyond its queue (count or bytes): 503 NOT_READY with Retry-After', async () => {
    const t = await ModelThread.open({ dir, logLevel: 'silent', maxQueued: 1 });
    try {
      const small = new TextEncoder().encode(affineBody(1));
      const first = t.predict('affine', new TextEncoder().encode(affineBody(200_000)));
      await assert.rejects(t.predict('affine', small), (e: Error & { code?: string; details?: { retryAfterS?: number } }) => e.code === 'NOT_READY' && e.details?.retryAfterS === 1);
      assert.match(await first, /"model":"affine"/);
      assert.match(await t.predict('affine', small), /"data":\[1,1\.25,1\.5\]/); // the queue is free again
    } finally {
      await t.close();
    }
    // Bounded by bytes too: a body that would take the waiting bodies past the bound waits its turn
    // elsewhere; alone it is always taken.
    const big = new TextEncoder().encode(affineBody(100_000));
    const bytes = await ModelThread.open({ dir, logLevel: 'silent', maxQueuedBytes: big.byteLength + 100 });
    try {
      const first = bytes.predict('affine', big.slice());
      await assert.rejects(bytes.predict('affine', big.slice()), (e: Error & { code?: string }) => e.code === 'NOT_READY' && /MB\) are waiting/.test(e.message));
      const small = new TextEncoder().encode(affineBody(1));
      assert.match(await bytes.predict('affine', small), /"model":"affine"/); // fits beside it
      assert.match(await first, /"model":"affine"/);
      assert.match(await bytes.predict('affine', new TextEncoder().encode(affineBody(300_000))), /"model":"affine"/); // alone, larger than the bound
    } finally {
      await bytes.close();
    }
    const { base, close } = await serve(await ModelThread.open({ dir, logLevel: 'silent', maxQueued: 0 }));
    try {
      const r = await post(`${base}/v1/models/affine/predict`, affineBody(1), true);
      assert.equal(r.status, 503);
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal((await r.json()).code, 'NOT_READY');
    } finally {
      await close();
    }
  });

  it('reloads a changed model with no failed request, and reports the new version', async () => {
    const own = tempModelDir();
    writeAffine(own, 'affine', 2, '7');
    const t = await ModelThread.open({ dir: own, logLevel: 'silent', pollMs: 50 });
    try {
      const one = new TextEncoder().encode(affineBody(1));
      const answers: string[] = [];
      let swapped = false;
      const load = (async () => {
        // Requests back to back until the new version has answered a few times.
        for (let after = 0; after < 5;) {
          const a = await t.predict('affine', one.slice());
          answers.push(a);
          if (a.includes('"version":"8"')) after++;
          if (!swapped) { swapped = true; writeAffine(own, 'affine', 3, '8'); }
        }
      })();
      await Promise.race([load, new Promise((_, reject) => setTimeout(() => reject(new Error('no answer of version 8 within 20 s')), 20_000).unref())]);
      assert.match(answers[0]!, /"version":"7".*"data":\[1,1\.25,1\.5\]/);
      assert.match(answers.at(-1)!, /"version":"8".*"data":\[1,1\.375,1\.75\]/);
      assert.ok(answers.every((a) => /"version":"(7|8)"/.test(a)), 'every request answered');
      await waitFor('the thread reporting version 8', async () => (t.card('affine')?.version === '8' ? true : undefined), { timeoutMs: 5000, everyMs: 25 });
      assert.deepEqual(t.list().map((m) => `${m.name} ${m.version} ${m.status}`), ['affine 8 ok']);
    } finally {
      await t.close();
    }
  });

  it('a thread that dies fails what it held, reports its models failing, refuses until it is back, and is started again', async () => {
    const t = await ModelThread.open({ dir, logLevel: 'silent', restartMs: 300 });
    try {
      assert.equal(t.health().status, 'ok');
      const held = t.predict('affine', new TextEncoder().encode(affineBody(1_000_000)));
      await t.terminateThread();
      await assert.rejects(held, (e: Error & { code?: string }) => e.code === 'INTERNAL' && /model thread exited/.test(e.message));
      assert.equal(t.health().status, 'degraded');
      assert.deepEqual(t.list().map((m) => `${m.name} ${m.status}`), ['affine failing']);
      // Meanwhile a prediction is refused at once, not left waiting for a thread that is not there.
      await assert.rejects(t.predict('affine', new TextEncoder().encode(affineBody(1))), (e: Error & { code?: string; details?: { retryAfterS?: number } }) => e.code === 'NOT_READY' && e.details?.retryAfterS === 1);
      await waitFor('the thread started again', async () => (t.health().status === 'ok' ? true : undefined), { timeoutMs: 20_000, everyMs: 25 });
      assert.equal(t.card('affine')?.version, '7');
      assert.match(await t.predict('affine', new TextEncoder().encode(affineBody(1))), /"data":\[1,1\.25,1\.5\]/);
    } finally {
      await t.close();
    }
  });
});
