/**
 * Ecowitt's "customized upload" (protocol: Ecowitt): the console POSTs a form every interval to the
 * host, port and path its owner typed in. The path carries the station's key — `/data/report/<key>`
 * — so a console configured with nothing but host, port, path and interval writes as exactly one
 * station, and nobody without the key can. The console's PASSKEY (fixed by its MAC) is bound to the
 * station on the first accepted upload; an upload with another PASSKEY is refused (403) until the
 * owner (with the station's key) or the admin unbinds it (PATCH /v1/stations/{id} {"unbind_ecowitt": true}),
 * e.g. after replacing the console.
 *
 * Answers 200 text/plain `OK`; refusals are plain text with the reason (401, 403, 400).
 */
import express, { type Request, type Response } from 'express';
import { bindEcowittPasskey } from '../infra/store/index.ts';
import { countRefusal, parseEcowittUpload, secretsEqual, type RefusalReason } from '../ingest/index.ts';
import { problemMessage, submitValues, type SubmissionContext } from './submission.ts';

export const ECOWITT_PATH = '/data/report';

export function ecowittRouter(ctx: SubmissionContext): express.Router {
  const r = express.Router();
  const refuse = (res: Response, reason: RefusalReason, status: number, body: string) => {
    countRefusal('ecowitt', reason);
    res.status(status).type('text/plain').send(body);
  };
  const form = express.urlencoded({ extended: false, limit: '32kb' });

  const handle = async (req: Request, res: Response) => {
    const raw = req.params.key;
    const key = Array.isArray(raw) ? raw.join('/') : raw;
    if (!key) return refuse(res, 'unauthenticated', 401, 'Put the station key in the path: /data/report/<station key>.');
    const a = await ctx.auth.station(key);
    if (!a.ok) return refuse(res, a.reason, a.status, a.message);
    const parsed = parseEcowittUpload((req.body ?? {}) as Record<string, unknown>, ctx.now());
    if (!parsed.ok) return refuse(res, parsed.problem.reason, 400, problemMessage(parsed.problem));
    const bound = a.value.ecowittPasskey ?? (await bindEcowittPasskey(ctx.store, a.value.stationId, parsed.passkey));
    if (bound === null || !secretsEqual(bound, parsed.passkey)) {
      return refuse(res, 'passkey_mismatch', 403, `Station ${a.value.stationId} is bound to another console (PASSKEY); its owner or the admin can unbind it.`);
    }
    if (a.value.ecowittPasskey === null) {
      ctx.auth.forgetStation(a.value.stationId); // re-read with the bound PASSKEY next time
      ctx.log.info({ stationId: a.value.stationId }, 'ecowitt console bound to station');
    }
    const done = await submitValues(ctx, 'ecowitt', [{ station: a.value, value: parsed.value, names: { time: 'dateutc', temp: 'tempf', humidity: 'humidity', pressure: 'baromabsin' } }]);
    if (!done.ok) return res.status(400).type('text/plain').send(problemMessage(done.problem));
    res.status(200).type('text/plain').send('OK');
  };

  const parseForm = (req: Request, res: Response, next: () => void) => form(req, res, (err?: unknown) => (err ? refuse(res, 'malformed', 400, 'The form could not be parsed.') : next()));
  r.post(`${ECOWITT_PATH}/:key`, parseForm, handle);
  r.post(ECOWITT_PATH, parseForm, handle);
  r.post(`${ECOWITT_PATH}/`, parseForm, handle);
  return r;
}
