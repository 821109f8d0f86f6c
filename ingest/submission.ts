/**
 * Submission: every way a reading arrives over HTTP (JSON, Weather-Underground, Ecowitt, Sensor.Community, Arrow bulk)
 * ends here as one canonical reading (°C, UTC epoch ms, the station's id, kind and registered
 * position), checked, de-duplicated, and produced to readings.v1 keyed by its H3 parent cell.
 *
 * Checks (pure): the time lies within [now - backlog horizon, now + MAX_FUTURE_MS]; the temperature
 * within TEMP_MIN_C..TEMP_MAX_C; humidity 0..100 %; pressure 300..1100 hPa. A problem names the
 * field and the reason. Exact duplicates (same station and time) inside one submission are dropped
 * here; across submissions the store's (sensor id, time) key keeps the first and drops the rest.
 */
import type { Bus, OutgoingMessage } from '../infra/bus/index.ts';
import { encodeReadings, MAX_FUTURE_MS, MAX_READINGS_PER_MESSAGE, TEMP_MAX_C, TEMP_MIN_C, type Reading } from './reading.ts';
import { partitionKey } from './topics.ts';
import type { RefusalReason } from './refusals.ts';

/** What a submission says about one moment at one station (already in °C, hPa, %, epoch ms). */
export interface SubmittedValue {
  timeMs: number;
  tempC: number;
  humidityPct: number | null;
  pressureHpa: number | null;
}

/** Where a registered station stands, as the registry says. */
export interface StationPosition {
  stationId: string;
  kind: 'official' | 'amateur';
  lat: number;
  lon: number;
  elevationM: number | null;
}

export interface ValueProblem {
  /** The field at fault, in the submission's own vocabulary (e.g. `readings[3].time`, `tempf`). */
  field: string;
  reason: RefusalReason;
  message: string;
}

export const HUMIDITY_MIN_PCT = 0;
export const HUMIDITY_MAX_PCT = 100;
/** Station- or sea-level pressure anywhere a person lives [hPa] (Everest summit ~310, records ~1084). */
export const PRESSURE_MIN_HPA = 300;
export const PRESSURE_MAX_HPA = 1100;

export interface CheckOptions {
  nowMs: number;
  /** How far back a reading may lie [ms] (the backlog horizon). */
  backlogMs: number;
  /** Field names for messages (defaults: time, temperature, humidity, pressure). */
  names?: Partial<Record<'time' | 'temp' | 'humidity' | 'pressure', string>>;
}

