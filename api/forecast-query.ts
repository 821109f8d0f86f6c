/**
 * The parameters of GET /v1/forecast, as Open-Meteo's forecast API takes them, validated by one zod
 * schema that is also the source of the OpenAPI document. Error messages follow Open-Meteo's.
 */
import { z } from 'zod';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../infra/time.ts';

/** Most points one request may ask for (Open-Meteo's limit). */
export const MAX_POINTS = 1000;
/** Most values (points × time steps × variables) one response may hold. */
export const MAX_VALUES = 2_000_000;

/** Variables this service computes. */
export const SERVED_VARIABLES = ['temperature_2m', 'temperature_2m_sigma'] as const;

/**
 * Open-Meteo variables this service knows but does not compute: asked for, they answer null
 * throughout, as Open-Meteo does for a variable its model lacks. Anything else is refused.
 */
const KNOWN_UNSERVED = [
  'relative_humidity_2m', 'dew_point_2m', 'apparent_temperature', 'pressure_msl', 'surface_pressure', 'cloud_cover',
  'cloud_cover_low', 'cloud_cover_mid', 'cloud_cover_high', 'wind_speed_10m', 'wind_speed_80m', 'wind_speed_120m',
  'wind_speed_180m', 'wind_direction_10m', 'wind_direction_80m', 'wind_direction_120m', 'wind_direction_180m',
  'wind_gusts_10m', 'shortwave_radiation', 'direct_radiation', 'direct_normal_irradiance', 'diffuse_radiation',
  'global_tilted_irradiance', 'vapour_pressure_deficit', 'cape', 'evapotranspiration', 'et0_fao_evapotranspiration',
  'precipitation', 'snowfall', 'precipitation_probability', 'rain', 'showers', 'weather_code', 'snow_depth',
  'freezing_level_height', 'visibility', 'soil_temperature_0cm', 'soil_temperature_6cm', 'soil_temperature_18cm',
  'soil_temperature_54cm', 'soil_moisture_0_to_1cm', 'soil_moisture_1_to_3cm', 'soil_moisture_3_to_9cm',
  'soil_moisture_9_to_27cm', 'soil_moisture_27_to_81cm', 'is_day', 'sunshine_duration', 'lightning_potential',
  'temperature_80m', 'temperature_120m', 'temperature_180m', 'uv_index', 'uv_index_clear_sky', 'boundary_layer_height',
];
const KNOWN_DAILY = [
  'temperature_2m_max', 'temperature_2m_min', 'temperature_2m_mean', 'apparent_temperature_max', 'apparent_temperature_min',
  'sunrise', 'sunset', 'daylight_duration', 'sunshine_duration', 'uv_index_max', 'precipitation_sum', 'rain_sum',
  'showers_sum', 'snowfall_sum', 'precipitation_hours', 'precipitation_probability_max', 'weather_code',
  'wind_speed_10m_max', 'wind_gusts_10m_max', 'wind_direction_10m_dominant', 'shortwave_radiation_sum', 'et0_fao_evapotranspiration',
];
const knownTimed = new Set<string>([...SERVED_VARIABLES, ...KNOWN_UNSERVED]);
const knownDaily = new Set<string>(KNOWN_DAILY);

export type Section = 'current' | 'minutely_5' | 'minutely_15' | 'hourly' | 'daily';

const once = (name: string) => z.string({
  error: (iss) => (iss.input === undefined ? `Parameter '${name}' is required.` : `Parameter '${name}' must be given once.`),
});
const optionalOnce = (name: string) => once(name).optional();

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function coordinates(name: 'latitude' | 'longitude', limit: number) {
  const label = name === 'latitude' ? 'Latitude' : 'Longitude';
  return once(name).max(40 * MAX_POINTS, `Parameter '${name}' is too long.`).transform((raw, ctx) => {
    const parts = raw.split(',');
    if (parts.length > MAX_POINTS) {
      ctx.addIssue({ code: 'custom', message: `Parameter '${name}' must not have more than ${MAX_POINTS} elements. Given: ${parts.length}.` });
      return z.NEVER;
    }
    const out: number[] = [];
    for (const p of parts) {
      const t = p.trim();
      const v = NUMBER.test(t) ? Number(t) : NaN;
      if (t === '' || !Number.isFinite(v)) {
        ctx.addIssue({ code: 'custom', message: `Parameter '${name}' must be a number or a comma-separated list of numbers. Given: '${p.slice(0, 40)}'.` });
        return z.NEVER;
      }
      if (v < -limit || v > limit) {
        ctx.addIssue({ code: 'custom', message: `${label} must be in range of -${limit} to ${limit}°. Given: ${v}.` });
        return z.NEVER;
      }
      out.push(v);
    }
    return out;
  });
}

function variables(key: string, known: Set<string>) {
  return optionalOnce(key).transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (names.length > 100) {
      ctx.addIssue({ code: 'custom', message: `Parameter '${key}' lists more than 100 variables.` });
      return z.NEVER;
    }
    for (const n of names) {
      if (!known.has(n)) {
        ctx.addIssue({ code: 'custom', message: `Cannot initialize ForecastVariable from invalid String value ${n.slice(0, 60)} for key ${key}` });
        return z.NEVER;
      }
    }
    return names;
  });
}

