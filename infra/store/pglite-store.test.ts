/** The store contract against the embedded adapter: in memory, and in a directory (with reopen). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from './index.ts';
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
