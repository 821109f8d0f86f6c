/**
 * The Kafka broker tests use: $KAFKA_BROKERS ("host:port[,host:port]") if set; otherwise
 * infra/kafka/kafka.sh starts (or reuses) the local single-node broker on 127.0.0.1:$KAFKA_PORT
 * (19092). Without Java (or without Maven and no cached jars) the answer is a reason to skip,
 * except with CI=true, where a missing broker is an error.
 */
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

let found: Promise<string[] | { skip: string }> | undefined;

export function kafkaBrokersForTests(): Promise<string[] | { skip: string }> {
  found ??= find();
  return found;
}

async function find(): Promise<string[] | { skip: string }> {
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) return fromEnv.split(',').map((b) => b.trim());
  const script = join(root, 'infra', 'kafka', 'kafka.sh');
  const libsCached = spawnSync('bash', [script, 'fetched'], { stdio: 'ignore' }).status === 0;
  const missing = !onPath('java') ? 'java is not on PATH' : !onPath('mvn') && !libsCached ? 'mvn is not on PATH (and no cached Kafka jars)' : undefined;
  if (missing) {
    const reason = `no Kafka broker: KAFKA_BROKERS is unset and ${missing}, so infra/kafka/kafka.sh cannot start one`;
    if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: a missing broker is a failure)`);
    return { skip: reason };
  }
  // Idempotent: reuses a running broker. A failure here is a real failure, not a skip.
  await promisify(execFile)('bash', [script, 'start'], { timeout: 240_000 });
  return [`127.0.0.1:${process.env.KAFKA_PORT ?? '19092'}`];
}