function integer(key: string, min: number, max: number, message?: string) {
  return optionalOnce(key).transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    const v = /^\d{1,7}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (!Number.isInteger(v) || v < min || v > max) {
      ctx.addIssue({ code: 'custom', message: message ?? `Parameter '${key}' must be an integer from ${min} to ${max}. Given: '${raw.slice(0, 20)}'.` });
      return z.NEVER;
    }
    return v;
  });
}

function oneOf<T extends string>(key: string, values: readonly T[], typeName: string) {
  return optionalOnce(key).transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    if (!(values as readonly string[]).includes(raw)) {
      ctx.addIssue({ code: 'custom', message: `Cannot initialize ${typeName} from invalid String value ${raw.slice(0, 40)} for key ${key}` });
      return z.NEVER;
    }
    return raw as T;
  });
}

function isoDate(key: string, pattern: RegExp, shape: string) {
  return optionalOnce(key).transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    const ms = pattern.test(raw) ? Date.parse(`${raw.length === 10 ? `${raw}T00:00` : raw}Z`) : NaN;
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: `Invalid date format for '${key}'. Expected ${shape}. Given: '${raw.slice(0, 30)}'.` });
      return z.NEVER;
    }
    return ms; // the local time read as if it were UTC; the zone's offset is applied later
  });
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

/** The query schema (every field a string on the wire). */
export const forecastQuery = z.object({
  latitude: coordinates('latitude', 90).describe('Latitude [°N], or a comma-separated list of up to 1,000'),
  longitude: coordinates('longitude', 180).describe('Longitude [°E], one per latitude'),
  elevation: optionalOnce('elevation').describe('Elevation [m] per point; returned as given (no terrain model)'),
  current: variables('current', knownTimed).describe('Variables now: temperature_2m, temperature_2m_sigma'),
  minutely_5: variables('minutely_5', knownTimed).describe('Variables in 5-minute steps over the nowcast hour (beyond Open-Meteo)'),
  minutely_15: variables('minutely_15', knownTimed).describe('Variables in 15-minute steps'),
  hourly: variables('hourly', knownTimed).describe('Variables in hourly steps'),
  daily: variables('daily', knownDaily).describe('Daily aggregates (known to Open-Meteo; answered with nulls)'),
  temperature_unit: oneOf('temperature_unit', ['celsius', 'fahrenheit'] as const, 'TemperatureUnit').describe('celsius (default) or fahrenheit'),
  wind_speed_unit: oneOf('wind_speed_unit', ['kmh', 'ms', 'mph', 'kn'] as const, 'WindspeedUnit').describe('Accepted and ignored (no wind is served)'),
  windspeed_unit: oneOf('windspeed_unit', ['kmh', 'ms', 'mph', 'kn'] as const, 'WindspeedUnit').describe('Accepted and ignored'),
  precipitation_unit: oneOf('precipitation_unit', ['mm', 'inch'] as const, 'PrecipitationUnit').describe('Accepted and ignored'),
  timeformat: oneOf('timeformat', ['iso8601', 'unixtime'] as const, 'Timeformat').describe('iso8601 (default, local time to the minute) or unixtime (seconds, UTC)'),
  timezone: optionalOnce('timezone').describe("IANA zone, 'GMT' (default) or 'auto' (the covered city's zone)"),
  cell_selection: oneOf('cell_selection', ['land', 'sea', 'nearest'] as const, 'GridSelectionMode').describe('Accepted; the point always falls in its own H3 cell'),
  past_days: integer('past_days', 0, 92, 'Past days is invalid. Allowed range 0 to 92.').describe('Days before today'),
  forecast_days: integer('forecast_days', 0, 16, 'Forecast days is invalid. Allowed range 0 to 16.').describe('Days from today (default 7)'),
  forecast_hours: integer('forecast_hours', 0, 16 * 24).describe('Hourly steps from the current hour'),
  past_hours: integer('past_hours', 0, 92 * 24).describe('Hourly steps before the current hour'),
  forecast_minutely_15: integer('forecast_minutely_15', 0, 16 * 96).describe('15-minute steps from the current one'),
  past_minutely_15: integer('past_minutely_15', 0, 92 * 96).describe('15-minute steps before the current one'),
  start_date: isoDate('start_date', DATE, 'yyyy-mm-dd').describe('First day (local)'),
  end_date: isoDate('end_date', DATE, 'yyyy-mm-dd').describe('Last day (local), with start_date'),
  start_hour: isoDate('start_hour', MINUTE, 'yyyy-mm-ddThh:mm').describe('First hour (local)'),
  end_hour: isoDate('end_hour', MINUTE, 'yyyy-mm-ddThh:mm').describe('Last hour (local), with start_hour'),
  start_minutely_15: isoDate('start_minutely_15', MINUTE, 'yyyy-mm-ddThh:mm').describe('First 15-minute step (local)'),
  end_minutely_15: isoDate('end_minutely_15', MINUTE, 'yyyy-mm-ddThh:mm').describe('Last 15-minute step (local)'),
  models: optionalOnce('models').describe('Accepted and ignored: one model serves'),
  format: oneOf('format', ['json', 'flatbuffers', 'csv'] as const, 'ForecastResultFormat').describe('json (default), flatbuffers (the Open-Meteo SDKs) or csv (laid out as Open-Meteo\'s)'),
  location_information: oneOf('location_information', ['section', 'omit'] as const, 'OutputLocationInformation').describe('csv: the location block first (section, default) or not (omit)'),
  apikey: optionalOnce('apikey').describe('Key for a rate-limit budget of its own (else the address)'),
});

