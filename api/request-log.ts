/** One structured log line per request (pino): method, path, status, duration, client. */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../infra/log.ts';
import { clientAddress } from './rate-limit.ts';

export function requestLog(log: Logger, trustProxyHops: number) {
  const l = log.child({ component: 'http' });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!l.isLevelEnabled('info')) return next();
    const t0 = performance.now();
    res.once('finish', () => {
      l.info({ method: req.method, path: req.path.slice(0, 200), status: res.statusCode, ms: Number((performance.now() - t0).toFixed(2)), ip: clientAddress(req, trustProxyHops) }, 'request');
    });
    next();
  };
}
