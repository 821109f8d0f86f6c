/**
 * `npm run replay -- --data <dir> [--speed X] [--from T --to T] [--json]`: replays real data sets
 * through the bus (see replay.ts). Bus, store, topics and grid come from the same environment as
 * `npm start` (BUS_URL, STORE_URL, TOPIC_PREFIX, H3_*).
 *
 * - With the in-process log (BUS_URL=memory://, the default) nothing outside this process could read
 *   the bus, so the replay runs the ingest worker itself and ends once everything is in the store.
 * - With Kafka it registers the stations, publishes and ends; the ingest role stores the readings. If
 *   the store cannot be opened (an embedded data directory in use by `npm start`), stations are not
 *   registered: their readings still carry position and kind, so they are stored all the same.
 *
 * Progress: a bar on stderr (a line every few seconds when stderr is not a terminal); with --json the
 * last stdout line is one JSON object with the counts.
 */
import { parseArgs } from 'node:util';
import { loadConfig, mistypedSettings } from '../../infra/config.ts';
import { createLogger } from '../../infra/log.ts';
import { openBus } from '../../infra/bus/index.ts';
import { DataDirLockedError, openStore, type Store } from '../../infra/store/index.ts';
import { topicNames, topicSpecs } from '../topics.ts';
import { startIngestWorker } from '../worker.ts';
import { replay, type ReplayProgress } from './replay.ts';
import { FALKENSEE, TEMPELHOF } from '../../eval/datasets.ts';

/** Default positions of the formats whose files carry none. */
const DWD_DEFAULT = TEMPELHOF;
const PYWWS_DEFAULT = FALKENSEE;

const USAGE = `usage: npm run replay -- --data <dir> [--speed X] [--from T] [--to T] [--json]
  --data <dir>        a data set folder, or a folder of them (found by their columns)
  --speed X           X data seconds per wall second (3600: an hour a second); default: as fast as the bus takes
  --from T, --to T    ISO 8601 UTC bounds, [from, to)
  --dwd-lat/--dwd-lon position of a DWD-format station (default 52.4675, 13.4021: Berlin-Tempelhof)
  --pws-lat/--pws-lon position of a pywws-format station (default 52.56, 13.08: Falkensee, approximate)
  --json              the last stdout line is one JSON object with the counts`;

class UsageError extends Error {}

function time(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v}Z`);
  if (!Number.isFinite(t)) throw new UsageError(`${name}: not an ISO 8601 time: ${v}`);
  return t;
}

function num(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < min || x > max) throw new UsageError(`${name}: expected a number in [${min}, ${max}], got ${v}`);
  return x;
}

function bar(p: ReplayProgress, startedMs: number): string {
  const width = 30;
  const f = p.total === 0 ? 1 : p.sent / p.total;
  const filled = Math.round(f * width);
  const rate = p.sent / Math.max(0.001, (Date.now() - startedMs) / 1000);
  return `[replay] ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${(f * 100).toFixed(1).padStart(5)}% ${p.sent.toLocaleString('en')}/${p.total.toLocaleString('en')} ${new Date(p.dataTimeMs).toISOString().slice(0, 16)}Z ${Math.round(rate).toLocaleString('en')}/s`;
}

async function main(): Promise<void> {
  let v;
  try {
    v = parseArgs({
      args: process.argv.slice(2),
      options: { data: { type: 'string' }, speed: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' }, 'dwd-lat': { type: 'string' }, 'dwd-lon': { type: 'string' }, 'pws-lat': { type: 'string' }, 'pws-lon': { type: 'string' } },
      strict: true,
    }).values;
    if (!v.data) throw new UsageError('--data <dir> is required');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  let opts;
  try {
    const fromMs = time('--from', v.from) ?? -Infinity;
    const toMs = time('--to', v.to) ?? Infinity;
    if (fromMs >= toMs) throw new UsageError('--from must be before --to');
    opts = {
      range: { fromMs, toMs },
      speed: num('--speed', v.speed, 1e-6, 1e12),
      dwdPosition: { lat: num('--dwd-lat', v['dwd-lat'], -90, 90) ?? DWD_DEFAULT.lat, lon: num('--dwd-lon', v['dwd-lon'], -180, 180) ?? DWD_DEFAULT.lon },
      pywwsPosition: { lat: num('--pws-lat', v['pws-lat'], -90, 90) ?? PYWWS_DEFAULT.lat, lon: num('--pws-lon', v['pws-lon'], -180, 180) ?? PYWWS_DEFAULT.lon },
    };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(2);
  }

  const config = loadConfig();
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  for (const m of mistypedSettings(process.env)) log.warn({ variable: m.name, meant: m.meant }, m.message);
  const note = (m: string) => process.stderr.write(`[replay] ${m}\n`);
  const bus = openBus(config.bus.url, { clientId: `${config.bus.clientId}-replay`, logger: log.child({ component: 'bus' }) });
  const topics = topicNames(config.bus.topicPrefix);
  await bus.ensureTopics(topicSpecs(topics, config.bus.partitions));
  let store: Store | null = null;
  try {
    store = await openStore(config.store.url, { log });
  } catch (err) {
    if (!(err instanceof DataDirLockedError) || bus.kind === 'memory') throw err;
    note(`stations will not be registered: ${err.message}`);
  }
  const worker = bus.kind === 'memory' && store ? await startIngestWorker({ bus, store, log, topics, groupId: config.bus.ingestGroupId, resolution: config.grid.resolution, maxBatch: config.bus.ingestMaxBatch }) : null;

  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  let lastLine = 0;
  const progress = (p: ReplayProgress) => {
    if (tty) process.stderr.write(`\r${bar(p, started)}`);
    else if (Date.now() - lastLine > 5000 || p.sent === p.total) {
      lastLine = Date.now();
      process.stderr.write(`${bar(p, started)}\n`);
    }
  };
  const result = await replay({ dataDir: v.data!, bus, topics, registry: store, partitionResolution: config.grid.partitionResolution, ...opts, progress, note });
  if (tty) process.stderr.write('\n');
  let stored: number | undefined;
  if (worker) {
    note('waiting for the ingest worker to store everything');
    const deadline = Date.now() + 30 * 60_000;
    while (worker.stats.readings + worker.stats.deadLetters < result.readings || worker.stats.background < result.background) {
      if (Date.now() > deadline) throw new Error('the ingest worker did not catch up within 30 min');
      await new Promise((r) => setTimeout(r, 100));
    }
    stored = worker.stats.inserted;
    await worker.stop();
  }
  await bus.close();
  await store?.close();
  const summary = { ...result, firstTime: result.firstMs !== null ? new Date(result.firstMs).toISOString() : null, lastTime: result.lastMs !== null ? new Date(result.lastMs).toISOString() : null, bus: bus.kind, ...(stored !== undefined ? { stored } : {}), seconds: Math.round((Date.now() - started) / 100) / 10 };
  if (v.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else for (const [k, x] of Object.entries(summary)) process.stdout.write(`${k}: ${typeof x === 'object' ? JSON.stringify(x) : String(x)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
