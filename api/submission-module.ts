/**
 * The submission routes as an API module: `ingestApiModule(ctx)` takes the API's context (the store
 * and bus ports, the logger, the configuration, the clock) and returns the router and the OpenAPI
 * docs of its routes (RouteDoc: method, path, zod schemas of parameters, bodies and responses).
 */
import type { Router } from 'express';
import { z } from 'zod';
import type { Bus } from '../infra/bus/index.ts';
import type { Config } from '../infra/config.ts';
import type { Logger } from '../infra/log.ts';
import type { Store } from '../infra/store/index.ts';
import { topicNames, ARROW_STREAM_TYPE } from '../ingest/index.ts';
import { submissionRoutes } from './submission.ts';
import { registration, stationPatch, partnerBody, partnerPatch } from './stations.ts';
import { jsonSubmission } from './readings-upload.ts';
import type { RouteDoc } from './openapi.ts';

type Schema = z.ZodType;

/** The submission routes' OpenAPI descriptions (the API builds /openapi.json from them). */
export type SubmissionRouteDoc = RouteDoc;

const error = z.object({ error: z.literal(true), code: z.string(), reason: z.string() });
const json = (s: Schema) => ({ 'application/json': s });
const text = { 'text/plain': z.string() };
const station = z.object({
  id: z.string(), name: z.string().nullable(), kind: z.enum(['official', 'amateur']), latitude: z.number(), longitude: z.number(),
  elevation: z.number().nullable(), external_id: z.string().nullable(), registered: z.string().nullable(), disabled: z.boolean(),
});
const idParams = z.object({ id: z.string().describe('station id, e.g. st-k3v9q2m7xw4a') });
const bearer = z.object({ authorization: z.string().describe('Bearer <station key | partner token | ADMIN_TOKEN>').optional() });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { description: ({ 400: 'malformed body or impossible value (the field and the reason)', 401: 'no key or a wrong one', 403: 'not your station, disabled, or admin only', 404: 'no such station', 413: 'over the limit', 415: 'unsupported Content-Type', 429: 'too many registrations (Retry-After)', 503: 'BUS_UNAVAILABLE: the bus failed the send or did not acknowledge it in time; nothing was accepted (Retry-After)' } as Record<number, string>)[c]!, content: json(error) }]));
const wuQuery = z.object({
  ID: z.string().describe('station id'), PASSWORD: z.string().describe('station key'),
  dateutc: z.string().describe('YYYY-MM-DD HH:MM:SS (UTC) or now'), tempf: z.string().describe('air temperature [°F]'),
  humidity: z.string().optional().describe('[%]'), baromin: z.string().optional().describe('[inHg]'),
  dewptf: z.string().optional(), action: z.string().optional(), softwaretype: z.string().optional(), realtime: z.string().optional(), rtfreq: z.string().optional(),
});
const ecowittForm = z.object({
  PASSKEY: z.string(), stationtype: z.string().optional(), dateutc: z.string(), tempf: z.string().describe('outdoor air temperature [°F]'),
  humidity: z.string().optional(), baromabsin: z.string().optional().describe('station pressure [inHg]'),
});
const sensorCommunityBody = z.object({
  esp8266id: z.string().optional().describe('the sensor\'s chip id'),
  software_version: z.string().optional(),
  sensordatavalues: z.array(z.object({ value_type: z.string().describe('e.g. BME280_temperature [°C], BME280_humidity [%], BME280_pressure [Pa]'), value: z.string().describe('a decimal number') })),
});

