// The model routes in-process (mounted in the app, its error mapping): list, card, predict and its 400s.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { openStore, type Store } from '../infra/store/index.ts';
import { createLogger } from '../infra/log.ts';
import { loadConfig } from '../infra/config.ts';
import { LiveSnapshot, storeRunSource } from './live-snapshot.ts';
import { ModelRegistry } from '../models/index.ts';
import { tempModelDir, writeAffine } from '../models/registry/test-artifacts.ts';
import { createApp } from './app.ts';
import { modelsModule, modelsRouteDocs, predictRequestSchema } from './models.ts';

describe('api: /v1/models', () => {
  let registry: ModelRegistry;
  let server: Server;
  let base: string;
  let store: Store;

  before(async () => {
    const dir = tempModelDir();
    writeAffine(dir, 'affine', 2, '7');
    registry = await ModelRegistry.open(dir, { expected: ['bilstm'] });
    store = await openStore('memory://');
    const log = createLogger('silent');
    const config = loadConfig({ RATE_LIMIT_PER_MIN: '0' });
    const live = new LiveSnapshot({ source: storeRunSource(store), log, pollMs: config.api.snapshotPollMs, keepPastMs: config.api.pastKeepMs });
    const app = createApp({ store, bus: { publish: async () => undefined }, log, config, live, modules: [modelsModule(registry)] });
    server = await new Promise((resolve) => { const s = createServer(app).listen(0, '127.0.0.1', () => resolve(s)); });
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await registry.close();
    await store.close();
  });

  const post = (path: string, body: unknown, raw = false) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? String(body) : JSON.stringify(body) });

  it('documents its three routes with the schemas it validates with', () => {
    assert.deepEqual(modelsRouteDocs.map((d) => `${d.method} ${d.path}`), ['get /v1/models', 'get /v1/models/{name}', 'post /v1/models/{name}/predict']);
    const body = modelsRouteDocs[2]!.body!.content['application/json'];
    assert.equal(body, predictRequestSchema);
    assert.equal(typeof modelsModule(registry)({} as Parameters<ReturnType<typeof modelsModule>>[0]).router, 'function'); // the module needs nothing from the context
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
    const r = await post('/v1/models/affine/predict', { inputs: { x: { dims: [2, 3], data: [0, 1, 2, 3, null, 5] } } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { model: 'affine', version: '7', outputs: { y: { dims: [2, 3], data: [1, 3, 5, 7, null, 11] } } });
  });

  it('clear 400s: wrong shape, wrong size, unknown input, wrong type, malformed JSON', async () => {
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
      const r = await post('/v1/models/affine/predict', body, raw);
      assert.equal(r.status, 400, JSON.stringify(body));
      const b = await r.json();
      assert.equal(b.error, true);
      assert.equal(b.code, 'INVALID_PARAMETER');
      assert.match(b.reason, reason);
    }
    const missing = await post('/v1/models/bilstm/predict', { inputs: {} });
    assert.equal(missing.status, 404);
  });
});
