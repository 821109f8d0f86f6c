// The alerting rules of infra/deploy/prometheus with Prometheus's own checker (Debian's promtool,
// installed by infra/deploy/install-prometheus-tools.sh): they load, their unit tests pass (each rule
// fires on the series that should raise it, after its `for`, and stays quiet on healthy ones), every
// rule has such a test, and every metric and label they select is one the API exposes; the exposition
// itself passes `promtool check metrics`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { collectProcessMetrics, registerNowcastMetrics } from '../../api/index.ts';
import { httpDuration, prom } from '../../api/http-metrics.ts';
import type { SnapshotView } from '../../api/forecast.ts';
import { countRefusal } from '../../ingest/index.ts';
import { openStore, type Store } from '../store/index.ts';

const dir = fileURLToPath(new URL('./prometheus/', import.meta.url));
const rules = readFileSync(`${dir}alerts.yml`, 'utf8');
const unitTests = readFileSync(`${dir}alerts.test.yml`, 'utf8');

const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const noPromtool = probe.status === 0 ? undefined : 'promtool is not installed (infra/deploy/install-prometheus-tools.sh installs it)';
if (noPromtool && process.env.CI === 'true') throw new Error(`${noPromtool} (CI=true: a missing checker is a failure)`);

const promtool = (args: string[], input?: string) => spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', ...(input !== undefined ? { input } : {}) });

/** Prometheus's own labels, added at scrape time. */
const SCRAPE_LABELS = new Set(['job', 'instance']);
/** prom-client's default process metrics whose names promtool's linter dislikes (gauges named _total): not ours to rename. */
const LIBRARY_LINT = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

describe('Prometheus alerting rules', () => {
  let store: Store;
  let exposition = '';
  before(async () => {
    // The API process's metrics, as /metrics serves them, with a finished run, a model and traffic.
    store = await openStore('memory://');
    const live = { current: null, status: { storeOk: true, pendingSinceMs: null, storeError: null, loadedAtMs: null, ledger: {
      last: { status: 'done' }, lastDone: { startedAtMs: 0, finishedAtMs: 2000, nReadings: 10, qc: { ok: 8, gross: 2 } },
    } } } as unknown as SnapshotView;
    collectProcessMetrics();
    registerNowcastMetrics({ live, store, models: { list: () => [{ name: 'bilstm', status: 'ok' }], queued: 0 } });
    httpDuration.observe({ method: 'GET', route: '/v1/forecast', status: '200' }, 0.001);
    countRefusal('json', 'wrong_key');
    exposition = await prom.register.metrics();
  });
  after(async () => {
    await store?.close();
  });

  it('load, and pass their unit tests', (t) => {
    if (noPromtool) return t.skip(noPromtool);
    const check = promtool(['check', 'rules', 'alerts.yml']);
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /SUCCESS: \d+ rules found/);
    const test = promtool(['test', 'rules', 'alerts.test.yml']);
    assert.equal(test.status, 0, test.stdout + test.stderr);
    // The checker fails on a broken expectation: the same tests with one firing time moved a minute early.
    const broken = unitTests.replace(/eval_time: 4m\n(\s+)alertname: NowcastTargetDown/, 'eval_time: 3m\n$1alertname: NowcastTargetDown');
    assert.notEqual(broken, unitTests);
    const failing = promtool(['test', 'rules', '/dev/stdin'], broken.replace('  - alerts.yml', `  - ${dir}alerts.yml`));
    assert.notEqual(failing.status, 0, 'a wrong expectation must fail');
  });

  it('every rule has a unit test that expects it to fire', () => {
    const alerts = [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!).sort();
    assert.ok(alerts.length >= 8, `${alerts.length} alerts`);
    const firing = new Set([...unitTests.matchAll(/alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels/g)].map((m) => m[1]!));
    assert.deepEqual(alerts.filter((a) => !firing.has(a)), [], 'alerts without a firing test');
  });

  it('select only metrics and labels the API exposes', () => {
    const exposed = new Map<string, Set<string>>(); // metric (and its _bucket/_count/_sum) -> label names
    for (const line of exposition.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? /.exec(line);
      if (!m) continue;
      const labels = exposed.get(m[1]!) ?? new Set<string>();
      for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels.add(`${l[1]}=${l[2]}`).add(l[1]!);
      exposed.set(m[1]!, labels);
    }
    const exprs = [...rules.matchAll(/expr: (\|\n(?:\s{10}.*\n)+|.*)/g)].map((m) => m[1]!);
    let selectors = 0;
    for (const expr of exprs) {
      for (const sel of expr.matchAll(/\b([a-z_]+)\{([^}]*)\}|\b([a-z_]+)\s*[<>=]=?\s*\d/g)) {
        const name = sel[1] ?? sel[3]!;
        if (name === 'up' || ['by', 'rate', 'sum', 'histogram_quantile'].includes(name)) continue;
        selectors++;
        assert.ok(exposed.has(name), `${name} is not in /metrics`);
        for (const [, key, op, value] of (sel[2] ?? '').matchAll(/(\w+)\s*(=~|!=|=)\s*"([^"]*)"/g)) {
          if (SCRAPE_LABELS.has(key!)) continue;
          assert.ok(exposed.get(name)!.has(key!), `${name} has no label ${key}`);
          if (op === '=') assert.ok(exposed.get(name)!.has(`${key}=${value}`), `${name}{${key}="${value}"} is not in /metrics`);
        }
      }
    }
    assert.ok(selectors >= 9, `${selectors} selectors checked`);
  });

  it('the exposition passes promtool check metrics (but for prom-client\'s own process gauges)', (t) => {
    if (noPromtool) return t.skip(noPromtool);
    const r = promtool(['check', 'metrics'], exposition);
    const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '' && !LIBRARY_LINT.some((n) => l.startsWith(`${n} `)));
    assert.deepEqual(problems, []);
  });
});
