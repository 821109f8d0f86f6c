/**
 * format=flatbuffers: the forecast encoded with the schema the Open-Meteo SDKs read (npm
 * `@openmeteo/sdk`'s WeatherApiResponse), one size-prefixed message per point, concatenated.
 * The builder follows that schema's field slots by hand with the `flatbuffers` Builder; the SDK's
 * own readers decode it in the tests.
 *
 * Only what was asked for is encoded, in the order asked: `temperature_2m` as Variable.temperature
 * at altitude 2 m, `temperature_2m_sigma` as the same with Aggregation.spread. Variables the SDK
 * has no code for, and `minutely_5` (not in the schema), are left out.
 */
import { Builder } from 'flatbuffers';
import type { ForecastQuery } from './forecast-query.ts';
import type { ForecastAnswer, SectionValues } from './forecast.ts';

// Enum values of @openmeteo/sdk (variable.ts, unit.ts, aggregation.ts).
export const VARIABLE_TEMPERATURE = 47;
export const UNIT_CELSIUS = 1;
export const UNIT_FAHRENHEIT = 9;
export const AGGREGATION_SPREAD = 11;

// Field slots (vtable index) of the schema's tables.
const VWV = { variable: 0, unit: 1, value: 2, values: 3, altitude: 5, aggregation: 6, count: 13 } as const;
const VWT = { time: 0, timeEnd: 1, interval: 2, variables: 3, count: 4 } as const;
const WAR = { latitude: 0, longitude: 1, elevation: 2, generationTime: 3, locationId: 4, model: 5, utcOffset: 6, timezone: 7, timezoneAbbreviation: 8, current: 9, daily: 10, hourly: 11, minutely15: 12, count: 15 } as const;

function variable(b: Builder, name: string, unit: number, scalar: number | null, values: (number | null)[] | null): number | null {
  if (name !== 'temperature_2m' && name !== 'temperature_2m_sigma') return null;
  let vec = 0;
  if (values) {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i] ?? NaN);
    vec = b.endVector();
  }
  b.startObject(VWV.count);
  b.addFieldInt8(VWV.variable, VARIABLE_TEMPERATURE, 0);
  b.addFieldInt8(VWV.unit, unit, 0);
  if (!values) b.addFieldFloat32(VWV.value, scalar ?? NaN, 0);
  if (values) b.addFieldOffset(VWV.values, vec, 0);
  b.addFieldInt16(VWV.altitude, 2, 0);
  if (name === 'temperature_2m_sigma') b.addFieldInt8(VWV.aggregation, AGGREGATION_SPREAD, 0);
  return b.endObject();
}

function timed(b: Builder, startMs: number, endMs: number, intervalS: number, vars: number[]): number {
  b.startVector(4, vars.length, 4);
  for (let i = vars.length - 1; i >= 0; i--) b.addOffset(vars[i]!);
  const varsVec = b.endVector();
  b.startObject(VWT.count);
  b.addFieldInt64(VWT.time, BigInt(Math.floor(startMs / 1000)), BigInt(0));
  b.addFieldInt64(VWT.timeEnd, BigInt(Math.floor(endMs / 1000)), BigInt(0));
  b.addFieldInt32(VWT.interval, intervalS, 0);
  b.addFieldOffset(VWT.variables, varsVec, 0);
  return b.endObject();
}

function section(b: Builder, s: SectionValues | undefined, unit: number): number {
  if (!s) return 0;
  const vars = s.variables.map((v) => variable(b, v.name, unit, null, v.values)).filter((o): o is number => o !== null);
  const start = s.timesMs[0] ?? 0;
  return timed(b, start, start + s.timesMs.length * s.intervalS * 1000, s.intervalS, vars);
}

export function encodeForecastFlatbuffers(a: ForecastAnswer, _q: ForecastQuery, generationMs: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const unit = a.fahrenheit ? UNIT_FAHRENHEIT : UNIT_CELSIUS;
  a.points.forEach((pf, locationId) => {
    const b = new Builder(1024);
    const tz = b.createString(a.zone.name);
    const abbr = b.createString(a.zone.abbreviation);
    let current = 0;
    if (pf.current) {
      const c = pf.current;
      const vars = c.variables.map((v) => variable(b, v.name, unit, v.value, null)).filter((o): o is number => o !== null);
      current = timed(b, c.timeMs, c.timeMs + c.intervalS * 1000, c.intervalS, vars);
    }
    const hourly = section(b, pf.hourly, unit);
    const minutely15 = section(b, pf.minutely_15, unit);
    const daily = section(b, pf.daily, unit);
    b.startObject(WAR.count);
    b.addFieldFloat32(WAR.latitude, pf.latitude, 0);
    b.addFieldFloat32(WAR.longitude, pf.longitude, 0);
    b.addFieldFloat32(WAR.elevation, pf.elevation ?? NaN, 0);
    b.addFieldFloat32(WAR.generationTime, generationMs, 0);
    b.addFieldInt64(WAR.locationId, BigInt(locationId), BigInt(0));
    b.addFieldInt32(WAR.utcOffset, a.zone.offsetS, 0);
    b.addFieldOffset(WAR.timezone, tz, 0);
    b.addFieldOffset(WAR.timezoneAbbreviation, abbr, 0);
    if (current) b.addFieldOffset(WAR.current, current, 0);
    if (daily) b.addFieldOffset(WAR.daily, daily, 0);
    if (hourly) b.addFieldOffset(WAR.hourly, hourly, 0);
    if (minutely15) b.addFieldOffset(WAR.minutely15, minutely15, 0);
    b.finishSizePrefixed(b.endObject());
    parts.push(b.asUint8Array());
  });
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
