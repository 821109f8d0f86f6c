/**
 * Who is writing: a station by its key, a partner by its token (see station-key.ts for the format).
 *
 * An unknown id and a wrong secret give the same answer (401), so nobody learns which ids exist from
 * it. A disabled station or partner is 403. Registry rows are re-read after `ttlMs` (default 10 s),
 * so edits made by another process (a rotated key, a disabled station) take effect within it; edits
 * made through this process at once (`forget*`). A verified secret is remembered for an hour against
 * the stored hash it matched: a station uploading every few seconds costs one scrypt an hour and one
 * registry read per `ttlMs`, and a rotated key (a new hash) is verified afresh.
 */
import type { Queryable } from '../infra/store/index.ts';
import { partnerCredentials, stationCredentials, stationsByIds, type PartnerCredentials, type StationCredentials, type StationRecord } from '../infra/store/index.ts';
import { principalOf, verifySecret, VerifiedSecrets } from './station-key.ts';
import type { RefusalReason } from './refusals.ts';

export interface AuthFailure {
  ok: false;
  status: 401 | 403;
  reason: RefusalReason;
  message: string;
}

export type Authenticated<T> = { ok: true; value: T } | AuthFailure;

const DEFAULT_TTL_MS = 10_000;
/** How long a verified secret is remembered (against the hash it matched) [ms]. */
const VERIFIED_TTL_MS = 3_600_000;
const MAX_CACHED = 100_000;

class TtlCache<V> {
  readonly #m = new Map<string, { v: V; expiresMs: number }>();
  constructor(private readonly ttlMs: number) {}
  get(k: string, nowMs: number): V | undefined {
    const e = this.#m.get(k);
    if (!e) return undefined;
    if (e.expiresMs <= nowMs) {
      this.#m.delete(k);
      return undefined;
    }
    return e.v;
  }
  set(k: string, v: V, nowMs: number): void {
    if (this.#m.size >= MAX_CACHED) {
      const oldest = this.#m.keys().next().value;
      if (oldest !== undefined) this.#m.delete(oldest);
    }
    this.#m.set(k, { v, expiresMs: nowMs + this.ttlMs });
  }
  delete(k: string): void {
    this.#m.delete(k);
  }
}

const wrong = (message: string): AuthFailure => ({ ok: false, status: 401, reason: 'wrong_key', message });

export class Authenticator {
  readonly #stations: TtlCache<StationCredentials | null>;
  readonly #partners: TtlCache<PartnerCredentials | null>;
  readonly #verified: VerifiedSecrets;
  readonly #now: () => number;

  constructor(
    private readonly store: Queryable,
    options: { ttlMs?: number; now?: () => number } = {},
  ) {
    const ttl = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#stations = new TtlCache(ttl);
    this.#partners = new TtlCache(ttl);
    this.#verified = new VerifiedSecrets(VERIFIED_TTL_MS);
    this.#now = options.now ?? Date.now;
  }

  async #stationRecord(id: string): Promise<StationCredentials | null> {
    const now = this.#now();
    const cached = this.#stations.get(id, now);
    if (cached !== undefined) return cached;
    const rec = await stationCredentials(this.store, id);
    this.#stations.set(id, rec, now);
    return rec;
  }

  async #partnerRecord(id: string): Promise<PartnerCredentials | null> {
    const now = this.#now();
    const cached = this.#partners.get(id, now);
    if (cached !== undefined) return cached;
    const rec = await partnerCredentials(this.store, id);
    this.#partners.set(id, rec, now);
    return rec;
  }

  async #matches(kind: string, id: string, secret: string, hash: string): Promise<boolean> {
    const now = this.#now();
    const key = `${kind}:${id}`;
    if (this.#verified.has(key, secret, hash, now)) return true;
    if (!(await verifySecret(secret, hash))) return false;
    this.#verified.remember(key, secret, hash, now);
    return true;
  }

  /** A station by its key alone (the key names its station); `claimedId`, when given, must be that station. */
  async station(secret: string | undefined, claimedId?: string): Promise<Authenticated<StationCredentials>> {
    if (!secret) return { ok: false, status: 401, reason: 'unauthenticated', message: 'a station key is required' };
    const id = principalOf(secret);
    if (id === null || (claimedId !== undefined && claimedId !== id)) return wrong('the station id or key is incorrect');
    const rec = await this.#stationRecord(id);
    if (!rec || !rec.keyHash || !(await this.#matches('station', id, secret, rec.keyHash))) return wrong('the station id or key is incorrect');
    if (rec.disabledAtMs !== null) return { ok: false, status: 403, reason: 'station_disabled', message: `station ${id} is disabled` };
    return { ok: true, value: rec };
  }

  async partner(token: string | undefined): Promise<Authenticated<PartnerCredentials>> {
    if (!token) return { ok: false, status: 401, reason: 'unauthenticated', message: 'a partner token is required' };
    const id = principalOf(token);
    if (id === null) return wrong('the partner token is incorrect');
    const rec = await this.#partnerRecord(id);
    if (!rec || !(await this.#matches('partner', id, token, rec.tokenHash))) return wrong('the partner token is incorrect');
    if (rec.disabledAtMs !== null) return { ok: false, status: 403, reason: 'forbidden', message: `partner ${id} is disabled` };
    return { ok: true, value: rec };
  }

  /** The stations `ids` if every one is registered, enabled and owned by `partnerId`; else 403 naming one. */
  async ownedStations(partnerId: string, ids: readonly string[]): Promise<Authenticated<Map<string, StationRecord>>> {
    const now = this.#now();
    const out = new Map<string, StationRecord>();
    const missing: string[] = [];
    for (const id of ids) {
      const c = this.#stations.get(id, now);
      if (c) out.set(id, c);
      else missing.push(id);
    }
    if (missing.length > 0) for (const rec of await stationsByIds(this.store, missing)) out.set(rec.stationId, rec);
    for (const id of ids) {
      const rec = out.get(id);
      if (!rec || rec.ownerPartner !== partnerId) return { ok: false, status: 403, reason: 'not_owner', message: `station ${id} is not one of partner ${partnerId}'s stations` };
      if (rec.disabledAtMs !== null) return { ok: false, status: 403, reason: 'station_disabled', message: `station ${id} is disabled` };
    }
    return { ok: true, value: out };
  }

  forgetStation(id: string): void {
    this.#stations.delete(id);
    this.#verified.forget(`station:${id}`);
  }

  forgetPartner(id: string): void {
    this.#partners.delete(id);
    this.#verified.forget(`partner:${id}`);
  }
}
