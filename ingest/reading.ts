/**
 * Readings on the bus (topic readings.v1): JSON, Celsius, UTC epoch milliseconds. A message holds
 * one reading (a JSON object) or several (a JSON array of such objects, at most
 * MAX_READINGS_PER_MESSAGE from this system's producers, all of one partition key): every message
 * costs the producer, the broker and the consumer the same work whatever it carries, so bulk sources
 * send their readings together. Decoding is pure and total: it returns readings or reasons, never throws.
 *
 * The zod schema is the definition. The hot path checks a message with `readingOf`, the same rules
 * written out for this one shape (zod's generic machinery cost as much as parsing the JSON); only a
 * message it refuses goes through zod, for zod's reasons. reading.test.ts holds the two to the same
 * verdict and the same value on valid, edge and mutated messages.
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

/** The most readings this system's producers put in one message (~200 bytes each as JSON). */
export const MAX_READINGS_PER_MESSAGE = 500;

/** Several readings as one message: one reading as an object, more as an array. */
export function encodeReadings(rs: readonly Reading[]): Uint8Array {
  if (rs.length === 0) throw new RangeError('encodeReadings: no readings');
  return encoder.encode(JSON.stringify(rs.length === 1 ? rs[0] : rs));
}

const SENSOR_ID = /^[A-Za-z0-9._:-]{1,64}$/;

const inRange = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
/** undefined (absent) → null; else the number when within [min, max]; else false. */
function optionalInRange(v: unknown, min: number, max: number): number | null | false {
  if (v === undefined || v === null) return null;
  return inRange(v, min, max) ? v : false;
}

/** The reading when `raw` satisfies readingSchema (its output, unknown keys dropped), else null. */
export function readingOf(raw: unknown): Reading | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const o = raw as Record<string, unknown>;
  const { sensorId, timeMs, kind, lat, lon, tempC } = o;
  if (typeof sensorId !== 'string' || !SENSOR_ID.test(sensorId)) return null;
  if (typeof timeMs !== 'number' || !Number.isSafeInteger(timeMs) || timeMs <= 0) return null;
  if (kind !== 'amateur' && kind !== 'official') return null;
  if (!inRange(lat, -90, 90) || !inRange(lon, -180, 180) || !inRange(tempC, TEMP_MIN_C, TEMP_MAX_C)) return null;
  const elevationM = optionalInRange(o.elevationM, -500, 9000);
  const humidityPct = optionalInRange(o.humidityPct, 0, 100);
  const pressureHpa = optionalInRange(o.pressureHpa, 300, 1100);
  if (elevationM === false || humidityPct === false || pressureHpa === false) return null;
  return { sensorId, timeMs, kind, lat, lon, elevationM, tempC, humidityPct, pressureHpa };
}

/** A parsed value checked as one reading (zod's reasons for a refusal). */
function checkReading(raw: unknown, nowMs: number): Decoded<Reading> {
  const future = (r: Reading) => (r.timeMs > nowMs + MAX_FUTURE_MS ? `timeMs: ${new Date(r.timeMs).toISOString()} is in the future` : null);
  const r = readingOf(raw);
  if (r === null) return validated(raw, readingSchema, future);
  const why = future(r);
  return why === null ? { ok: true, value: r } : { ok: false, reason: why };
}

function parseMessage(bytes: Uint8Array): { ok: true; raw: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, raw: JSON.parse(utf8.decode(bytes)) };
  } catch (err) {
    return { ok: false, reason: `not UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Parses and validates a message of one reading; `nowMs` bounds how far in the future a time may be. */
export function decodeReading(bytes: Uint8Array, nowMs: number): Decoded<Reading> {
  const p = parseMessage(bytes);
  return p.ok ? checkReading(p.raw, nowMs) : p;
}

/** What one message holds: its valid readings, and what was refused with the reason. */
export interface DecodedReadings {
  readings: Reading[];
  /**
   * `index` null: the whole message (not JSON, neither a valid reading nor a non-empty array);
   * else the refused element of the array (`value`: that element as parsed).
   */
  refused: { index: number | null; reason: string; value?: unknown }[];
}

/**
 * Parses and validates a message of one reading or an array of them; a bad element is refused by
 * itself (its reason prefixed with its index: `[3].tempC: …`), the others are kept.
 */
export function decodeReadings(bytes: Uint8Array, nowMs: number): DecodedReadings {
  const p = parseMessage(bytes);
  if (!p.ok) return { readings: [], refused: [{ index: null, reason: p.reason }] };
  if (!Array.isArray(p.raw)) {
    const d = checkReading(p.raw, nowMs);
    return d.ok ? { readings: [d.value], refused: [] } : { readings: [], refused: [{ index: null, reason: d.reason }] };
  }
  if (p.raw.length === 0) return { readings: [], refused: [{ index: null, reason: '(root): an empty array holds no reading' }] };
  const out: DecodedReadings = { readings: [], refused: [] };
  for (let i = 0; i < p.raw.length; i++) {
    const el: unknown = p.raw[i];
    const d = checkReading(el, nowMs);
    if (d.ok) out.readings.push(d.value);
    else out.refused.push({ index: i, reason: d.reason.startsWith('(root): ') ? `[${i}]: ${d.reason.slice(8)}` : `[${i}].${d.reason}`, value: el });
  }
  return out;
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
  return validated(raw, schema, extra);
}

function validated<T>(raw: unknown, schema: z.ZodType<T>, extra: (v: T) => string | null): Decoded<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  }
  const why = extra(parsed.data);
  return why === null ? { ok: true, value: parsed.data } : { ok: false, reason: why };
}
