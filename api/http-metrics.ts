/**
 * Prometheus metrics (prom-client, default registry): request latency per route, and collectors
 * that the composition root fills from the ledger and the snapshot at scrape time.
 */
import type { NextFunction, Request, Response } from 'express';
import client from 'prom-client';

let defaults = false;

/** Node's process metrics, once per process. */
export function collectProcessMetrics(): void {
  if (defaults) return;
  defaults = true;
  client.collectDefaultMetrics();
}

function metric<T>(name: string, make: () => T): T {
  return (client.register.getSingleMetric(name) as T | undefined) ?? make();
}

export const httpDuration = metric('http_request_duration_seconds', () => new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request latency by route and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
}));

/** Times each request; the label is the matched route pattern (bounded), never the raw path. */
export function requestMetrics(req: Request, res: Response, next: NextFunction): void {
  const end = httpDuration.startTimer();
  res.once('finish', () => {
    const route = req.route?.path;
    end({ method: req.method, route: typeof route === 'string' ? `${req.baseUrl}${route}` : res.statusCode === 404 ? 'unmatched' : 'other', status: String(res.statusCode) });
  });
  next();
}

export async function metricsHandler(_req: Request, res: Response): Promise<void> {
  res.type(client.register.contentType).send(await client.register.metrics());
}

export { client as prom };
