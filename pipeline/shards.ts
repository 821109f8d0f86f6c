/**
 * Sharding a window by H3 parent cell. The shards are a property of the domain (its cells' parents at
 * the shard resolution), never of how many workers run: so 1 worker and 3 workers compute the same
 * shards from the same inputs and write the same nowcasts. A shard's map reads its own sensors plus a
 * halo around its cells; its reduce reads the super-observations of the shards within the
 * interpolation's reach. Pure.
 */
import { parentOf, type BBox, type LatLon, type LocalPlane } from '../infra/geo/index.ts';
import type { GridCell } from './nowcast.ts';
import { bucketSizeFor, PointIndex } from './space/point-index.ts';

export interface Shard {
  /** The H3 parent cell at the shard resolution. */
  id: string;
  /** The domain's cells in it, in the grid's order. */
  cells: GridCell[];
  /** The extent of its cells' centres [degrees]. */
  box: BBox;
}

export interface ShardPlan {
  resolution: number;
  /** Sorted by id. */
  shards: Shard[];
  /** Shard id of each domain cell. */
  shardOfCell: Map<string, string>;
}

export function planShards(grid: readonly GridCell[], shardResolution: number): ShardPlan {
  const by = new Map<string, GridCell[]>();
  const shardOfCell = new Map<string, string>();
  for (const g of grid) {
    const id = parentOf(g.cell, shardResolution);
    shardOfCell.set(g.cell, id);
    const list = by.get(id);
    if (list) list.push(g);
    else by.set(id, [g]);
  }
  const shards = [...by.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([id, cells]) => ({ id, cells, box: extent(cells.map((c) => c.centre)) }));
  return { resolution: shardResolution, shards, shardOfCell };
}

function extent(points: readonly LatLon[]): BBox {
  let south = Infinity, west = Infinity, north = -Infinity, east = -Infinity;
  for (const p of points) {
    south = Math.min(south, p.lat); north = Math.max(north, p.lat);
    west = Math.min(west, p.lon); east = Math.max(east, p.lon);
  }
  return { south, west, north, east };
}

/** The box grown by `marginM` metres on every side (on the domain's plane). */
export function growBox(box: BBox, marginM: number, plane: LocalPlane): BBox {
  const dLat = marginM / (plane.y(1) - plane.y(0));
  const dLon = marginM / (plane.x(1) - plane.x(0));
  return { south: box.south - dLat, north: box.north + dLat, west: box.west - dLon, east: box.east + dLon };
}

const overlaps = (a: BBox, b: BBox) => a.south <= b.north && b.south <= a.north && a.west <= b.east && b.west <= a.east;

/** The shards whose cells lie within `reachM` of the shard's cells (itself included), sorted. */
export function shardsWithin(plan: ShardPlan, shardId: string, reachM: number, plane: LocalPlane): string[] {
  const me = plan.shards.find((s) => s.id === shardId);
  if (!me) throw new RangeError(`no shard ${shardId} in the plan`);
  const grown = growBox(me.box, reachM, plane);
  return plan.shards.filter((s) => overlaps(grown, s.box)).map((s) => s.id);
}

/** The area within some distance of a shard's cells: where its map's halo sensors may lie. */
export interface ShardReach {
  /** A box around it (a quick first test). */
  readonly box: BBox;
  /** Whether (lat, lon) lies within the reach of some cell centre of the shard. */
  contains(lat: number, lon: number): boolean;
}

/**
 * The points within `reachM` of any of the shard's cell centres. A shard's bounding box grown by the
 * reach holds far more: the four shards of the Berlin domain at resolution 4 have boxes that overlap
 * widely, and with a 3 km halo the boxes hold 1.24 times the sensors that the reaches do.
 */
export function shardReach(shard: Shard, reachM: number, plane: LocalPlane): ShardReach {
  const x = Float64Array.from(shard.cells, (c) => plane.x(c.centre.lon));
  const y = Float64Array.from(shard.cells, (c) => plane.y(c.centre.lat));
  const index = new PointIndex(x, y, Math.max(reachM / 4, bucketSizeFor(x, y)));
  return {
    box: growBox(shard.box, reachM, plane),
    contains: (lat, lon) => index.atLeast(plane.x(lon), plane.y(lat), reachM, 1),
  };
}
