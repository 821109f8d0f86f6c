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
  /** Indexed points grouped by bucket; a bucket's points are order[start, end). */
  #order = new Int32Array(0);
  /** The points' coordinates in #order's order: a bucket's scan reads memory in sequence. */
  #ox = new Float64Array(0);
  #oy = new Float64Array(0);
  /** Dense layout (the occupied box is small): the start of every bucket of the box, row by row, plus the end. */
  #start: Int32Array | null = null;
  /** Sparse layout: a bucket's key -> its [start, end) in #order. */
  readonly #sparse = new Map<number, number>();
  #ny = 0;
  /** End of the range the last #range call returned. */
  #end = 0;
  /** Scratch heap of nearestInto. */
  #heapD = new Float64Array(0);
  #heapI = new Int32Array(0);
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
    const bucketOf = new Float64Array(x.length).fill(NaN);
    let n = 0;
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!, yi = y[i]!;
      if (!Number.isFinite(xi) || !Number.isFinite(yi) || (include && !include(i))) continue;
      const bx = Math.floor(xi / cellM), by = Math.floor(yi / cellM);
      if (bx < this.#bx0) this.#bx0 = bx;
      if (bx > this.#bx1) this.#bx1 = bx;
      if (by < this.#by0) this.#by0 = by;
      if (by > this.#by1) this.#by1 = by;
      bucketOf[i] = this.#key(bx, by);
      n++;
    }
    if (n === 0) return;
    const nx = this.#bx1 - this.#bx0 + 1, ny = this.#by1 - this.#by0 + 1;
    this.#ny = ny;
    this.#order = new Int32Array(n);
    if (nx * ny <= 4 * n + 4096) {
      // Counting sort of the points by bucket, row by row over the occupied box.
      const start = new Int32Array(nx * ny + 1);
      const slot = new Int32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        if (Number.isNaN(bucketOf[i]!)) continue;
        const b = (Math.floor(x[i]! / cellM) - this.#bx0) * ny + (Math.floor(y[i]! / cellM) - this.#by0);
        slot[i] = b;
        start[b + 1]!++;
      }
      for (let b = 0; b < nx * ny; b++) start[b + 1]! += start[b]!;
      const fill = start.slice(0, nx * ny);
      for (let i = 0; i < x.length; i++) if (!Number.isNaN(bucketOf[i]!)) this.#order[fill[slot[i]!]!++] = i;
      this.#start = start;
    } else {
      // A few points over a wide box: only the occupied buckets, by key.
      const ids = Array.from({ length: x.length }, (_, i) => i).filter((i) => !Number.isNaN(bucketOf[i]!));
      ids.sort((a, b) => bucketOf[a]! - bucketOf[b]! || a - b);
      for (let j = 0; j < ids.length; j++) this.#order[j] = ids[j]!;
      for (let j = 0; j < ids.length; ) {
        const key = bucketOf[ids[j]!]!;
        let e = j;
        while (e < ids.length && bucketOf[ids[e]!] === key) e++;
        this.#sparse.set(key, j * 67_108_864 + e);
        j = e;
      }
    }
    this.#gather();
  }

  #gather(): void {
    const order = this.#order;
    this.#ox = Float64Array.from(order, (i) => this.#x[i]!);
    this.#oy = Float64Array.from(order, (i) => this.#y[i]!);
  }

  /** The start of bucket (a, b)'s range in #order; its end is left in #end (empty: start === end). */
  #range(a: number, b: number): number {
    if (a < this.#bx0 || a > this.#bx1 || b < this.#by0 || b > this.#by1) return (this.#end = 0);
    if (this.#start) {
      const q = (a - this.#bx0) * this.#ny + (b - this.#by0);
      this.#end = this.#start[q + 1]!;
      return this.#start[q]!;
    }
    const packed = this.#sparse.get(this.#key(a, b));
    if (packed === undefined) return (this.#end = 0);
    this.#end = packed % 67_108_864;
    return Math.floor(packed / 67_108_864);
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
        const order = this.#order;
        for (let j = this.#range(a, b), end = this.#end; j < end; j++) {
          const i = order[j]!;
          const dx = this.#ox[j]! - x, dy = this.#oy[j]! - y;
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
          for (let j = this.#range(a, b), end = this.#end; j < end; j++) {
            const dx = this.#ox[j]! - x, dy = this.#oy[j]! - y;
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
        for (let j = this.#range(a, b), end = this.#end; j < end; j++) {
          const dx = this.#ox[j]! - x, dy = this.#oy[j]! - y;
          if (dx * dx + dy * dy <= r2) n++;
        }
      }
    }
    return n;
  }

  /** The `k` nearest indexed points within `maxRadiusM`, nearest first (ties by index). */
  nearest(x: number, y: number, k: number, maxRadiusM: number): Neighbour[] {
    if (k <= 0) return [];
    const idx = new Int32Array(k), dist = new Float64Array(k);
    const n = this.nearestInto(x, y, k, maxRadiusM, idx, dist);
    const out: Neighbour[] = new Array(n);
    for (let j = 0; j < n; j++) out[j] = { index: idx[j]!, distanceM: dist[j]! };
    return out;
  }

  /**
   * As `nearest`, written into `outIndex` / `outDistanceM` (length >= k, nearest first); returns how
   * many were found. Allocation-free apart from its heap, for searches by the thousand.
   */
  nearestInto(x: number, y: number, k: number, maxRadiusM: number, outIndex: Int32Array, outDistanceM: Float64Array): number {
    if (k <= 0) return 0;
    const c = this.#cellM;
    const cx = Math.floor(x / c), cy = Math.floor(y / c);
    const r2 = maxRadiusM * maxRadiusM;
    const maxRing = Math.min(Math.ceil(maxRadiusM / c), this.#ringLimit(cx, cy));
    // The k best so far in a bounded max-heap keyed by (squared distance, index).
    if (this.#heapD.length < k) { this.#heapD = new Float64Array(k); this.#heapI = new Int32Array(k); }
    const heapD = this.#heapD, heapI = this.#heapI;
    let size = 0;
    const px = this.#ox, py = this.#oy;
    for (let ring = 0; ring <= maxRing; ring++) {
      for (let a = cx - ring; a <= cx + ring; a++) {
        const edge = a === cx - ring || a === cx + ring;
        // Only the ring's border buckets: full columns at its left and right edges, two cells elsewhere.
        for (let b = cy - ring; b <= cy + ring; b += edge ? 1 : 2 * ring || 1) {
          const order = this.#order;
          for (let j = this.#range(a, b), end = this.#end; j < end; j++) {
            const dx = px[j]! - x, dy = py[j]! - y;
            const d2 = dx * dx + dy * dy;
            if (d2 > r2) continue;
            const i = order[j]!;
            if (size < k) {
              // Sift up.
              let q = size++;
              while (q > 0) {
                const p = (q - 1) >> 1;
                if (heapD[p]! > d2 || (heapD[p] === d2 && heapI[p]! > i)) break;
                heapD[q] = heapD[p]!; heapI[q] = heapI[p]!;
                q = p;
              }
              heapD[q] = d2; heapI[q] = i;
            } else if (d2 < heapD[0]! || (d2 === heapD[0] && i < heapI[0]!)) {
              // Replace the worst and sift down.
              let q = 0;
              for (;;) {
                const l = 2 * q + 1, r = l + 1;
                let m = -1;
                let md = d2, mi = i;
                if (l < size && (heapD[l]! > md || (heapD[l] === md && heapI[l]! > mi))) { m = l; md = heapD[l]!; mi = heapI[l]!; }
                if (r < size && (heapD[r]! > md || (heapD[r] === md && heapI[r]! > mi))) { m = r; md = heapD[r]!; mi = heapI[r]!; }
                if (m < 0) break;
                heapD[q] = md; heapI[q] = mi;
                q = m;
              }
              heapD[q] = d2; heapI[q] = i;
            }
          }
        }
      }
      // Every point not yet visited lies at least ring × c away (the query sits inside the centre
      // bucket); strictly nearer than that, the k-th cannot change, ties included.
      if (size === k && heapD[0]! < (ring * c) * (ring * c)) break;
    }
    // Heap order to nearest first: pop the worst into the back.
    for (let n = size; n > 0; n--) {
      const d = heapD[0]!, i = heapI[0]!;
      outDistanceM[n - 1] = Math.sqrt(d);
      outIndex[n - 1] = i;
      const lastD = heapD[n - 1]!, lastI = heapI[n - 1]!;
      let q = 0;
      const m = n - 1;
      for (;;) {
        const l = 2 * q + 1, r = l + 1;
        let best = -1, bd = lastD, bi = lastI;
        if (l < m && (heapD[l]! > bd || (heapD[l] === bd && heapI[l]! > bi))) { best = l; bd = heapD[l]!; bi = heapI[l]!; }
        if (r < m && (heapD[r]! > bd || (heapD[r] === bd && heapI[r]! > bi))) { best = r; bd = heapD[r]!; bi = heapI[r]!; }
        if (best < 0) break;
        heapD[q] = bd; heapI[q] = bi;
        q = best;
      }
      heapD[q] = lastD; heapI[q] = lastI;
    }
    return size;
  }
}

function byDistance(a: Neighbour, b: Neighbour): number {
  return a.distanceM - b.distanceM || a.index - b.index;
}
