// Runs every *.test.ts beside the code with node's own test runner (through tsx).
// Usage: node infra/test-run.mjs [path-filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['ingest', 'pipeline', 'models', 'api', 'infra', 'system', 'bench', 'eval'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
}
for (const r of roots) {
  try { walk(r); } catch (e) { if (e.code !== 'ENOENT') throw e; }
}
const filters = process.argv.slice(2);
const chosen = files.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (chosen.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Without KAFKA_BROKERS, the Kafka tests start the local broker (infra/testing/kafka-broker.ts); a broker
// the suite started is stopped when it ends, one that was running before is left running.
const kafkaScript = join('infra', 'kafka', 'kafka.sh');
const brokerRunning = () => spawnSync('bash', [kafkaScript, 'status'], { stdio: 'ignore' }).status === 0;
const ownsBroker = !process.env.KAFKA_BROKERS?.trim() && !brokerRunning();
const stopOwnBroker = () => {
  if (ownsBroker && brokerRunning()) spawnSync('bash', [kafkaScript, 'stop'], { stdio: 'inherit' });
};
process.once('SIGINT', () => { stopOwnBroker(); process.exit(130); });
process.once('SIGTERM', () => { stopOwnBroker(); process.exit(143); });
// No test may hang the suite: each has at most 10 minutes, and a file whose tests have finished exits
// even if something it started still holds the event loop (a leak must not hang CI).
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', '--test-force-exit', ...chosen], { stdio: 'inherit' });
stopOwnBroker();
process.exit(r.status ?? 1);
