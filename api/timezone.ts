/**
 * Time zones for the forecast's time axes, as Open-Meteo applies them: one UTC offset per response
 * (the zone's offset at the request's time), local times written without a zone suffix.
 */
import { ApiError } from './errors.ts';

export interface Zone {
  /** The IANA name as given (or resolved from `auto`), `GMT` by default. */
  name: string;
  offsetS: number;
  abbreviation: string;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat | null>();

function formatOf(name: string): Intl.DateTimeFormat | null {
  let f = zoneFormats.get(name);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' });
    } catch {
      f = null;
    }
    if (zoneFormats.size < 1000) zoneFormats.set(name, f);
  }
  return f;
}

/** Resolves a `timezone` parameter; `auto` is the covered city's zone. Throws INVALID_PARAMETER. */
export function resolveZone(param: string | undefined, autoZone: string, atMs: number): Zone {
  const raw = param === undefined || param === '' ? 'GMT' : param;
  const name = raw.toLowerCase() === 'auto' ? autoZone : raw;
  if (name === 'GMT' || name === 'UTC') return { name, offsetS: 0, abbreviation: name };
  const f = name.length <= 64 ? formatOf(name) : null;
  if (!f) throw new ApiError('INVALID_PARAMETER', `Invalid timezone '${raw.slice(0, 64)}'. Use an IANA name such as 'Europe/Berlin', 'GMT' or 'auto'.`);
  const parts = f.formatToParts(new Date(atMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const localMs = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  const offsetS = Math.round((localMs - Math.floor(atMs / 1000) * 1000) / 1000);
  const abbreviation = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  return { name, offsetS, abbreviation };
}

/** Open-Meteo's ISO 8601 local time to the minute, without a zone suffix. */
export function isoMinute(ms: number, offsetS: number): string {
  return new Date(ms + offsetS * 1000).toISOString().slice(0, 16);
}
