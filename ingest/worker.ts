/**
 * The ingest worker: consumes readings and background forecasts from the bus, validates them,
 * assigns each reading its H3 cell, writes batches idempotently to the store, and sends what it
 * cannot accept to the dead-letter topic and table with the cause. Offsets are committed only after
 * the store has committed the batch's transaction (at-least-once; the (sensor id, time) key makes
 * redelivery harmless, so a batch replayed after a crash or a rebalance is stored once).
 *
 * Backpressure: each subscription hands over one batch at a time and fetches the next only once the
 * handler's transaction has committed, so a slow store slows consumption and the backlog waits in
 * the log (Kafka, or the in-process log, which keeps what is uncommitted) rather than in memory.
 * Shutdown (`stop`) lets the batches in flight finish and commit, then leaves the groups.
 *
 * The sensors table is told about a sensor inside the batch's transaction when it is new to this
 * worker or has moved; that it was seen again (last_seen) is only remembered, and written for all
 * such sensors together every `sensorFlushMs` (and at stop). Updating 2,000 sensors' last_seen with
 * every batch cost more than inserting the batch's readings; last_seen is advisory (the exact last
 * reading is in readings), and a crash loses at most one interval of it, which the next readings
 * restore.
 */
import type { Bus, MessageBatch, Subscription } from '../infra/bus/index.ts';
import type { Store } from '../infra/store/index.ts';
import type { Logger } from '../infra/log.ts';
import { writeReadings, upsertSensors, DEFAULT_CHUNK_ROWS, type ReadingRow, type SensorRow, upsertBackground, type BackgroundRow, insertDeadLetters, type DeadLetter } from '../infra/store/index.ts';
import { cellOf } from '../infra/geo/index.ts';
import { decodeBackground, decodeReadings } from './reading.ts';
import type { Topics } from './topics.ts';

/** How often sensors' last_seen is written [ms] (default of IngestOptions.sensorFlushMs). */
export const SENSOR_FLUSH_MS = 10_000;
/** Sensors the worker remembers (beyond this it starts over: each then costs one upsert again). */
const MAX_SEEN_SENSORS = 1_000_000;
/** Positions whose cell the worker remembers (beyond this it starts over). */
const MAX_CACHED_CELLS = 200_000;

/**
 * The H3 cell of a position, remembered: stations report again and again from the same place, and
 * the lookup costs a fraction of the H3 computation. Keyed by latitude, then longitude (exact numbers).
 */
function cellCache(resolution: number): (p: { lat: number; lon: number }) => string {
  let byLat = new Map<number, Map<number, string>>();
  let size = 0;
  return (p) => {
    let byLon = byLat.get(p.lat);
    const hit = byLon?.get(p.lon);
    if (hit !== undefined) return hit;
    if (size >= MAX_CACHED_CELLS) {
      byLat = new Map();
      size = 0;
      byLon = undefined;
    }
    if (!byLon) byLat.set(p.lat, (byLon = new Map()));
    const cell = cellOf(p, resolution);
    byLon.set(p.lon, cell);
    size++;
    return cell;
  };
}

interface SensorSeen {
  lat: number;
  lon: number;
  elevationM: number | null;
}

export interface IngestOptions {
  bus: Bus;
  store: Store;
  log: Logger;
  topics: Topics;
  groupId: string;
  resolution: number;
  maxBatch: number;
  now?: () => number;
  /**
   * Called after a readings batch's transaction has committed and before its offset is committed on
   * the bus (so what it reports is at least what the bus has committed): for progress and lag.
   */
  onStored?: (batch: { topic: string; partition: number; nextOffset: string; inserted: number }) => void;
  /** How often sensors' last_seen is written [ms] (default SENSOR_FLUSH_MS). */
  sensorFlushMs?: number;
}

export interface IngestStats {
  readings: number;
  inserted: number;
  background: number;
  deadLetters: number;
}

export interface IngestWorker {
  readonly stats: IngestStats;
  /** Resolves once both subscriptions have joined their groups. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
  /**
   * Waits, at most `timeoutMs`, until the bus holds nothing this worker has not stored, where the bus
   * can tell (the in-process log, lost with its process); returns the messages left.
   */
  drain(timeoutMs: number): Promise<number>;
}

