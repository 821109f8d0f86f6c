/**
 * The HTTP API as an Express app (no port: server.ts listens; tests use an ephemeral one).
 *
 * Every route, ours and the routers of other areas (MODULES below), sits behind the same
 * middleware: metrics, request logs, security headers, CORS, rate limits, compression; and every
 * error becomes a response in one place (errors.ts's catalogue).
 */
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Store } from '../infra/store/index.ts';
import type { Config } from '../infra/config.ts';
import type { Logger } from '../infra/log.ts';
import type { RequestListener } from 'node:http';
import { ApiError, errorAnswer, toApiError } from './errors.ts';
import { forecastAnswer, type SnapshotView } from './forecast.ts';
import { forecastQuery } from './forecast-query.ts';
import { tileAnswer, tileJsonHandler, TileCache, tileQuery, tilePath } from './tiles.ts';
import { cellsHandler, cellsQuery, ARROW_STREAM } from './cells.ts';
import { openApiDocument, errorSchema, type RouteDoc } from './openapi.ts';
import { RateLimiter, clientKey } from './rate-limit.ts';
import { headers, pageCsp } from './http-headers.ts';
import { writeAnswer } from './http-answer.ts';
import { fastPath } from './fast-path.ts';
import { requestMetrics, metricsHandler } from './http-metrics.ts';
import { loggedPath, requestLog } from './request-log.ts';
import type { ApiContext, ApiModuleFactory, BusProducer } from './module.ts';
import { ingestApiModule } from './submission-module.ts';

/**
 * Routers of other areas, one line each: `(ctx) => ({ router, docs })` (see module.ts).
 * They are mounted after the built-in routes, behind the shared middleware.
 */
const MODULES: ApiModuleFactory[] = [
  ingestApiModule,
];

/** A readiness check: resolves when the dependency works, throws (with a reason) when not. */
export type ReadinessCheck = () => Promise<unknown>;

export interface AppDeps {
  /** The store port (the embedded default hands a proxy to the thread that owns the store). */
  store: Store;
  /** The bus's producing side (likewise a proxy in the embedded default). */
  bus: BusProducer;
  log: Logger;
  config: Config;
  /** The in-memory snapshot forecasts, tiles and cells are served from. */
  live: SnapshotView;
  /** Extra readiness checks by name (the bus, models); the store and the snapshot are built in. */
  checks?: Record<string, ReadinessCheck>;
  /** Extra modules beside MODULES (the model routes, tests). */
  modules?: ApiModuleFactory[];
  /** Why the service is degraded (e.g. a model missing or failing), or null; /healthz reports it. */
  degraded?: () => string | null;
  now?: () => number;
}

const here = dirname(fileURLToPath(import.meta.url));
const maplibreDist = dirname(createRequire(import.meta.url).resolve('maplibre-gl'));

/** A ledger poll pending this long means the store is not answering [ms]. */
const STORE_SILENT_MS = 30_000;

