/**
 * Unit conversions at the edges (station software speaks imperial units; everything inside is SI-ish:
 * °C, hPa, %). Each factor is defined once, with its source.
 */

/** °F → °C: exact by the definition of the Fahrenheit scale (32 °F = 0 °C, 180 °F per 100 K). */
export function fahrenheitToCelsius(tempF: number): number {
  return ((tempF - 32) * 5) / 9;
}

/** 1 inch of mercury (conventional, at 0 °C) [hPa]: 3386.389 Pa (NIST SP 811, appendix B.8). */
export const HPA_PER_INHG = 33.86389;

export function inHgToHpa(pressureInHg: number): number {
  return pressureInHg * HPA_PER_INHG;
}
