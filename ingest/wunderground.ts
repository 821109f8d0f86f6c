/**
 * The Weather Underground PWS upload protocol (`/weatherstation/updateweatherstation.php`), parsed
 * into a submitted value. Pure: parameters and the clock in, a value or a problem out.
 *
 * Parameters used: ID, PASSWORD, dateutc (`YYYY-MM-DD HH:MM:SS` UTC, or `now`), tempf [°F],
 * humidity [%], baromin [inHg]. Every other parameter (dewptf, action, softwaretype, realtime,
 * rtfreq, wind, rain, ...) is ignored, as WU's own clients expect. A value of -9999 means "no
 * reading" in this protocol (many consoles send it for a missing sensor).
 */
import { fahrenheitToCelsius, inHgToHpa } from './units.ts';
import type { SubmittedValue, ValueProblem } from './submission.ts';

/** The answers WU gives, which station software recognises. */
export const WU_SUCCESS = 'success';
export const WU_BAD_CREDENTIALS = 'INVALIDPASSWORDID|Password or key and/or id are incorrect';

export type WuParsed =
  | { ok: true; stationId: string; password: string; value: SubmittedValue }
  | { ok: false; status: 400 | 401; problem: ValueProblem };

const MISSING = -9999;

/** `YYYY-MM-DD HH:MM:SS` (also with `+` or `T` between date and time, or URL-encoded) as UTC, or `now`. */
export function parseWuDate(s: string, nowMs: number): number {
  const t = s.trim();
  if (t.toLowerCase() === 'now') return nowMs;
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ +T]|%20)(\d{1,2})(?::|%3A)(\d{1,2})(?::|%3A)(\d{1,2})$/i.exec(t);
  if (!m) return NaN;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return NaN;
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  return new Date(ms).getUTCDate() === d ? ms : NaN; // 2026-02-30 is not a date
}

function one(params: Record<string, unknown>, name: string): string | undefined {
  const v = params[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** An optional number: undefined when absent, empty or -9999; NaN when not a number. */
function optionalNumber(s: string | undefined): number | undefined {
  if (s === undefined || s.trim() === '') return undefined;
  const x = Number(s);
  if (x === MISSING) return undefined;
  return Number.isFinite(x) ? x : NaN;
}

export function parseWundergroundUpload(params: Record<string, unknown>, nowMs: number): WuParsed {
  const stationId = one(params, 'ID')?.trim() ?? '';
  const password = one(params, 'PASSWORD') ?? '';
  if (stationId === '' || password === '') {
    return { ok: false, status: 401, problem: { field: stationId === '' ? 'ID' : 'PASSWORD', reason: 'unauthenticated', message: 'missing' } };
  }
  const tempF = optionalNumber(one(params, 'tempf'));
  if (tempF === undefined) return { ok: false, status: 400, problem: { field: 'tempf', reason: 'missing_temperature', message: 'missing: this service stores air temperature, so tempf is required' } };
  if (Number.isNaN(tempF)) return { ok: false, status: 400, problem: { field: 'tempf', reason: 'malformed', message: `not a number: ${JSON.stringify(one(params, 'tempf'))}` } };
  const date = one(params, 'dateutc');
  const timeMs = date === undefined ? NaN : parseWuDate(date, nowMs);
  if (Number.isNaN(timeMs)) return { ok: false, status: 400, problem: { field: 'dateutc', reason: 'malformed', message: date === undefined ? 'missing (YYYY-MM-DD HH:MM:SS in UTC, or now)' : `not YYYY-MM-DD HH:MM:SS or now: ${JSON.stringify(date)}` } };
  const humidity = optionalNumber(one(params, 'humidity'));
  if (Number.isNaN(humidity)) return { ok: false, status: 400, problem: { field: 'humidity', reason: 'malformed', message: 'not a number' } };
  const baromIn = optionalNumber(one(params, 'baromin'));
  if (Number.isNaN(baromIn)) return { ok: false, status: 400, problem: { field: 'baromin', reason: 'malformed', message: 'not a number' } };
  return {
    ok: true,
    stationId,
    password,
    value: { timeMs, tempC: fahrenheitToCelsius(tempF), humidityPct: humidity ?? null, pressureHpa: baromIn === undefined ? null : inHgToHpa(baromIn) },
  };
}
