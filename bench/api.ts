/**
 * `npm run bench -- api [--seconds N] [--connections N] [--json]`: the API under load on loopback.
 *
 * Starts `npm start` (ROLE=all: the embedded store, the simulated city, batches every 20 s) on a
 * new data directory, waits for a served run, then drives it with autocannon from this process:
 * - one-point forecasts between batches, and again from a batch's start in one-second slices: reported
 *   over all of them and over those wholly inside the batch (`during_batch.inside`);
 * - one 1,000-point forecast, gzip-encoded as fetch asks, parsed by the client (median of 11 after 3 warm-ups);
 * - a cached tile (p99), and tiles rendered from scratch (p50, each asked for once).
 * Request logs are off (LOG_LEVEL=warn) and the rate limit is off (RATE_LIMIT_PER_MIN=0).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort } from '../infra/testing/free-port.ts';
import { median } from '../pipeline/mean-bias.ts';
import type { Benchmark } from './benchmark.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const INTERVAL_MS = 20_000;
const LAG_MS = 1_000;
const BOX = { south: 52.35, west: 13.08, north: 52.68, east: 13.76 };

function parse(args: string[]): { seconds: number; connections: number } {
  const o = { seconds: 6, connections: 10 };
  for (let i = 0; i < args.length; i += 2) {
    const n = Number(args[i + 1]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${String(args[i])} expects a positive integer`);
    if (args[i] === '--seconds') o.seconds = n;
    else if (args[i] === '--connections') o.connections = n;
    else throw new Error(`unknown option ${String(args[i])} (known: --seconds N, --connections N)`);
  }
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function load(url: string, seconds: number, connections: number): Promise<{ rps: number; p50: number; p99: number; errors: number; requests: number }> {
  const r = await autocannon({ url, connections, duration: seconds, pipelining: 1 });
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx, requests: r.requests.total };
}

function tileOf(lat: number, lon: number, z: number): { x: number; y: number } {
  const n = 2 ** z;
  const r = (lat * Math.PI) / 180;
  return { x: Math.floor(((lon + 180) / 360) * n), y: Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n) };
}

export const apiBenchmark: Benchmark = {
  description: 'forecasts and tiles under load on loopback, between batches and during one',
  async run({ args, progress }) {
    const o = parse(args);
    const dir = mkdtempSync(join(tmpdir(), 'nowcast-bench-api-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'system/main.ts'], {
      cwd: root,
      env: { ...process.env, PORT: String(port), STORE_URL: join(dir, 'db'), SIMULATOR: 'on', WINDOW_MS: String(INTERVAL_MS), BATCH_LAG_MS: String(LAG_MS), LOG_LEVEL: 'warn', RATE_LIMIT_PER_MIN: '0', SNAPSHOT_POLL_MS: '250' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const one = `${base}/v1/forecast?latitude=52.52&longitude=13.405`;
    const runTime = async (): Promise<string | null> => {
      const r = await fetch(one).then((x) => x, () => null);
      if (!r || r.status !== 200) return null;
      return ((await r.json()) as { run_time: string }).run_time;
    };
    try {
      progress('starting npm start on a new data directory; waiting for the first run');
      let run: string | null = null;
      const deadline = Date.now() + 120_000;
      while (!run && Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
        run = await runTime();
        if (!run) await sleep(250);
      }
      if (!run) throw new Error('no forecast within 120 s');
      // Right after a run is served the next batch is ~INTERVAL away: the quiet phase fits before it.
      progress(`run ${run} served; waiting for the next batch to finish`);
      const first = run;
      while (run === first) {
        await sleep(100);
        run = (await runTime()) ?? run;
      }
      const nextBatchAt = Math.ceil(Date.now() / INTERVAL_MS) * INTERVAL_MS + LAG_MS;
      const quietS = Math.min(o.seconds, Math.floor((nextBatchAt - Date.now()) / 1000) - 3);
      if (quietS < 2) throw new Error('no quiet time left before the next batch');
      await load(one, 1, o.connections); // warm-up
      progress(`one-point forecasts between batches for ${quietS} s`);
      const quiet = await load(one, quietS, o.connections);
      progress(`quiet: ${quiet.rps} req/s, p50 ${quiet.p50} ms, p99 ${quiet.p99} ms, errors ${quiet.errors}`);

      // A 1,000-point request.
      const pts = Array.from({ length: 1000 }, (_, i) => ({ lat: BOX.south + ((i * 7919) % 1000) / 1000 * (BOX.north - BOX.south), lon: BOX.west + ((i * 104729) % 1000) / 1000 * (BOX.east - BOX.west) }));
      const multiUrl = `${base}/v1/forecast?latitude=${pts.map((p) => p.lat.toFixed(5)).join(',')}&longitude=${pts.map((p) => p.lon.toFixed(5)).join(',')}`;
      const multi: number[] = [];
      for (let k = 0; k < 14; k++) {
        const t0 = performance.now();
        const r = await fetch(multiUrl); // undici asks for gzip: the figure includes compressing and inflating
        const body = (await r.json()) as unknown[];
        if (k >= 3) multi.push(performance.now() - t0); // the first three warm the code up
        if (r.status !== 200 || body.length !== 1000) throw new Error(`1,000-point request: ${r.status}`);
      }
      progress(`1,000 points: median ${median(multi).toFixed(1)} ms`);

      // Tiles: one cached, many fresh.
      const c = tileOf(52.52, 13.405, 12);
      const cachedUrl = `${base}/tiles/12/${c.x}/${c.y}.png`;
      await fetch(cachedUrl).then((r) => r.arrayBuffer());
      const cached = await load(cachedUrl, Math.min(3, o.seconds), o.connections);
      progress(`cached tile: p99 ${cached.p99} ms, ${cached.rps} req/s`);
      const fresh: number[] = [];
      const a = tileOf(BOX.north, BOX.west, 13);
      const b = tileOf(BOX.south, BOX.east, 13);
      for (let lead = 5; lead <= 60 && fresh.length < 60; lead += 5) {
        for (let x = a.x; x <= b.x && fresh.length < 60; x += 2) {
          const y = a.y + ((x + lead) % (b.y - a.y + 1));
          const t0 = performance.now();
          const r = await fetch(`${base}/tiles/13/${x}/${y}.png?lead=${lead}`);
          await r.arrayBuffer();
          fresh.push(performance.now() - t0);
        }
      }
      progress(`fresh tiles: p50 ${median(fresh).toFixed(1)} ms over ${fresh.length}`);

      // During a batch: start at the next batch's start and load through it.
      const before = (await runTime())!;
      const at = Math.ceil((Date.now() + 1000) / INTERVAL_MS) * INTERVAL_MS + LAG_MS;
      progress(`waiting ${Math.round((at - Date.now()) / 1000)} s for the next batch`);
      await sleep(at - Date.now());
      const loadS = Math.max(4, Math.min(o.seconds, 8));
      // One-second slices, so that the figure can be taken over the slices that lie inside the batch
      // alone (a batch of the demo city takes about 2 s: over the whole load it would be diluted).
      const slices: { fromMs: number; toMs: number; r: Awaited<ReturnType<typeof load>> }[] = [];
      for (let k = 0; k < loadS; k++) {
        const fromMs = Date.now();
        const r = await load(one, 1, o.connections);
        slices.push({ fromMs, toMs: Date.now(), r });
      }
      const sum = (xs: typeof slices) => {
        const requests = xs.reduce((a, x) => a + x.r.requests, 0);
        const ms = xs.reduce((a, x) => a + (x.toMs - x.fromMs), 0);
        return { rps: ms > 0 ? Math.round((requests * 1000) / ms) : 0, p50: Math.max(...xs.map((x) => x.r.p50)), p99: Math.max(...xs.map((x) => x.r.p99)), errors: xs.reduce((a, x) => a + x.r.errors, 0), requests };
      };
      const during = sum(slices);
      // Which batch ran meanwhile: its window ends at `at - LAG_MS`; the ledger says when it finished.
      let after = await runTime();
      const until = Date.now() + 60_000;
      while ((after === null || after <= before) && Date.now() < until) {
        await sleep(250);
        after = await runTime();
      }
      const health = (await (await fetch(`${base}/healthz`)).json()) as { last_good_batch?: { window_end: string; finished_at: string | null } };
      const lastGood = health.last_good_batch;
      const finishedMs = lastGood?.finished_at && lastGood.window_end === new Date(at - LAG_MS).toISOString() ? Date.parse(lastGood.finished_at) : NaN;
      const batchMs = finishedMs - at;
      const overlapMs = Number.isFinite(batchMs) ? Math.max(0, Math.min(loadS * 1000, batchMs)) : 0;
      // The slices wholly between the batch's start (at the latest `at`) and its end.
      const inside = slices.filter((x) => x.fromMs >= at && x.toMs <= finishedMs);
      const inBatch = inside.length > 0 ? sum(inside) : null;
      if (inBatch) progress(`inside the batch (${inside.length} slice(s) of 1 s): ${inBatch.rps} req/s, p50 ≤ ${inBatch.p50} ms, p99 ≤ ${inBatch.p99} ms, errors ${inBatch.errors}`);
      else progress('no one-second slice lay wholly inside the batch');
      progress(`during a batch: ${during.rps} req/s, p50 ${during.p50} ms, p99 ${during.p99} ms, errors ${during.errors}; the batch of ${lastGood?.window_end} ran for ${Math.round(overlapMs)} ms of the ${loadS} s`);

      return {
        forecast_rps: quiet.rps,
        forecast_p50_ms: quiet.p50,
        forecast_p99_ms: quiet.p99,
        forecast_multi_1000_ms: Number(median(multi).toFixed(1)),
        tile_cached_p99_ms: cached.p99,
        tile_render_p50_ms: Number(median(fresh).toFixed(1)),
        errors: quiet.errors + during.errors + cached.errors,
        during_batch: {
          forecast_rps: during.rps, forecast_p50_ms: during.p50, forecast_p99_ms: during.p99, errors: during.errors, seconds: loadS, batch_overlap_ms: Math.round(overlapMs),
          // Over the one-second slices wholly inside the batch (null when none was): p50 and p99 the worst slice's.
          inside: inBatch && { forecast_rps: inBatch.rps, forecast_p50_ms: inBatch.p50, forecast_p99_ms: inBatch.p99, errors: inBatch.errors, seconds: inside.length },
        },
        connections: o.connections,
        seconds: quietS,
        targets: 'forecast ≥5000 req/s, p99 ≤10 ms, 0 errors (also during a batch); 1,000 points ≤50 ms; cached tile p99 ≤5 ms; fresh tile p50 ≤30 ms',
      };
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