/** A nowcast older than this is not served at all [ms]. */
export function maxServedAgeMs(config: Config): number {
  return Math.max(2 * 3_600_000, 4 * config.batch.intervalMs);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The API's request listener: the hot routes on the fast path, everything else through Express. */
export type ApiHandler = RequestListener & { express: express.Express };

export function createApp(deps: AppDeps): ApiHandler {
  const { config, live, log } = deps;
  const now = deps.now ?? Date.now;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('etag', false);

  const limiter = new RateLimiter({ perMinute: config.api.rateLimitPerMin, now });
  const hops = config.api.trustProxy;
  app.use(requestMetrics);
  app.use(requestLog(log, hops));
  app.use(headers);
  app.get('/metrics', metricsHandler); // before the rate limit: scrapers are not clients
  app.use((req, res, next) => {
    if (!limiter.enabled) return next();
    const d = limiter.take(clientKey(req, req.query.apikey, hops));
    res.setHeader('RateLimit-Limit', String(d.limit));
    if (d.ok) {
      res.setHeader('RateLimit-Remaining', String(d.remaining));
      return next();
    }
    res.setHeader('RateLimit-Remaining', '0');
    next(new ApiError('RATE_LIMITED', `Too many requests: at most ${d.limit} per minute per ${d.per}. Retry in ${d.retryAfterS} s.`, { retryAfterS: d.retryAfterS }));
  });

  const forecastDeps = { live, bbox: config.grid.bbox, resolution: config.grid.resolution, autoZone: config.api.timezone, batchIntervalMs: config.batch.intervalMs, batchLagMs: config.batch.lagMs, maxAgeMs: maxServedAgeMs(config), now };
  const tileDeps = { live, batchIntervalMs: config.batch.intervalMs, cache: new TileCache(config.api.tileCacheEntries), now };
  // The hot routes answer (and compress) by themselves; the fast path serves the same answers.
  app.get('/v1/forecast', (req, res) => writeAnswer(res, forecastAnswer(req.query, forecastDeps), req.get('accept-encoding')));
  app.get('/tiles/:z/:x/:file', (req, res) => writeAnswer(res, tileAnswer(req.params as { z: string; x: string; file: string }, { lead: req.query.lead, layer: req.query.layer }, req.get('if-none-match'), tileDeps), req.get('accept-encoding')));

  const compress = compression({ threshold: 1024 });
  app.use((req, res, next) => (req.headers['accept-encoding'] ? compress(req, res, next) : next()));

  // The map page and its assets (MapLibre GL from its npm package, no CDN).
  const csp = pageCsp(config.api.basemap?.origin ?? null);
  app.get('/', (_req, res) => {
    res.setHeader('Content-Security-Policy', csp);
    res.sendFile(join(here, 'map', 'index.html'));
  });
  app.use('/map', express.static(join(here, 'map'), { index: false, maxAge: '5m' }));
  app.use('/vendor/maplibre-gl', express.static(maplibreDist, { index: false, maxAge: '1d' }));

  app.get('/tiles.json', tileJsonHandler({ live, bbox: config.grid.bbox, basemap: config.api.basemap }));
  app.get('/v1/cells', cellsHandler({ live, resolution: config.grid.resolution, batchIntervalMs: config.batch.intervalMs, now }));

  // Health comes from the snapshot's ledger polls (every SNAPSHOT_POLL_MS), so it answers at once
  // even while a batch keeps the embedded store busy; a poll pending for STORE_SILENT_MS is a failure.
  const storeState = (): { ok: true } | { ok: false; reason: string } => {
    const st = live.status;
    if (st.pendingSinceMs !== null && now() - st.pendingSinceMs > STORE_SILENT_MS) return { ok: false, reason: `the store has not answered for ${Math.round((now() - st.pendingSinceMs) / 1000)} s` };
    if (!st.storeOk) return { ok: false, reason: st.storeError ?? 'the store has not answered yet' };
    return { ok: true };
  };
  app.get('/healthz', (_req, res) => {
    const snap = live.current;
    const snapshot = snap && { run_time: new Date(snap.runTimeMs).toISOString(), cells: snap.size, age_s: Math.round((now() - snap.runTimeMs) / 1000) };
    const state = storeState();
    if (!state.ok) {
      res.status(503).json({ status: 'unavailable', store: deps.store.kind, snapshot, reason: state.reason });
      return;
    }
    const l = live.status.ledger;
    const row = (r: NonNullable<typeof l>['last']) => r && { window_end: new Date(r.windowEndMs).toISOString(), status: r.status, readings: r.nReadings, sensors: r.nSensors, cells: r.nCells, smoother: r.smoother ?? null, error: r.error, finished_at: r.finishedAtMs === null ? null : new Date(r.finishedAtMs).toISOString() };
    // Degraded: this process's models (missing or failing), or a batch whose smoother failed (it served the filter's trajectory).
    const smootherFailed = l?.lastDone?.smoother?.startsWith('failed') ? `the last batch's smoother ${l.lastDone.smoother}` : null;
    const degraded = [deps.degraded?.() ?? null, smootherFailed].filter((x) => x !== null).join('; ') || null;
    res.json({ status: degraded ? 'degraded' : 'ok', ...(degraded ? { reason: degraded } : {}), store: deps.store.kind, snapshot, last_batch: row(l?.last ?? null), last_good_batch: row(l?.lastDone ?? null) });
  });

  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, ReadinessCheck> = {
      store: async () => {
        const state = storeState();
        if (!state.ok) throw new Error(state.reason);
      },
      snapshot: async () => {
        const s = live.current;
        if (!s) throw new Error('no nowcast loaded yet');
        if (now() - s.runTimeMs > maxServedAgeMs(config)) throw new Error(`the newest nowcast (${new Date(s.runTimeMs).toISOString()}) is too old to serve`);
      },
      ...deps.checks,
    };
    const results = await Promise.all(Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), 5000, name);
        return [name, { ok: true }] as const;
      } catch (err) {
        return [name, { ok: false, reason: err instanceof Error ? err.message : String(err) }] as const;
      }
    }));
    const ready = results.every(([, r]) => r.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) });
  });

  const ctx: ApiContext = { store: deps.store, bus: deps.bus, log, config, now };
  const docs: RouteDoc[] = [...builtInDocs()];
  for (const factory of [...MODULES, ...(deps.modules ?? [])]) {
    const m = factory(ctx);
    app.use(m.router);
    docs.push(...m.docs);
  }
  const openapi = openApiDocument({ title: 'Hyperlocal air-temperature nowcast API', version: '1.0.0', description: 'Open-Meteo-compatible forecasts of 2 m temperature per H3 cell, map tiles, cells and sensor submission.' }, docs);
  app.get('/openapi.json', (_req, res) => res.json(openapi));

  app.use((req, _res, next) => next(new ApiError('NOT_FOUND', `No route for ${req.method} ${loggedPath(req.path)}.`)));

  // The one place where errors become HTTP responses (the fast path uses the same errorAnswer).
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = toApiError(err);
    if (e.code === 'INTERNAL') log.error({ err, path: loggedPath(req.path) }, 'unhandled error');
    if (res.headersSent) return void res.end();
    writeAnswer(res, errorAnswer(e), undefined);
  });
  const handler = fastPath({ forecast: forecastDeps, tiles: tileDeps, limiter, trustProxyHops: hops, log }, app) as ApiHandler;
  handler.express = app;
  return handler;
}

