/** CORS (any origin may read the API) and security headers on every response. */
import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/** Headers every response carries (the fast path and Express alike). */
export function commonHeaders(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'SAMEORIGIN');
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', 'ETag, Retry-After, RateLimit-Limit, RateLimit-Remaining');
}

export function headers(req: Request, res: Response, next: NextFunction): void {
  commonHeaders(res);
  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', req.get('access-control-request-headers')?.slice(0, 500) ?? 'Content-Type, X-API-Key');
    res.setHeader('Access-Control-Max-Age', '86400');
    res.status(204).end();
    return;
  }
  next();
}

/**
 * The map page's policy: its own scripts only, MapLibre's blob worker, no framing by others; images
 * and fetches from this server, and from the basemap's origin when one is configured.
 */
export function pageCsp(basemapOrigin: string | null): string {
  const extra = basemapOrigin ? ` ${basemapOrigin}` : '';
  return `default-src 'self'; img-src 'self' data: blob:${extra}; worker-src 'self' blob:; child-src blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'${extra}; frame-ancestors 'self'; base-uri 'none'; form-action 'none'`;
}
