/**
 * The routes through which readings arrive and stations are registered, sharing one context: the
 * registry (SQL through the store port), the authenticator, and a publisher to readings.v1 (the bus
 * port). They depend on nothing else, so the store and bus may be proxies to another thread.
 *
 *   stations.ts         POST/GET/PATCH /v1/stations, /v1/stations/{id}/readings, POST/PATCH /v1/partners
 *   readings-upload.ts  POST /v1/readings (JSON with a station key; Arrow stream with a partner token)
 *   wunderground.ts     GET/POST /weatherstation/updateweatherstation.php
 *   ecowitt.ts          POST /data/report/{key}
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Bus, OutgoingMessage } from '../infra/bus/index.ts';
import type { Queryable } from '../infra/store/index.ts';
import type { Logger } from '../infra/log.ts';
import { Authenticator, BusUnavailableError, CoalescingPublisher, canonicalReading, checkValue, countAccepted, countRefusal, dropDuplicates, readingMessages, secretsEqual, type RefusalReason, type StationPosition, type SubmissionPath, type SubmittedValue, type ValueProblem, type Reading } from '../ingest/index.ts';
import { ApiError, type ApiErrorCode } from './errors.ts';
import { RegistrationLimit } from './registration-limit.ts';
import { stationsRouter } from './stations.ts';
import { readingsUploadRouter } from './readings-upload.ts';
import { wundergroundRouter } from './wunderground.ts';
import { sensorCommunityRouter } from './sensor-community.ts';
import { settingDefault } from '../infra/config.ts';
import { ecowittRouter } from './ecowitt.ts';

export interface SubmissionLimits {
  /** Readings in one JSON submission. */
  jsonMaxReadings: number;
  /** Rows in one Arrow submission. */
  arrowMaxRows: number;
  /** Bytes of one Arrow body. */
  arrowMaxBytes: number;
  /** How far back a submitted reading may lie [ms]. */
  backlogMs: number;
  /** Registrations per client address per hour. */
  registrationsPerHour: number;
  /** How long a submission waits for the bus to acknowledge anything before it is answered 503 [ms]. */
  publishTimeoutMs: number;
}

export const DEFAULT_SUBMISSION_LIMITS: SubmissionLimits = {
  jsonMaxReadings: 1000,
  arrowMaxRows: 100_000,
  arrowMaxBytes: 16 * 1024 * 1024,
  backlogMs: 7 * 24 * 3_600_000,
  registrationsPerHour: 20,
  publishTimeoutMs: 5000,
};

export interface SubmissionDeps {
  store: Queryable;
  bus: Pick<Bus, 'publish'>;
  /** readings.v1 (with the deployment's prefix). */
  readingsTopic: string;
  /** H3 resolution of the parent cell that keys the topic's partitions. */
  partitionResolution: number;
  log: Logger;
  /** The admin bearer token (ADMIN_TOKEN); without one, admin calls are refused. */
  adminToken?: string;
  limits?: Partial<SubmissionLimits>;
  now?: () => number;
  /** How long verified keys and registry rows are remembered [ms] (default 10 s). */
  authTtlMs?: number;
  /** The batch's grid, to find a station's shard for its QC (default: the configuration's defaults). */
  grid?: { resolution: number; shardResolution: number };
}

export interface SubmissionContext {
  store: Queryable;
  auth: Authenticator;
  publisher: CoalescingPublisher;
  partitionResolution: number;
  log: Logger;
  adminToken: string | undefined;
  limits: SubmissionLimits;
  registrations: RegistrationLimit;
  now: () => number;
  grid: { resolution: number; shardResolution: number };
}

/** Every submission and registry route, on one router (mounted by the app before its 404). */
export function submissionRoutes(deps: SubmissionDeps): express.Router {
  const now = deps.now ?? Date.now;
  const limits = { ...DEFAULT_SUBMISSION_LIMITS, ...deps.limits };
  const ctx: SubmissionContext = {
    store: deps.store,
    auth: new Authenticator(deps.store, { now, ...(deps.authTtlMs !== undefined ? { ttlMs: deps.authTtlMs } : {}) }),
    publisher: new CoalescingPublisher(deps.bus, deps.readingsTopic, undefined, { timeoutMs: limits.publishTimeoutMs }),
    partitionResolution: deps.partitionResolution,
    log: deps.log.child({ component: 'submission' }),
    adminToken: deps.adminToken && deps.adminToken.length > 0 ? deps.adminToken : undefined,
    limits,
    registrations: new RegistrationLimit(limits.registrationsPerHour, 3_600_000),
    now,
    grid: deps.grid ?? { resolution: settingDefault('H3_RESOLUTION') as number, shardResolution: settingDefault('BATCH_SHARD_RESOLUTION') as number },
  };
  const router = express.Router();
  // The most frequent request first: station software uploading every few seconds.
  router.use(wundergroundRouter(ctx));
  router.use(stationsRouter(ctx));
  router.use(readingsUploadRouter(ctx));
  router.use(ecowittRouter(ctx));
  router.use(sensorCommunityRouter(ctx));
  return router;
}

