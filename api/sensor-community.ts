/**
 * Sensor.Community's airRohr sensors ("Send data to own API"): POST /data/sensor-community with HTTP
 * basic authentication, the user being the station id and the password its key (both fields of the
 * sensor's configuration page hold 64 characters; a key has 48), and the firmware's JSON body
 * (ingest/sensor-community.ts). The reading is stamped on arrival.
 *
 * Answers 202 `{"station_id", "accepted", "duplicates"}` (the firmware counts 200-208 as sent);
 * refusals carry the API's error body: 401 with `WWW-Authenticate: Basic` without credentials or
 * with wrong ones, 403 for a disabled station, 400 naming the value type at fault, 413 over 16 KiB.
 */
import express, { type Request, type Response } from 'express';
import { parseSensorCommunityUpload } from '../ingest/index.ts';
import { ApiError } from './errors.ts';
import { parseBody, problemMessage, refuse, submitValues, type SubmissionContext } from './submission.ts';

export const SENSOR_COMMUNITY_PATH = '/data/sensor-community';

/** The user and password of a basic `Authorization` header, or null. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  const m = header === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function sensorCommunityRouter(ctx: SubmissionContext): express.Router {
  const r = express.Router();
  // The firmware always sends JSON; any content type is read as JSON.
  const json = parseBody('sensor_community', express.json({ limit: '16kb', type: () => true, strict: false }));
  r.post(SENSOR_COMMUNITY_PATH, json, async (req: Request, res: Response) => {
    const credentials = basicCredentials(req.get('authorization'));
    const challenge = () => res.setHeader('WWW-Authenticate', 'Basic realm="stations", charset="UTF-8"');
    if (!credentials) {
      challenge();
      throw refuse('sensor_community', 'unauthenticated', 401, "Set the sensor's user to the station id and its password to the station key (basic authentication).");
    }
    const a = await ctx.auth.station(credentials.password, credentials.user);
    if (!a.ok) {
      if (a.status === 401) challenge();
      throw refuse('sensor_community', a.reason, a.status === 403 ? 403 : 401, `The ${a.message}.`);
    }
    const parsed = parseSensorCommunityUpload(req.body, ctx.now());
    if (!parsed.ok) throw refuse('sensor_community', parsed.problem.reason, 400, problemMessage(parsed.problem));
    const done = await submitValues(ctx, 'sensor_community', [{ station: a.value, value: parsed.value, names: parsed.names }]);
    if (!done.ok) throw new ApiError('INVALID_PARAMETER', problemMessage(done.problem)); // counted by submitValues
    res.status(202).json({ station_id: a.value.stationId, ...done.result });
  });
  return r;
}
