// A real Weather-Underground client against the WU route: weewx's own uploader (from PyPI, in a
// virtual environment made by ingest/testing/weewx.sh) posts a record to the app on an ephemeral port;
// the reading must be stored in °C, and a wrong password must be refused as weewx understands it.
// Needs python3 (and PyPI the first time); skipped without python3, a failure under CI=true.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { openStore, insertStation, type Store } from '../infra/store/index.ts';
import { openBus, type Bus } from '../infra/bus/index.ts';
import { createLogger } from '../infra/log.ts';
import { topicNames, topicSpecs, startIngestWorker, hashSecret, newSecret, type IngestWorker } from '../ingest/index.ts';
import { close } from '../infra/testing/close.ts';
import { submissionApp } from './submission-app.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const log = createLogger('silent');
const hasPython = spawnSync('sh', ['-c', 'command -v python3'], { stdio: 'ignore' }).status === 0;

describe('weewx uploads to the Weather-Underground route unchanged', () => {
  let store: Store;
  let bus: Bus;
  let worker: IngestWorker;
  let server: Server;
  let url = '';
  let python = '';
  const topics = topicNames('weewx.');

  before(async () => {
    if (!hasPython) return;
    python = (await run('bash', ['ingest/testing/weewx.sh'], { cwd: root, timeout: 300_000 })).stdout.trim();
    store = await openStore('memory://', { log });
    bus = openBus('memory://');
    await bus.ensureTopics(topicSpecs(topics, 2));
    worker = await startIngestWorker({ bus, store, log, topics, groupId: 'weewx', resolution: 9, maxBatch: 100 });
    const app = submissionApp({ store, bus, readingsTopic: topics.readings, partitionResolution: 5, log });
    server = await new Promise<Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/weatherstation/updateweatherstation.php`;
  });

  after(async () => {
    if (!hasPython) return;
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await worker?.stop();
    await bus?.close();
    await store?.close();
  });

  it('a weewx archive post is accepted and stored in °C; a wrong password is a failed login for weewx', { timeout: 360_000 }, async (t) => {
    if (!hasPython) {
      if (process.env.CI === 'true') assert.fail('python3 is not on PATH (CI=true: the weewx client test must run)');
      return t.skip('python3 is not on PATH: cannot run weewx');
    }
    const id = 'st-weewxtest0001';
    const key = newSecret(id);
    await insertStation(store, { stationId: id, kind: 'amateur', name: 'weewx', externalId: null, lat: 52.5, lon: 13.4, elevationM: null, ownerPartner: null, keyHash: await hashSecret(key), nowMs: Date.now() });
    const ts = Math.floor(Date.now() / 1000) - 120;
    const upload = (password: string) => run(python, ['ingest/testing/weewx_upload.py'], { cwd: root, env: { ...process.env, WU_URL: url, WU_ID: id, WU_PASSWORD: password, WU_TS: String(ts) }, timeout: 60_000 })
      .then((r) => ({ code: 0, out: r.stdout.trim() }), (e: { code?: number; stdout?: string }) => ({ code: e.code ?? -1, out: (e.stdout ?? '').trim() }));

    const ok = await upload(key);
    assert.deepEqual(ok, { code: 0, out: 'posted' });
    const deadline = Date.now() + 10_000;
    let row: { temp_c: number; humidity_pct: number } | undefined;
    while (!row && Date.now() < deadline) {
      row = (await store.query<{ temp_c: number; humidity_pct: number }>('SELECT temp_c, humidity_pct FROM readings WHERE sensor_id = $1 AND time = $2', [id, new Date(ts * 1000)])).rows[0];
      if (!row) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(row, 'the reading weewx posted is stored');
    close(row.temp_c, 10, { atol: 1e-9 }); // weewx sends tempf=50.0: exactly 10 °C
    assert.equal(row.humidity_pct, 71);

    const refused = await upload(`${id}.wrongwrongwrongwrongwrongwrong`);
    assert.equal(refused.code, 3, refused.out);
    t.diagnostic(`weewx on a wrong password: ${refused.out}`);
  });
});
