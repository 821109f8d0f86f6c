/**
 * The producer of `bench ingest`: N readings from 2,000 sensors over Berlin, 5 minutes apart per
 * sensor, published to readings.v1 as fast as the bus takes them: 12 partitions x `batch` readings
 * at a time, as the system's producers publish many readings (readingMessages: grouped by partition
 * key, `perMessage` readings a message), in sends of at most MAX_SEND_BYTES (Kafka refuses record
 * batches over 1 MiB).
 *
 * Run as its own process for the Kafka path (`node --import tsx bench/ingest-produce.ts` with
 * PRODUCE_BROKERS, PRODUCE_TOPIC, PRODUCE_READINGS, PRODUCE_BATCH, PRODUCE_PER_MESSAGE and PRODUCE_T0_MS,
 * the first reading's time): producers are other processes in a deployment. It prints one JSON line
 * at the end: readings, seconds, cpu_seconds.
 */
import { fileURLToPath } from 'node:url';
import { openBus, type Bus, type OutgoingMessage } from '../infra/bus/index.ts';
import { createLogger } from '../infra/log.ts';
import { uniform, chunkByBytes, readingMessages, type Reading } from '../ingest/index.ts';

export const BENCH_SENSORS = 2000;

/** The bench's readings start this long before now, so that all of them lie in the past [ms]. */
export function benchStartMs(readings: number): number {
  return Date.now() - Math.ceil(readings / BENCH_SENSORS) * 300_000 - 600_000;
}

export async function produceReadings(bus: Pick<Bus, 'publish'>, o: { topic: string; readings: number; batch: number; perMessage: number; t0Ms: number; onChunk?: (produced: number) => void }): Promise<void> {
  const sensors = Array.from({ length: BENCH_SENSORS }, (_, i) => {
    const p = { lat: 52.35 + uniform(7, 2 * i) * 0.33, lon: 13.08 + uniform(7, 2 * i + 1) * 0.68 };
    return { id: `bench-${i}`, ...p };
  });
  const chunk = 12 * o.batch;
  let produced = 0;
  for (let i = 0; i < o.readings; i += chunk) {
    const rs: Reading[] = [];
    for (let j = i; j < Math.min(o.readings, i + chunk); j++) {
      const s = sensors[j % BENCH_SENSORS]!;
      rs.push({ sensorId: s.id, timeMs: o.t0Ms + Math.floor(j / BENCH_SENSORS) * 300_000, kind: 'amateur', lat: s.lat, lon: s.lon, elevationM: null, tempC: 5 + (j % 200) / 20, humidityPct: 60, pressureHpa: null });
    }
    const msgs: OutgoingMessage[] = readingMessages(rs, 5, o.perMessage);
    for (const part of chunkByBytes(msgs)) await bus.publish(o.topic, part);
    produced += rs.length;
    o.onChunk?.(produced);
    await new Promise((r) => setImmediate(r)); // let a consumer in this thread run
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const env = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`${k} is required`);
    return v;
  };
  const bus = openBus(`kafka://${env('PRODUCE_BROKERS')}`, { clientId: 'bench-producer', logger: createLogger('warn') });
  const readings = Number(env('PRODUCE_READINGS'));
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  await produceReadings(bus, { topic: env('PRODUCE_TOPIC'), readings, batch: Number(env('PRODUCE_BATCH')), perMessage: Number(env('PRODUCE_PER_MESSAGE')), t0Ms: Number(env('PRODUCE_T0_MS')) });
  const cpu = process.cpuUsage(cpu0);
  await bus.close();
  process.stdout.write(`${JSON.stringify({ readings, seconds: (performance.now() - start) / 1000, cpu_seconds: (cpu.user + cpu.system) / 1e6 })}\n`);
}
