/**
 * A fixed-bin histogram of values [K] that shards of a window can build apart and merge exactly
 * (integer counts in fixed bins), so a window-wide median does not depend on how the window was
 * split. Resolution 0.01 K over ±40 K; values outside are clamped to the end bins. Pure.
 */

export const HISTOGRAM_MIN_K = -40;
export const HISTOGRAM_BIN_K = 0.01;
export const HISTOGRAM_BINS = 8001;

export class ValueHistogram {
  readonly counts: Int32Array;
  #n = 0;

  constructor(counts?: Int32Array) {
    if (counts && counts.length !== HISTOGRAM_BINS) throw new RangeError(`a histogram has ${HISTOGRAM_BINS} bins, got ${counts.length}`);
    this.counts = counts ? Int32Array.from(counts) : new Int32Array(HISTOGRAM_BINS);
    for (const c of this.counts) this.#n += c;
  }

  get n(): number {
    return this.#n;
  }

  static binOf(valueK: number): number {
    const b = Math.round((valueK - HISTOGRAM_MIN_K) / HISTOGRAM_BIN_K);
    return Math.min(HISTOGRAM_BINS - 1, Math.max(0, b));
  }

  static valueOf(bin: number): number {
    return HISTOGRAM_MIN_K + bin * HISTOGRAM_BIN_K;
  }

  add(valueK: number): void {
    if (!Number.isFinite(valueK)) return;
    this.counts[ValueHistogram.binOf(valueK)]!++;
    this.#n++;
  }

  merge(other: ValueHistogram): void {
    for (let b = 0; b < HISTOGRAM_BINS; b++) this.counts[b]! += other.counts[b]!;
    this.#n += other.n;
  }

  /** The median (the mean of the two middle values for an even count) at the bins' resolution; NaN when empty. */
  median(): number {
    if (this.#n === 0) return NaN;
    const lo = this.#rank((this.#n - 1) >> 1), hi = this.#rank(this.#n >> 1);
    return (ValueHistogram.valueOf(lo) + ValueHistogram.valueOf(hi)) / 2;
  }

  /** The mean at the bins' resolution, summed in bin order (so it does not depend on how counts were merged); NaN when empty. */
  mean(): number {
    if (this.#n === 0) return NaN;
    let sum = 0;
    for (let b = 0; b < HISTOGRAM_BINS; b++) if (this.counts[b]) sum += this.counts[b]! * ValueHistogram.valueOf(b);
    return sum / this.#n;
  }

  /** The median absolute deviation from the median [K]; NaN when empty. */
  mad(): number {
    if (this.#n === 0) return NaN;
    const med = this.median();
    const dev = new Map<number, number>();
    for (let b = 0; b < HISTOGRAM_BINS; b++) {
      const c = this.counts[b]!;
      if (c === 0) continue;
      const d = Math.round(Math.abs(ValueHistogram.valueOf(b) - med) / (HISTOGRAM_BIN_K / 2));
      dev.set(d, (dev.get(d) ?? 0) + c);
    }
    const sorted = [...dev.entries()].sort((a, b) => a[0] - b[0]);
    const target = (this.#n - 1) / 2;
    let seen = 0;
    for (const [d, c] of sorted) {
      seen += c;
      if (seen > target) return (d * HISTOGRAM_BIN_K) / 2;
    }
    return NaN;
  }

  #rank(k: number): number {
    let seen = 0;
    for (let b = 0; b < HISTOGRAM_BINS; b++) {
      seen += this.counts[b]!;
      if (seen > k) return b;
    }
    return HISTOGRAM_BINS - 1;
  }
}
