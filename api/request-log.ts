/** One structured log line per request (pino): method, path, status, duration, client. */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../infra/log.ts';
import { clientAddress } from './rate-limit.ts';

/** A path as logged: secrets carried in it (a station key at the end of an Ecowitt upload path) are masked. */
export function loggedPath(path: string): string {
  return path.replace(/^(\/data\/report\/).+$/, '$1…').slice(0, 200);
}

export function requestLog(log: Logger, trustProxyHops: number) {
  const l = log.child({ component: 'http' });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!l.isLevelEnabled('info')) return next();
    const t0 = performance.now();
    res.once('finish', () => {
      l.info({ method: req.method, path: loggedPath(req.path), status: res.statusCode, ms: Number((performance.now() - t0).toFixed(2)), ip: clientAddress(req, trustProxyHops) }, 'request');
    });
    next();
  };
}
