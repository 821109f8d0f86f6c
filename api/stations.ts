/**
 * The station registry over HTTP.
 *
 *   POST  /v1/stations                 register: anyone (amateur, rate-limited per address), a partner
 *                                      (Bearer partner token: the station is the partner's), or the
 *                                      admin (Bearer ADMIN_TOKEN: any kind, any owner) → 201 {id, key}
 *   GET   /v1/stations/{id}            metadata and the last reading
 *   GET   /v1/stations/{id}/readings   readings in [start, end) (ISO 8601; default the last 24 h)
 *   PATCH /v1/stations/{id}            admin: edit, disable/enable, rotate the key, unbind the console
 *   POST  /v1/partners                 admin: a partner and its token → 201 {id, token}
 *   PATCH /v1/partners/{id}            admin: disable/enable, rotate the token
 *
 * Keys and tokens are shown once, in the answer that creates them; no answer ever shows a hash.
 */
import express, { type Request } from 'express';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { stationQuality } from '../pipeline/station-quality.ts';
import { getStation, insertPartner, insertStation, lastReading, readingsOf, setPartnerDisabled, setPartnerTokenHash, updateStation, type StationRecord } from '../infra/store/index.ts';
import { hashSecret, newSecret, principalOf, PRINCIPAL_ID_RE } from '../ingest/index.ts';
import { ApiError } from './errors.ts';
import { bearer, isAdmin, parseBody, refuse, type SubmissionContext } from './submission.ts';
import { DAY_MS } from '../infra/time.ts';

/** Most readings one GET /v1/stations/{id}/readings answers (`truncated` says when there were more). */
export const READINGS_PAGE_MAX = 10_000;
/** How far back a station's QC is reported: the last hour (the batch keeps its artefacts a little longer). */
export const QUALITY_SPAN_MS = 3_600_000;

/** Printable text: no control characters (PostgreSQL's text cannot even hold U+0000). */
const printable = (s: z.ZodString) => s.regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters');
const name = printable(z.string().trim().min(1).max(100));
const externalId = printable(z.string().trim().min(1).max(100));
const latitude = z.number().min(-90).max(90);
const longitude = z.number().min(-180).max(180);
const elevation = z.number().min(-500).max(9000);
const kind = z.enum(['official', 'amateur']);
const partnerId = z.string().regex(/^pt-[a-z0-9]{1,32}$/, 'a partner id (pt-...)');

export const registration = z.object({
  name,
  latitude,
  longitude,
  elevation: elevation.nullable().optional(),
  kind: kind.optional(),
  external_id: externalId.nullable().optional(),
  /** Admin only: the partner that owns the station. */
  partner_id: partnerId.nullable().optional(),
});

export const stationPatch = z.object({
  name: name.optional(),
  latitude: latitude.optional(),
  longitude: longitude.optional(),
  elevation: elevation.nullable().optional(),
  kind: kind.optional(),
  external_id: externalId.nullable().optional(),
  partner_id: partnerId.nullable().optional(),
  disabled: z.boolean().optional(),
  rotate_key: z.literal(true).optional(),
  unbind_ecowitt: z.literal(true).optional(),
});

/** Fields of a station only the admin changes (its owner changes the rest). */
const ADMIN_ONLY_FIELDS = ['kind', 'external_id', 'partner_id', 'disabled'] as const;

export const partnerBody = z.object({ name });
export const partnerPatch = z.object({ disabled: z.boolean().optional(), rotate_token: z.literal(true).optional() });

/** The first zod issue as "field: reason". */
export function zodMessage(err: z.ZodError): string {
  const i = err.issues[0]!;
  return `${i.path.join('.') || '(body)'}: ${i.message}`;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw refuse('registration', 'malformed', 400, 'The body must be a JSON object.');
  const r = schema.safeParse(body);
  if (!r.success) throw refuse('registration', 'malformed', 400, zodMessage(r.error));
  return r.data;
}

/** Station ids: `st-` and 12 characters of base32 (60 random bits): short enough for a console's path field. */
function newStationId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(12);
  let id = 'st-';
  for (const b of bytes) id += alphabet[b & 31];
  return id;
}

function newPartnerId(): string {
  return `pt-${randomBytes(6).toString('hex')}`;
}

export function stationJson(s: StationRecord): Record<string, unknown> {
  return {
    id: s.stationId,
    name: s.name,
    kind: s.kind,
    latitude: s.lat,
    longitude: s.lon,
    elevation: s.elevationM,
    external_id: s.externalId,
    registered: s.registeredAtMs !== null ? new Date(s.registeredAtMs).toISOString() : null,
    disabled: s.disabledAtMs !== null,
  };
}

/** The route's `:id` (one path segment); an id no station or partner can have is 404 at once. */
function idParam(req: Request): string {
  const v = req.params.id;
  const id = Array.isArray(v) ? v.join('/') : (v ?? '');
  if (!PRINCIPAL_ID_RE.test(id)) throw new ApiError('NOT_FOUND', `No station or partner ${JSON.stringify(id.slice(0, 80))}: ids are 1-64 of A-Z a-z 0-9 _ : -.`);
  return id;
}

