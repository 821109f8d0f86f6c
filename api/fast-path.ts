/**
 * The hot routes (GET /v1/forecast and the tiles) served straight from Node's request listener,
 * with the same answers, headers, rate limits, metrics, logs and error bodies as through Express,
 * without Express's per-request machinery (which costs more than the answer itself). Anything
 * else, and any method but GET, goes to the Express app.
 */
import { loggedPath } from './request-log.ts';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import querystring from 'node:querystring';
import type { Logger } from '../infra/log.ts';
import { ApiError, errorAnswer, toApiError } from './errors.ts';
import { forecastAnswer, type ForecastDeps } from './forecast.ts';
import { tileAnswer, type TileDeps } from './tiles.ts';
import { writeAnswer, type HttpAnswer } from './http-answer.ts';
import { commonHeaders } from './http-headers.ts';
import { httpDuration } from './http-metrics.ts';
import { clientKey, type RateLimiter } from './rate-limit.ts';

const TILE = /^\/tiles\/([^/]+)\/([^/]+)\/([^/]+)$/;

export interface FastPathDeps {
  forecast: ForecastDeps;
  tiles: TileDeps;
  limiter: RateLimiter;
  trustProxyHops: number;
  log: Logger;
}

export function fastPath(deps: FastPathDeps, fallback: RequestListener): RequestListener {
  const log = deps.log.child({ component: 'http' });
  return (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    if (req.method !== 'GET') return fallback(req, res);
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const tile = path === '/v1/forecast' ? null : TILE.exec(path);
    if (path !== '/v1/forecast' && !tile) return fallback(req, res);
    const route = tile ? '/tiles/:z/:x/:file' : '/v1/forecast';
    const t0 = performance.now();
    const end = httpDuration.startTimer();
    let answer: HttpAnswer;
    try {
      commonHeaders(res);
      const query = querystring.parse(qi < 0 ? '' : url.slice(qi + 1));
      if (deps.limiter.enabled) {
        const d = deps.limiter.take(clientKey(req, query.apikey, deps.trustProxyHops));
        res.setHeader('RateLimit-Limit', String(d.limit));
        if (!d.ok) {
          res.setHeader('RateLimit-Remaining', '0');
          throw new ApiError('RATE_LIMITED', `Too many requests: at most ${d.limit} per minute per ${d.per}. Retry in ${d.retryAfterS} s.`, { retryAfterS: d.retryAfterS });
        }
        res.setHeader('RateLimit-Remaining', String(d.remaining));
      }
      if (tile) {
        let params: { z: string; x: string; file: string };
        try {
          params = { z: decodeURIComponent(tile[1]!), x: decodeURIComponent(tile[2]!), file: decodeURIComponent(tile[3]!) };
        } catch {
          throw new ApiError('INVALID_PARAMETER', 'A tile is /tiles/{z}/{x}/{y}.png with non-negative integers.');
        }
        const inm = req.headers['if-none-match'];
        answer = tileAnswer(params, { lead: query.lead, layer: query.layer }, typeof inm === 'string' ? inm : undefined, deps.tiles);
      } else {
        answer = forecastAnswer(query, deps.forecast);
      }
    } catch (err) {
      const e = toApiError(err);
      if (e.code === 'INTERNAL') log.error({ err, path }, 'unhandled error');
      answer = errorAnswer(e);
    }
    res.once('finish', () => {
      end({ method: 'GET', route, status: String(res.statusCode) });
      if (log.isLevelEnabled('info')) log.info({ method: 'GET', path: loggedPath(path), status: res.statusCode, ms: Number((performance.now() - t0).toFixed(2)), ip: clientKey(req, undefined, deps.trustProxyHops).slice(3) }, 'request');
    });
    writeAnswer(res, answer, req.headers['accept-encoding'] as string | undefined);
  };
}
