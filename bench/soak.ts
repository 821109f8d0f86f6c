/**
 * `npm run bench -- soak [--minutes N] [--topology embedded|kafka] [--readings-per-s N]
 * [--requests-per-s N] [--window-s N] [--json]`: the system under a steady load for minutes.
 *
 * embedded (default): `npm start` as shipped (ROLE=all: the embedded store in a new data directory,
 * the in-process bus, the simulated city), with an admin token set, the rate limit off (all the load
 * comes from one address) and warn-level logs. kafka: the production topology, ingest, pipeline and
 * api as separate processes on the Kafka broker ($KAFKA_BROKERS, default 127.0.0.1:19092; fresh
 * topics) and a new database on the TimescaleDB server ($TSDB_URL, else infra/timescaledb/timescaledb.sh).
 *
 * Load, from this process, open loop at a fixed rate: readings as Arrow streams from a partner's
 * 250 stations (POST /v1/readings, 10 requests/s, each reading stamped with the time it is sent),
 * and one-point forecasts at random places in the city (GET /v1/forecast). Measured:
 * - errors: submissions not answered 202, forecasts not answered 200, requests failed or timed out (10 s);
 * - max_lag_s: the longest wait, over the run, from a probe station's reading being sent to it being
 *   readable back (GET /v1/stations/{id}, polled every second);
 * - rss_growth_pct: the growth of the server's resident memory (summed over its processes) after the
 *   first minute: its highest value after the second minute against its highest value within the
 *   second minute (one batch cycle at the default --window-s). A garbage-collected process's memory
 *   rises and falls with each batch; peaks against a peak measure growth, not where the first sample
 *   fell in that swing. rss_growth_from_sample_pct keeps the stricter reading: the highest value after
 *   the first minute against the one sample taken at the first minute;
 * - readings_lost: readings of the probe stations in the run's last minute not stored (read back
 *   with GET /v1/stations/{id}/readings after the load stops).
 * Batches run every --window-s (default 60 s, so short runs include some; 300 s in service).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { tableToIPC, Table, vectorFromArray, Utf8, Float64, TimestampMillisecond } from 'apache-arrow';
import { freePort } from '../infra/testing/free-port.ts';
import { freshDatabase, timescaleServerForTests, type FreshDatabase } from '../infra/testing/timescaledb-server.ts';
import { MINUTE_MS } from '../infra/time.ts';
import type { Benchmark } from './benchmark.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const STATIONS = 250;
const SUBMIT_HZ = 10;
const PROBES = 5;
const BOX = { south: 52.35, west: 13.08, north: 52.68, east: 13.76 };
const ADMIN = `soak-${randomBytes(12).toString('hex')}`;
const REQUEST_TIMEOUT_MS = 10_000;
/** Forecast requests in flight beyond which the client stops sending (each skipped one is an error). */
const MAX_IN_FLIGHT = 4000;

interface Options { minutes: number; topology: 'embedded' | 'kafka'; readingsPerS: number; requestsPerS: number; windowS: number }

