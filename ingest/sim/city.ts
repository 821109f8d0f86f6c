/**
 * The built-in simulated city: a deterministic "true" 2 m temperature field, official stations and
 * amateur sensors observing it with realistic faults, and a coarse, biased background forecast.
 * Pure: every value is a function of (seed, sensor, time). The feed (feed.ts) does the IO.
 */
import type { BBox, LatLon } from '../../infra/geo/index.ts';
import { distanceM, sinSolarElevation } from '../../infra/geo/index.ts';
import { normal, uniform } from './random.ts';

import { DAY_MS, HOUR_MS } from '../../infra/time.ts';

export type SensorFault = 'none' | 'sun-exposed' | 'indoor' | 'stuck';

export interface SimSensor {
  index: number;
  sensorId: string;
  kind: 'official' | 'amateur';
  position: LatLon;
  elevationM: number;
  /** Reporting interval [ms] and phase within it [ms]. */
  intervalMs: number;
  phaseMs: number;
  /** Constant calibration bias [K] and white noise [K]. */
  biasK: number;
  noiseK: number;
  fault: SensorFault;
  /** Peak warm bias in full sun for 'sun-exposed' sensors [K]. */
  sunBiasK: number;
}

export interface CityOptions {
  seed: number;
  bbox: BBox;
  officialStations: number;
  amateurSensors: number;
  amateurIntervalMs: number;
}

export interface City {
  seed: number;
  bbox: BBox;
  centre: LatLon;
  sensors: SimSensor[];
  /** Background grid points (coarse, ~0.125°). */
  backgroundPoints: { pointId: string; position: LatLon }[];
}

/** Real official station sites in Berlin (DWD), used first so the demo looks like the city. */
const OFFICIAL_SITES: LatLon[] = [
  { lat: 52.4675, lon: 13.4021 }, // Tempelhof
  { lat: 52.4537, lon: 13.3017 }, // Dahlem
  { lat: 52.5644, lon: 13.3088 }, // Tegel
  { lat: 52.3807, lon: 13.5306 }, // Schönefeld
  { lat: 52.5447, lon: 13.5598 }, // Marzahn
  { lat: 52.6309, lon: 13.5022 }, // Buch
];

/** Fractions of amateur sensors with each fault (the rest are sound but noisy and biased). */
export const FAULT_SHARES = { 'sun-exposed': 0.12, indoor: 0.06, stuck: 0.02 } as const;
/** Probability that a scheduled reading never arrives, and that it arrives late. */
export const DROPOUT_P = 0.05;
export const LATE_P = 0.05;
/** Official stations report every 10 minutes. */
export const OFFICIAL_INTERVAL_MS = 600_000;
/** Background grid spacing [degrees]. */
export const BACKGROUND_SPACING_DEG = 0.125;

