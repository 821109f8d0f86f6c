/**
 * A spatial index over points on a local plane (metres): a uniform bucket grid, built once per
 * window. Radius queries and k-nearest queries are exact; results come in a deterministic order
 * (by distance, then by point index), so every caller sees the same neighbours in the same order.
 */

export interface Neighbour {
  /** Index of the point in the arrays the index was built from. */
  index: number;
  /** Distance [m]. */
  distanceM: number;
}

export class PointIndex {
  readonly #x: Float64Array;
  readonly #y: Float64Array;
  readonly #cellM: number;
  readonly #buckets = new Map<number, number[]>();

  /**
   * @param x East coordinates [m]
   * @param y North coordinates [m]
   * @param cellM Bucket size [m]; about the typical query radius.
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
      const list = this.#buckets.get(k);
      if (list) list.push(i);
      else this.#buckets.set(k, [i]);
    }
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
        for (const i of list) {
          const dx = this.#x[i]! - x, dy = this.#y[i]! - y;
          const d2 = dx * dx + dy * dy;
          if (d2 <= r2) out.push({ index: i, distanceM: Math.sqrt(d2) });
        }
      }
    }
    out.sort(byDistance);
    return out;
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
        for (const i of list) {
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
    // Grow the search ring until k points are found inside it, or the radius limit is reached.
    let r = Math.min(this.#cellM, maxRadiusM);
    for (;;) {
      const found = this.within(x, y, r);
      if (found.length >= k || r >= maxRadiusM) return found.slice(0, k);
      r = Math.min(maxRadiusM, r * 2);
    }
  }
}

function byDistance(a: Neighbour, b: Neighbour): number {
  return a.distanceM - b.distanceM || a.index - b.index;
}
