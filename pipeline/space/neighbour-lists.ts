/**
 * Each point's nearest neighbours, found once per window and shared by the QC checks that need them
 * (buddy check, SCT, the records' neighbour statistics). A list holds up to `k` points within
 * `radiusM` (the point itself included when indexed), nearest first, ties by index; `complete[i]` says
 * the list holds every indexed point within the radius (fewer than k were there), so a check that must
 * skip some entries knows whether more could lie beyond. Pure.
 */
import { bucketSizeFor, PointIndex } from './point-index.ts';

export interface NeighbourLists {
  readonly k: number;
  readonly radiusM: number;
  /** Indices, nearest first. */
  readonly lists: readonly Int32Array[];
  /** Distances [m], matching `lists`. */
  readonly distancesM: readonly Float64Array[];
  readonly complete: Uint8Array;
  /** The index the lists came from (for the rare search beyond a list). */
  readonly index: PointIndex;
}

export function neighbourLists(x: Float64Array, y: Float64Array, k: number, radiusM: number, include?: (i: number) => boolean): NeighbourLists {
  const index = new PointIndex(x, y, bucketSizeFor(x, y), include);
  // One flat buffer for all lists; each list is a view of its slice.
  const idx = new Int32Array(x.length * k), dst = new Float64Array(x.length * k);
  const lists: Int32Array[] = new Array(x.length);
  const distancesM: Float64Array[] = new Array(x.length);
  const complete = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const from = i * k;
    const found = Number.isFinite(x[i]!) && Number.isFinite(y[i]!)
      ? index.nearestInto(x[i]!, y[i]!, k, radiusM, idx.subarray(from, from + k), dst.subarray(from, from + k))
      : 0;
    lists[i] = idx.subarray(from, from + found);
    distancesM[i] = dst.subarray(from, from + found);
    complete[i] = found < k ? 1 : 0;
  }
  return { k, radiusM, lists, distancesM, complete, index };
}
