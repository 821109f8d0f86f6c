/**
 * Seeded random point sets for comparisons with the reference implementations: stations scattered
 * over a city-sized square with elevations, a smooth temperature field with a lapse rate, sensor
 * noise, and a share of gross errors (warm and cold). Pure: the same seed gives the same set.
 */

/** mulberry32: a small 32-bit generator, uniform in [0, 1). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws (Box-Muller) from a uniform generator. */
export function seededNormal(uniform: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-12))) * Math.cos(2 * Math.PI * uniform());
}

export interface StationSetOptions {
  n: number;
  /** Side of the square [m]. */
  sideM: number;
  /** Elevations uniform in [0, maxElevM] [m]. */
  maxElevM: number;
  /** Lapse rate of the field [K/m]. */
  lapseKPerM: number;
  /** Sensor noise [K]. */
  noiseK: number;
  /** Share of gross errors, each ±(3..10) K. */
  grossShare: number;
}

export interface StationSet {
  /** East and north [m] from the square's south-west corner, elevation [m]. */
  x: number[];
  y: number[];
  z: number[];
  tempC: number[];
  /** 1 where a gross error was added. */
  gross: number[];
}

export function stationSet(seed: number, o: StationSetOptions): StationSet {
  const u = seededUniform(seed);
  const g = seededNormal(u);
  const s: StationSet = { x: [], y: [], z: [], tempC: [], gross: [] };
  // A smooth large-scale field: two waves across the square.
  const kx = (2 * Math.PI) / o.sideM, phase = 2 * Math.PI * u();
  for (let i = 0; i < o.n; i++) {
    const x = u() * o.sideM, y = u() * o.sideM, z = u() * o.maxElevM;
    let t = 10 + 1.5 * Math.sin(kx * x + phase) + Math.cos(kx * y) + o.lapseKPerM * z + o.noiseK * g();
    const gross = u() < o.grossShare ? 1 : 0;
    if (gross) t += (u() < 0.5 ? -1 : 1) * (3 + 7 * u());
    s.x.push(x);
    s.y.push(y);
    s.z.push(z);
    s.tempC.push(t);
    s.gross.push(gross);
  }
  return s;
}