/** The first problem with a value, or null when it may be accepted. Pure. */
export function checkValue(v: SubmittedValue, o: CheckOptions): ValueProblem | null {
  const n = { time: 'time', temp: 'temperature', humidity: 'humidity', pressure: 'pressure', ...o.names };
  if (!Number.isFinite(v.timeMs)) return { field: n.time, reason: 'malformed', message: 'not a valid time' };
  if (v.timeMs > o.nowMs + MAX_FUTURE_MS) return { field: n.time, reason: 'in_future', message: `${new Date(v.timeMs).toISOString()} is more than ${MAX_FUTURE_MS / 60_000} min in the future` };
  if (v.timeMs < o.nowMs - o.backlogMs) return { field: n.time, reason: 'too_old', message: `${new Date(v.timeMs).toISOString()} is older than the backlog horizon (${Math.round(o.backlogMs / 3_600_000)} h)` };
  if (!Number.isFinite(v.tempC)) return { field: n.temp, reason: 'malformed', message: 'not a number' };
  if (v.tempC < TEMP_MIN_C || v.tempC > TEMP_MAX_C) return { field: n.temp, reason: 'impossible_value', message: `${round(v.tempC)} °C is outside ${TEMP_MIN_C}..${TEMP_MAX_C} °C` };
  if (v.humidityPct !== null) {
    if (!Number.isFinite(v.humidityPct)) return { field: n.humidity, reason: 'malformed', message: 'not a number' };
    if (v.humidityPct < HUMIDITY_MIN_PCT || v.humidityPct > HUMIDITY_MAX_PCT) return { field: n.humidity, reason: 'impossible_value', message: `${round(v.humidityPct)} % is outside 0..100 %` };
  }
  if (v.pressureHpa !== null) {
    if (!Number.isFinite(v.pressureHpa)) return { field: n.pressure, reason: 'malformed', message: 'not a number' };
    if (v.pressureHpa < PRESSURE_MIN_HPA || v.pressureHpa > PRESSURE_MAX_HPA) return { field: n.pressure, reason: 'impossible_value', message: `${round(v.pressureHpa)} hPa is outside ${PRESSURE_MIN_HPA}..${PRESSURE_MAX_HPA} hPa` };
  }
  return null;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** The canonical reading of a station's value (times to the whole millisecond). */
export function canonicalReading(s: StationPosition, v: SubmittedValue): Reading {
  return {
    sensorId: s.stationId,
    timeMs: Math.round(v.timeMs),
    kind: s.kind,
    lat: s.lat,
    lon: s.lon,
    elevationM: s.elevationM,
    tempC: v.tempC,
    humidityPct: v.humidityPct,
    pressureHpa: v.pressureHpa,
  };
}

/**
 * The readings with the first of each (station, time) kept; returns them and how many were dropped.
 * `seen` carries the keys across calls (a submission checked in parts).
 */
export function dropDuplicates(readings: readonly Reading[], seen = new Set<string>()): { unique: Reading[]; duplicates: number } {
  const unique: Reading[] = [];
  for (const r of readings) {
    const k = `${r.sensorId}\u0000${r.timeMs}`;
    if (seen.has(k)) continue;
    seen.add(k);
    unique.push(r);
  }
  return { unique, duplicates: readings.length - unique.length };
}

/**
 * The messages of readings: keyed by the H3 parent cell of each reading's position, the readings of
 * one key together (in their order) in messages of at most `perMessage` readings (one reading: a
 * plain object). A message costs the producer, the broker and the consumer the same whatever it
 * carries, so a submission of many readings costs a few messages rather than one per reading.
 */
export function readingMessages(readings: readonly Reading[], partitionResolution: number, perMessage = MAX_READINGS_PER_MESSAGE): OutgoingMessage[] {
  if (!Number.isInteger(perMessage) || perMessage < 1) throw new RangeError(`perMessage must be a positive integer, got ${perMessage}`);
  const byKey = new Map<string, Reading[]>();
  // A submission holds few positions (its stations), often interleaved (readings in time order):
  // each position's key is computed once, and consecutive readings at one position skip the lookup.
  const keyAt = new Map<number, Map<number, string>>();
  let last: { lat: number; lon: number; group: Reading[] } | undefined;
  for (const r of readings) {
    if (!last || last.lat !== r.lat || last.lon !== r.lon) {
      let byLon = keyAt.get(r.lat);
      if (!byLon) keyAt.set(r.lat, (byLon = new Map()));
      let key = byLon.get(r.lon);
      if (key === undefined) byLon.set(r.lon, (key = partitionKey(r, partitionResolution)));
      let group = byKey.get(key);
      if (!group) byKey.set(key, (group = []));
      last = { lat: r.lat, lon: r.lon, group };
    }
    last.group.push(r);
  }
  const out: OutgoingMessage[] = [];
  for (const [key, group] of byKey) {
    for (let i = 0; i < group.length; i += perMessage) out.push({ key, value: encodeReadings(group.slice(i, i + perMessage)) });
  }
  return out;
}

/**
 * Most bytes (keys and values) in one bus send. Kafka refuses a record batch over the broker's
 * message.max.bytes (1 MiB by default), and one send puts each partition's share into one batch, so a
 * send stays well below it whatever the partitions' shares.
 */
export const MAX_SEND_BYTES = 512 * 1024;

const messageBytes = (m: OutgoingMessage) => m.value.byteLength + m.key.length + 16;

/** Splits messages into consecutive runs of at most `maxBytes` (a message larger than that alone). */
export function chunkByBytes(messages: readonly OutgoingMessage[], maxBytes = MAX_SEND_BYTES): OutgoingMessage[][] {
  const out: OutgoingMessage[][] = [];
  let cur: OutgoingMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const b = messageBytes(m);
    if (cur.length > 0 && bytes + b > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(m);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** How long a submission waits for the bus's acknowledgement before it is answered "unavailable" [ms]. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5000;

/**
 * The bus did not take a submission: it failed the send (a broker unreachable, retries exhausted) or
 * did not acknowledge it in time (PublishTimeoutError). Nothing was stored on its behalf that a retry
 * could not repeat harmlessly: a reading that reaches the bus after all is de-duplicated by the
 * store's (station, time) key.
 */
export class BusUnavailableError extends Error {
  override name = 'BusUnavailableError';
  readonly code = 'BUS_UNAVAILABLE';
  constructor(
    message: string,
    /** When a retry may succeed [s]. */
    readonly retryAfterS: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The bus did not acknowledge a submission in time (Kafka down or electing a leader). */
export class PublishTimeoutError extends BusUnavailableError {
  override name = 'PublishTimeoutError';
}

interface Pending {
  messages: OutgoingMessage[];
  resolve: () => void;
  reject: (err: unknown) => void;
  /** Set once the caller was answered (timed out): nothing to send any more. */
  settled: boolean;
}

/**
 * Produces to one topic, coalescing concurrent calls: while a send is in flight, messages queue and
 * go together in the next one (up to MAX_SEND_BYTES a send; a larger submission goes in several).
 * Each caller's promise settles with the sends that carried its messages, so a caller that was
 * answered "accepted" had its messages acknowledged by the bus (Kafka: acks=all). Many HTTP uploads
 * per second then cost a few producer requests, not one each.
 *
 * The wait is bounded by progress: a caller is rejected with PublishTimeoutError once the bus has
 * acknowledged nothing for `timeoutMs` while it waited (its messages, if still queued, are not sent);
 * a large submission that the bus takes chunk by chunk waits as long as it takes. While the request in
 * flight has been pending longer than that (the bus is down), new calls fail at once instead of
 * queueing behind it, so an outage costs neither memory nor waiting clients.
 */
export class CoalescingPublisher {
  #queue: Pending[] = [];
  #running = false;
  /** When the produce request in flight started, or null when none is. */
  #sendingSinceMs: number | null = null;
  readonly #timeoutMs: number;

  constructor(
    private readonly bus: Pick<Bus, 'publish'>,
    private readonly topic: string,
    private readonly maxBytes = MAX_SEND_BYTES,
    options: { timeoutMs?: number } = {},
  ) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  }

  #unavailable(): PublishTimeoutError {
    return new PublishTimeoutError(`the bus has not acknowledged readings for ${Math.round(this.#timeoutMs / 1000)} s (it is down or electing a leader); nothing was accepted, retry later`, Math.max(1, Math.ceil(this.#timeoutMs / 1000)));
  }

  publish(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    // Stalled as long as the timeout (the same test as `check` below, which answers the calls waiting): fail at once.
    if (this.#sendingSinceMs !== null && Date.now() - this.#sendingSinceMs >= this.#timeoutMs) return Promise.reject(this.#unavailable());
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout;
      const check = () => {
        // Waiting behind requests the bus is taking (acknowledged within timeoutMs): wait on.
        const stalledMs = this.#sendingSinceMs === null ? 0 : Date.now() - this.#sendingSinceMs;
        if (stalledMs < this.#timeoutMs && this.#running) {
          timer = setTimeout(check, this.#timeoutMs - stalledMs);
          return;
        }
        p.settled = true;
        reject(this.#unavailable());
      };
      timer = setTimeout(check, this.#timeoutMs);
      const p: Pending = {
        messages,
        settled: false,
        resolve: () => { clearTimeout(timer); if (!p.settled) { p.settled = true; resolve(); } },
        reject: (err) => { clearTimeout(timer); if (!p.settled) { p.settled = true; reject(err); } },
      };
      this.#queue.push(p);
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        // Take whole submissions while they fit in one send (always at least one); those already
        // answered (timed out while queued) are dropped.
        const batch: Pending[] = [];
        let bytes = 0;
        while (this.#queue.length > 0) {
          const next = this.#queue[0]!;
          if (next.settled) {
            this.#queue.shift();
            continue;
          }
          const b = next.messages.reduce((a, m) => a + messageBytes(m), 0);
          if (batch.length > 0 && bytes + b > this.maxBytes) break;
          batch.push(this.#queue.shift()!);
          bytes += b;
        }
        if (batch.length === 0) continue;
        try {
          for (const part of chunkByBytes(batch.length === 1 ? batch[0]!.messages : batch.flatMap((x) => x.messages), this.maxBytes)) {
            this.#sendingSinceMs = Date.now();
            await this.bus.publish(this.topic, part);
          }
          for (const b of batch) b.resolve();
        } catch (err) {
          // A failed send is the bus's refusal, whatever its kind: callers learn it as such. The bus's own
          // error (which may name brokers and addresses) is the cause, for the log, not the message.
          const refused = err instanceof BusUnavailableError ? err : new BusUnavailableError('the bus failed the send; nothing was accepted, retry later', Math.max(1, Math.ceil(this.#timeoutMs / 1000)), { cause: err });
          for (const b of batch) b.reject(refused);
        } finally {
          this.#sendingSinceMs = null;
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