export type ForecastQuery = z.output<typeof forecastQuery>;

/** A half-open time axis [startMs, endMs) with a fixed step. */
export interface Axis {
  startMs: number;
  endMs: number;
  stepMs: number;
}

export function axisLength(a: Axis): number {
  return Math.max(0, Math.ceil((a.endMs - a.startMs) / a.stepMs));
}

/**
 * One stepped axis (hourly, 15-minute): explicit start and end (local), or steps from the current
 * step, or the days' range. Returns the axis, or the message when the parameters disagree.
 */
function steppedAxis(stepMs: number, forecast: number | undefined, past: number | undefined, start: number | undefined, end: number | undefined, names: readonly [string, string], days: Axis, nowMs: number, off: number): { axis: Axis; error?: string } {
  let error: string | undefined;
  if ((start === undefined) !== (end === undefined)) {
    error = `Parameter '${names[0]}' and '${names[1]}' must both be set.`;
  } else if (start !== undefined && end !== undefined) {
    if (end < start) error = `Parameter '${names[1]}' must not be before '${names[0]}'.`;
    return { axis: { startMs: Math.floor((start - off) / stepMs) * stepMs, endMs: end - off + stepMs, stepMs }, error };
  }
  if (forecast !== undefined || past !== undefined) {
    const ref = Math.floor((nowMs + off) / stepMs) * stepMs - off;
    return { axis: { startMs: ref - (past ?? 0) * stepMs, endMs: forecast !== undefined ? ref + forecast * stepMs : days.endMs, stepMs }, error };
  }
  return { axis: { startMs: days.startMs, endMs: days.endMs, stepMs }, error };
}

const HOUR_NAMES = ['start_hour', 'end_hour'] as const;
const MINUTELY_15_NAMES = ['start_minutely_15', 'end_minutely_15'] as const;

/** Open-Meteo's time ranges: days from local midnight, or steps from the current step, or explicit dates. */
export function timeAxes(q: ForecastQuery, nowMs: number, offsetS: number): { hourly: Axis; minutely15: Axis; daily: Axis; error?: string } {
  const off = offsetS * 1000;
  const dayStart = Math.floor((nowMs + off) / DAY_MS) * DAY_MS - off;
  const pastDays = q.past_days ?? 0;
  const forecastDays = q.forecast_days ?? 7;
  let error: string | undefined;
  let days: Axis = { startMs: dayStart - pastDays * DAY_MS, endMs: dayStart + forecastDays * DAY_MS, stepMs: DAY_MS };
  if ((q.start_date === undefined) !== (q.end_date === undefined)) error = "Parameter 'start_date' and 'end_date' must both be set.";
  else if (q.start_date !== undefined && q.end_date !== undefined) {
    if (q.end_date < q.start_date) error = "Parameter 'end_date' must not be before 'start_date'.";
    days = { startMs: q.start_date - off, endMs: q.end_date + DAY_MS - off, stepMs: DAY_MS };
  }
  const hourly = steppedAxis(HOUR_MS, q.forecast_hours, q.past_hours, q.start_hour, q.end_hour, HOUR_NAMES, days, nowMs, off);
  const minutely15 = steppedAxis(15 * MINUTE_MS, q.forecast_minutely_15, q.past_minutely_15, q.start_minutely_15, q.end_minutely_15, MINUTELY_15_NAMES, days, nowMs, off);
  error ??= hourly.error ?? minutely15.error;
  return { hourly: hourly.axis, minutely15: minutely15.axis, daily: days, ...(error ? { error } : {}) };
}

const partials = new Map<string, z.ZodType<Partial<ForecastQuery>>>();
const shapeKeys = new Set(Object.keys(forecastQuery.shape));

/**
 * Validates a query with the schema restricted to the parameters present (plus the required
 * coordinates): the same rules and messages, without walking thirty absent optional fields.
 */
export function parseForecastQuery(query: Record<string, unknown>): ReturnType<typeof forecastQuery.safeParse> {
  const present = Object.keys(query).filter((k) => shapeKeys.has(k)).sort();
  const sig = present.join('&');
  let schema = partials.get(sig);
  if (!schema) {
    const mask: Record<string, true> = { latitude: true, longitude: true };
    for (const k of present) mask[k] = true;
    schema = forecastQuery.pick(mask as never) as unknown as z.ZodType<Partial<ForecastQuery>>;
    if (partials.size < 256) partials.set(sig, schema);
  }
  return schema.safeParse(query) as ReturnType<typeof forecastQuery.safeParse>;
}
