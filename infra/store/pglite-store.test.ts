/** The store contract against the embedded adapter: in memory, and in a directory (with reopen). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { insertReadings, openStore, readingColumns } from './index.ts';
import { parsePgArray, pgliteDataDir, StoreUrlError } from './pglite-store.ts';
import { runStoreContract } from './store.contract.ts';
import { runDomainContract } from './domain.contract.ts';

runStoreContract('pglite memory://', async () => ({
  store: await openStore('memory://'),
  cleanup: async () => undefined,
}));

runStoreContract('pglite directory (reopened)', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'pglite-store-'));
  const dir = join(parent, 'nested', 'db'); // created recursively by the adapter
  return {
    store: await openStore(dir),
    reopen: () => openStore(`file://${dir}`),
    cleanup: () => rm(parent, { recursive: true, force: true }),
  };
}, { persistent: true });

test('embedded store URLs: memory, file:// and paths relative to the cwd', () => {
  assert.equal(pgliteDataDir('memory://'), 'memory://');
  assert.equal(pgliteDataDir('file:///var/lib/nowcast'), '/var/lib/nowcast');
  assert.equal(pgliteDataDir('./data/db', '/srv/app'), '/srv/app/data/db');
  assert.equal(pgliteDataDir('/abs/db', '/srv/app'), '/abs/db');
  assert.throws(() => pgliteDataDir('mysql://x/y'), StoreUrlError);
  assert.throws(() => pgliteDataDir(''), StoreUrlError);
});

test('array literals: NULL vs "NULL", quotes, escapes, nesting, box delimiter', () => {
  const id = (v: string) => v;
  assert.deepEqual(parsePgArray('{}', id), []);
  assert.deepEqual(parsePgArray('{a,NULL,"NULL","x,y","q\\"b\\\\"}', id), ['a', null, 'NULL', 'x,y', 'q"b\\']);
  assert.deepEqual(parsePgArray('{{1,2},{NULL,4}}', Number), [[1, 2], [null, 4]]);
  assert.deepEqual(parsePgArray('[0:1]={7,8}', Number), [7, 8]);
  assert.deepEqual(parsePgArray('{(1,1),(0,0);(2,2),(1,1)}', id, ';'), ['(1,1),(0,0)', '(2,2),(1,1)']);
});

runDomainContract('pglite memory://', async () => ({ store: await openStore('memory://'), cleanup: async () => undefined }));

test('window readings: the binary COPY path gives exactly the text path\'s columns (plain and boxed)', async () => {
  const store = await openStore('memory://');
  try {
    assert.ok(store.copyOut, 'the embedded adapter reads large results by binary COPY');
    const t0 = Date.UTC(2026, 0, 9, 14, 0);
    let seed = 7;
    const u = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    await insertReadings(store, Array.from({ length: 3000 }, (_, i) => ({
      sensorId: `cp-${String(i % 37).padStart(3, '0')}-é`, timeMs: t0 + i * 97, kind: (i % 11 === 0 ? 'official' : 'amateur') as 'official' | 'amateur',
      lat: 52 + u(), lon: -180 + 360 * u(), elevationM: i % 5 === 0 ? null : -50 + 3000 * u(), cell: 'c', tempC: -40 + 90 * u() + 1e-12 * i, humidityPct: null, pressureHpa: null,
    })));
    const textOnly = { query: store.query.bind(store) };
    for (const box of [undefined, { south: 52.2, west: -90, north: 52.7, east: 90 }]) {
      const binary = await readingColumns(store, t0, t0 + 3000 * 97, box);
      const text = await readingColumns(textOnly, t0, t0 + 3000 * 97, box);
      assert.ok(binary.sensorId.length > (box ? 300 : 2999), `rows read: ${binary.sensorId.length}`);
      assert.deepEqual(binary, text);
    }
    await assert.rejects(readingColumns(store, NaN, t0), /startMs must be a finite number/);
  } finally {
    await store.close();
  }
});

test('binary COPY out leaves the engine\'s own devices alone: strong random numbers still work after it', async () => {
  const store = await openStore('memory://');
  try {
    const uuid = async () => (await store.query<{ u: string }>('SELECT gen_random_uuid()::text AS u')).rows[0]!.u;
    const before = await uuid();
    assert.equal((await store.copyOut!('SELECT 1::int8')).length, 19 + 14 + 2);
    const after = await uuid();
    assert.match(after, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(after, before);
  } finally {
    await store.close();
  }
});

test('binary COPY out: concurrent copies each get their own bytes; a failed one leaves the next intact', async () => {
  const store = await openStore('memory://');
  try {
    const copyOut = store.copyOut!.bind(store);
    const expected = async (q: string) => {
      // The binary COPY of n int8 rows is a fixed header, per row 2 + 4 + 8 bytes, and a 2-byte trailer.
      const n = Number((await store.query<{ n: string }>(`SELECT count(*)::text AS n FROM (${q}) s`)).rows[0]!.n);
      return 19 + n * 14 + 2;
    };
    const queries = ['SELECT g::int8 FROM generate_series(1, 50000) g', 'SELECT g::int8 FROM generate_series(1, 7) g', 'SELECT g::int8 * 3 FROM generate_series(1, 20000) g'];
    const [a, bad, b, c] = await Promise.allSettled([copyOut(queries[0]!), copyOut('SELECT no_such_column'), copyOut(queries[1]!), copyOut(queries[2]!)]);
    assert.equal(bad.status, 'rejected');
    for (const [r, q] of [[a, queries[0]!], [b, queries[1]!], [c, queries[2]!]] as const) {
      assert.equal(r.status, 'fulfilled');
      const bytes = (r as PromiseFulfilledResult<Uint8Array>).value;
      assert.equal(bytes.length, await expected(q));
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // The last row's value (big-endian int8 after its 2-byte field count and 4-byte length).
      const last = view.getBigInt64(bytes.length - 2 - 8);
      assert.equal(last, q === queries[0] ? 50000n : q === queries[1] ? 7n : 60000n);
    }
  } finally {
    await store.close();
  }
});
