/**
 * A spatial index over points on a local plane (metres): a uniform bucket grid, built once per
 * window. Radius queries and k-nearest queries are exact; results come in a deterministic order
 * (by distance, then by point index), so every caller sees the same neighbours in the same order.
 * k-nearest searches square rings of buckets outward and stops as soon as no unvisited bucket can
 * hold a nearer point, so its cost follows k, not the density of the network.
 */

export interface Neighbour {
  /** Index of the point in the arrays the index was built from. */
  index: number;
  /** Distance [m]. */
  distanceM: number;
}

/** A bucket size [m] giving about `perBucket` points per bucket for points spread over their extent. */
export function bucketSizeFor(x: ArrayLike<number>, y: ArrayLike<number>, perBucket = 4, minM = 20): number {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, n = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!, yi = y[i]!;
    if (!Number.isFinite(xi) || !Number.isFinite(yi)) continue;
    n++;
    if (xi < x0) x0 = xi;
    if (xi > x1) x1 = xi;
    if (yi < y0) y0 = yi;
    if (yi > y1) y1 = yi;
  }
  if (n < 2) return 1000;
  const area = Math.max(1, (x1 - x0) * (y1 - y0));
  return Math.max(minM, Math.sqrt((area / n) * perBucket));
}

export class PointIndex {
  readonly #x: Float64Array;
  readonly #y: Float64Array;
  readonly #cellM: number;
  readonly #buckets = new Map<number, Int32Array | number[]>();

  /**
   * @param x East coordinates [m]
   * @param y North coordinates [m]
   * @param cellM Bucket size [m]: about the spacing of a few points (see bucketSizeFor), or the query radius.
   * @param include Which points to index (default all); NaN coordinates are never indexed.
   */
  constructor(x: Float64Array, y: Float64Array, cellM: number, include?: (i: number) => boolean) {
    if (x.length !== y.length) throw new RangeError(`x has ${x.length} points, y has ${y.length}`);
    if (!(cellM > 0)) throw new RangeError(`cellM must be > 0, got ${cellM}`);
    this.#x = x;
    this.#y = y;
    this.#cellM = cellM;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!, yi = y[i]!;
      if (!Number.isFinite(xi) || !Number.isFinite(yi) || (include && !include(i))) continue;
      const k = this.#key(Math.floor(xi / cellM), Math.floor(yi / cellM));
      const list = this.#buckets.get(k) as number[] | undefined;
      if (list) list.push(i);
      else this.#buckets.set(k, [i]);
    }
    for (const [k, list] of this.#buckets) this.#buckets.set(k, Int32Array.from(list));
  }

  #key(cx: number, cy: number): number {
    // Bucket coordinates stay well within ±2^20 for any city-sized plane (|x| < 2e7 m, cellM >= 20 m).
    return (cx + 1_048_576) * 2_097_152 + (cy + 1_048_576);
  }

  /** Every indexed point within `radiusM` of (x, y), nearest first (ties by index). */
  within(x: number, y: number, radiusM: number): Neighbour[] {
    const out: Neighbour[] = [];
    const c = this.#cellM;
    const k = Math.ceil(radiusM / c);
    const cx = Math.floor(x / c), cy = Math.floor(y / c);
    const r2 = radiusM * radiusM;
    for (let a = cx - k; a <= cx + k; a++) {
      for (let b = cy - k; b <= cy + k; b++) {
        const list = this.#buckets.get(this.#key(a, b));
        if (!list) continue;
        for (let j = 0; j < list.length; j++) {
          const i = list[j]!;
          const dx = this.#x[i]! - x, dy = this.#y[i]! - y;
          const d2 = dx * dx + dy * dy;
          if (d2 <= r2) out.push({ index: i, distanceM: Math.sqrt(d2) });
        }
      }
    }
    out.sort(byDistance);
    return out;
  }

  /** Whether at least `m` indexed points lie within `radiusM` of (x, y) (stops counting at m). */
  atLeast(x: number, y: number, radiusM: number, m: number): boolean {
    if (m <= 0) return true;
    const c = this.#cellM;
    const k = Math.ceil(radiusM / c);
    const cx = Math.floor(x / c), cy = Math.floor(y / c);
    const r2 = radiusM * radiusM;
    let n = 0;
    for (let ring = 0; ring <= k; ring++) {
      for (let a = cx - ring; a <= cx + ring; a++) {
        const edge = a === cx - ring || a === cx + ring;
        for (let b = cy - ring; b <= cy + ring; b += edge ? 1 : 2 * ring || 1) {
          const list = this.#buckets.get(this.#key(a, b));
          if (!list) continue;
          for (let j = 0; j < list.length; j++) {
            const i = list[j]!;
            const dx = this.#x[i]! - x, dy = this.#y[i]! - y;
            if (dx * dx + dy * dy <= r2 && ++n >= m) return true;
          }
        }
      }
    }
    return false;
  }

  /** How many indexed points lie within `radiusM` of (x, y). */
  count(x: number, y: number, radiusM: number): number {
    const c = this.#cellM;
    const k = Math.ceil(radiusM / c);
    const cx = Math.floor(x / c), cy = Math.floor(y / c);
    const r2 = radiusM * radiusM;
    let n = 0;
    for (let a = cx - k; a <= cx + k; a++) {
      for (let b = cy - k; b <= cy + k; b++) {
        const list = this.#buckets.get(this.#key(a, b));
        if (!list) continue;
        for (let j = 0; j < list.length; j++) {
          const i = list[j]!;
          const dx = this.#x[i]! - x, dy = this.#y[i]! - y;
          if (dx * dx + dy * dy <= r2) n++;
        }
      }
    }
    return n;
  }

  /** The `k` nearest indexed points within `maxRadiusM`, nearest first (ties by index). */
  nearest(x: number, y: number, k: number, maxRadiusM: number): Neighbour[] {
    if (k <= 0) return [];
    const c = this.#cellM;
    const cx = Math.floor(x / c), cy = Math.floor(y / c);
    const r2 = maxRadiusM * maxRadiusM;
    const maxRing = Math.ceil(maxRadiusM / c);
    const cand: Neighbour[] = [];
    for (let ring = 0; ring <= maxRing; ring++) {
      for (let a = cx - ring; a <= cx + ring; a++) {
        const edge = a === cx - ring || a === cx + ring;
        // Only the ring's border buckets: full columns at its left and right edges, two cells elsewhere.
        for (let b = cy - ring; b <= cy + ring; b += edge ? 1 : 2 * ring || 1) {
          const list = this.#buckets.get(this.#key(a, b));
          if (!list) continue;
          for (let j = 0; j < list.length; j++) {
            const i = list[j]!;
            const dx = this.#x[i]! - x, dy = this.#y[i]! - y;
            const d2 = dx * dx + dy * dy;
            if (d2 <= r2) cand.push({ index: i, distanceM: Math.sqrt(d2) });
          }
        }
      }
      // Every point not yet visited lies at least ring × c away (the query sits inside the centre
      // bucket); strictly nearer than that, the k-th cannot change, ties included.
      if (cand.length >= k) {
        cand.sort(byDistance);
        if (cand[k - 1]!.distanceM < ring * c) return cand.slice(0, k);
      }
    }
    cand.sort(byDistance);
    return cand.length > k ? cand.slice(0, k) : cand;
  }
}

function byDistance(a: Neighbour, b: Neighbour): number {
  return a.distanceM - b.distanceM || a.index - b.index;
}
