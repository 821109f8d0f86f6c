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
  /** Bounds of the occupied buckets' coordinates: no search looks beyond them. */
  #bx0 = Infinity;
  #bx1 = -Infinity;
  #by0 = Infinity;
  #by1 = -Infinity;

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
      const bx = Math.floor(xi / cellM), by = Math.floor(yi / cellM);
      if (bx < this.#bx0) this.#bx0 = bx;
      if (bx > this.#bx1) this.#bx1 = bx;
      if (by < this.#by0) this.#by0 = by;
      if (by > this.#by1) this.#by1 = by;
      const k = this.#key(bx, by);
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
    for (let a = Math.max(cx - k, this.#bx0); a <= Math.min(cx + k, this.#bx1); a++) {
      for (let b = Math.max(cy - k, this.#by0); b <= Math.min(cy + k, this.#by1); b++) {
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

  /** Rings beyond this hold no indexed point. */
  #ringLimit(cx: number, cy: number): number {
    return Math.max(cx - this.#bx0, this.#bx1 - cx, cy - this.#by0, this.#by1 - cy, 0);
  }

  /** Whether at least `m` indexed points lie within `radiusM` of (x, y) (stops counting at m). */
  atLeast(x: number, y: number, radiusM: number, m: number): boolean {
    if (m <= 0) return true;
    const c = this.#cellM;
    const cx = Math.floor(x / c), cy = Math.floor(y / c);
    const k = Math.min(Math.ceil(radiusM / c), this.#ringLimit(cx, cy));
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
    for (let a = Math.max(cx - k, this.#bx0); a <= Math.min(cx + k, this.#bx1); a++) {
      for (let b = Math.max(cy - k, this.#by0); b <= Math.min(cy + k, this.#by1); b++) {
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
    const maxRing = Math.min(Math.ceil(maxRadiusM / c), this.#ringLimit(cx, cy));
    // The k best so far in a bounded max-heap keyed by (squared distance, index).
    const heapD = new Float64Array(k), heapI = new Int32Array(k);
    let size = 0;
    const worse = (a: number, b: number) => heapD[a]! > heapD[b]! || (heapD[a] === heapD[b] && heapI[a]! > heapI[b]!);
    const swap = (a: number, b: number) => {
      const d = heapD[a]!, i = heapI[a]!;
      heapD[a] = heapD[b]!; heapI[a] = heapI[b]!; heapD[b] = d; heapI[b] = i;
    };
    const offer = (d2: number, i: number) => {
      if (size < k) {
        heapD[size] = d2; heapI[size] = i;
        for (let j = size++; j > 0;) {
          const p = (j - 1) >> 1;
          if (!worse(j, p)) break;
          swap(j, p);
          j = p;
        }
        return;
      }
      if (d2 > heapD[0]! || (d2 === heapD[0] && i > heapI[0]!)) return;
      heapD[0] = d2; heapI[0] = i;
      for (let j = 0; ;) {
        const l = 2 * j + 1, r = l + 1;
        let m = j;
        if (l < size && worse(l, m)) m = l;
        if (r < size && worse(r, m)) m = r;
        if (m === j) break;
        swap(j, m);
        j = m;
      }
    };
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
            if (d2 <= r2) offer(d2, i);
          }
        }
      }
      // Every point not yet visited lies at least ring × c away (the query sits inside the centre
      // bucket); strictly nearer than that, the k-th cannot change, ties included.
      if (size === k && heapD[0]! < (ring * c) * (ring * c)) break;
    }
    const out: Neighbour[] = new Array(size);
    for (let j = 0; j < size; j++) out[j] = { index: heapI[j]!, distanceM: Math.sqrt(heapD[j]!) };
    return out.sort(byDistance);
  }
}

function byDistance(a: Neighbour, b: Neighbour): number {
  return a.distanceM - b.distanceM || a.index - b.index;
}
