/**
 * The hexagon grid (H3). The only module that imports h3-js: everything else speaks `{ lat, lon }`
 * objects and cell ids (strings). Lat first here; `[lon, lat]` only at GeoJSON edges.
 */
import * as h3 from 'h3-js';

export interface LatLon {
  /** Latitude [degrees north]. */
  lat: number;
  /** Longitude [degrees east]. */
  lon: number;
}

export interface BBox {
  south: number;
  west: number;
  north: number;
  east: number;
}

/** Mean Earth radius [m] (IUGG), the one radius distances in this project derive from. */
export const EARTH_RADIUS_M = 6_371_008.8;

export function cellOf(p: LatLon, resolution: number): string {
  return h3.latLngToCell(p.lat, p.lon, resolution);
}

export function parentOf(cell: string, resolution: number): string {
  return h3.cellToParent(cell, resolution);
}

export function resolutionOf(cell: string): number {
  return h3.getResolution(cell);
}

export function isCell(cell: string): boolean {
  return h3.isValidCell(cell);
}

export function cellCenter(cell: string): LatLon {
  const [lat, lon] = h3.cellToLatLng(cell);
  return { lat, lon };
}

/** The cell's outline as `{ lat, lon }` vertices (not closed). */
export function cellBoundary(cell: string): LatLon[] {
  return h3.cellToBoundary(cell).map(([lat, lon]) => ({ lat, lon }));
}

/** Cells whose centres lie inside the box, sorted (deterministic order). */
export function cellsInBBox(box: BBox, resolution: number): string[] {
  const ring: [number, number][] = [
    [box.south, box.west],
    [box.south, box.east],
    [box.north, box.east],
    [box.north, box.west],
  ];
  return h3.polygonToCells(ring, resolution).sort();
}

/** Every cell that intersects the box (centre inside or not), sorted: a grid that answers every point in it. */
export function cellsCoveringBBox(box: BBox, resolution: number): string[] {
  const ring: [number, number][] = [
    [box.south, box.west],
    [box.south, box.east],
    [box.north, box.east],
    [box.north, box.west],
  ];
  return h3.polygonToCellsExperimental(ring, resolution, h3.POLYGON_TO_CELLS_FLAGS.containmentOverlapping).sort();
}

/** The cell's exact area [m²] (H3's spherical computation). */
export function cellAreaM2(cell: string): number {
  return h3.cellArea(cell, h3.UNITS.m2);
}

/** Cells within k steps of `cell` (k = 0: the cell itself). */
export function cellsWithin(cell: string, k: number): string[] {
  return h3.gridDisk(cell, k);
}

export function inBBox(p: LatLon, box: BBox): boolean {
  return p.lat >= box.south && p.lat <= box.north && p.lon >= box.west && p.lon <= box.east;
}

/** Great-circle distance [m] (haversine on EARTH_RADIUS_M). */
export function distanceM(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(s)));
}
