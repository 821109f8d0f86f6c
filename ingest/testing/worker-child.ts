/**
 * An ingest worker alone in its own process, for the tests that kill it (worker.kafka.test.ts):
 * `node --import tsx ingest/testing/worker-child.ts` with STORE_URL (an embedded data directory),
 * BUS_URL (kafka://…), TOPIC_PREFIX and INGEST_GROUP_ID. Prints one JSON line per stored batch
 * (partition and next offset, written before the offset is committed on the bus: stdout to a pipe is
 * synchronous) and its stats every 200 ms; SIGTERM stops it cleanly (exit 0).
 */
import { openStore } from '../../infra/store/index.ts';
import { openBus } from '../../infra/bus/index.ts';
import { createLogger } from '../../infra/log.ts';
import { startIngestWorker } from '../worker.ts';
import { topicNames } from '../topics.ts';

const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};
const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
const store = await openStore(env('STORE_URL'), { log });
const bus = openBus(env('BUS_URL'), { clientId: 'worker-child', logger: log, kafkaLogLevel: 'error' });
const worker = await startIngestWorker({ bus, store, log, topics: topicNames(env('TOPIC_PREFIX')), groupId: env('INGEST_GROUP_ID'), resolution: 9, maxBatch: Number(process.env.INGEST_MAX_BATCH ?? 500),
  onStored: (b) => process.stdout.write(`${JSON.stringify({ stored: b })}\n`) });
await worker.ready;
const report = () => process.stdout.write(`${JSON.stringify({ pid: process.pid, ...worker.stats })}\n`);
const timer = setInterval(report, 200);
report();
process.once('SIGTERM', () => {
  clearInterval(timer);
  void (async () => {
    await worker.stop();
    await bus.close();
    await store.close();
    report();
    process.exit(0);
  })();
});
