/**
 * Rate limits per key (an `apikey` parameter or `X-API-Key` header) or else per client address:
 * a token bucket of `perMinute` requests refilled continuously, with a burst of the same size.
 * Memory is bounded: at most `maxClients` buckets; full buckets are dropped first.
 */
import type { IncomingMessage } from 'node:http';

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

export type RateDecision = { ok: true; limit: number; remaining: number } | { ok: false; limit: number; retryAfterS: number; per: 'key' | 'address' };

/** The client address: the socket's, or with `hops` trusted proxies the one they forwarded. */
export function clientAddress(req: IncomingMessage, hops: number): string {
  const socket = req.socket.remoteAddress ?? 'unknown';
  if (hops <= 0) return socket;
  const xff = req.headers['x-forwarded-for'];
  const chain = [...(typeof xff === 'string' ? xff.split(',').map((s) => s.trim()).filter(Boolean) : []), socket];
  return chain[Math.max(0, chain.length - 1 - hops)]!;
}

/** The client a request counts against: its key if it gives one, else its address. */
export function clientKey(req: IncomingMessage, apikey: unknown, hops: number): string {
  const header = req.headers['x-api-key'];
  const key = typeof header === 'string' && header !== '' ? header : typeof apikey === 'string' && apikey !== '' ? apikey : undefined;
  return key ? `key:${key.slice(0, 128)}` : `ip:${clientAddress(req, hops)}`;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(o: RateLimitOptions) {
    this.#capacity = o.perMinute;
    this.#perMs = o.perMinute / 60_000;
    this.#max = o.maxClients ?? 100_000;
    this.#now = o.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.#capacity > 0;
  }

  /** Spends one token of `client`'s bucket, or says how long until one is there. */
  take(client: string): RateDecision {
    const capacity = this.#capacity;
    const t = this.#now();
    let b = this.#buckets.get(client);
    if (!b) {
      if (this.#buckets.size >= this.#max) this.#sweep(t);
      b = { tokens: capacity, atMs: t };
      this.#buckets.set(client, b);
    } else {
      b.tokens = Math.min(capacity, b.tokens + (t - b.atMs) * this.#perMs);
      b.atMs = t;
    }
    if (b.tokens < 1) {
      return { ok: false, limit: capacity, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / this.#perMs / 1000)), per: client.startsWith('key:') ? 'key' : 'address' };
    }
    b.tokens -= 1;
    return { ok: true, limit: capacity, remaining: Math.floor(b.tokens) };
  }

  #sweep(t: number): void {
    for (const [k, b] of this.#buckets) if (b.tokens + (t - b.atMs) * this.#perMs >= this.#capacity) this.#buckets.delete(k);
    for (const k of this.#buckets.keys()) {
      if (this.#buckets.size < this.#max) break;
      this.#buckets.delete(k);
    }
  }
}
