/**
 * Feeds the simulated city into the bus in real time: readings as their sensors make them (late ones
 * when they arrive), background forecasts every hour. At start it backfills recent readings so the
 * first batch has a full window.
 */
import type { Bus, OutgoingMessage } from '../../infra/bus/index.ts';
import type { Logger } from '../../infra/log.ts';
import { encodeBackground, encodeReading } from '../reading.ts';
import { partitionKey, type Topics } from '../topics.ts';
import { backgroundTempC, readingInSlot, slotsBetween, type City, type SimReading } from './city.ts';

import { HOUR_MS } from '../../infra/time.ts';
/** Background issues cover this many hours before and after the issue hour. */
const BACKGROUND_PAST_H = 3;
const BACKGROUND_AHEAD_H = 7;
export const BACKGROUND_SOURCE = 'sim-background';

export interface FeedOptions {
  bus: Bus;
  topics: Topics;
  city: City;
  partitionResolution: number;
  /** How far back to backfill at start [ms]. */
  backfillMs: number;
  log: Logger;
  now?: () => number;
  tickMs?: number;
}

export interface Feed {
  /** Publishes everything due up to now (called by the timer; exposed for tests). */
  tick(): Promise<void>;
  stop(): Promise<void>;
  readonly published: { readings: number; background: number };
}

export async function startSimulatedFeed(o: FeedOptions): Promise<Feed> {
  const now = o.now ?? Date.now;
  const published = { readings: 0, background: 0 };
  let cursorMs = now() - o.backfillMs;
  let lastBackgroundHour = -Infinity;
  let late: SimReading[] = [];
  let running: Promise<void> = Promise.resolve();

  const toMessage = (r: SimReading): OutgoingMessage => ({
    key: partitionKey(r.sensor.position, o.partitionResolution),
    timestampMs: r.deliverAtMs,
    value: encodeReading({
      sensorId: r.sensor.sensorId, timeMs: r.timeMs, kind: r.sensor.kind, lat: r.sensor.position.lat, lon: r.sensor.position.lon,
      elevationM: Math.round(r.sensor.elevationM), tempC: r.tempC, humidityPct: r.humidityPct, pressureHpa: null,
    }),
  });

  async function publishBackground(issueHourMs: number): Promise<void> {
    const msgs: OutgoingMessage[] = [];
    for (let h = -BACKGROUND_PAST_H; h <= BACKGROUND_AHEAD_H; h++) {
      const validTimeMs = issueHourMs + h * HOUR_MS;
      for (const p of o.city.backgroundPoints) {
        msgs.push({
          key: partitionKey(p.position, o.partitionResolution),
          value: encodeBackground({ source: BACKGROUND_SOURCE, pointId: p.pointId, lat: p.position.lat, lon: p.position.lon, validTimeMs, issuedAtMs: issueHourMs, tempC: Math.round(backgroundTempC(o.city, p.position, validTimeMs) * 100) / 100 }),
        });
      }
    }
    await o.bus.publish(o.topics.background, msgs);
    published.background += msgs.length;
  }

  async function step(): Promise<void> {
    const t = now();
    const hour = Math.floor(t / HOUR_MS) * HOUR_MS;
    if (hour > lastBackgroundHour) {
      await publishBackground(hour);
      lastBackgroundHour = hour;
    }
    const due: SimReading[] = [];
    const stillLate: SimReading[] = [];
    for (const r of late) (r.deliverAtMs <= t ? due : stillLate).push(r);
    for (const s of o.city.sensors) {
      for (const slot of slotsBetween(s, cursorMs, t)) {
        const r = readingInSlot(o.city, s, slot);
        if (!r) continue;
        (r.deliverAtMs <= t ? due : stillLate).push(r);
      }
    }
    late = stillLate;
    cursorMs = t;
    if (due.length > 0) {
      await o.bus.publish(o.topics.readings, due.map(toMessage));
      published.readings += due.length;
    }
  }

  const tick = (): Promise<void> => {
    running = running.then(step).catch((err: unknown) => o.log.error({ err }, 'simulated feed tick failed'));
    return running;
  };

  await tick();
  o.log.info({ sensors: o.city.sensors.length, backgroundPoints: o.city.backgroundPoints.length, backfilled: published.readings }, 'simulated city feeding the bus');
  const timer = setInterval(() => void tick(), o.tickMs ?? 1000);
  return {
    tick,
    published,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
