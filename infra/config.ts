/**
 * Configuration: read once from the environment, validated with zod, frozen.
 * Defaults give the embedded mode (`npm start` on a fresh machine). Every variable is in the README.
 */
import { z } from 'zod';

const bool = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'on' || v === 'yes');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** "south,west,north,east" in degrees. */
const bbox = (fallback: string) => z
  .string()
  .default(fallback)
  .transform((s, ctx) => {
    const parts = s.split(',').map((p) => Number(p.trim()));
    const [south, west, north, east] = parts;
    if (parts.length !== 4 || parts.some((p) => !Number.isFinite(p)) || south === undefined || west === undefined || north === undefined || east === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected "south,west,north,east" (4 numbers), got "${s}"` });
      return z.NEVER;
    }
    if (!(south < north && west < east && south >= -90 && north <= 90 && west >= -180 && east <= 180)) {
      ctx.addIssue({ code: 'custom', message: `expected south < north and west < east within [-90,90]x[-180,180], got "${s}"` });
      return z.NEVER;
    }
    return { south, west, north, east };
  });

const schema = z.object({
  ROLE: z.enum(['all', 'api', 'ingest', 'pipeline']).default('all'),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(0, 65535).default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  STORE_URL: z.string().min(1).default('./data/db'),
  STORE_POOL_SIZE: int(1, 1000).default(10),
  STORE_IDLE_TIMEOUT_MS: int(1, 3_600_000).default(10_000),
  /** How long a store call waits for a server connection (free in the pool, or newly opened) [ms]. */
  STORE_CONNECT_TIMEOUT_MS: int(1, 600_000).default(10_000),
  /** The server cancels a statement running longer than this [ms]; 0 = no limit. */
  STORE_STATEMENT_TIMEOUT_MS: int(0, 86_400_000).default(60_000),
  /** How often the application runs TimescaleDB's jobs itself (compression, retention) [ms]; 0 = never. */
  STORE_JOBS_INTERVAL_MS: int(0, 86_400_000).default(3_600_000),

  BUS_URL: z.string().min(1).default('memory://'),
  KAFKA_CLIENT_ID: z.string().min(1).default('nowcast'),
  TOPIC_PARTITIONS: int(1, 1024).default(12),
  /** Prefix of every topic name, so several deployments can share a cluster. */
  TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{0,100}$/, 'letters, digits, . _ - only').default(''),
  INGEST_GROUP_ID: z.string().min(1).default('ingest'),
  /** Readings per batch insert; the ingest worker also flushes after INGEST_FLUSH_MS. */
  INGEST_MAX_BATCH: int(1, 100_000).default(5000),

  /** Bearer token of the admin (official stations, edits, partners); unset: those calls are refused. */
  ADMIN_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** How far back a submitted reading may lie [ms] (a station catching up after an outage). */
  INGEST_BACKLOG_MS: int(60_000, 366 * 86_400_000).default(7 * 86_400_000),
  /** Readings in one JSON submission. */
  SUBMIT_MAX_READINGS: int(1, 100_000).default(1000),
  /** Rows in one Arrow bulk submission, and its bytes. */
  SUBMIT_MAX_ROWS: int(1, 10_000_000).default(100_000),
  SUBMIT_MAX_BYTES: int(1024, 1024 * 1024 * 1024).default(16 * 1024 * 1024),
  /** Station registrations per client address and hour (without a token). */
  REGISTRATIONS_PER_HOUR: int(1, 100_000).default(20),
  /** How long a submission waits for the bus to acknowledge anything before it is answered 503 [ms]. */
  SUBMIT_PUBLISH_TIMEOUT_MS: int(100, 600_000).default(5000),

  CITY_BBOX: bbox('52.35,13.08,52.68,13.76'),
  H3_RESOLUTION: int(7, 10).default(9),
  /** Resolution of the parent cell that keys bus partitions and batch shards. */
  H3_PARTITION_RESOLUTION: int(0, 8).default(5),

  /** Length of a batch window [ms]; windows tile time at its multiples (5 min: aligned to wall-clock 5-minute boundaries). */
  WINDOW_MS: int(1000, 3_600_000).refine((ms) => 86_400_000 % ms === 0, 'must divide a day evenly (e.g. 300000), so windows align to the clock').default(300_000),
  /** How long nowcasts are kept [ms]; defaults to 1 h with the simulator on (demo), 1 day otherwise. */
  NOWCAST_RETENTION_MS: int(600_000, 366 * 86_400_000).optional(),
  /** How long a batch waits after a window closes for late readings [ms] (the grace period). */
  BATCH_LAG_MS: int(0, 600_000).default(5_000),
  /** Missed windows older than this are not caught up after downtime [ms]. */
  BATCH_CATCHUP_MS: int(0, 7 * 86_400_000).default(3_600_000),
  /** Resolution of the H3 parent cells that shard a batch window (coarser: less halo work; finer: more tasks to share). */
  BATCH_SHARD_RESOLUTION: int(0, 8).default(4),
  /** Width of the halo of neighbours a shard's QC reads around its cells [m]. */
  SHARD_HALO_M: int(0, 100_000).default(3000),
  /** A task lease [ms]: a worker that dies mid-task has its task taken over after this. */
  BATCH_LEASE_MS: int(1000, 3_600_000).default(60_000),
  /** A task that fails this many times fails its window, which is retried with backoff. */
  BATCH_TASK_ATTEMPTS: int(1, 100).default(3),
  /** Backoff of a failed window: base × 2^(attempts − 1), at most max [ms]. */
  BATCH_RETRY_BASE_MS: int(100, 3_600_000).default(30_000),
  BATCH_RETRY_MAX_MS: int(100, 86_400_000).default(900_000),
  /** Threads running the shards' QC in a pipeline process (default 0: on the main thread). */
  BATCH_MAP_THREADS: int(0, 64).default(0),
  /** A done window is revisited when at least this many readings, and this fraction of its readings, arrived after it ran … */
  REVISIT_MIN_LATE: int(1, 1_000_000).default(20),
  REVISIT_MIN_FRACTION: z.coerce.number().min(0).max(10).default(0.1),
  /** … within this long after the window [ms]. */
  REVISIT_HORIZON_MS: int(0, 86_400_000).default(3_600_000),
  /** Hourly forecast steps at most (as far as the background reaches). */
  FORECAST_HOURS: int(1, 240).default(48),

  /** Requests per minute per API key or client address (token bucket); 0 turns the limit off. */
  RATE_LIMIT_PER_MIN: int(0, 10_000_000).default(1200),
  /** The covered city's IANA time zone: what the forecast's timezone=auto stands for. */
  CITY_TIMEZONE: z.string().default('Europe/Berlin').refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'an IANA time zone such as Europe/Berlin'),
  /** How long a client may take to send a request's line and headers, and the whole request [ms] (slower: 408). */
  HTTP_HEADERS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(60_000),
  /** Client addresses from X-Forwarded-For: off, or the number of proxy hops in front of the API. */
  TRUST_PROXY: int(0, 10).default(0),
  /** How often an api process asks the ledger for a newer finished run [ms]. */
  SNAPSHOT_POLL_MS: int(100, 600_000).default(2000),
  /** A raster basemap under the map page's tiles: an http(s) URL template with {z}, {x} and {y}; none by default. */
  MAP_BASEMAP_URL: z.string().max(500).refine((u) => basemapOrigin(u) !== null, 'an http(s) URL template with {z}, {x} and {y}, e.g. https://tile.example.org/{z}/{x}/{y}.png').optional(),
  /** The basemap's attribution, shown on the map (its licence usually requires one); required with MAP_BASEMAP_URL. */
  MAP_BASEMAP_ATTRIBUTION: z.string().min(1).max(300).optional(),

  /** Folder of the model artifacts (ONNX files and cards); hot-reloaded when they change. Default: the shipped models/artifacts. */
  MODELS_DIR: z.string().min(1).optional(),
  /** How often the model folder is checked for new artifacts [ms]; 0 = never (load once). */
  MODELS_POLL_MS: int(0, 3_600_000).default(5000),
  /** onnxruntime threads per model session; 0 = onnxruntime's own choice. Default: the machine's cores. */
  MODEL_THREADS: int(0, 256).optional(),
  /** The model that smooths the batch's next hour; `none` keeps the filter's trajectory. */
  SMOOTHER: z.string().regex(/^(none|[a-z0-9][a-z0-9._-]{0,63})$/, 'a model name or none').default('bilstm'),

  /** Runs the built-in simulated city (default on for ROLE=all with the memory bus). */
  SIMULATOR: bool.optional(),
  SIM_SEED: int(0, 2 ** 31 - 1).default(42),
  SIM_OFFICIAL_STATIONS: int(0, 1000).default(6),
  SIM_AMATEUR_SENSORS: int(0, 100_000).default(400),
  /** Reporting interval of simulated amateur sensors [ms]; official stations report every 10 min. */
  SIM_AMATEUR_INTERVAL_MS: int(10_000, 3_600_000).default(60_000),
});

export type Config = Readonly<{
  role: 'all' | 'api' | 'ingest' | 'pipeline';
  host: string;
  port: number;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  store: Readonly<{ url: string; poolSize: number; idleTimeoutMs: number; connectTimeoutMs: number; statementTimeoutMs: number; jobsIntervalMs: number }>;
  bus: Readonly<{ url: string; clientId: string; partitions: number; topicPrefix: string; ingestGroupId: string; ingestMaxBatch: number }>;
  grid: Readonly<{ bbox: Readonly<{ south: number; west: number; north: number; east: number }>; resolution: number; partitionResolution: number }>;
  batch: Readonly<{
    /** Time between runs: one window [ms] (the same as windowMs). */
    intervalMs: number;
    windowMs: number;
    lagMs: number;
    retentionMs: number;
    catchupMs: number;
    shardResolution: number;
    haloM: number;
    leaseMs: number;
    taskAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    revisit: Readonly<{ minLate: number; minFraction: number; horizonMs: number }>;
    forecastHours: number;
    /** Threads that run the shards' QC; 0: the pipeline's main thread. */
    mapThreads: number;
  }>;
  api: Readonly<{ headersTimeoutMs: number; requestTimeoutMs: number; rateLimitPerMin: number; timezone: string; trustProxy: number; snapshotPollMs: number; tileCacheEntries: number; pastKeepMs: number; /** The map page's basemap (its URL template, attribution and origin), or null for none. */ basemap: Readonly<{ url: string; attribution: string; origin: string }> | null }>;
  models: Readonly<{ /** null: the shipped artifacts. */ dir: string | null; pollMs: number; smoother: string | null; /** onnxruntime threads per session; null: the machine's cores. */ threads: number | null }>;
  sim: Readonly<{ enabled: boolean; seed: number; officialStations: number; amateurSensors: number; amateurIntervalMs: number }>;
  submission: Readonly<{ adminToken: string | undefined; backlogMs: number; jsonMaxReadings: number; arrowMaxRows: number; arrowMaxBytes: number; registrationsPerHour: number; publishTimeoutMs: number }>;
}>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

/** The variables the configuration reads. */
export const SETTING_NAMES: readonly string[] = Object.freeze(Object.keys(schema.shape));

/** What setting `name` is when it is not set (undefined: none, or one that depends on other settings). */
export function settingDefault(name: string): unknown {
  const field = (schema.shape as Record<string, z.ZodTypeAny>)[name];
  if (!field) throw new Error(`no setting ${name}`);
  const r = field.safeParse(undefined);
  return r.success ? r.data : undefined;
}

/**
 * Optimal string alignment distance (Levenshtein with adjacent transpositions), capped: returns
 * `cap + 1` as soon as the distance must exceed `cap`.
 */
export function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  let prev2 = new Int32Array(b.length + 1), prev = new Int32Array(b.length + 1), cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > cap) return cap + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length]!;
}

/**
 * Variables in the environment that are not settings but look like a mistyped one (another case, a
 * time setting without its _MS, or one or two letters off: one for names under 8 characters, so that
 * HOME is not taken for ROLE), each with the setting it probably meant and a line for the log. Such a
 * variable is ignored, so the setting keeps its default: a typo in STORE_URL would otherwise run a
 * production process on the embedded store unnoticed.
 */
export function mistypedSettings(env: Record<string, string | undefined>): { name: string; meant: string; message: string }[] {
  const known = new Set(SETTING_NAMES);
  const out: { name: string; meant: string; message: string }[] = [];
  for (const name of Object.keys(env)) {
    if (known.has(name) || env[name] === undefined || name.length < 4) continue;
    const upper = name.toUpperCase();
    // another case, or a time setting with its unit left off
    let meant: string | undefined = known.has(upper) ? upper : known.has(`${upper}_MS`) ? `${upper}_MS` : undefined;
    if (!meant) {
      const cap = upper.length < 8 ? 1 : 2;
      let best = cap + 1;
      for (const k of SETTING_NAMES) {
        const d = editDistance(upper, k, cap);
        if (d < best) { best = d; meant = k; }
      }
      if (best > cap) meant = undefined;
    }
    if (meant) out.push({ name, meant, message: `${name} is not a setting and is ignored (did you mean ${meant}? ${meant} keeps its ${env[meant] === undefined ? 'default' : 'own value'})` });
  }
  return out;
}

/** The origin of a basemap URL template (http or https, with {z}, {x} and {y}), or null when it is not one. */
export function basemapOrigin(template: string): string | null {
  if (!['{z}', '{x}', '{y}'].every((p) => template.includes(p))) return null;
  try {
    const url = new URL(template.replace(/\{[zxy]\}/g, '0'));
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}

/** Parses the environment (or any string map) once; throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== '') picked[key] = v;
  }
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.BATCH_SHARD_RESOLUTION >= e.H3_RESOLUTION) {
    throw new ConfigError(`invalid configuration:\n  BATCH_SHARD_RESOLUTION: must be coarser than H3_RESOLUTION (${e.BATCH_SHARD_RESOLUTION} >= ${e.H3_RESOLUTION})`);
  }
  if (e.H3_PARTITION_RESOLUTION >= e.H3_RESOLUTION) {
    throw new ConfigError(`invalid configuration:\n  H3_PARTITION_RESOLUTION: must be coarser than H3_RESOLUTION (${e.H3_PARTITION_RESOLUTION} >= ${e.H3_RESOLUTION})`);
  }
  if (e.ROLE !== 'all' && (e.BUS_URL.startsWith('memory:') || !/^postgres(ql)?:\/\//.test(e.STORE_URL))) {
    throw new ConfigError(`invalid configuration:\n  ROLE: '${e.ROLE}' runs beside other processes, so it needs a shared bus and store: BUS_URL=kafka://... and STORE_URL=postgres://... (the in-process log and the embedded database serve ROLE=all only)`);
  }
  if ((e.MAP_BASEMAP_URL === undefined) !== (e.MAP_BASEMAP_ATTRIBUTION === undefined)) {
    throw new ConfigError(`invalid configuration:\n  MAP_BASEMAP_URL and MAP_BASEMAP_ATTRIBUTION: set both or neither (a basemap's licence usually requires its attribution on the map)`);
  }
  // The one-process way to try the system feeds itself, whichever bus it uses (the in-process log or a local Kafka).
  const simEnabled = e.SIMULATOR ?? e.ROLE === 'all';
  const config: Config = {
    role: e.ROLE,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    store: Object.freeze({
      url: e.STORE_URL, poolSize: e.STORE_POOL_SIZE, idleTimeoutMs: e.STORE_IDLE_TIMEOUT_MS,
      connectTimeoutMs: e.STORE_CONNECT_TIMEOUT_MS, statementTimeoutMs: e.STORE_STATEMENT_TIMEOUT_MS, jobsIntervalMs: e.STORE_JOBS_INTERVAL_MS,
    }),
    bus: Object.freeze({ url: e.BUS_URL, clientId: e.KAFKA_CLIENT_ID, partitions: e.TOPIC_PARTITIONS, topicPrefix: e.TOPIC_PREFIX, ingestGroupId: e.INGEST_GROUP_ID, ingestMaxBatch: e.INGEST_MAX_BATCH }),
    grid: Object.freeze({ bbox: Object.freeze(e.CITY_BBOX), resolution: e.H3_RESOLUTION, partitionResolution: e.H3_PARTITION_RESOLUTION }),
    batch: Object.freeze({
      intervalMs: e.WINDOW_MS,
      windowMs: e.WINDOW_MS,
      lagMs: e.BATCH_LAG_MS,
      catchupMs: e.BATCH_CATCHUP_MS,
      shardResolution: e.BATCH_SHARD_RESOLUTION,
      haloM: e.SHARD_HALO_M,
      leaseMs: e.BATCH_LEASE_MS,
      taskAttempts: e.BATCH_TASK_ATTEMPTS,
      retryBaseMs: e.BATCH_RETRY_BASE_MS,
      retryMaxMs: e.BATCH_RETRY_MAX_MS,
      revisit: Object.freeze({ minLate: e.REVISIT_MIN_LATE, minFraction: e.REVISIT_MIN_FRACTION, horizonMs: e.REVISIT_HORIZON_MS }),
      forecastHours: e.FORECAST_HOURS,
      mapThreads: e.BATCH_MAP_THREADS,
      retentionMs: e.NOWCAST_RETENTION_MS ?? (simEnabled ? 3_600_000 : 86_400_000),
    }),
    api: Object.freeze({ headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS, requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS, rateLimitPerMin: e.RATE_LIMIT_PER_MIN, timezone: e.CITY_TIMEZONE, trustProxy: e.TRUST_PROXY, snapshotPollMs: e.SNAPSHOT_POLL_MS, tileCacheEntries: 4096, pastKeepMs: 6 * 3_600_000, basemap: e.MAP_BASEMAP_URL ? Object.freeze({ url: e.MAP_BASEMAP_URL, attribution: e.MAP_BASEMAP_ATTRIBUTION!, origin: basemapOrigin(e.MAP_BASEMAP_URL)! }) : null }),
    models: Object.freeze({ dir: e.MODELS_DIR ?? null, pollMs: e.MODELS_POLL_MS, smoother: e.SMOOTHER === 'none' ? null : e.SMOOTHER, threads: e.MODEL_THREADS ?? null }),
    submission: Object.freeze({ adminToken: e.ADMIN_TOKEN, backlogMs: e.INGEST_BACKLOG_MS, jsonMaxReadings: e.SUBMIT_MAX_READINGS, arrowMaxRows: e.SUBMIT_MAX_ROWS, arrowMaxBytes: e.SUBMIT_MAX_BYTES, registrationsPerHour: e.REGISTRATIONS_PER_HOUR, publishTimeoutMs: e.SUBMIT_PUBLISH_TIMEOUT_MS }),
    sim: Object.freeze({ enabled: simEnabled, seed: e.SIM_SEED, officialStations: e.SIM_OFFICIAL_STATIONS, amateurSensors: e.SIM_AMATEUR_SENSORS, amateurIntervalMs: e.SIM_AMATEUR_INTERVAL_MS }),
  };
  return Object.freeze(config);
}
