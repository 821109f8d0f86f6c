/**
 * Ecowitt's "customized upload" (Ecowitt protocol): a form POST every interval seconds to a host,
 * port and path the console's owner types in. Pure: form fields and the clock in, a value out.
 *
 * Fields used: PASSKEY (the console's, derived from its MAC: its owner cannot choose it),
 * dateutc (`YYYY-MM-DD HH:MM:SS` UTC, or `now`), tempf [°F], humidity [%], baromabsin [inHg,
 * station level]. Every other field (stationtype, model, freq, tempinf, humidityin, baromrelin,
 * wind, rain, solar, batteries, ...) is ignored.
 *
 * How a console is bound to a station (see the README): the station's key is the last segment of the
 * configured path (`/data/report/<key>`), which only the owner knows; the console's PASSKEY is
 * recorded on the first accepted upload, and uploads with another PASSKEY are refused from then on.
 */
import { fahrenheitToCelsius, inHgToHpa } from './units.ts';
import { parseWuDate } from './wunderground.ts';
import type { SubmittedValue, ValueProblem } from './submission.ts';

export type EcowittParsed = { ok: true; passkey: string; value: SubmittedValue } | { ok: false; problem: ValueProblem };

/** PASSKEYs are 32 hex digits (an MD5); accept any short token of safe characters. */
const PASSKEY_RE = /^[A-Za-z0-9]{8,64}$/;

function field(form: Record<string, unknown>, name: string): string | undefined {
  const v = form[name];
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : undefined;
}

function optionalNumber(s: string | undefined): number | undefined {
  if (s === undefined || s.trim() === '') return undefined;
  const x = Number(s);
  return Number.isFinite(x) ? x : NaN;
}

export function parseEcowittUpload(form: Record<string, unknown>, nowMs: number): EcowittParsed {
  const passkey = field(form, 'PASSKEY')?.trim() ?? '';
  if (!PASSKEY_RE.test(passkey)) return { ok: false, problem: { field: 'PASSKEY', reason: 'malformed', message: passkey === '' ? 'missing' : 'expected 8-64 letters or digits' } };
  const tempF = optionalNumber(field(form, 'tempf'));
  if (tempF === undefined) return { ok: false, problem: { field: 'tempf', reason: 'missing_temperature', message: 'missing: is an outdoor sensor paired with the console?' } };
  if (Number.isNaN(tempF)) return { ok: false, problem: { field: 'tempf', reason: 'malformed', message: 'not a number' } };
  const date = field(form, 'dateutc');
  const timeMs = date === undefined ? NaN : parseWuDate(date, nowMs);
  if (Number.isNaN(timeMs)) return { ok: false, problem: { field: 'dateutc', reason: 'malformed', message: date === undefined ? 'missing' : `not YYYY-MM-DD HH:MM:SS or now: ${JSON.stringify(date)}` } };
  const humidity = optionalNumber(field(form, 'humidity'));
  if (Number.isNaN(humidity)) return { ok: false, problem: { field: 'humidity', reason: 'malformed', message: 'not a number' } };
  const baromIn = optionalNumber(field(form, 'baromabsin'));
  if (Number.isNaN(baromIn)) return { ok: false, problem: { field: 'baromabsin', reason: 'malformed', message: 'not a number' } };
  return { ok: true, passkey, value: { timeMs, tempC: fahrenheitToCelsius(tempF), humidityPct: humidity ?? null, pressureHpa: baromIn === undefined ? null : inHgToHpa(baromIn) } };
}