function builtInDocs(): RouteDoc[] {
  const err = { 'application/json': errorSchema };
  const errors = {
    400: { description: 'INVALID_PARAMETER: a parameter is missing, repeated or out of range', content: err },
    404: { description: 'OUTSIDE_COVERAGE: a point outside the covered area', content: err },
    413: { description: 'PAYLOAD_TOO_LARGE: too many points, steps or cells', content: err },
    429: { description: 'RATE_LIMITED', content: err, headers: { 'Retry-After': 'seconds' } },
    503: { description: 'NOT_READY or STORE_UNAVAILABLE', content: err, headers: { 'Retry-After': 'seconds' } },
  };
  const section = z.object({ time: z.array(z.union([z.string(), z.number()])), temperature_2m: z.array(z.number().nullable()).optional(), temperature_2m_sigma: z.array(z.number().nullable()).optional() });
  const forecastBody = z.object({
    latitude: z.number(), longitude: z.number(), generationtime_ms: z.number(), utc_offset_seconds: z.number(), timezone: z.string(), timezone_abbreviation: z.string(),
    elevation: z.number().nullable(), cell: z.string(), run_time: z.string(), method: z.string(), observations_in_cell: z.number(), newest_observation: z.string().nullable(),
    newest_observation_age_s: z.number().nullable(), stale: z.boolean(),
    current: z.object({ time: z.union([z.string(), z.number()]), interval: z.number(), temperature_2m: z.number().nullable().optional(), temperature_2m_sigma: z.number().nullable().optional() }).optional(),
    minutely_5: section.optional(), minutely_15: section.optional(), hourly: section.optional(), daily: section.optional(),
  });
  return [
    { method: 'get', path: '/v1/forecast', summary: 'Forecast by coordinates (Open-Meteo compatible)', tags: ['forecast'], query: forecastQuery,
      responses: { 200: { description: 'One object per point (an array for a list of points); format=flatbuffers: size-prefixed WeatherApiResponse messages', content: { 'application/json': z.union([forecastBody, z.array(forecastBody)]), 'application/octet-stream': undefined } }, ...errors } },
    { method: 'get', path: '/tiles/{z}/{x}/{y}.png', summary: 'Map tile (256 px, Web Mercator) of the nowcast', tags: ['map'], params: tilePath, query: tileQuery,
      responses: { 200: { description: 'PNG; transparent where there is no data', content: { 'image/png': undefined }, headers: { ETag: 'the run and lead' } }, 304: { description: 'Not modified (If-None-Match)' }, 400: errors[400], 503: errors[503] } },
    { method: 'get', path: '/tiles.json', summary: 'TileJSON 3.0 of the tiles, with the colour scale', tags: ['map'], responses: { 200: { description: 'TileJSON', content: { 'application/json': undefined } } } },
    { method: 'get', path: '/v1/cells', summary: 'Cells in a box as GeoJSON hexagons, or Arrow IPC', tags: ['map'], query: cellsQuery,
      responses: { 200: { description: `GeoJSON FeatureCollection, or Arrow IPC stream with Accept: ${ARROW_STREAM}`, content: { 'application/geo+json': undefined, [ARROW_STREAM]: undefined }, headers: { ETag: 'the run, lead and format' } }, 304: { description: 'Not modified (If-None-Match)' }, 400: errors[400], 413: errors[413], 503: errors[503] } },
    { method: 'get', path: '/healthz', summary: 'Liveness: the store answers; the last batches', tags: ['operations'], responses: { 200: { description: 'ok' }, 503: { description: 'the store does not answer' } } },
    { method: 'get', path: '/readyz', summary: 'Readiness: store, bus, models, a servable nowcast', tags: ['operations'], responses: { 200: { description: 'ready' }, 503: { description: 'not ready, with each check' } } },
    { method: 'get', path: '/metrics', summary: 'Prometheus metrics', tags: ['operations'], responses: { 200: { description: 'text exposition format', content: { 'text/plain': undefined } } } },
    { method: 'get', path: '/openapi.json', summary: 'This document', tags: ['operations'], responses: { 200: { description: 'OpenAPI 3.1' } } },
    { method: 'get', path: '/', summary: 'The map page', tags: ['map'], responses: { 200: { description: 'HTML', content: { 'text/html': undefined } } } },
  ];
}