// ---- shared by the route files ------------------------------------------------------------------

/** The bearer token of a request, or undefined. */
export function bearer(req: Request): string | undefined {
  const h = req.get('authorization');
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

export function isAdmin(ctx: SubmissionContext, req: Request): boolean {
  const token = bearer(req);
  return ctx.adminToken !== undefined && token !== undefined && secretsEqual(token, ctx.adminToken);
}

const STATUS_CODES: Record<number, ApiErrorCode> = { 400: 'INVALID_PARAMETER', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'RATE_LIMITED' };

/** Counts the refusal and returns the API error to throw. */
export function refuse(path: SubmissionPath, reason: RefusalReason, status: 400 | 401 | 403 | 413 | 415 | 429, message: string, details: { retryAfterS?: number } = {}): ApiError {
  countRefusal(path, reason);
  return new ApiError(STATUS_CODES[status]!, message, details);
}

export function problemMessage(p: ValueProblem): string {
  return `${p.field}: ${p.message}`;
}

/**
 * A body parser whose own failures become counted API errors: too large → 413, unparsable → 400.
 */
export function parseBody(path: SubmissionPath, parser: express.RequestHandler) {
  return (req: Request, res: Response, next: NextFunction) => {
    parser(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; status?: number; message?: string; limit?: number };
      if (e.type === 'entity.too.large' || e.status === 413) return next(refuse(path, 'too_large', 413, `The body is larger than the limit of ${e.limit ?? '?'} bytes.`));
      if (e.type === 'encoding.unsupported' || e.status === 415) return next(refuse(path, 'unsupported_media_type', 415, e.message ?? 'Unsupported encoding.'));
      return next(refuse(path, 'malformed', 400, `The body could not be parsed: ${e.message ?? 'malformed'}.`));
    });
  };
}

export interface Accepted {
  accepted: number;
  duplicates: number;
}

type FieldNames = NonNullable<Parameters<typeof checkValue>[1]['names']>;

/** Readings checked and encoded between two turns of the event loop (a bulk submission holds 100,000). */
export const SUBMIT_SLICE = 5000;

/**
 * Checks every value (the first problem refuses the whole submission, naming its field), converts to
 * canonical readings, drops exact duplicates, and produces them; resolves once the bus has them.
 */
export async function submitValues(
  ctx: SubmissionContext,
  path: SubmissionPath,
  items: readonly { station: StationPosition; value: SubmittedValue; names?: FieldNames }[],
  /** The field names of item i where it has none (made only for a problem). */
  namesAt?: (i: number) => FieldNames,
): Promise<{ ok: true; result: Accepted } | { ok: false; problem: ValueProblem }> {
  const nowMs = ctx.now();
  const check = { nowMs, backlogMs: ctx.limits.backlogMs };
  // In slices, each followed by a turn of the event loop, so a bulk submission holds up no other
  // request for long; the messages are published together at the end, all or none answered.
  const seen = new Set<string>();
  const messages: OutgoingMessage[] = [];
  let accepted = 0;
  for (let from = 0; from < items.length; from += SUBMIT_SLICE) {
    if (from > 0) await nextTurn();
    const to = Math.min(items.length, from + SUBMIT_SLICE);
    const readings: Reading[] = new Array(to - from);
    for (let i = from; i < to; i++) {
      const it = items[i]!;
      let problem = checkValue(it.value, check);
      const names = problem ? (it.names ?? namesAt?.(i)) : undefined;
      if (names) problem = checkValue(it.value, { ...check, names });
      if (problem) {
        countRefusal(path, problem.reason);
        return { ok: false, problem };
      }
      readings[i - from] = canonicalReading(it.station, it.value);
    }
    const { unique } = dropDuplicates(readings, seen);
    accepted += unique.length;
    if (unique.length > 0) messages.push(...readingMessages(unique, ctx.partitionResolution));
  }
  const duplicates = items.length - accepted;
  try {
    await ctx.publisher.publish(messages);
  } catch (err) {
    if (!(err instanceof BusUnavailableError)) throw err;
    // Nothing is promised: the client retries, and whatever did reach the bus is stored once ((station, time) key).
    countRefusal(path, 'bus_unavailable');
    ctx.log.warn({ path, readings: accepted, reason: err.message, ...(err.cause !== undefined ? { cause: err.cause instanceof Error ? err.cause.message : String(err.cause) } : {}) }, 'submission refused: the bus did not take the readings');
    throw new ApiError('BUS_UNAVAILABLE', `Readings cannot be taken right now: ${err.message}.`, { retryAfterS: err.retryAfterS });
  }
  countAccepted(path, accepted);
  return { ok: true, result: { accepted, duplicates } };
}
