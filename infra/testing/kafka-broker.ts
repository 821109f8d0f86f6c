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

/**
 * A broker of the caller's own (its own ports and state directory), for tests that kill and restart
 * it; the shared one must never be stopped. Answers the skip reason where the script cannot run.
 */
export interface PrivateBroker {
  brokers: string[];
  /** SIGKILL of the broker's JVM (a crash: nothing flushed or closed on purpose). */
  kill(): Promise<void>;
  /** Starts it again on the same state (topics, offsets and producer state kept); resolves when it serves clients. */
  start(): Promise<void>;
  /** Stops it and deletes its state directory. */
  destroy(): Promise<void>;
}

export async function startPrivateBroker(): Promise<PrivateBroker | { skip: string }> {
  const script = join(root, 'infra', 'kafka', 'kafka.sh');
  const libsCached = spawnSync('bash', [script, 'fetched'], { stdio: 'ignore' }).status === 0;
  const missing = !onPath('java') ? 'java is not on PATH' : !onPath('mvn') && !libsCached ? 'mvn is not on PATH (and no cached Kafka jars)' : undefined;
  if (missing) {
    const reason = `a private Kafka broker is needed (it is killed and restarted) and infra/kafka/kafka.sh cannot start one: ${missing}`;
    if (process.env.CI === 'true') throw new Error(`${reason} (CI=true: a failure)`);
    return { skip: reason };
  }
  const { freePort } = await import('./free-port.ts');
  const { mkdtemp, readFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const state = await mkdtemp(join(tmpdir(), 'kafka-private-'));
  const port = await freePort();
  let controller = await freePort();
  while (controller === port) controller = await freePort();
  const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controller), KAFKA_STATE_DIR: state, KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m' };
  const run = (cmd: string) => promisify(execFile)('bash', [script, cmd], { env, timeout: 240_000 });
  await run('start');
  return {
    brokers: [`127.0.0.1:${port}`],
    async kill() {
      const pid = Number((await readFile(join(state, 'broker.pid'), 'utf8')).trim());
      process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`broker ${pid} still alive 10 s after SIGKILL`);
    },
    async start() {
      await run('start');
    },
    async destroy() {
      await run('stop').catch(() => undefined);
      await rm(state, { recursive: true, force: true });
    },
  };
}