export function createCity(o: CityOptions): City {
  const { bbox, seed } = o;
  const centre = { lat: (bbox.south + bbox.north) / 2, lon: (bbox.west + bbox.east) / 2 };
  const sensors: SimSensor[] = [];
  const inside = OFFICIAL_SITES.filter((p) => p.lat >= bbox.south && p.lat <= bbox.north && p.lon >= bbox.west && p.lon <= bbox.east);
  for (let i = 0; i < o.officialStations; i++) {
    const position = inside[i] ?? randomPosition(bbox, seed, 10, i);
    sensors.push({
      index: sensors.length, sensorId: `sim-off-${String(i + 1).padStart(3, '0')}`, kind: 'official', position,
      elevationM: 35 + 20 * uniform(seed, 11, i), intervalMs: OFFICIAL_INTERVAL_MS, phaseMs: 0,
      biasK: 0.05 * normal(seed, 12, i), noiseK: 0.1, fault: 'none', sunBiasK: 0,
    });
  }
  for (let i = 0; i < o.amateurSensors; i++) {
    // 70 % cluster around the centre (dense inner city), 30 % anywhere in the box.
    const clustered = uniform(seed, 20, i) < 0.7;
    const position = clustered ? clampedGaussian(centre, 0.05, 0.08, bbox, seed, 21, i) : randomPosition(bbox, seed, 22, i);
    const f = uniform(seed, 23, i);
    const fault: SensorFault = f < FAULT_SHARES['sun-exposed'] ? 'sun-exposed'
      : f < FAULT_SHARES['sun-exposed'] + FAULT_SHARES.indoor ? 'indoor'
      : f < FAULT_SHARES['sun-exposed'] + FAULT_SHARES.indoor + FAULT_SHARES.stuck ? 'stuck' : 'none';
    sensors.push({
      index: sensors.length, sensorId: `sim-ama-${String(i + 1).padStart(5, '0')}`, kind: 'amateur', position,
      elevationM: 30 + 40 * uniform(seed, 24, i), intervalMs: o.amateurIntervalMs,
      phaseMs: Math.floor(uniform(seed, 25, i) * o.amateurIntervalMs),
      biasK: 0.4 * normal(seed, 26, i), noiseK: 0.15 + 0.25 * uniform(seed, 27, i), fault,
      sunBiasK: 2 + 3 * uniform(seed, 28, i),
    });
  }
  const backgroundPoints: City['backgroundPoints'] = [];
  const s = BACKGROUND_SPACING_DEG;
  for (let lat = Math.floor(bbox.south / s) * s; lat <= bbox.north + s; lat += s) {
    for (let lon = Math.floor(bbox.west / s) * s; lon <= bbox.east + s; lon += s) {
      const position = { lat: round6(lat), lon: round6(lon) };
      backgroundPoints.push({ pointId: `${position.lat.toFixed(3)},${position.lon.toFixed(3)}`, position });
    }
  }
  return { seed, bbox, centre, sensors, backgroundPoints };
}

/** The true 2 m air temperature [°C] at a place and time. */
export function trueTempC(city: City, p: LatLon, timeMs: number): number {
  return largeScaleTempC(city, p, timeMs) + urbanHeatIslandK(city, p, timeMs) + localAnomalyK(city, p);
}

/**
 * The background model's forecast [°C]: it sees only the large scale (no heat island, no parks),
 * a little late (1 h phase lag of the diurnal cycle), and with a slowly varying bias.
 */
export function backgroundTempC(city: City, p: LatLon, timeMs: number): number {
  const biasK = -0.8 + 0.7 * Math.sin((2 * Math.PI * timeMs) / (1.7 * DAY_MS) + 6.283 * uniform(city.seed, 40));
  return largeScaleTempC(city, p, timeMs - HOUR_MS) + biasK;
}

export interface SimReading {
  sensor: SimSensor;
  timeMs: number;
  tempC: number;
  humidityPct: number;
  /** When the reading reaches the system [epoch ms] (>= timeMs: late uploads). */
  deliverAtMs: number;
}

/**
 * The reading a sensor makes in its slot (the slot-th report since epoch), or null for a dropout.
 * Pure: the same arguments always give the same reading.
 */
export function readingInSlot(city: City, sensor: SimSensor, slot: number): SimReading | null {
  const { seed } = city;
  const timeMs = slot * sensor.intervalMs + sensor.phaseMs;
  if (sensor.kind === 'amateur' && uniform(seed, 50, sensor.index, slot) < DROPOUT_P) return null;
  const truth = trueTempC(city, sensor.position, timeMs);
  let tempC: number;
  switch (sensor.fault) {
    case 'indoor':
      // Heated room: ~21 °C, a damped echo of the outdoor diurnal cycle.
      tempC = 21 + 0.05 * (truth - 10) + 0.2 * normal(seed, 51, sensor.index, slot);
      break;
    case 'stuck':
      // A frozen value from the day it broke: constant to the last digit.
      tempC = Math.round(trueTempC(city, sensor.position, Math.floor(timeMs / (30 * DAY_MS)) * 30 * DAY_MS) * 10) / 10;
      break;
    case 'sun-exposed':
      tempC = truth + sensor.biasK + sensor.sunBiasK * Math.max(0, sinSolarElevation(sensor.position, timeMs)) + sensor.noiseK * normal(seed, 52, sensor.index, slot);
      break;
    default:
      tempC = truth + sensor.biasK + sensor.noiseK * normal(seed, 52, sensor.index, slot);
  }
  const late = sensor.kind === 'amateur' && uniform(seed, 53, sensor.index, slot) < LATE_P;
  const deliverAtMs = timeMs + (late ? 60_000 + Math.floor(uniform(seed, 54, sensor.index, slot) * 7 * 60_000) : 0);
  const humidityPct = Math.min(100, Math.max(5, 75 - 2.2 * (truth - 10) + 5 * normal(seed, 55, sensor.index, slot)));
  return { sensor, timeMs, tempC: Math.round(tempC * 100) / 100, humidityPct: Math.round(humidityPct), deliverAtMs };
}

