/**
 * A reading on the bus (topic readings.v1): JSON, Celsius, UTC epoch milliseconds.
 * Decoding is pure and total: it returns the reading or a reason, never throws.
 */
import { z } from 'zod';

/** Physically plausible bounds for a 2 m air temperature on Earth [°C] (records: -89.2, +56.7). */
export const TEMP_MIN_C = -90;
export const TEMP_MAX_C = 60;
/** How far in the future a reading's time may lie before it is refused (clock skew) [ms]. */
export const MAX_FUTURE_MS = 5 * 60_000;

const sensorId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'sensorId: 1-64 characters of A-Z a-z 0-9 . _ : -');

export const readingSchema = z.object({
  sensorId,
  /** Observation time [epoch ms, UTC]. */
  timeMs: z.number().int().positive(),
  kind: z.enum(['official', 'amateur']),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  elevationM: z.number().min(-500).max(9000).nullable().default(null),
  tempC: z.number().min(TEMP_MIN_C).max(TEMP_MAX_C),
  humidityPct: z.number().min(0).max(100).nullable().default(null),
  pressureHpa: z.number().min(300).max(1100).nullable().default(null),
});

export type Reading = z.infer<typeof readingSchema>;

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

export function encodeReading(r: Reading): Uint8Array {
  return encoder.encode(JSON.stringify(r));
}

/** Parses and validates one message; `nowMs` bounds how far in the future a time may be. */
export function decodeReading(bytes: Uint8Array, nowMs: number): Decoded<Reading> {
  return decodeJson(bytes, readingSchema, (r) => (r.timeMs > nowMs + MAX_FUTURE_MS ? `timeMs: ${new Date(r.timeMs).toISOString()} is in the future` : null));
}

/** One background forecast value on the background's own grid (topic background.v1). */
/** Printable text: no control characters (PostgreSQL's text cannot even hold U+0000). */
const label = z.string().min(1).max(64).regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters');

export const backgroundSchema = z.object({
  source: label,
  pointId: label,
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  validTimeMs: z.number().int().positive(),
  issuedAtMs: z.number().int().positive(),
  tempC: z.number().min(TEMP_MIN_C).max(TEMP_MAX_C),
});

export type BackgroundValue = z.infer<typeof backgroundSchema>;

export function encodeBackground(b: BackgroundValue): Uint8Array {
  return encoder.encode(JSON.stringify(b));
}

export function decodeBackground(bytes: Uint8Array): Decoded<BackgroundValue> {
  return decodeJson(bytes, backgroundSchema, () => null);
}

function decodeJson<T>(bytes: Uint8Array, schema: z.ZodType<T>, extra: (v: T) => string | null): Decoded<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    return { ok: false, reason: `not UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  }
  const why = extra(parsed.data);
  return why === null ? { ok: true, value: parsed.data } : { ok: false, reason: why };
}
