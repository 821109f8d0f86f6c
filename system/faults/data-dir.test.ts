// The embedded store's data directory on a read-only disk, under a file, on a disk too small for a
// first start, and on a disk that fills while the system runs. Each is a clear error naming the
// directory and the cause (STORE_DIR_UNWRITABLE, STORE_DISK_FULL), and nothing is half-written: a
// failed first start leaves no half-initialised database, and a disk that fills mid-stream fails
// writes (the readings wait on the bus) until space is freed; then the waiting readings are stored,
// batches run again, and every finished run has all its nowcasts.
// Small disks are tmpfs mounts of the test's own (root, or a user that may mount, is needed: without
// it the test says why and skips; under CI=true that is a failure).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../infra/testing/free-port.ts';
import { openStore, StoreError } from '../../infra/store/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const WINDOW_MS = 3000;

function mount(dir: string, options: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
}
function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir], { stdio: 'ignore' }); // lazy: a store that failed to open may still hold a file
}

/** Why small disks cannot be made here, or undefined when they can. */
function cannotMount(base: string): string | undefined {
  const probe = join(base, 'probe');
  try {
    mount(probe, 'size=1m');
    unmount(probe);
    return undefined;
  } catch (err) {
    const reason = `cannot mount a tmpfs for a small disk (${String((err as { stderr?: Buffer }).stderr ?? err).trim()})`;
    if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: a failure)`);
    return reason;
  }
}

async function storeError(url: string): Promise<StoreError> {
  const err = await openStore(url).then(async (s) => {
    await s.close();
    return null;
  }, (e: unknown) => e);
  assert.ok(err instanceof StoreError, `a StoreError, not ${String(err)}`);
  return err;
}

describe('the data directory unwritable or full', () => {
  const base = mkdtempSync(join(tmpdir(), 'nowcast-disk-'));
  const mounts: string[] = [];
  let skip: string | undefined;
  before(() => {
    skip = cannotMount(base);
  });
  after(() => {
    for (const m of mounts.reverse()) unmount(m);
    rmSync(base, { recursive: true, force: true });
  });

  it('an unwritable data directory is a clear error at start', { timeout: 60_000 }, async (t) => {
    // Under a regular file: needs no mount.
    writeFileSync(join(base, 'a-file'), 'x');
    const notDir = await storeError(join(base, 'a-file', 'db'));
    assert.equal(notDir.code, 'STORE_DIR_UNWRITABLE');
    assert.match(notDir.message, /a-file\/db cannot be created or written \(ENOTDIR/);
    if (skip) return t.skip(skip);
    const ro = join(base, 'ro');
    mount(ro, 'size=1m,ro');
    mounts.push(ro);
    const err = await storeError(join(ro, 'db'));
    assert.equal(err.code, 'STORE_DIR_UNWRITABLE');
    // `npm start` says it and stops with exit code 1.
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'system/main.ts'], { cwd: root, env: { ...process.env, PORT: '0', STORE_URL: join(ro, 'db'), LOG_LEVEL: 'fatal' }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 1, child.stderr);
    assert.match(child.stderr, new RegExp(`cannot start: the data directory ${ro}/db cannot be created or written`));
  });

  it('a disk too small for a first start: STORE_DISK_FULL, no half-initialised database; with room it starts', { timeout: 120_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const small = join(base, 'small');
    mount(small, 'size=12m');
    mounts.push(small);
    const err = await storeError(join(small, 'db'));
    assert.equal(err.code, 'STORE_DISK_FULL');
    assert.match(err.message, /small\/db is full/);
    const left = readdirSync(small).flatMap((n) => (n === 'db' ? readdirSync(join(small, n)).map((m) => `db/${m}`) : [n]));
    assert.deepEqual(left, [], 'nothing half-written is left');
    execFileSync('mount', ['-o', 'remount,size=64m', small]);
    const store = await openStore(join(small, 'db'));
    try {
      assert.equal((await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM batch_runs`)).rows[0]!.n, 0);
    } finally {
      await store.close();
    }
  });

  it('a disk that fills while the system runs: writes fail and wait, then everything is stored when space is freed', { timeout: 240_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const disk = join(base, 'run');
    mount(disk, 'size=96m');
    mounts.push(disk);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'system/main.ts'], {
      cwd: root,
      env: {
        ...process.env, PORT: String(port), STORE_URL: join(disk, 'db'), WINDOW_MS: String(WINDOW_MS), BATCH_LAG_MS: '1000',
        CITY_BBOX: '52.49,13.37,52.53,13.44', SIM_AMATEUR_SENSORS: '200', SIM_AMATEUR_INTERVAL_MS: '10000', SNAPSHOT_POLL_MS: '200', LOG_LEVEL: 'warn',
        BATCH_RETRY_BASE_MS: '1000', BATCH_RETRY_MAX_MS: '2000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const filler = join(disk, 'filler');
    try {
      const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline) {
          if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the system exited while waiting for ${what}:\n${output.slice(-3000)}`);
          const v = await probe();
          if (v !== undefined) return v;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`no ${what} within ${timeoutMs} ms:\n${output.slice(-3000)}`);
      };
      const lastDone = async () => {
        const r = await fetch(`${url}/healthz`).then((x) => x, () => null);
        if (!r || r.status !== 200) return undefined;
        const h = (await r.json()) as { last_good_batch: { window_end: string } | null };
        return h.last_good_batch ? Date.parse(h.last_good_batch.window_end) : undefined;
      };
      await until('a finished batch', lastDone, 120_000);

      // Fill the disk to the last byte.
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(1 << 20, 1);
      let filled = 0;
      try {
        for (;;) {
          try {
            filled += writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
            break;
          }
        }
        for (let size = 1 << 16; size >= 1; size >>= 1) {
          for (;;) {
            try {
              filled += writeSync(fd, chunk.subarray(0, size));
            } catch {
              break;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      const fullAtMs = Date.now();
      const failures = () => output.split('\n').filter((l) => l.includes('"code":"STORE_DISK_FULL"')).length;
      await until('writes failing with STORE_DISK_FULL', async () => (failures() >= 3 ? true : undefined), 60_000);
      t.diagnostic(`filled ${Math.round(filled / 1048576)} MiB; ${failures()} failures named STORE_DISK_FULL, e.g. ${/"msg":"([^"]*)"[^\n]*"code":"STORE_DISK_FULL"|"code":"STORE_DISK_FULL"[^\n]*"msg":"([^"]*)"/.exec(output)?.slice(1).find(Boolean) ?? '?'}`);
      // Full for at least two windows (the fault itself, not a wait for a condition).
      await new Promise((r) => setTimeout(r, Math.max(0, fullAtMs + 2 * WINDOW_MS - Date.now())));
      unlinkSync(filler);
      const freedAtMs = Date.now();
      // Windows that failed while the disk was full are retried (backoff at most 2 s) before newer ones.
      await until('batches done for three windows after the space was freed', async () => {
        const d = await lastDone();
        return d !== undefined && d > freedAtMs + 3 * WINDOW_MS ? d : undefined;
      }, 90_000);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output.slice(-3000));

      const store = await openStore(join(disk, 'db'));
      try {
        const runs = (await store.query<{ window_end: Date; status: string; n_cells: number | null; nowcasts: number }>(
          `SELECT b.window_end, b.status, b.n_cells, (SELECT count(*)::int FROM nowcasts n WHERE n.run_time = b.window_end) AS nowcasts FROM batch_runs b ORDER BY b.window_end`)).rows;
        assert.deepEqual(runs.filter((r) => r.status !== 'done').map((r) => `${r.window_end.toISOString()} ${r.status}`), [], 'every window done in the end: none left half-done or failed');
        for (const r of runs.filter((x) => x.status === 'done')) assert.equal(r.nowcasts, r.n_cells, `run ${r.window_end.toISOString()}: all its nowcasts, or none`);
        // Readings of the simulated stations timed while the disk was full waited and were stored.
        const during = await store.query<{ n: number }>(`SELECT count(*)::int AS n FROM readings WHERE time >= $1 AND time < $2`, [new Date(fullAtMs + 1000), new Date(freedAtMs)]);
        assert.ok(during.rows[0]!.n > 0, 'readings timed while the disk was full are stored');
        assert.ok(runs.some((r) => r.window_end.getTime() > fullAtMs + WINDOW_MS && r.window_end.getTime() <= freedAtMs), 'windows closed while the disk was full');
        t.diagnostic(`${runs.length} runs, all done ones complete; ${during.rows[0]!.n} readings timed while the disk was full are stored`);
      } finally {
        await store.close();
      }
    } finally {
      if (existsSync(filler)) unlinkSync(filler);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  });
});