function parse(args: string[]): Options {
  const o: Options = { minutes: 10, topology: 'embedded', readingsPerS: 5000, requestsPerS: 500, windowS: 60 };
  for (let i = 0; i < args.length; i += 2) {
    const [k, v] = [args[i], args[i + 1]];
    if (k === '--topology') {
      if (v !== 'embedded' && v !== 'kafka') throw new Error('--topology expects embedded or kafka');
      o.topology = v;
      continue;
    }
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${String(k)} expects a positive number`);
    if (k === '--minutes') o.minutes = n;
    else if (k === '--readings-per-s') o.readingsPerS = Math.round(n);
    else if (k === '--requests-per-s') o.requestsPerS = Math.round(n);
    else if (k === '--window-s') o.windowS = Math.round(n);
    else throw new Error(`unknown option ${String(k)} (known: --minutes N, --topology embedded|kafka, --readings-per-s N, --requests-per-s N, --window-s N)`);
  }
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Resident set size of a process [bytes] (Linux /proc), 0 when gone. */
function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

interface Server { base: string; procs: ChildProcess[]; stop(): Promise<void> }

function spawnMain(env: Record<string, string | undefined>, log: (s: string) => void): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'system/main.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') log(`${env.ROLE ?? 'all'} exited (${code ?? signal}): ${tail.slice(-1500)}`);
  });
  return child;
}

async function stopAll(procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map((c) => new Promise((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r(null);
    c.once('exit', r);
    c.kill('SIGTERM');
  })));
}

async function startServer(o: Options, progress: (s: string) => void): Promise<Server> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const common = { ADMIN_TOKEN: ADMIN, RATE_LIMIT_PER_MIN: '0', LOG_LEVEL: 'warn', WINDOW_MS: String(o.windowS * 1000) };
  if (o.topology === 'embedded') {
    const dir = mkdtempSync(join(tmpdir(), 'nowcast-soak-'));
    const child = spawnMain({ ...common, PORT: String(port), STORE_URL: join(dir, 'db') }, progress);
    return { base, procs: [child], stop: async () => { await stopAll([child]); rmSync(dir, { recursive: true, force: true }); } };
  }
  const server = await timescaleServerForTests();
  if (typeof server !== 'string') throw new Error(server.skip);
  const db: FreshDatabase = await freshDatabase(server, 'soak');
  const prefix = `soak-${Date.now().toString(36)}.`;
  const env = {
    ...common, BUS_URL: `kafka://${process.env.KAFKA_BROKERS?.trim() || '127.0.0.1:19092'}`, STORE_URL: db.url, TOPIC_PREFIX: prefix,
    INGEST_GROUP_ID: `${prefix}ingest`, TOPIC_PARTITIONS: '6',
  };
  const procs = [spawnMain({ ...env, ROLE: 'ingest', SIMULATOR: 'on' }, progress), spawnMain({ ...env, ROLE: 'pipeline' }, progress), spawnMain({ ...env, ROLE: 'api', PORT: String(port) }, progress)];
  return { base, procs, stop: async () => { await stopAll(procs); await db.drop(); } };
}

