// Readiness probe for kafka.sh: exits 0 once the broker at argv[2] ("host:port[,host:port]") answers a
// metadata request (admin listTopics) — an open port alone does not mean the broker serves clients yet.
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const brokers = (process.argv[2] ?? '127.0.0.1:19092').split(',');
const kafka = new Kafka({
  clientId: 'kafka-sh-probe',
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 5000,
  retry: { retries: 0 },
});
const admin = kafka.admin();
try {
  await admin.connect();
  await admin.listTopics();
  process.exitCode = 0;
} catch (err) {
  console.error(`broker not ready: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await admin.disconnect().catch(() => {});
}