export async function startIngestWorker(o: IngestOptions): Promise<IngestWorker> {
  const now = o.now ?? Date.now;
  const stats: IngestStats = { readings: 0, inserted: 0, background: 0, deadLetters: 0 };
  /** Where the sensors table has each sensor (as this worker last wrote it). */
  const seen = new Map<string, SensorSeen>();
  /** Sensors seen again since the last flush, with their newest sighting. */
  let sightings = new Map<string, SensorRow>();
  const isNewOrMoved = (r: SensorRow): boolean => {
    const s = seen.get(r.sensorId);
    return !s || s.lat !== r.lat || s.lon !== r.lon || s.elevationM !== r.elevationM;
  };
  let flushing: Promise<void> = Promise.resolve();
  const flushSightings = (): Promise<void> => {
    flushing = flushing.then(async () => {
      if (sightings.size === 0) return;
      const rows = [...sightings.values()];
      sightings = new Map();
      try {
        await upsertSensors(o.store, rows);
      } catch (err) {
        log.warn({ err, sensors: rows.length }, 'writing sensors last_seen failed; will try again');
        for (const r of rows) if (!sightings.has(r.sensorId)) sightings.set(r.sensorId, r);
      }
    });
    return flushing;
  };
  const flushTimer = setInterval(() => void flushSightings(), o.sensorFlushMs ?? SENSOR_FLUSH_MS);
  flushTimer.unref();
  const log = o.log.child({ role: 'ingest' });

  /**
   * Whether the next readings batch is appended with a plain COPY first (where the store can): after
   * a batch that met readings already stored (a redelivery), batches are written the idempotent way
   * until one is all new again, so a run of redelivered batches does not pay for a failed COPY each.
   */
  let copyFirst = true;
  const cellAt = cellCache(o.resolution);

  type Letter = DeadLetter & { offset: string };
  const letterOf = (batch: MessageBatch, offset: string, value: Uint8Array | string, reason: string): Letter => ({
    source: `${batch.topic}/${batch.partition}@${offset}`, reason, payload: (typeof value === 'string' ? value : Buffer.from(value).toString('utf8')).slice(0, 4000), offset,
  });
  /** Refused elements of a message of several readings: one letter with the reasons and those elements. */
  const REASONS_SHOWN = 5;
  const elementsLetter = (batch: MessageBatch, offset: string, refused: { reason: string; value?: unknown }[]): Letter => {
    const shown = refused.slice(0, REASONS_SHOWN).map((r) => r.reason).join('; ');
    const more = refused.length > REASONS_SHOWN ? `; and ${refused.length - REASONS_SHOWN} more` : '';
    let payload: string;
    try {
      payload = JSON.stringify(refused.map((r) => r.value)) ?? 'null';
    } catch {
      payload = '(unprintable)';
    }
    return letterOf(batch, offset, payload, `${refused.length} of the message's readings refused: ${shown}${more}`);
  };

  /**
   * Dead letters go to the topic first, then into the table in the same transaction as the batch's
   * good records: a redelivered batch may repeat them on the topic (at-least-once) but never in the table.
   */
  async function publishDeadLetters(batch: MessageBatch, letters: Letter[]): Promise<void> {
    if (letters.length === 0) return;
    await o.bus.publish(o.topics.deadLetters, letters.map((l) => ({
      key: l.source,
      value: new TextEncoder().encode(JSON.stringify({ reason: l.reason, topic: batch.topic, partition: batch.partition, offset: l.offset, payload: l.payload })),
    })));
  }

  function counted(batch: MessageBatch, letters: Letter[]): void {
    if (letters.length === 0) return;
    stats.deadLetters += letters.length;
    log.warn({ topic: batch.topic, partition: batch.partition, count: letters.length, firstReason: letters[0]?.reason }, 'dead-lettered records');
  }

  async function onReadings(batch: MessageBatch): Promise<void> {
    const t = now();
    const rows: ReadingRow[] = [];
    const sensors = new Map<string, SensorRow>();
    const bad: Letter[] = [];
    for (const m of batch.messages) {
      const d = decodeReadings(m.value, t);
      if (d.refused.length > 0) {
        const whole = d.refused[0]!.index === null;
        bad.push(whole ? letterOf(batch, m.offset, m.value, d.refused[0]!.reason) : elementsLetter(batch, m.offset, d.refused));
      }
      for (const r of d.readings) {
        rows.push({ sensorId: r.sensorId, timeMs: r.timeMs, kind: r.kind, lat: r.lat, lon: r.lon, elevationM: r.elevationM, cell: cellAt(r), tempC: r.tempC, humidityPct: r.humidityPct, pressureHpa: r.pressureHpa });
        const prev = sensors.get(r.sensorId);
        if (!prev || prev.lastSeenMs <= r.timeMs) sensors.set(r.sensorId, { sensorId: r.sensorId, kind: r.kind, lat: r.lat, lon: r.lon, elevationM: r.elevationM, lastSeenMs: r.timeMs });
      }
    }
    await publishDeadLetters(batch, bad);
    const changed = [...sensors.values()].filter(isNewOrMoved);
    // One statement is atomic by itself: the common batch (no dead letters, no new sensors, one chunk)
    // skips BEGIN and COMMIT, which for small batches cost as much as the insert.
    const single = bad.length === 0 && changed.length === 0 && rows.length <= DEFAULT_CHUNK_ROWS;
    const written = single
      ? await writeReadings(o.store, rows, { copy: copyFirst })
      : await o.store.transaction(async (tx) => {
          await insertDeadLetters(tx, bad);
          if (rows.length === 0) return { inserted: 0, unique: 0, conflicted: false };
          if (changed.length > 0) await upsertSensors(tx, changed);
          return writeReadings(tx, rows, { copy: copyFirst });
        });
    const inserted = written.inserted;
    copyFirst = written.inserted === written.unique;
    for (const c of changed) {
      if (!seen.has(c.sensorId) && seen.size >= MAX_SEEN_SENSORS) seen.clear();
      seen.set(c.sensorId, { lat: c.lat, lon: c.lon, elevationM: c.elevationM });
    }
    for (const r of sensors.values()) {
      const prev = sightings.get(r.sensorId);
      if (!prev || prev.lastSeenMs < r.lastSeenMs) sightings.set(r.sensorId, r);
    }
    counted(batch, bad);
    stats.readings += rows.length;
    stats.inserted += inserted;
    const last = batch.messages[batch.messages.length - 1];
    if (last && o.onStored) o.onStored({ topic: batch.topic, partition: batch.partition, nextOffset: (BigInt(last.offset) + 1n).toString(), inserted });
    log.debug({ partition: batch.partition, received: batch.messages.length, inserted, rejected: bad.length }, 'readings batch stored');
  }

  async function onBackground(batch: MessageBatch): Promise<void> {
    const rows: BackgroundRow[] = [];
    const bad: Letter[] = [];
    for (const m of batch.messages) {
      const d = decodeBackground(m.value);
      if (d.ok) rows.push(d.value);
      else bad.push(letterOf(batch, m.offset, m.value, d.reason));
    }
    await publishDeadLetters(batch, bad);
    await o.store.transaction(async (tx) => {
      await insertDeadLetters(tx, bad);
      await upsertBackground(tx, rows);
    });
    counted(batch, bad);
    stats.background += rows.length;
  }

  const subs: Subscription[] = [
    await o.bus.subscribe({ groupId: o.groupId, topic: o.topics.readings, handler: onReadings, fromBeginning: true, maxBatchSize: o.maxBatch }),
    await o.bus.subscribe({ groupId: `${o.groupId}.background`, topic: o.topics.background, handler: onBackground, fromBeginning: true, maxBatchSize: o.maxBatch }),
  ];
  const ready = Promise.all(subs.map((s) => s.ready)).then(() => undefined);
  return {
    stats,
    ready,
    async drain(timeoutMs: number) {
      const left = () => (o.bus.backlog?.(o.groupId, o.topics.readings) ?? 0) + (o.bus.backlog?.(`${o.groupId}.background`, o.topics.background) ?? 0);
      const end = performance.now() + timeoutMs;
      while (left() > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
      return left();
    },
    async stop() {
      await Promise.all(subs.map((s) => s.close()));
      clearInterval(flushTimer);
      await flushSightings();
    },
  };
}
