/**
 * Tests of one sensor's series in time: step (a change faster than air temperature can make),
 * spike (a jump and a return), flat line (a stuck sensor). The series continues across windows
 * through a small track of the last accepted reading and the current run of equal values. Pure.
 */
import { REASON_CODE } from './reasons.ts';
import { HOUR_MS } from '../../infra/time.ts';

export interface SensorTrack {
  /** Time [epoch ms] and value [°C] of the last accepted reading; NaN before the first. */
  lastTimeMs: number;
  lastTempC: number;
  /** The current run of equal values: its value, when it began, how many readings it holds. */
  flatValueC: number;
  flatSinceMs: number;
  flatCount: number;
}

export const EMPTY_TRACK: Readonly<SensorTrack> = Object.freeze({ lastTimeMs: NaN, lastTempC: NaN, flatValueC: NaN, flatSinceMs: NaN, flatCount: 0 });

export interface TemporalOptions {
  /** A change up to this is never a step [K]. */
  stepBaseK: number;
  /** Plus this per hour between the readings [K/h]. */
  stepRateKPerH: number;
  /** Readings further apart than this are not compared [ms]. */
  stepMaxGapMs: number;
  /** A spike: a jump of more than this [K] away and back within `spikeMaxSpanMs`. */
  spikeK: number;
  spikeMaxSpanMs: number;
  /** A flat line: equal values (within `flatToleranceK`) for at least this long and this many readings. */
  flatMinDurationMs: number;
  flatMinCount: number;
  flatToleranceK: number;
}

export const DEFAULT_TEMPORAL: Readonly<TemporalOptions> = Object.freeze({
  stepBaseK: 5,
  stepRateKPerH: 10,
  stepMaxGapMs: 3 * HOUR_MS,
  spikeK: 3,
  spikeMaxSpanMs: HOUR_MS / 2,
  flatMinDurationMs: 6 * HOUR_MS,
  flatMinCount: 5,
  flatToleranceK: 1e-6,
});

/**
 * Checks one sensor's readings (sorted by time) that passed the earlier checks; `reasons[k]` is left
 * 0 (ok) or set to the step, spike or flatline code. Returns the track after these readings.
 */
export function temporalChecks(timeMs: ArrayLike<number>, tempC: ArrayLike<number>, track: Readonly<SensorTrack>, o: TemporalOptions, reasons: Uint8Array): SensorTrack {
  const n = timeMs.length;
  if (tempC.length !== n || reasons.length !== n) throw new RangeError(`timeMs has ${n} entries, tempC ${tempC.length}, reasons ${reasons.length}`);
  const t: SensorTrack = { ...track };
  for (let k = 0; k < n; k++) {
    const tk = timeMs[k]!, vk = tempC[k]!;
    // Spike: up (or down) from the previous reading and back at the next one, within a short span.
    if (k + 1 < n && Number.isFinite(t.lastTimeMs) && timeMs[k + 1]! - t.lastTimeMs <= o.spikeMaxSpanMs) {
      const up = vk - t.lastTempC, back = tempC[k + 1]! - vk;
      if (Math.abs(up) > o.spikeK && Math.abs(back) > o.spikeK && Math.sign(up) !== Math.sign(back) && Math.abs(tempC[k + 1]! - t.lastTempC) < o.spikeK / 2) {
        reasons[k] = REASON_CODE.spike;
        continue;
      }
    }
    // Step: against the last accepted reading.
    if (Number.isFinite(t.lastTimeMs)) {
      const gap = tk - t.lastTimeMs;
      if (gap > 0 && gap <= o.stepMaxGapMs && Math.abs(vk - t.lastTempC) > o.stepBaseK + (o.stepRateKPerH * gap) / HOUR_MS) {
        reasons[k] = REASON_CODE.step;
        continue;
      }
    }
    // Flat line: extend or restart the run of equal values.
    if (Number.isFinite(t.flatValueC) && Math.abs(vk - t.flatValueC) <= o.flatToleranceK) t.flatCount++;
    else {
      t.flatValueC = vk;
      t.flatSinceMs = tk;
      t.flatCount = 1;
    }
    t.lastTimeMs = tk;
    t.lastTempC = vk;
    if (t.flatCount >= o.flatMinCount && tk - t.flatSinceMs >= o.flatMinDurationMs) reasons[k] = REASON_CODE.flatline;
  }
  return t;
}
