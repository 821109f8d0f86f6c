// The station registry's SQL contract on the embedded engine (pg-store.test.ts runs it on the TimescaleDB server).
import { openStore } from './index.ts';
import { runRegistryContract } from './stations.contract.ts';

runRegistryContract('pglite memory://', async () => ({ store: await openStore('memory://'), cleanup: async () => undefined }));
