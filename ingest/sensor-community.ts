/**
 * Sensor.Community's airRohr firmware, "Send data to own API": every measuring interval (145 s by
 * default) the sensor POSTs its values as JSON to the host, port and path its owner typed in, with
 * HTTP basic authentication from the user and password fields. Pure: the body and the clock in, a
 * value out.
 *
 * The body: `{"esp8266id": "<chip id>", "software_version": "...", "sensordatavalues": [{"value_type":
 * "BME280_temperature", "value": "5.20"}, ...]}`, values as decimal strings, every attached sensor's
 * values together (particulate matter, noise, GPS, Wi-Fi signal...; those are ignored). It carries no
 * time: a reading is stamped when it arrives.
 *
 * One temperature is taken, from the first sensor present in TEMPERATURE_SENSORS (the better and the
 * more often outdoors first: SHT3x, BME280, HTU21D, DHT22, DS18B20, BMP280, BMP180, SCD30 last, an
 * indoor CO2 sensor); humidity from the same sensor where it has one, else the first present;
 * station-level pressure from a Bosch sensor, in Pa.
 */
import type { SubmittedValue, ValueProblem } from './submission.ts';

/** The value, and the value types it was read from (to name the field of a later problem). */
export type SensorCommunityParsed =
  | { ok: true; value: SubmittedValue; names: { time: string; temp: string; humidity: string; pressure: string } }
  | { ok: false; problem: ValueProblem };

/** Sensors with a temperature, in the order one is chosen: value-type prefix ('' is the DHT22's). */
export const TEMPERATURE_SENSORS: readonly string[] = ['SHT3X', 'BME280', 'HTU21D', '', 'DS18B20', 'BMP280', 'BMP', 'SCD30'];
const HUMIDITY_SENSORS: readonly string[] = ['SHT3X', 'BME280', 'HTU21D', '', 'SCD30'];
const PRESSURE_SENSORS: readonly string[] = ['BME280', 'BMP280', 'BMP'];

const valueType = (sensor: string, quantity: string) => (sensor === '' ? quantity : `${sensor}_${quantity}`);

export function parseSensorCommunityUpload(body: unknown, nowMs: number): SensorCommunityParsed {
  const malformed = (field: string, message: string): SensorCommunityParsed => ({ ok: false, problem: { field, reason: 'malformed', message } });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return malformed('body', 'expected a JSON object with sensordatavalues');
  const b = body as Record<string, unknown>;
  const list = b.sensordatavalues;
  if (!Array.isArray(list)) return malformed('sensordatavalues', list === undefined ? 'missing' : 'expected an array');
  const values = new Map<string, unknown>();
  for (let i = 0; i < list.length; i++) {
    const e = list[i] as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.value_type !== 'string') return malformed(`sensordatavalues[${i}]`, 'expected {"value_type": "...", "value": "..."}');
    if (!values.has(e.value_type)) values.set(e.value_type, e.value);
  }
  // A value: a decimal string (as the firmware sends) or a number. undefined: absent.
  const read = (type: string): number | undefined => {
    if (!values.has(type)) return undefined;
    const v = values.get(type);
    const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    return Number.isFinite(x) ? x : NaN;
  };
  const first = (sensors: readonly string[], quantity: string): { type: string; x: number } | undefined => {
    for (const s of sensors) {
      const type = valueType(s, quantity);
      const x = read(type);
      if (x !== undefined) return { type, x };
    }
    return undefined;
  };
  const temp = first(TEMPERATURE_SENSORS, 'temperature');
  if (!temp) {
    return { ok: false, problem: { field: 'sensordatavalues', reason: 'missing_temperature', message: `no temperature among the value types (${[...values.keys()].join(', ') || 'none'}): is a temperature sensor (${TEMPERATURE_SENSORS.map((s) => valueType(s, 'temperature')).join(', ')}) attached?` } };
  }
  if (Number.isNaN(temp.x)) return malformed(temp.type, 'not a number');
  const sensor = temp.type.slice(0, -'temperature'.length).replace(/_$/, '');
  const humidity = HUMIDITY_SENSORS.includes(sensor) && values.has(valueType(sensor, 'humidity')) ? { type: valueType(sensor, 'humidity'), x: read(valueType(sensor, 'humidity'))! } : first(HUMIDITY_SENSORS, 'humidity');
  if (humidity && Number.isNaN(humidity.x)) return malformed(humidity.type, 'not a number');
  const pressure = first(PRESSURE_SENSORS, 'pressure');
  if (pressure && Number.isNaN(pressure.x)) return malformed(pressure.type, 'not a number');
  return {
    ok: true,
    value: { timeMs: nowMs, tempC: temp.x, humidityPct: humidity?.x ?? null, pressureHpa: pressure ? pressure.x / 100 : null },
    names: { time: 'time of arrival', temp: temp.type, humidity: humidity?.type ?? 'humidity', pressure: `${pressure?.type ?? 'pressure'} (as hPa)` },
  };
}
