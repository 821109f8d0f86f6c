/**
 * Opens the bus named by a URL:
 * - `memory://` — the in-process bus (embedded mode; nothing leaves the process);
 * - `kafka://host:port[,host:port...]` — Apache Kafka through kafkajs.
 */
import type { Bus } from './bus.ts';
import type { BusLogger } from './bus-logger.ts';
import { KafkaBus, parseKafkaUrl, type KafkaLogLevel } from './kafka-bus.ts';
import { MemoryBus } from './memory-bus.ts';

export type * from './bus.ts';
export type { BusLogger } from './bus-logger.ts';
export { partitionForKey } from './murmur2.ts';

export interface OpenBusOptions {
  /** Kafka client id (default "nowcast"); unused by the memory bus. */
  clientId?: string;
  logger?: BusLogger;
  /** kafkajs's own log level (default warn). */
  kafkaLogLevel?: KafkaLogLevel;
}

export function openBus(url: string, options: OpenBusOptions = {}): Bus {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'memory':
      if (!/^memory:\/\/\/?$/i.test(url)) throw new Error(`bus url "${url}": the memory bus takes no host or path (use memory://)`);
      return new MemoryBus({ ...(options.logger ? { logger: options.logger } : {}) });
    case 'kafka':
      return new KafkaBus({
        brokers: parseKafkaUrl(url),
        ...(options.clientId ? { clientId: options.clientId } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.kafkaLogLevel ? { logLevel: options.kafkaLogLevel } : {}),
      });
    default:
      throw new Error(`bus url "${url}": unknown scheme${scheme ? ` "${scheme}"` : ''}; expected memory:// or kafka://host:port[,host:port...]`);
  }
}
