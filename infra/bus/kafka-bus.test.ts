/**
 * The bus contract against a real Apache Kafka broker.
 * Broker: $KAFKA_BROKERS ("host:port[,host:port]") if set; otherwise infra/kafka/kafka.sh starts (or
 * reuses) the local single-node broker on 127.0.0.1:$KAFKA_PORT (19092). Without Java (or without Maven
 * and no cached jars) the tests skip — except with CI=true, where a missing broker fails them.
 */
import { runBusContract } from './bus.contract.ts';
import type { BusLogger } from './bus-logger.ts';
import { KafkaBus } from './kafka-bus.ts';
import { kafkaBrokersForTests } from '../testing/kafka-broker.ts';

/** Errors only (handler failures the tests provoke are warnings), one line each on stderr. */
const logger: BusLogger = {
  error: (obj, msg) => console.error(`kafka bus error: ${msg ?? ''} ${JSON.stringify(obj, (_, v) => (v instanceof Error ? v.message : v))}`),
  warn: () => {},
  info: () => {},
  debug: () => {},
};

runBusContract(
  'kafka',
  async () => {
    const found = await kafkaBrokersForTests();
    if ('skip' in found) return found;
    return new KafkaBus({
      brokers: found,
      clientId: 'bus-contract',
      logger,
      logLevel: 'warn',
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      maxWaitTimeMs: 500,
      retryBackoffMs: 50,
    });
  },
  { timeoutMs: 240_000, waitMs: 30_000 },
);
