/**
 * The buddy check, with titanlib's semantics (`titanlib::buddy_check`): an observation is flagged
 * when it differs from the mean of its buddies (neighbours within a radius, their values adjusted to
 * its elevation with a lapse rate) by more than `threshold` standard deviations of the buddies,
 * where the standard deviation is sqrt(var + var / n) and at least `minStdK`. Flagged observations
 * stop being buddies in the next iteration. Pure; flags, never filters.
 */
import { bucketSizeFor, PointIndex } from '../space/point-index.ts';
import type { NeighbourLists } from '../space/neighbour-lists.ts';
import type { PlanePoints } from '../analysis/oi.ts';
import { FLAG_BAD, FLAG_OK } from './reasons.ts';

/** The standard atmosphere's lapse rate [K/m]. */
export const STANDARD_LAPSE_RATE_K_PER_M = -0.0065;

export interface BuddyCheckOptions {
  /** Buddies are neighbours within this distance [m]. */
  radiusM: number;
  /** Fewer buddies than this: the observation is not checked (it stays 0). */
  numMin: number;
  /** Flag when |value − buddy mean| / std > threshold. */
  threshold: number;
  /** Buddies whose elevation differs by more than this are not used [m]; <= 0 uses every buddy without adjustment. */
  maxElevDiffM: number;
  /** Lapse rate applied to buddies' values for the elevation difference [K/m] (−0.0065). */
  elevGradientKPerM: number;
  /** Floor of the buddies' standard deviation [K]. */
  minStdK: number;
  /** Passes; each excludes the observations flagged before it. */
  numIterations: number;
  /** Use only the nearest this many neighbours within the radius (titanlib uses all: Infinity). */
  maxBuddies?: number;
  /** Only these observations are checked (all by default); the others still serve as buddies. */
  check?: (i: number) => boolean;
  /** Precomputed nearest-neighbour lists of these points (self included; k > maxBuddies, radius >= radiusM). */
  neighbours?: NeighbourLists;
}

export function buddyCheck(points: PlanePoints, values: ArrayLike<number>, o: BuddyCheckOptions): Uint8Array {
  const n = points.x.length;
  if (values.length !== n) throw new RangeError(`points has ${n} entries, values has ${values.length}`);
  if (!(o.numMin >= 1)) throw new RangeError(`numMin must be >= 1, got ${o.numMin}`);
  const flags = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i]!)) flags[i] = FLAG_BAD;
  const maxBuddies = o.maxBuddies ?? Infinity;
  const limited = Number.isFinite(maxBuddies);
  const nl = o.neighbours;
  if (nl && (!limited || nl.k <= maxBuddies || nl.radiusM < o.radiusM || nl.lists.length !== n)) throw new RangeError(`neighbour lists (k ${nl.k}, radius ${nl.radiusM} m, ${nl.lists.length} points) cannot serve ${maxBuddies} buddies within ${o.radiusM} m over ${n} points`);
  // Buckets of a few points each for k-nearest searches; of the radius for the all-in-radius rule.
  const index = nl ? null : new PointIndex(points.x, points.y, limited ? bucketSizeFor(points.x, points.y) : Math.max(o.radiusM, 1));
  // Neighbours do not change between iterations; find them once (nearest first, ties by index).
  const neighbours: (number[] | null)[] = new Array(n).fill(null);
  for (let i = 0; i < n; i++) {
    if (flags[i] !== FLAG_OK || (o.check && !o.check(i))) continue;
    let found: number[];
    if (nl) {
      found = [];
      const list = nl.lists[i]!, dist = nl.distancesM[i]!;
      for (let j = 0; j < list.length && found.length < maxBuddies; j++) if (list[j] !== i && dist[j]! <= o.radiusM) found.push(list[j]!);
    } else {
      found = (limited ? index!.nearest(points.x[i]!, points.y[i]!, maxBuddies + 1, o.radiusM) : index!.within(points.x[i]!, points.y[i]!, o.radiusM)).filter((nb) => nb.index !== i).map((nb) => nb.index);
    }
    neighbours[i] = found.length > maxBuddies ? found.slice(0, maxBuddies) : found;
  }
  for (let it = 0; it < o.numIterations; it++) {
    const prev = flags.slice();
    let added = 0;
    for (let i = 0; i < n; i++) {
      const nbs = neighbours[i];
      if (!nbs || prev[i] !== FLAG_OK || nbs.length < o.numMin) continue;
      let count = 0, sum = 0, sum2 = 0;
      const zi = points.z[i]!;
      for (const j of nbs) {
        if (prev[j] !== FLAG_OK) continue;
        let v = values[j]!;
        if (o.maxElevDiffM > 0) {
          const zj = points.z[j]!;
          // Unknown elevations cannot be compared: such buddies are used unadjusted.
          if (Number.isFinite(zi) && Number.isFinite(zj)) {
            if (Math.abs(zj - zi) > o.maxElevDiffM) continue;
            v += (zi - zj) * o.elevGradientKPerM;
          }
        }
        count++;
        sum += v;
        sum2 += v * v;
      }
      if (count < o.numMin) continue;
      const mean = sum / count;
      const variance = Math.max(0, sum2 / count - mean * mean); // population variance, as titanlib's accumulator
      const std = Math.max(o.minStdK, Math.sqrt(variance + variance / count));
      if (Math.abs(values[i]! - mean) / std > o.threshold) {
        flags[i] = FLAG_BAD;
        added++;
      }
    }
    if (added === 0) break;
  }
  return flags;
}