export const soakBenchmark: Benchmark = {
  description: 'minutes of steady readings in and forecasts out: errors, ingest lag, memory growth',
  async run({ args, progress }) {
    const o = parse(args);
    const server = await startServer(o, progress);
    const { base } = server;
    const alive = () => server.procs.every((c) => c.exitCode === null && c.signalCode === null);
    try {
      progress(`${o.topology}: waiting for the first forecast`);
      const one = `${base}/v1/forecast?latitude=52.52&longitude=13.405`;
      const deadline = Date.now() + 300_000;
      for (;;) {
        if (!alive()) throw new Error('the server exited while starting');
        const r = await fetch(one).then((x) => x, () => null);
        if (r?.status === 200) break;
        await r?.arrayBuffer();
        if (Date.now() > deadline) throw new Error('no forecast within 300 s');
        await sleep(500);
      }
      const auth = { authorization: `Bearer ${ADMIN}` };
      const partner = (await (await fetch(`${base}/v1/partners`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'soak fleet' }) })).json()) as { token: string };
      progress(`registering ${STATIONS} stations (each key hashed with scrypt)`);
      const ids: string[] = [];
      for (let i = 0; i < STATIONS; i += 10) {
        const batch = await Promise.all(Array.from({ length: Math.min(10, STATIONS - i) }, async (_, j) => {
          const k = i + j;
          const lat = BOX.south + 0.02 + ((k * 37) % 100) / 100 * (BOX.north - BOX.south - 0.04);
          const lon = BOX.west + 0.02 + ((k * 61) % 100) / 100 * (BOX.east - BOX.west - 0.04);
          const r = await fetch(`${base}/v1/stations`, { method: 'POST', headers: { authorization: `Bearer ${partner.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: `soak ${k}`, latitude: lat, longitude: lon }) });
          if (r.status !== 201) throw new Error(`registration: ${r.status} ${await r.text()}`);
          return ((await r.json()) as { id: string }).id;
        }));
        ids.push(...batch);
      }
      const probes = ids.slice(0, PROBES);
      const perRequest = Math.max(1, Math.round(o.readingsPerS / SUBMIT_HZ));
      const timesPerStation = Math.ceil(perRequest / STATIONS);

      let errors = 0;
      let readings = 0;
      let requests = 0;
      let inFlight = 0;
      const errorKinds = new Map<string, number>();
      const error = (kind: string) => {
        errors++;
        errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
      };
      /** Per probe station, the send times of its readings not yet seen stored. */
      const pending = new Map<string, number[]>(probes.map((p) => [p, []]));
      let maxLagMs = 0;
      const sent = new Map<string, number[]>(probes.map((p) => [p, []]));

      const startMs = Date.now();
      const endMs = startMs + o.minutes * MINUTE_MS;
      progress(`load for ${o.minutes} min: ${perRequest * SUBMIT_HZ} readings/s (${SUBMIT_HZ} Arrow requests/s of ${perRequest}) and ${o.requestsPerS} forecasts/s`);

      const submitter = (async () => {
        for (let k = 0; ; k++) {
          const at = startMs + (k * 1000) / SUBMIT_HZ;
          if (at >= endMs) break;
          await sleep(at - Date.now());
          const now = Date.now();
          const station: string[] = [];
          const time: number[] = [];
          const temp: number[] = [];
          for (let n = 0; n < perRequest; n++) {
            const s = n % STATIONS;
            const slot = Math.floor(n / STATIONS);
            station.push(ids[s]!);
            time.push(now - (timesPerStation - 1 - slot) * Math.floor(100 / timesPerStation));
            temp.push(5 + (s % 13) * 0.3 + Math.sin((k + s) / 50));
          }
          for (const p of probes) {
            pending.get(p)!.push(now);
            sent.get(p)!.push(now);
          }
          const body = tableToIPC(new Table({ station_id: vectorFromArray(station, new Utf8()), time: vectorFromArray(time, new TimestampMillisecond()), temperature_2m: vectorFromArray(temp, new Float64()) }), 'stream');
          void fetch(`${base}/v1/readings`, { method: 'POST', headers: { authorization: `Bearer ${partner.token}`, 'content-type': 'application/vnd.apache.arrow.stream' }, body: body as BodyInit, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then(async (r) => {
            const text = await r.text();
            if (r.status === 202) readings += (JSON.parse(text) as { accepted: number }).accepted;
            else error(`submit ${r.status}`);
          }, (err: unknown) => error(`submit ${(err as Error).name}`));
        }
      })();

      const forecaster = (async () => {
        const batchEveryMs = 10;
        const perBatch = o.requestsPerS / (1000 / batchEveryMs);
        let owed = 0;
        let seed = 12345;
        const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        for (let k = 0; ; k++) {
          const at = startMs + k * batchEveryMs;
          if (at >= endMs) break;
          await sleep(at - Date.now());
          owed += perBatch;
          for (; owed >= 1; owed--) {
            requests++;
            if (inFlight >= MAX_IN_FLIGHT) {
              error('forecast not sent: too many in flight');
              continue;
            }
            inFlight++;
            const lat = BOX.south + rand() * (BOX.north - BOX.south);
            const lon = BOX.west + rand() * (BOX.east - BOX.west);
            void fetch(`${base}/v1/forecast?latitude=${lat.toFixed(4)}&longitude=${lon.toFixed(4)}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then(async (r) => {
              await r.arrayBuffer();
              if (r.status !== 200) error(`forecast ${r.status}`);
            }, (err: unknown) => error(`forecast ${(err as Error).name}`)).finally(() => inFlight--);
          }
        }
      })();

      // Lag probes and memory, every second.
      const rss: { atMs: number; bytes: number }[] = [];
      let monitoring = true;
      const monitor = (async () => {
        let lastReport = startMs;
        while (monitoring) {
          const t = Date.now();
          rss.push({ atMs: t, bytes: server.procs.reduce((s, c) => s + rssOf(c.pid), 0) });
          for (const p of probes) {
            const r = await fetch(`${base}/v1/stations/${p}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then((x) => x, () => null);
            if (!r || r.status !== 200) {
              await r?.arrayBuffer();
              continue;
            }
            const last = ((await r.json()) as { last_reading: { time: string } | null }).last_reading;
            const seenMs = Date.now();
            const q = pending.get(p)!;
            const storedUpTo = last ? Date.parse(last.time) : -Infinity;
            while (q.length > 0 && q[0]! <= storedUpTo) {
              maxLagMs = Math.max(maxLagMs, seenMs - q.shift()!);
            }
            // Not yet seen: already this late.
            if (q.length > 0) maxLagMs = Math.max(maxLagMs, seenMs - q[0]! - 1000);
          }
          if (!alive()) error('server exited');
          if (Date.now() - lastReport >= 30_000) {
            lastReport = Date.now();
            progress(`${Math.round((Date.now() - startMs) / 1000)} s: ${readings} readings accepted, ${requests} forecasts sent, ${errors} errors, max lag ${(maxLagMs / 1000).toFixed(1)} s, rss ${Math.round(rss.at(-1)!.bytes / 1048576)} MiB`);
          }
          await sleep(1000 - (Date.now() - t));
        }
      })();

      await Promise.all([submitter, forecaster]);
      // Let the last requests be answered and the probes' last readings be stored.
      const drainUntil = Date.now() + 60_000;
      while ((inFlight > 0 || [...pending.values()].some((q) => q.length > 0)) && Date.now() < drainUntil) await sleep(250);
      monitoring = false;
      await monitor;
      for (const q of pending.values()) if (q.length > 0) maxLagMs = Math.max(maxLagMs, Date.now() - q[0]!);

      // Nothing lost: each probe's readings of the last minute, read back.
      let lost = 0;
      let checked = 0;
      const fromMs = endMs - MINUTE_MS;
      for (const p of probes) {
        const want = sent.get(p)!.filter((t) => t >= fromMs);
        const r = await fetch(`${base}/v1/stations/${p}/readings?start=${new Date(fromMs - 1000).toISOString()}&end=${new Date(endMs + 1000).toISOString()}`);
        const got = new Set(((await r.json()) as { readings: { time: string }[] }).readings.map((x) => Date.parse(x.time)));
        checked += want.length;
        lost += want.filter((t) => !got.has(t)).length;
      }

      const baseline = rss.find((s) => s.atMs >= startMs + MINUTE_MS) ?? rss.at(-1)!;
      const afterFirst = rss.filter((s) => s.atMs >= baseline.atMs);
      const maxAfter = Math.max(...afterFirst.map((s) => s.bytes));
      const cycleEndMs = baseline.atMs + Math.max(MINUTE_MS, o.windowS * 1000);
      const secondMinute = afterFirst.filter((s) => s.atMs < cycleEndMs);
      const later = afterFirst.filter((s) => s.atMs >= cycleEndMs);
      const peakSecond = Math.max(...secondMinute.map((s) => s.bytes));
      const peakLater = later.length > 0 ? Math.max(...later.map((s) => s.bytes)) : NaN;
      const pct = (to: number, from: number) => Number((((to - from) / from) * 100).toFixed(1));
      const seconds = (Date.now() - startMs) / 1000;
      progress(`done: ${readings} readings, ${requests} forecasts, ${errors} errors ${JSON.stringify(Object.fromEntries(errorKinds))}, max lag ${(maxLagMs / 1000).toFixed(1)} s, ${lost} of ${checked} probe readings lost`);
      return {
        minutes: o.minutes,
        topology: o.topology,
        readings,
        requests,
        errors,
        max_lag_s: Number((maxLagMs / 1000).toFixed(2)),
        rss_growth_pct: pct(peakLater, peakSecond),
        readings_per_s: Math.round(readings / (o.minutes * 60)),
        requests_per_s: Math.round(requests / (o.minutes * 60)),
        rss_growth_from_sample_pct: pct(maxAfter, baseline.bytes),
        rss_mib_at_1_min: Math.round(baseline.bytes / 1048576),
        rss_mib_peak_second_minute: Math.round(peakSecond / 1048576),
        rss_mib_peak_later: Math.round(peakLater / 1048576),
        rss_mib_max_after: Math.round(maxAfter / 1048576),
        readings_lost: lost,
        readings_checked: checked,
        error_kinds: Object.fromEntries(errorKinds),
        window_s: o.windowS,
        elapsed_s: Math.round(seconds),
        targets: '0 errors, bounded lag, rss growth < 10 % after the first minute (peak against peak; also against the one-minute sample)',
      };
    } finally {
      await server.stop();
    }
  },
};
