/**
 * POST /v1/readings: readings submitted in bulk.
 *
 * - `Content-Type: application/json`, `Authorization: Bearer <station key>`: one station's readings,
 *   `{"station_id"?: "...", "readings": [{"time": ISO 8601, "temperature_2m": °C,
 *   "relative_humidity_2m"?: %, "surface_pressure"?: hPa}, ...]}` (at most jsonMaxReadings). The key
 *   names its station; a `station_id` naming another is 403. With a partner token instead, station_id
 *   is required and must be one of the partner's stations.
 * - `Content-Type: application/vnd.apache.arrow.stream`, `Authorization: Bearer <partner token>`: an
 *   Arrow IPC stream of many stations' readings (columns in ingest/arrow-readings.ts), every station
 *   one of the partner's.
 *
 * Either the whole submission is accepted (202, once the bus has it) or none of it: the first problem
 * refuses it, naming the field (`readings[3].time: ...`).
 */
import express from 'express';
import { z } from 'zod';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ARROW_STREAM_TYPE, parseArrowReadings, principalOf, type StationPosition } from '../ingest/index.ts';
import { bearer, parseBody, problemMessage, refuse, submitValues, type SubmissionContext } from './submission.ts';
import { zodMessage } from './stations.ts';
import { ApiError } from './errors.ts';

const isoTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/, 'expected ISO 8601 with a zone, e.g. 2026-01-05T10:00:00Z');
export const jsonReading = z.object({
  time: isoTime,
  temperature_2m: z.number(),
  relative_humidity_2m: z.number().nullable().optional(),
  surface_pressure: z.number().nullable().optional(),
});
const stationId = z.string().regex(/^[A-Za-z0-9_:-]{1,64}$/, 'a station id (1-64 of A-Z a-z 0-9 _ : -)');
const jsonBody = z.object({
  station_id: stationId.optional(),
  readings: z.array(z.unknown()).min(1, 'at least one reading'),
});
/** The JSON body as documented (each reading validated one by one, so errors name its index). */
export const jsonSubmission = z.object({ station_id: stationId.optional(), readings: z.array(jsonReading).min(1) });

/** The Arrow columns a problem at row i names. */
const arrowFieldNames = (i: number) => ({ time: `time[${i}]`, temp: `temperature_2m[${i}]`, humidity: `relative_humidity_2m[${i}]`, pressure: `surface_pressure[${i}]` });

export function readingsUploadRouter(ctx: SubmissionContext): express.Router {
  const r = express.Router();
  const json = parseBody('json', express.json({ limit: '1mb' }));
  const arrow = parseBody('arrow', express.raw({ type: ARROW_STREAM_TYPE, limit: ctx.limits.arrowMaxBytes }));

  r.post('/v1/readings', (req, res, next) => {
    const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === ARROW_STREAM_TYPE) return arrow(req, res, next);
    if (type === 'application/json') return json(req, res, next);
    next(refuse(type === ARROW_STREAM_TYPE ? 'arrow' : 'json', 'unsupported_media_type', 415, `Content-Type must be application/json or ${ARROW_STREAM_TYPE}${type ? `, not ${type}` : ''}.`));
  }, async (req, res) => {
    if (Buffer.isBuffer(req.body)) {
      // ---- Arrow bulk, partner token
      const p = await ctx.auth.partner(bearer(req));
      if (!p.ok) throw refuse('arrow', p.reason, p.status, p.message);
      const parsed = await parseArrowReadings(req.body, ctx.limits.arrowMaxRows, () => nextTurn());
      if (!parsed.ok) throw refuse('arrow', parsed.problem.reason, parsed.tooLarge ? 413 : 400, problemMessage(parsed.problem));
      const ids = new Set<string>();
      for (const x of parsed.rows) ids.add(x.stationId);
      const owned = await ctx.auth.ownedStations(p.value.partnerId, [...ids]);
      if (!owned.ok) throw refuse('arrow', owned.reason, owned.status, owned.message);
      const items = parsed.rows.map((x) => ({ station: owned.value.get(x.stationId)! as StationPosition, value: x.value }));
      const done = await submitValues(ctx, 'arrow', items, arrowFieldNames);
      if (!done.ok) throw new ApiError('INVALID_PARAMETER', problemMessage(done.problem)); // counted by submitValues
      res.status(202).json(done.result);
      return;
    }
    // ---- JSON, station key (or partner token naming one of its stations)
    const token = bearer(req);
    const body = req.body as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw refuse('json', 'malformed', 400, 'The body must be a JSON object {"readings": [...]}.');
    const head = jsonBody.safeParse(body);
    if (!head.success) throw refuse('json', 'malformed', 400, zodMessage(head.error));
    const claimed = head.data.station_id;
    let station: StationPosition;
    if (token !== undefined && principalOf(token)?.startsWith('pt-')) {
      const p = await ctx.auth.partner(token);
      if (!p.ok) throw refuse('json', p.reason, p.status, p.message);
      if (claimed === undefined) throw refuse('json', 'malformed', 400, 'station_id: required with a partner token.');
      const owned = await ctx.auth.ownedStations(p.value.partnerId, [claimed]);
      if (!owned.ok) throw refuse('json', owned.reason, owned.status, owned.message);
      station = owned.value.get(claimed)!;
    } else {
      const a = await ctx.auth.station(token);
      if (!a.ok) throw refuse('json', a.reason, a.status, a.message);
      if (claimed !== undefined && claimed !== a.value.stationId) throw refuse('json', 'not_owner', 403, `station_id: this key writes for station ${a.value.stationId}, not ${claimed}.`);
      station = a.value;
    }
    const raw = head.data.readings;
    if (raw.length > ctx.limits.jsonMaxReadings) throw refuse('json', 'too_large', 413, `readings: ${raw.length} readings, more than the limit of ${ctx.limits.jsonMaxReadings} per submission.`);
    const items = [];
    for (let i = 0; i < raw.length; i++) {
      const one = jsonReading.safeParse(raw[i]);
      if (!one.success) {
        const issue = one.error.issues[0]!;
        throw refuse('json', 'malformed', 400, `readings[${i}].${issue.path.join('.') || '(reading)'}: ${issue.message}`);
      }
      const x = one.data;
      items.push({
        station,
        value: { timeMs: Date.parse(x.time), tempC: x.temperature_2m, humidityPct: x.relative_humidity_2m ?? null, pressureHpa: x.surface_pressure ?? null },
        names: { time: `readings[${i}].time`, temp: `readings[${i}].temperature_2m`, humidity: `readings[${i}].relative_humidity_2m`, pressure: `readings[${i}].surface_pressure` },
      });
    }
    const done = await submitValues(ctx, 'json', items);
    if (!done.ok) throw new ApiError('INVALID_PARAMETER', problemMessage(done.problem)); // counted by submitValues
    res.status(202).json({ station_id: station.stationId, ...done.result });
  });
  return r;
}
