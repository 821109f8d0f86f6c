/**
 * What the batch's quality control made of one station lately, for its owner: the reason code of each
 * of its readings in the windows the batch still keeps (flags blobs of its shard, about the last hour),
 * and its record as the newest window left it (reliability, offset from its neighbours, daytime warm
 * excess, whether it behaves like an indoor sensor). Reads the batch's own artefacts; nothing is
 * stored for it.
 *
 * A station belongs to the shard of its position's cell (as the map stage assigns it), so only that
 * shard's blobs are read.
 */
import { cellOf, parentOf } from '../infra/geo/index.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { newestShardBlob, shardBlobsSince, type Queryable } from '../infra/store/index.ts';
import { decodeFlags, decodeRecords } from './artefacts.ts';
import { DEFAULT_QC } from './qc/defaults.ts';
import { QC_REASONS, reasonName, type QcReason } from './qc/reasons.ts';
import { looksIndoor, radiationExcessK } from './qc/sensor-record.ts';

export interface StationQuality {
  /** The shard whose artefacts were read. */
  shard: string;
  /** The windows read: (sinceMs, untilMs]; untilMs is the newest with flags (null: none yet). */
  sinceMs: number;
  untilMs: number | null;
  /** The station's readings in those windows, oldest first, with their QC reason (`ok` passed). */
  readings: { timeMs: number; reason: QcReason }[];
  /** Readings per reason (every reason listed, zeros included). */
  reasons: Record<QcReason, number>;
  /** The station's record as the newest window left it; null before the batch has seen it. */
  record: {
    windows: number;
    /** Recent-weighted share of its readings that passed QC (its weight in the analysis follows it). */
    reliability: number;
    /** Its readings minus its neighbours' [K], recent-weighted; null while too little is known. */
    offsetK: number | null;
    /** Its daytime deviation from its neighbours beyond its night-time one [K] (sun on the case); null while unknown. */
    daytimeExcessK: number | null;
    /** Whether it behaves like an indoor sensor (too small a diurnal range, poor correlation with its neighbours). */
    indoorLike: boolean;
    lastSeenMs: number | null;
  } | null;
}

export async function stationQuality(q: Queryable, o: { stationId: string; lat: number; lon: number; resolution: number; shardResolution: number; sinceMs: number }): Promise<StationQuality> {
  const shard = parentOf(cellOf({ lat: o.lat, lon: o.lon }, o.resolution), o.shardResolution);
  const [flagBlobs, newest] = await Promise.all([shardBlobsSince(q, 'flags', shard, o.sinceMs), newestShardBlob(q, 'records', shard)]);
  const reasons = Object.fromEntries(QC_REASONS.map((r) => [r, 0])) as Record<QcReason, number>;
  const readings: StationQuality['readings'] = [];
  for (const [k, b] of flagBlobs.entries()) {
    // A shard's window holds up to hundreds of thousands of flags: a turn for other work between windows.
    if (k > 0) await nextTurn();
    const f = decodeFlags(b.body);
    for (let i = 0; i < f.sensorId.length; i++) {
      if (f.sensorId[i] !== o.stationId) continue;
      const reason = reasonName(f.reason[i]!);
      readings.push({ timeMs: f.timeMs[i]!, reason });
      reasons[reason]++;
    }
  }
  readings.sort((a, b) => a.timeMs - b.timeMs);
  const decoded = newest ? decodeRecords(newest.body) : null;
  const r = decoded?.records.get(o.stationId);
  const excess = r ? radiationExcessK(r, DEFAULT_QC.radiation) : NaN;
  const seen = decoded?.lastSeenMs.get(o.stationId);
  return {
    shard,
    sinceMs: o.sinceMs,
    untilMs: flagBlobs.at(-1)?.windowEndMs ?? null,
    readings,
    reasons,
    record: r ? {
      windows: r.windows,
      reliability: r.reliability,
      offsetK: r.offsetWeight > 0 && Number.isFinite(r.offsetK) ? r.offsetK : null,
      daytimeExcessK: Number.isFinite(excess) ? excess : null,
      indoorLike: looksIndoor(r, DEFAULT_QC.indoor),
      lastSeenMs: seen !== undefined && Number.isFinite(seen) ? seen : null,
    } : null,
  };
}
