// The submission routes as an API module: built from the configuration, and every route documented
// with schemas that convert to JSON Schema (as /openapi.json needs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { loadConfig } from '../infra/config.ts';
import { createLogger } from '../infra/log.ts';
import type { Store } from '../infra/store/index.ts';
import { ingestApiModule, submissionDocs } from './submission-module.ts';

test('ingestApiModule: a router from the configuration, and docs for every route it serves', () => {
  const published: string[] = [];
  const store = { kind: 'pglite', query: async () => ({ rows: [], rowCount: 0 }), transaction: async () => undefined, close: async () => undefined } as unknown as Store;
  const m = ingestApiModule({ store, bus: { publish: async (topic) => void published.push(topic) }, log: createLogger('silent'), config: loadConfig({ TOPIC_PREFIX: 'x.' }), now: Date.now });
  assert.equal(typeof m.router, 'function');
  const routes = submissionDocs.map((d) => `${d.method.toUpperCase()} ${d.path}`).sort();
  assert.deepEqual(routes, [
    'GET /v1/stations/{id}', 'GET /v1/stations/{id}/quality', 'GET /v1/stations/{id}/readings', 'GET /weatherstation/updateweatherstation.php',
    'PATCH /v1/partners/{id}', 'PATCH /v1/stations/{id}', 'POST /data/report/{key}', 'POST /data/sensor-community', 'POST /v1/partners', 'POST /v1/readings',
    'POST /v1/stations', 'POST /weatherstation/updateweatherstation.php',
  ]);
  for (const d of submissionDocs) {
    for (const s of [d.query, d.params, d.headers, ...Object.values(d.body?.content ?? {}), ...Object.values(d.responses).flatMap((r) => Object.values(r.content ?? {}))]) {
      if (s) assert.doesNotThrow(() => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }), `${d.method} ${d.path}`);
    }
  }
});
