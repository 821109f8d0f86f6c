// The embedded default (`npm start`: one process, the embedded store in a data directory, the
// in-process bus, the simulated city) killed with SIGKILL while a batch runs, then started again on
// the same data directory while a few windows pass. It must open (the dead process's lock does not
// block it), keep everything committed before the kill (the last good run and its nowcasts, the
// readings it counted), and catch up the windows it missed: the ledger has every window from the
// first to the newest, each done with all its nowcasts; the window in flight at the kill is rerun.
// A small box and 3 s windows keep it quick.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../infra/testing/free-port.ts';
import { openStore } from '../../infra/store/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const WINDOW_MS = 3000;

interface Proc { child: ChildProcess; output: () => string; exited: Promise<number | null>; dead: () => boolean }

function start(dir: string, port: number): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'system/main.ts'], {
    cwd: root,
    env: {
      ...process.env, PORT: String(port), STORE_URL: join(dir, 'db'), WINDOW_MS: String(WINDOW_MS), BATCH_LAG_MS: '1000',
      CITY_BBOX: '52.49,13.37,52.53,13.44', SIM_AMATEUR_SENSORS: '60', SIM_AMATEUR_INTERVAL_MS: '10000', SNAPSHOT_POLL_MS: '200', LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { child, output: () => output, exited, dead: () => child.exitCode !== null || child.signalCode !== null };
}

interface Health { status: string; last_batch: { window_end: string; status: string } | null; last_good_batch: { window_end: string; cells: number; readings: number } | null }

async function health(base: string): Promise<Health | undefined> {
  const r = await fetch(`${base}/healthz`).then((x) => x, () => null);
  if (!r || r.status !== 200) return undefined;
  return (await r.json()) as Health;
}

async function until<T>(what: string, p: Proc, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.dead()) throw new Error(`the process exited while waiting for ${what}:\n${p.output().slice(-3000)}`);
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`no ${what} within ${timeoutMs} ms:\n${p.output().slice(-3000)}`);
}

describe('the embedded default killed with SIGKILL during a batch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nowcast-kill-'));
  const procs: Proc[] = [];
  after(async () => {
    for (const p of procs) if (!p.dead()) { p.child.kill('SIGKILL'); await p.exited; }
    rmSync(dir, { recursive: true, force: true });
  });

  it('reopens on the same data directory with everything committed, and catches up the missed windows', { timeout: 240_000 }, async (t) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = start(dir, port);
    procs.push(first);
    const good = await until('a finished batch', first, async () => (await health(base))?.last_good_batch ?? undefined, 120_000);
    // Kill while the next window runs (its ledger row says 'running' until it is done).
    const running = await until('a batch running', first, async () => {
      const h = await health(base);
      return h?.last_batch?.status === 'running' && h.last_good_batch ? h : undefined;
    }, 60_000, 20);
    const before = running.last_good_batch!;
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAtMs = Date.now();
    t.diagnostic(`killed during window ${running.last_batch!.window_end}; last good ${before.window_end} (${before.cells} cells, ${before.readings} readings); first good was ${good.window_end}`);

    // Down for at least two whole windows, so some are missed (a wait on the clock, not a fixed sleep).
    await new Promise((r) => setTimeout(r, Math.max(0, killedAtMs + 2 * WINDOW_MS - Date.now())));
    const second = start(dir, port);
    procs.push(second);
    const restartedAtMs = Date.now();
    const caught = await until('a batch done for a window after the restart', second, async () => {
      const h = await health(base);
      return h?.last_batch?.status === 'done' && Date.parse(h.last_batch.window_end) > restartedAtMs ? h : undefined;
    }, 120_000);
    t.diagnostic(`restarted; caught up to ${caught.last_batch!.window_end}`);
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.output().slice(-3000));

    const store = await openStore(join(dir, 'db'));
    try {
      const runs = (await store.query<{ window_end: Date; status: string; n_cells: number | null; n_readings: number | null; nowcasts: number }>(
        `SELECT b.window_end, b.status, b.n_cells, b.n_readings, (SELECT count(*)::int FROM nowcasts n WHERE n.run_time = b.window_end) AS nowcasts
           FROM batch_runs b ORDER BY b.window_end`)).rows;
      const kept = runs.find((r) => r.window_end.toISOString() === before.window_end);
      assert.ok(kept, 'the last good run before the kill is in the ledger');
      assert.equal(kept.status, 'done');
      assert.equal(kept.nowcasts, before.cells, 'all its nowcasts are there');
      const killed = runs.find((r) => r.window_end.toISOString() === running.last_batch!.window_end);
      assert.equal(killed?.status, 'done', 'the window in flight at the kill was run again to the end');
      const [firstEnd, lastEnd] = [runs[0]!.window_end.getTime(), runs.at(-1)!.window_end.getTime()];
      const ends = runs.map((r) => r.window_end.getTime());
      const expected = Array.from({ length: (lastEnd - firstEnd) / WINDOW_MS + 1 }, (_, i) => firstEnd + i * WINDOW_MS);
      assert.deepEqual(ends, expected, 'every window from the first to the newest is in the ledger: the missed ones were caught up');
      const missed = ends.filter((e) => e > killedAtMs && e <= restartedAtMs).length;
      assert.ok(missed >= 1, 'some windows closed while the process was down');
      for (const r of runs) {
        assert.equal(r.status, 'done', `window ${r.window_end.toISOString()}`);
        assert.equal(r.nowcasts, r.n_cells, `window ${r.window_end.toISOString()}: every cell it counted has its nowcast (nothing half-written)`);
      }
      const readings = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE time >= $1 AND time < $2`,
        [new Date(Date.parse(before.window_end) - WINDOW_MS), new Date(before.window_end)]);
      assert.ok(readings.rows[0]!.n >= before.readings, `the ${before.readings} readings of the last good window are stored (${readings.rows[0]!.n})`);
      t.diagnostic(`${runs.length} windows in the ledger, ${missed} of them closed while the process was down, all done`);
    } finally {
      await store.close();
    }
  });
});
