/**
 * Rate limits per key (an `apikey` parameter or `X-API-Key` header) or else per client address:
 * a token bucket of `perMinute` requests refilled continuously, with a burst of the same size.
 * Memory is bounded: at most `maxClients` buckets; full buckets are dropped first.
 */
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from './errors.ts';

export interface RateLimitOptions {
  /** Requests per minute per client; 0 turns the limit off. */
  perMinute: number;
  maxClients?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

/** The client a request counts against: its key if it gives one, else its address. */
export function clientKey(req: Request): string {
  const key = req.get('x-api-key') ?? (typeof req.query.apikey === 'string' ? req.query.apikey : undefined);
  return key ? `key:${key.slice(0, 128)}` : `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
}

export function rateLimit(o: RateLimitOptions) {
  const now = o.now ?? Date.now;
  const max = o.maxClients ?? 100_000;
  const capacity = o.perMinute;
  const perMs = o.perMinute / 60_000;
  const buckets = new Map<string, Bucket>();
  const sweep = (t: number) => {
    for (const [k, b] of buckets) if (b.tokens + (t - b.atMs) * perMs >= capacity) buckets.delete(k);
    // Still full of clients that are all spending: drop the oldest.
    for (const k of buckets.keys()) {
      if (buckets.size < max) break;
      buckets.delete(k);
    }
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    if (capacity <= 0) return next();
    const t = now();
    const k = clientKey(req);
    let b = buckets.get(k);
    if (!b) {
      if (buckets.size >= max) sweep(t);
      b = { tokens: capacity, atMs: t };
      buckets.set(k, b);
    } else {
      b.tokens = Math.min(capacity, b.tokens + (t - b.atMs) * perMs);
      b.atMs = t;
    }
    res.setHeader('RateLimit-Limit', String(capacity));
    if (b.tokens < 1) {
      const retryAfterS = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
      res.setHeader('RateLimit-Remaining', '0');
      return next(new ApiError('RATE_LIMITED', `Too many requests: at most ${capacity} per minute per ${k.startsWith('key:') ? 'key' : 'address'}. Retry in ${retryAfterS} s.`, { retryAfterS }));
    }
    b.tokens -= 1;
    res.setHeader('RateLimit-Remaining', String(Math.floor(b.tokens)));
    next();
  };
}
