/**
 * Seeded, stateless randomness for the simulated city: every draw is a pure function of
 * (seed, stream, index...), so any reading at any time can be generated again identically.
 */

/** A 32-bit mixing hash of integers (a splitmix/murmur-style finaliser chain). */
export function hash32(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    // Mix the high part of numbers beyond 32 bits (e.g. slot indices of epoch ms).
    h = Math.imul(h ^ Math.floor(p / 4294967296), 0x27d4eb2f);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** Uniform in [0, 1) from the hash of `parts`. */
export function uniform(...parts: number[]): number {
  return hash32(...parts) / 4294967296;
}

/** Standard normal (Box-Muller) from two hashed uniforms. */
export function normal(...parts: number[]): number {
  const u1 = Math.max(uniform(...parts, 1), 1e-12);
  const u2 = uniform(...parts, 2);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