function isoParam(req: Request, key: string, fallbackMs: number): number {
  const raw = req.query[key];
  if (raw === undefined || raw === '') return fallbackMs;
  if (typeof raw !== 'string') throw new ApiError('INVALID_PARAMETER', `Parameter '${key}' must be given once.`);
  const t = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw) ? Date.parse(/T[\d:.]+$/.test(raw) ? `${raw}Z` : raw) : NaN;
  if (!Number.isFinite(t)) throw new ApiError('INVALID_PARAMETER', `Parameter '${key}' must be an ISO 8601 time (e.g. 2026-01-05T10:00Z). Given: '${raw.slice(0, 40)}'.`);
  return t;
}

export function stationsRouter(ctx: SubmissionContext): express.Router {
  const r = express.Router();
  const json = parseBody('registration', express.json({ limit: '16kb' }));

  const requireAdmin = (req: Request) => {
    if (!isAdmin(ctx, req)) throw refuse('registration', 'forbidden', 403, ctx.adminToken === undefined ? 'This call needs the admin token, and none is configured (ADMIN_TOKEN).' : 'This call needs the admin token.');
  };

  r.post('/v1/stations', json, async (req, res) => {
    const token = bearer(req);
    const admin = isAdmin(ctx, req);
    let owner: string | null = null;
    if (token !== undefined && !admin) {
      const id = principalOf(token);
      if (id === null || !id.startsWith('pt-')) throw refuse('registration', 'wrong_key', 401, 'The bearer token is neither the admin token nor a partner token.');
      const p = await ctx.auth.partner(token);
      if (!p.ok) throw refuse('registration', p.reason, p.status, p.message);
      owner = p.value.partnerId;
    }
    const body = parse(registration, req.body);
    if (body.kind === 'official' && !admin) throw refuse('registration', 'forbidden', 403, 'kind: official stations are registered with the admin token.');
    if (body.partner_id !== undefined && body.partner_id !== null && !admin) throw refuse('registration', 'forbidden', 403, 'partner_id: only the admin assigns stations to partners.');
    if (!admin && owner === null) {
      const retryAfterS = ctx.registrations.take(req.ip ?? req.socket.remoteAddress ?? 'unknown', ctx.now());
      if (retryAfterS > 0) throw refuse('registration', 'rate_limited', 429, `Too many registrations from this address; try again in ${retryAfterS} s.`, { retryAfterS });
    }
    const stationId = newStationId();
    const key = newSecret(stationId);
    const station = await insertStation(ctx.store, {
      stationId,
      kind: body.kind ?? 'amateur',
      name: body.name,
      externalId: body.external_id ?? null,
      lat: body.latitude,
      lon: body.longitude,
      elevationM: body.elevation ?? null,
      ownerPartner: admin ? (body.partner_id ?? null) : owner,
      keyHash: await hashSecret(key),
      nowMs: ctx.now(),
    });
    ctx.log.info({ stationId, kind: station.kind, owner: station.ownerPartner, by: admin ? 'admin' : owner ? 'partner' : 'self' }, 'station registered');
    res.status(201).location(`/v1/stations/${stationId}`).json({ ...stationJson(station), key });
  });

  r.get('/v1/stations/:id', async (req, res) => {
    const station = await getStation(ctx.store, idParam(req));
    if (!station || station.registeredAtMs === null) throw new ApiError('NOT_FOUND', `No station ${station?.stationId ?? idParam(req)}.`);
    const last = await lastReading(ctx.store, station.stationId);
    res.json({ ...stationJson(station), last_reading: last && { time: new Date(last.timeMs).toISOString(), temperature_2m: last.tempC } });
  });

  r.get('/v1/stations/:id/readings', async (req, res) => {
    const nowMs = ctx.now();
    const endMs = isoParam(req, 'end', nowMs + 60_000);
    const startMs = isoParam(req, 'start', endMs - DAY_MS);
    if (startMs >= endMs) throw new ApiError('INVALID_PARAMETER', `Parameter 'start' must be before 'end'.`);
    const station = await getStation(ctx.store, idParam(req));
    if (!station || station.registeredAtMs === null) throw new ApiError('NOT_FOUND', `No station ${station?.stationId ?? idParam(req)}.`);
    const rows = await readingsOf(ctx.store, station.stationId, startMs, endMs, READINGS_PAGE_MAX + 1);
    const truncated = rows.length > READINGS_PAGE_MAX;
    const page = truncated ? rows.slice(0, READINGS_PAGE_MAX) : rows;
    res.json({
      id: station.stationId,
      start: new Date(startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      truncated,
      readings: page.map((x) => ({ time: new Date(x.timeMs).toISOString(), temperature_2m: x.tempC, relative_humidity_2m: x.humidityPct, surface_pressure: x.pressureHpa })),
    });
  });

  r.get('/v1/stations/:id/quality', async (req, res) => {
    const station = await getStation(ctx.store, idParam(req));
    if (!station || station.registeredAtMs === null) throw new ApiError('NOT_FOUND', `No station ${station?.stationId ?? idParam(req)}.`);
    const q = await stationQuality(ctx.store, { stationId: station.stationId, lat: station.lat, lon: station.lon, ...ctx.grid, sinceMs: ctx.now() - QUALITY_SPAN_MS });
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    res.json({
      id: station.stationId,
      since: iso(q.sinceMs),
      until: iso(q.untilMs),
      reasons: q.reasons,
      readings: q.readings.map((x) => ({ time: iso(x.timeMs), reason: x.reason })),
      record: q.record && { windows: q.record.windows, reliability: q.record.reliability, offset_k: q.record.offsetK, daytime_excess_k: q.record.daytimeExcessK, indoor_like: q.record.indoorLike, last_seen: iso(q.record.lastSeenMs) },
    });
  });

  /**
   * Who may edit station `id`: the admin (every field), or its owner, by the station's own key or its
   * partner's token (its name, position and elevation; a new key; unbinding its Ecowitt console).
   */
  const requireEditor = async (req: Request, id: string): Promise<'admin' | 'owner'> => {
    if (isAdmin(ctx, req)) return 'admin';
    const token = bearer(req);
    if (token === undefined) throw refuse('registration', 'unauthenticated', 401, "This call needs the station's key, its partner's token, or the admin token.");
    const principal = principalOf(token);
    if (principal !== null && principal.startsWith('pt-')) {
      const p = await ctx.auth.partner(token);
      if (!p.ok) throw refuse('registration', p.reason, p.status, p.message);
      const owned = await ctx.auth.ownedStations(p.value.partnerId, [id]);
      if (!owned.ok) throw refuse('registration', owned.reason, 403, owned.message);
    } else {
      const a = await ctx.auth.station(token, id);
      if (!a.ok) throw refuse('registration', a.reason, a.status, a.status === 401 ? `The key is not station ${id}'s.` : a.message);
    }
    return 'owner';
  };

  r.patch('/v1/stations/:id', json, async (req, res) => {
    const by = await requireEditor(req, idParam(req));
    const body = parse(stationPatch, req.body);
    const adminOnly = by === 'admin' ? [] : ADMIN_ONLY_FIELDS.filter((f) => body[f] !== undefined);
    if (adminOnly.length > 0) throw refuse('registration', 'forbidden', 403, `${adminOnly.join(', ')}: only the admin changes ${adminOnly.length > 1 ? 'these' : 'this'}.`);
    const key = body.rotate_key ? newSecret(idParam(req)) : undefined;
    const station = await updateStation(ctx.store, idParam(req), {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.external_id !== undefined ? { externalId: body.external_id } : {}),
      ...(body.latitude !== undefined ? { lat: body.latitude } : {}),
      ...(body.longitude !== undefined ? { lon: body.longitude } : {}),
      ...(body.elevation !== undefined ? { elevationM: body.elevation } : {}),
      ...(body.kind !== undefined ? { kind: body.kind } : {}),
      ...(body.partner_id !== undefined ? { ownerPartner: body.partner_id } : {}),
      ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
      ...(key !== undefined ? { keyHash: await hashSecret(key) } : {}),
      ...(body.unbind_ecowitt ? { clearEcowittPasskey: true } : {}),
    }, ctx.now());
    if (!station) throw new ApiError('NOT_FOUND', `No station ${req.params.id}.`);
    ctx.auth.forgetStation(station.stationId);
    ctx.log.info({ stationId: station.stationId, changed: Object.keys(body), by }, 'station edited');
    res.json({ ...stationJson(station), ...(key !== undefined ? { key } : {}) });
  });

  r.post('/v1/partners', json, async (req, res) => {
    requireAdmin(req);
    const body = parse(partnerBody, req.body);
    const partnerId = newPartnerId();
    const token = newSecret(partnerId);
    const p = await insertPartner(ctx.store, { partnerId, name: body.name, tokenHash: await hashSecret(token), nowMs: ctx.now() });
    ctx.log.info({ partnerId }, 'partner created');
    res.status(201).json({ id: p.partnerId, name: p.name, token });
  });

  r.patch('/v1/partners/:id', json, async (req, res) => {
    requireAdmin(req);
    const body = parse(partnerPatch, req.body);
    const id = idParam(req);
    let token: string | undefined;
    if (body.rotate_token) {
      token = newSecret(id);
      if (!(await setPartnerTokenHash(ctx.store, id, await hashSecret(token)))) throw new ApiError('NOT_FOUND', `No partner ${id}.`);
    }
    if (body.disabled !== undefined && !(await setPartnerDisabled(ctx.store, id, body.disabled, ctx.now()))) throw new ApiError('NOT_FOUND', `No partner ${id}.`);
    ctx.auth.forgetPartner(id);
    res.json({ id, ...(body.disabled !== undefined ? { disabled: body.disabled } : {}), ...(token !== undefined ? { token } : {}) });
  });

  return r;
}
