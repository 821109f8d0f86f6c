// The whole system as `npm start` runs it: one process, embedded store in a temp directory, the
// in-process bus, the simulated city. It must answer /v1/forecast with numbers within 60 s of
// start, keep updating every batch, answer during a batch, answer bad input with 400, and on
// Ctrl-C (SIGINT) during a batch stop with the store closed and nothing committed lost.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../infra/testing/free-port.ts';
import { openStore } from '../infra/store/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** A response, or null when nothing answered (not listening yet): no assertion hides in a catch. */
async function tryJson(url: string): Promise<{ status: number; body: any } | null> {
  const r = await fetch(url).then((x) => x, () => null);
  if (!r) return null;
  return { status: r.status, body: await r.json() };
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.json() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('npm start: the embedded system end to end', () => {
  let proc: ChildProcess;
  let base: string;
  let dir: string;
  let startedAt: number;
  let output = '';
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nowcast-e2e-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    startedAt = Date.now();
    proc = spawn(process.execPath, ['--import', 'tsx', 'system/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), STORE_URL: join(dir, 'db'), WINDOW_MS: '5000', BATCH_LAG_MS: '1000', SIM_AMATEUR_SENSORS: '150', LOG_LEVEL: 'info', SNAPSHOT_POLL_MS: '100' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    proc.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  });

  after(async () => {
    if (!exited()) {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers with a forecast for a point in the city within 60 s, then updates every batch', async () => {
    const url = `${base}/v1/forecast?latitude=52.52&longitude=13.405`;
    let first: any;
    while (Date.now() - startedAt < 60_000 && !exited()) {
      const r = await tryJson(url);
      if (r?.status === 200) {
        first = r.body;
        break;
      }
      if (r) assert.equal(r.status, 503, `unexpected ${r.status}: ${JSON.stringify(r.body)}`);
      await sleep(500);
    }
    assert.ok(first, `no forecast within 60 s (exit ${proc.exitCode}); output:\n${output.slice(-3000)}`);
    const t = first.current.temperature_2m;
    assert.equal(typeof t, 'number');
    assert.ok(t > -40 && t < 45, `temperature ${t}`);
    assert.ok(first.current.temperature_2m_sigma > 0);
    assert.equal(first.minutely_5.time.length, 13);
    for (const v of first.minutely_5.temperature_2m) assert.equal(typeof v, 'number');
    const step = Date.parse(`${first.minutely_5.time[1]}Z`) - Date.parse(`${first.minutely_5.time[0]}Z`);
    assert.equal(step, 300_000);

    // The next batch (every 5 s here) brings a newer run.
    let newer: any;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !newer) {
      const r = await getJson(url);
      if (r.status === 200 && r.body.run_time > first.run_time) newer = r.body;
      else await sleep(300);
    }
    assert.ok(newer, 'no newer run within 30 s');
    const h = await getJson(`${base}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'ok');
    assert.ok(h.body.last_good_batch.readings > 0);
    // The shipped models, served by the API's model thread, as /metrics and /v1/models show them.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const m of ['bilstm', 'ar-5min', 'ar-hourly']) assert.match(metrics, new RegExp(`nowcast_model_up\\{model="${m}"\\} 1\\b`), m);
    assert.match(metrics, /nowcast_model_predictions_waiting 0\b/);
    const models = await getJson(`${base}/v1/models`);
    assert.deepEqual(models.body.models.map((m: { name: string; status: string }) => `${m.name} ${m.status}`), ['ar-5min ok', 'ar-hourly ok', 'bilstm ok']);
  });

  it('answers bad input with 400, far-away points with 404, and points at the box\'s corner with a forecast', async () => {
    for (const q of ['', 'latitude=52.5', 'latitude=abc&longitude=13.4', 'latitude=95&longitude=13.4', 'latitude=52.5&latitude=52.6&longitude=13.4']) {
      const r = await getJson(`${base}/v1/forecast?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.code, 'INVALID_PARAMETER');
      assert.match(r.body.reason, /latitude|longitude/i, q);
    }
    const far = await getJson(`${base}/v1/forecast?latitude=48.85&longitude=2.35`);
    assert.equal(far.status, 404);
    // Every corner of the default box: cells whose centres lie outside it are part of the grid.
    for (const [lat, lon] of [[52.35, 13.08], [52.35, 13.76], [52.68, 13.08], [52.68, 13.76]]) {
      const r = await getJson(`${base}/v1/forecast?latitude=${lat}&longitude=${lon}`);
      assert.equal(r.status, 200, `(${lat}, ${lon}): ${JSON.stringify(r.body)}`);
    }
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /maplibre-gl/);
  });

  it('serves the routes the README\'s endpoint tables list, and no other', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    // A table row's first cell: `GET /a`, or several (`POST /a`, `PATCH /a/{id}`), or `GET`/`POST /a`.
    const firstCells = [...readme.matchAll(/^\| (`(?:GET|POST|PATCH|PUT|DELETE)(?:[^|\\]|\\.)*) \|/gm)].map((m) => m[1]!); // (\| inside a cell)
    const documented = firstCells.flatMap((cell) => [...cell.matchAll(/`((?:[A-Z]+`\/`)*[A-Z]+) (\/[^` ?]*)/g)].flatMap((m) => m[1]!.split('`/`').map((method) => `${method} ${m[2]}`))).sort();
    const openapi = (await getJson(`${base}/openapi.json`)).body as { paths: Record<string, Record<string, unknown>> };
    const served = Object.entries(openapi.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)).sort();
    assert.deepEqual(documented, served);
  });

  it('answers during a batch, and a Ctrl-C during a batch closes the store and loses nothing committed', async () => {
    // Send the signal while a batch runs: /healthz shows the newest ledger row (polled every
    // SNAPSHOT_POLL_MS), which is 'running' from the moment a window opens until it is done. The
    // ledger read afterwards proves a batch was in flight at the signal (started before it, finished after).
    const before = (await getJson(`${base}/healthz`)).body;
    assert.ok(before.last_good_batch, 'a batch has finished');
    // Catch a batch at its start (a transition to 'running'), not near its end, so it still runs at the signal.
    const deadline = Date.now() + 60_000;
    const status = async () => (await getJson(`${base}/healthz`)).body.last_batch?.status;
    while ((await status()) === 'running' && Date.now() < deadline) await sleep(20);
    let running = false;
    while (!running && Date.now() < deadline) {
      running = (await status()) === 'running';
      if (!running) await sleep(20);
    }
    assert.ok(running, 'a batch was seen running within a minute');
    const inBatch = await getJson(`${base}/v1/forecast?latitude=52.52&longitude=13.405`);
    assert.equal(inBatch.status, 200, 'a forecast while the batch runs');
    const signalAt = Date.now();
    proc.kill('SIGINT');
    const code = await new Promise<number | null>((r) => (exited() ? r(proc.exitCode) : proc.once('exit', (c) => r(c))));
    assert.equal(code, 0, output.slice(-2000));
    assert.equal(existsSync(join(dir, 'db.lock')), false, 'the data directory\'s lock is gone: the store was closed');

    const store = await openStore(join(dir, 'db'));
    try {
      const runs = await store.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM batch_runs GROUP BY status`);
      assert.deepEqual(runs.rows.filter((r) => r.status === 'running'), [], 'the batch in flight finished before the store closed');
      const inFlight = await store.query<{ window_end: Date; status: string; started_at: Date; finished_at: Date | null }>(
        `SELECT window_end, status, started_at, finished_at FROM batch_runs WHERE started_at <= $1 AND (finished_at IS NULL OR finished_at >= $1)`, [new Date(signalAt)]);
      const f = inFlight.rows[0];
      assert.ok(f, `a batch was in flight at the signal (${new Date(signalAt).toISOString()}); runs: ${JSON.stringify(runs.rows)}`);
      assert.equal(f.status, 'done', 'the batch in flight at the signal completed before the store closed');
      const good = before.last_good_batch;
      const kept = await store.query<{ status: string; n_cells: number }>(`SELECT status, n_cells FROM batch_runs WHERE window_end = $1`, [new Date(good.window_end)]);
      assert.equal(kept.rows[0]?.status, 'done');
      const rows = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM nowcasts WHERE run_time = $1`, [new Date(good.window_end)]);
      assert.equal(rows.rows[0]?.n, good.cells, 'every nowcast of the last good run before the stop is there');
      const readings = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings`);
      assert.ok(readings.rows[0]!.n >= good.readings);
    } finally {
      await store.close();
    }
  });
});

describe('npm start on a port already in use', () => {
  let holder: Server;
  before(async () => {
    holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  });
  after(async () => {
    await new Promise((r) => holder.close(r));
  });

  it('stops with a clear error instead of serving nothing', async () => {
    const a = holder.address();
    const port = typeof a === 'object' && a ? a.port : 0;
    const child = spawn(process.execPath, ['--import', 'tsx', 'system/main.ts'], { cwd: root, env: { ...process.env, PORT: String(port), STORE_URL: 'memory://', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 1);
    assert.match(err, new RegExp(`port ${port} is already in use`));
  });
});
