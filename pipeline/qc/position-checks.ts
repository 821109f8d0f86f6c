/** Checks of where observations are: isolation (titanlib's `isolation_check`) and shared coordinates. Pure. */
import { bucketSizeFor, PointIndex } from '../space/point-index.ts';
import type { PlanePoints } from '../analysis/oi.ts';
import { FLAG_BAD } from './reasons.ts';

/** 1 where fewer than `numMin` other observations lie within `radiusM` [m]: it cannot be verified by neighbours. */
export function isolationCheck(points: PlanePoints, numMin: number, radiusM: number): Uint8Array {
  const n = points.x.length;
  const flags = new Uint8Array(n);
  const index = new PointIndex(points.x, points.y, Math.min(radiusM, bucketSizeFor(points.x, points.y)));
  for (let i = 0; i < n; i++) {
    // Itself and numMin others: stop counting there.
    if (!index.atLeast(points.x[i]!, points.y[i]!, radiusM, numMin + 1)) flags[i] = FLAG_BAD;
  }
  return flags;
}

/**
 * 1 for every observation that shares its coordinate (within `toleranceM` [m]) with another
 * sensor: several sensors on one spot are usually a default or placeholder location (CrowdQC's
 * first check), so none of them can be trusted to be where it says.
 * @param sensorKeys One key per observation; observations with the same key are the same sensor.
 */
export function sharedPositionCheck(points: PlanePoints, sensorKeys: readonly string[], toleranceM = 1): Uint8Array {
  const n = points.x.length;
  if (sensorKeys.length !== n) throw new RangeError(`points has ${n} entries, sensorKeys has ${sensorKeys.length}`);
  const flags = new Uint8Array(n);
  const index = new PointIndex(points.x, points.y, Math.max(toleranceM, 10));
  for (let i = 0; i < n; i++) {
    for (const nb of index.within(points.x[i]!, points.y[i]!, toleranceM)) {
      if (sensorKeys[nb.index] !== sensorKeys[i]) {
        flags[i] = FLAG_BAD;
        break;
      }
    }
  }
  return flags;
}
