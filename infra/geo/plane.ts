/**
 * A local plane for a city-sized domain: equirectangular metres around a reference latitude.
 * Distances are within 0.1 % of great-circle ones over ±50 km of the reference (the error grows with
 * the latitude span, as 1 - cos(Δlat)), which is ample for QC radii and correlation length scales.
 * Every shard of a domain must use the same reference latitude so that results do not depend on sharding.
 */
import { EARTH_RADIUS_M, type LatLon } from './grid.ts';

const RAD = Math.PI / 180;

export interface LocalPlane {
  /** Reference latitude [degrees]. */
  readonly refLat: number;
  /** East coordinate [m] of a longitude [degrees]. */
  x(lon: number): number;
  /** North coordinate [m] of a latitude [degrees]. */
  y(lat: number): number;
  /** Both coordinates of a point [m]. */
  project(p: LatLon): { x: number; y: number };
}

export function localPlane(refLatDeg: number): LocalPlane {
  if (!(Math.abs(refLatDeg) < 89)) throw new RangeError(`refLat must be within (-89, 89) degrees, got ${refLatDeg}`);
  const kx = EARTH_RADIUS_M * Math.cos(refLatDeg * RAD) * RAD;
  const ky = EARTH_RADIUS_M * RAD;
  return {
    refLat: refLatDeg,
    x: (lon) => lon * kx,
    y: (lat) => lat * ky,
    project: (p) => ({ x: p.lon * kx, y: p.lat * ky }),
  };
}
