/**
 * The Weather Underground PWS upload protocol, so station software that lets its user set the server
 * (weewx, Cumulus, many consoles) submits unchanged: GET (or POST, form-encoded) on
 * /weatherstation/updateweatherstation.php with ID (our station id), PASSWORD (its key), dateutc,
 * tempf and optional fields (ingest/wunderground.ts). Answers as WU does: 200 text/plain `success`;
 * 401 text/plain on a wrong ID or PASSWORD; 400 text/plain with the reason otherwise.
 */
import express, { type Request, type Response } from 'express';
import { countRefusal, parseWundergroundUpload, WU_BAD_CREDENTIALS, WU_SUCCESS, type RefusalReason } from '../ingest/index.ts';
import { problemMessage, submitValues, type SubmissionContext } from './submission.ts';

export const WU_PATH = '/weatherstation/updateweatherstation.php';

/**
 * A plain-text answer written straight to the response (one write of headers and body): Express's
 * `send` (ETag, freshness, content-type lookup) cost more than the rest of an upload's answer.
 */
function plain(res: Response, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function wundergroundRouter(ctx: SubmissionContext): express.Router {
  const r = express.Router();
  const refuse = (res: Response, reason: RefusalReason, status: number, body: string) => {
    countRefusal('wunderground', reason);
    plain(res, status, body);
  };

  const handle = async (req: Request, res: Response) => {
    const params: Record<string, unknown> = { ...(req.query as Record<string, unknown>), ...(req.method === 'POST' && req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {}) };
    const parsed = parseWundergroundUpload(params, ctx.now());
    if (!parsed.ok) {
      if (parsed.status === 401) return refuse(res, parsed.problem.reason, 401, WU_BAD_CREDENTIALS);
      return refuse(res, parsed.problem.reason, 400, problemMessage(parsed.problem));
    }
    const a = await ctx.auth.station(parsed.password, parsed.stationId);
    if (!a.ok) return refuse(res, a.reason, a.status, a.status === 401 ? WU_BAD_CREDENTIALS : a.message);
    const done = await submitValues(ctx, 'wunderground', [{ station: a.value, value: parsed.value, names: { time: 'dateutc', temp: 'tempf', humidity: 'humidity', pressure: 'baromin' } }]);
    if (!done.ok) return plain(res, 400, problemMessage(done.problem)); // counted by submitValues
    plain(res, 200, WU_SUCCESS);
  };

  const form = express.urlencoded({ extended: false, limit: '16kb' });
  r.get(WU_PATH, handle);
  r.post(WU_PATH, (req, res, next) => form(req, res, (err?: unknown) => (err ? refuse(res, 'malformed', 400, 'The form could not be parsed.') : next())), handle);
  return r;
}