/** Slots of a sensor whose observation time lies in [fromMs, toMs). */
export function slotsBetween(sensor: SimSensor, fromMs: number, toMs: number): number[] {
  const first = Math.ceil((fromMs - sensor.phaseMs) / sensor.intervalMs);
  const out: number[] = [];
  for (let s = first; s * sensor.intervalMs + sensor.phaseMs < toMs; s++) out.push(s);
  return out;
}

function largeScaleTempC(city: City, p: LatLon, timeMs: number): number {
  const { seed } = city;
  const dayOfYear = (timeMs % (365.25 * DAY_MS)) / DAY_MS;
  // Berlin climatology: ~0 °C mid-January, ~19.5 °C mid-July.
  const seasonC = 9.75 - 9.75 * Math.cos((2 * Math.PI * (dayOfYear - 15)) / 365.25);
  const amplitudeK = 3 + 2 * Math.sin((Math.PI * Math.max(0, Math.min(365, dayOfYear - 80))) / 365);
  const solarHour = ((timeMs % DAY_MS) / HOUR_MS + p.lon / 15 + 24) % 24;
  const diurnalK = amplitudeK * Math.cos((2 * Math.PI * (solarHour - 15)) / 24);
  const weatherK = 2.5 * Math.sin((2 * Math.PI * timeMs) / (3.1 * DAY_MS) + 6.283 * uniform(seed, 30))
    + 1.5 * Math.sin((2 * Math.PI * timeMs) / (7.3 * DAY_MS) + 6.283 * uniform(seed, 31));
  // A gentle north-south gradient across the region [K per degree of latitude].
  const gradientK = -1.2 * (p.lat - city.centre.lat);
  return seasonC + diurnalK + weatherK + gradientK;
}

function urbanHeatIslandK(city: City, p: LatLon, timeMs: number): number {
  const solarHour = ((timeMs % DAY_MS) / HOUR_MS + p.lon / 15 + 24) % 24;
  // Stronger at night (3.5 K) than by day (1.5 K); Gaussian over ~7 km around the centre.
  const night = 0.5 + 0.5 * Math.cos((2 * Math.PI * (solarHour - 2)) / 24);
  const strengthK = 1.5 + 2 * night;
  const d = distanceM(p, city.centre);
  return strengthK * Math.exp(-(d * d) / (2 * 7000 * 7000));
}

/** Parks, water and open land: a few seeded blobs of ±1 K over 1-2 km. */
function localAnomalyK(city: City, p: LatLon): number {
  let k = 0;
  for (let i = 0; i < 12; i++) {
    const c = randomPosition(city.bbox, city.seed, 60, i);
    const amp = -1 + 1.6 * uniform(city.seed, 61, i);
    const r = 1000 + 1000 * uniform(city.seed, 62, i);
    const d = distanceM(p, c);
    k += amp * Math.exp(-(d * d) / (2 * r * r));
  }
  return k;
}

function randomPosition(b: BBox, seed: number, stream: number, i: number): LatLon {
  return { lat: b.south + (b.north - b.south) * uniform(seed, stream, i, 1), lon: b.west + (b.east - b.west) * uniform(seed, stream, i, 2) };
}

function clampedGaussian(c: LatLon, sdLat: number, sdLon: number, b: BBox, seed: number, stream: number, i: number): LatLon {
  return {
    lat: Math.min(b.north, Math.max(b.south, c.lat + sdLat * normal(seed, stream, i, 1))),
    lon: Math.min(b.east, Math.max(b.west, c.lon + sdLon * normal(seed, stream, i, 2))),
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
