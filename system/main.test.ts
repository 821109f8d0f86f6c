// The whole system as `npm start` runs it: one process, embedded store in a temp directory, the
// in-process bus, the simulated city. It must answer /v1/forecast with numbers within 60 s of
// start, keep updating every batch, answer bad input with 400, and stop cleanly on SIGTERM.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../infra/testing/free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));


async function getJson(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.json() };
}

describe('npm start: the embedded system end to end', () => {
  let proc: ChildProcess;
  let base: string;
  let dir: string;
  let startedAt: number;
  let output = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nowcast-e2e-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    startedAt = Date.now();
    proc = spawn(process.execPath, ['--import', 'tsx', 'system/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), STORE_URL: join(dir, 'db'), BATCH_INTERVAL_MS: '5000', BATCH_LAG_MS: '1000', SIM_AMATEUR_SENSORS: '150', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    proc.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
  });

  after(async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers with a forecast for a point in the city within 60 s, then updates every batch', async () => {
    const url = `${base}/v1/forecast?latitude=52.52&longitude=13.405`;
    let first: any;
    while (Date.now() - startedAt < 60_000) {
      try {
        const r = await getJson(url);
        if (r.status === 200) { first = r.body; break; }
        assert.ok(r.status === 503, `unexpected ${r.status}: ${JSON.stringify(r.body)}`);
      } catch (err) {
        if (proc.exitCode !== null) throw new Error(`process exited (${proc.exitCode}):\n${output.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(first, `no forecast within 60 s; output:\n${output.slice(-3000)}`);
    const t = first.current.temperature_2m;
    assert.equal(typeof t, 'number');
    assert.ok(t > -40 && t < 45, `temperature ${t}`);
    assert.ok(first.current.temperature_2m_sigma > 0);
    assert.equal(first.minutely_5.time.length, 13);
    assert.equal(first.minutely_5.temperature_2m.length, 13);
    for (const v of first.minutely_5.temperature_2m) assert.equal(typeof v, 'number');
    const step = Date.parse(`${first.minutely_5.time[1]}Z`) - Date.parse(`${first.minutely_5.time[0]}Z`);
    assert.equal(step, 300_000);

    // The next batch (every 5 s here) brings a newer run.
    let newer: any;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const r = await getJson(url);
      if (r.status === 200 && r.body.run_time > first.run_time) { newer = r.body; break; }
      await new Promise((res) => setTimeout(res, 500));
    }
    assert.ok(newer, 'no newer run within 30 s');

    const h = await getJson(`${base}/healthz`);
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'ok');
    assert.equal(h.body.last_batch.status, 'done');
    assert.ok(h.body.last_batch.readings > 0);
  });

  it('answers bad input with 400 and a reason, and far-away points with 404', async () => {
    for (const q of ['', 'latitude=52.5', 'longitude=13.4', 'latitude=abc&longitude=13.4', 'latitude=95&longitude=13.4', 'latitude=52.5&longitude=-181', 'latitude=52.5&latitude=52.6&longitude=13.4', 'latitude=Infinity&longitude=1', 'latitude=0x10&longitude=1']) {
      const r = await getJson(`${base}/v1/forecast?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.error, true);
      assert.equal(r.body.code, 'INVALID_PARAMETER');
      assert.match(r.body.reason, /latitude|longitude/, q);
    }
    const far = await getJson(`${base}/v1/forecast?latitude=48.85&longitude=2.35`);
    assert.equal(far.status, 404);
    assert.equal(far.body.code, 'OUTSIDE_COVERAGE');
  });

  it('stops cleanly on SIGTERM', async () => {
    proc.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
    assert.equal(code, 0, output.slice(-2000));
  });
});