export const submissionDocs: SubmissionRouteDoc[] = [
  { method: 'post', path: '/v1/stations', summary: 'Register a station (its key is shown once)', tags: ['stations'], headers: bearer, auth: { schemes: ['admin', 'partner'], optional: true }, body: { content: json(registration) }, responses: { '201': { description: 'registered', content: json(station.extend({ key: z.string() })) }, ...errors(400, 401, 403, 429) } },
  { method: 'get', path: '/v1/stations/{id}', summary: 'A station and its last reading', tags: ['stations'], params: idParams, responses: { '200': { description: 'the station', content: json(station.extend({ last_reading: z.object({ time: z.string(), temperature_2m: z.number() }).nullable() })) }, ...errors(404) } },
  { method: 'get', path: '/v1/stations/{id}/readings', summary: "A station's readings in [start, end)", tags: ['stations'], params: idParams, query: z.object({ start: z.string().optional().describe('ISO 8601, default end - 24 h'), end: z.string().optional().describe('ISO 8601, default now') }), responses: { '200': { description: 'readings, oldest first (at most 10,000)', content: json(z.object({ id: z.string(), start: z.string(), end: z.string(), truncated: z.boolean(), readings: z.array(z.object({ time: z.string(), temperature_2m: z.number(), relative_humidity_2m: z.number().nullable(), surface_pressure: z.number().nullable() })) })) }, ...errors(400, 404) } },
  { method: 'get', path: '/v1/stations/{id}/quality', summary: "What the batch's quality control made of a station in the last hour: each reading's reason, and its record", tags: ['stations'], params: idParams, responses: { '200': { description: 'reasons: ok, or the first check that rejected the reading', content: json(z.object({ id: z.string(), since: z.string(), until: z.string().nullable(), reasons: z.record(z.string(), z.number()), readings: z.array(z.object({ time: z.string(), reason: z.string() })), record: z.object({ windows: z.number(), reliability: z.number(), offset_k: z.number().nullable(), daytime_excess_k: z.number().nullable(), indoor_like: z.boolean(), last_seen: z.string().nullable() }).nullable() })) }, ...errors(404) } },
  { method: 'patch', path: '/v1/stations/{id}', summary: "Edit a station: its owner (the station's key, or its partner's token) its name, position, elevation, a new key, its Ecowitt console; the admin also kind, external id, partner, disabled", tags: ['stations'], params: idParams, headers: bearer, auth: { schemes: ['admin', 'station', 'partner'] }, body: { content: json(stationPatch) }, responses: { '200': { description: 'the station (with the new key when rotated)', content: json(station.extend({ key: z.string().optional() })) }, ...errors(400, 401, 403, 404) } },
  { method: 'post', path: '/v1/partners', summary: 'Admin: a partner fleet and its token (shown once)', tags: ['stations'], headers: bearer, auth: { schemes: ['admin'] }, body: { content: json(partnerBody) }, responses: { '201': { description: 'created', content: json(z.object({ id: z.string(), name: z.string(), token: z.string() })) }, ...errors(400, 403) } },
  { method: 'patch', path: '/v1/partners/{id}', summary: 'Admin: disable a partner or rotate its token', tags: ['stations'], params: z.object({ id: z.string() }), headers: bearer, auth: { schemes: ['admin'] }, body: { content: json(partnerPatch) }, responses: { '200': { description: 'changed', content: json(z.object({ id: z.string(), disabled: z.boolean().optional(), token: z.string().optional() })) }, ...errors(400, 403, 404) } },
  { method: 'post', path: '/v1/readings', summary: 'Submit readings: one station as JSON (station key) or many as an Arrow stream (partner token)', description: `Arrow IPC stream (${ARROW_STREAM_TYPE}) columns: station_id (Utf8), time (Timestamp UTC, Int64 epoch ms or ISO 8601), temperature_2m (°C), optional relative_humidity_2m (%), surface_pressure (hPa).`, tags: ['submission'], headers: bearer, auth: { schemes: ['station', 'partner'] }, body: { content: { 'application/json': jsonSubmission, [ARROW_STREAM_TYPE]: undefined } }, responses: { '202': { description: 'accepted (on the bus)', content: json(z.object({ station_id: z.string().optional(), accepted: z.number(), duplicates: z.number() })) }, ...errors(400, 401, 403, 413, 415, 503) } },
  { method: 'get', path: '/weatherstation/updateweatherstation.php', summary: 'Weather Underground PWS upload protocol', description: 'Unknown fields are ignored; -9999 means missing.', tags: ['submission'], query: wuQuery, auth: { schemes: ['stationPassword'] }, responses: { '200': { description: 'success', content: text }, '400': { description: 'a missing temperature or a malformed field', content: text }, '401': { description: 'wrong ID or PASSWORD', content: text }, ...errors(503) } },
  { method: 'post', path: '/weatherstation/updateweatherstation.php', summary: 'Weather Underground PWS upload protocol (form POST)', tags: ['submission'], auth: { schemes: ['stationPassword'] }, body: { content: { 'application/x-www-form-urlencoded': wuQuery } }, responses: { '200': { description: 'success', content: text }, '400': { description: 'a missing temperature or a malformed field', content: text }, '401': { description: 'wrong ID or PASSWORD', content: text }, ...errors(503) } },
  { method: 'post', path: '/data/sensor-community', summary: "Sensor.Community airRohr firmware's \"Send data to own API\" (stamped on arrival)", description: 'One temperature is taken, from the first of SHT3X, BME280, HTU21D, DHT22 (temperature), DS18B20, BMP280, BMP, SCD30 present; other value types are ignored.', tags: ['submission'], auth: { schemes: ['stationBasic'] }, body: { content: json(sensorCommunityBody) }, responses: { '202': { description: 'accepted (on the bus)', content: json(z.object({ station_id: z.string(), accepted: z.number(), duplicates: z.number() })) }, ...errors(400, 401, 403, 413, 503) } },
  { method: 'post', path: '/data/report/{key}', summary: 'Ecowitt customized upload; the station key is the last path segment', tags: ['submission'], params: z.object({ key: z.string().describe('the station key') }), body: { content: { 'application/x-www-form-urlencoded': ecowittForm } }, responses: { '200': { description: 'OK', content: text }, '400': { description: 'a missing temperature or a malformed field', content: text }, '401': { description: 'no key or a wrong one', content: text }, '403': { description: 'another console (PASSKEY) is bound to the station, or it is disabled', content: text }, ...errors(503) } },
];

/** The API module: the routes with the deployment's topics, grid and submission settings. */
export function ingestApiModule(ctx: { store: Store; bus: Pick<Bus, 'publish'>; log: Logger; config: Config; now: () => number }): { router: Router; docs: SubmissionRouteDoc[] } {
  const c = ctx.config;
  return {
    router: submissionRoutes({
      store: ctx.store,
      bus: ctx.bus,
      readingsTopic: topicNames(c.bus.topicPrefix).readings,
      partitionResolution: c.grid.partitionResolution,
      log: ctx.log,
      adminToken: c.submission.adminToken,
      limits: c.submission,
      now: ctx.now,
      grid: { resolution: c.grid.resolution, shardResolution: c.batch.shardResolution },
    }),
    docs: submissionDocs,
  };
}
