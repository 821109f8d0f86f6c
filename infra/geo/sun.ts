/** The sun's position, for the daytime tests of QC and the simulated city. */
import type { LatLon } from './grid.ts';
import { DAY_MS, HOUR_MS } from '../time.ts';

const DEG = Math.PI / 180;

/**
 * Sine of the sun's elevation at a place and time (low-precision formula: declination from the day
 * of the year, hour angle from local mean solar time; within ~0.5° of NOAA's, enough to tell day from
 * night and low sun from high sun).
 */
export function sinSolarElevation(p: LatLon, timeMs: number): number {
  const dayOfYear = (timeMs % (365.25 * DAY_MS)) / DAY_MS; // days since 1 Jan (to within a day)
  const declination = -23.44 * DEG * Math.cos((2 * Math.PI * (dayOfYear + 10)) / 365.25);
  const solarHour = ((timeMs % DAY_MS) / HOUR_MS + p.lon / 15 + 24) % 24;
  const hourAngle = (solarHour - 12) * 15 * DEG;
  const lat = p.lat * DEG;
  return Math.sin(lat) * Math.sin(declination) + Math.cos(lat) * Math.cos(declination) * Math.cos(hourAngle);
}
