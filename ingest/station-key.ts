/**
 * Secrets that authenticate a writer: a station's key and a partner's token.
 *
 * - Format `<principal id>.<secret>`: the id says whose hash to compare with (hashes are salted, so
 *   a secret alone could not be looked up); the secret is 24 random bytes, base64url (192 bits).
 * - Stored only as scrypt (N=2^15, r=8, p=1: ~32 MiB and ~0.1 s per hash on a 2-core machine),
 *   salted, as `scrypt$N$r$p$salt$hash` so the cost can be raised later without breaking old hashes.
 * - Compared in constant time (crypto.timingSafeEqual over equal-length digests).
 * - A verified secret is remembered for a short time as an HMAC under a per-process random key
 *   (VerifiedSecrets), so a station uploading every few seconds costs one scrypt per TTL, not per
 *   upload; still compared in constant time.
 */
import { createHash, createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const SCRYPT_N = 2 ** 15;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const SECRET_BYTES = 24;
/** Principal ids: what registered stations and partners are called (no '.', which separates the secret). */
export const PRINCIPAL_ID_RE = /^[A-Za-z0-9_:-]{1,64}$/;

function scrypt(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  // Node's default maxmem (32 MiB) is just below what N=2^15, r=8 needs (128 * N * r bytes).
  const options: ScryptOptions = { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(secret, salt, HASH_BYTES, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** A new secret for `principalId`: the whole string is shown to its owner once. */
export function newSecret(principalId: string): string {
  if (!PRINCIPAL_ID_RE.test(principalId)) throw new RangeError(`principal id "${principalId}" must be 1-64 of A-Z a-z 0-9 _ : -`);
  return `${principalId}.${randomBytes(SECRET_BYTES).toString('base64url')}`;
}

/** The principal id a secret names, or null when it is not of the form `<id>.<secret>`. */
export function principalOf(secret: string): string | null {
  const dot = secret.indexOf('.');
  if (dot < 1) return null;
  const id = secret.slice(0, dot);
  return PRINCIPAL_ID_RE.test(id) && secret.length - dot - 1 >= 16 ? id : null;
}

export interface HashCost {
  n: number;
  r: number;
  p: number;
}

export const DEFAULT_HASH_COST: HashCost = { n: SCRYPT_N, r: SCRYPT_R, p: SCRYPT_P };

/** `scrypt$N$r$p$salt$hash` (salt and hash base64url). */
export async function hashSecret(secret: string, cost: HashCost = DEFAULT_HASH_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await scrypt(secret, salt, cost.n, cost.r, cost.p);
  return `scrypt$${cost.n}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Whether `secret` matches a stored hash (constant-time comparison); false for a malformed hash. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((x) => Number.isInteger(x) && x > 0) || n > 2 ** 20) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (expected.length !== HASH_BYTES) return false;
  const actual = await scrypt(secret, salt, n, r, p);
  return timingSafeEqual(actual, expected);
}

/** Constant-time equality of two strings of any length (compares their SHA-256 digests). */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/**
 * Secrets verified recently, per principal, as HMACs under a key that never leaves the process.
 * Bounded: the oldest entries go first when full. Forget a principal when its secret changes or it
 * is disabled; other processes forget it within `ttlMs`.
 */
export class VerifiedSecrets {
  readonly #key = randomBytes(32);
  readonly #entries = new Map<string, { mac: Buffer; hash: string; expiresMs: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  #mac(secret: string): Buffer {
    return createHmac('sha256', this.#key).update(secret, 'utf8').digest();
  }

  /** True when `secret` was verified against this very `storedHash` less than ttlMs ago. */
  has(principalId: string, secret: string, storedHash: string, nowMs: number): boolean {
    const e = this.#entries.get(principalId);
    if (!e) return false;
    if (e.expiresMs <= nowMs || e.hash !== storedHash) {
      this.#entries.delete(principalId);
      return false;
    }
    return timingSafeEqual(e.mac, this.#mac(secret));
  }

  remember(principalId: string, secret: string, storedHash: string, nowMs: number): void {
    this.#entries.delete(principalId);
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(principalId, { mac: this.#mac(secret), hash: storedHash, expiresMs: nowMs + this.ttlMs });
  }

  forget(principalId: string): void {
    this.#entries.delete(principalId);
  }
}
