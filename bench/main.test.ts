// The bench entry point's contract: with --json the last line on stdout is one JSON object.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bench = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'bench/main.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

describe('npm run bench', () => {
  it('store --json ends with one JSON object holding the figures', () => {
    const r = bench('store', '--rows', '3000', '--batch', '1000', '--json');
    assert.equal(r.status, 0, r.stderr);
    const last = r.stdout.trim().split('\n').at(-1)!;
    const figures = JSON.parse(last);
    assert.equal(figures.bench, 'store');
    assert.equal(figures.rows, 3000);
    assert.equal(figures.inserted, 3000);
    assert.ok(figures.rowsPerS > 0 && Number.isFinite(figures.rowsPerS));
    assert.match(r.stderr, /\[bench store\]/, 'progress goes to stderr');
  });

  it('http-stalls --json, small: both requests answered, every figure a number', () => {
    const r = bench('http-stalls', '--rows', '2000', '--stations', '5', '--values', '20000', '--runs', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const figures = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    assert.equal(figures.bench, 'http-stalls');
    assert.equal(figures.submit_rows, 2000);
    assert.equal(figures.predict_models, 'model thread');
    for (const k of ['submit_ms', 'submit_stall_ms', 'predict_ms', 'predict_stall_ms', 'predict_values']) assert.ok(Number.isFinite(figures[k]) && figures[k] >= 0, k);
  });

  it('an unknown benchmark or option is refused with the list of names', () => {
    const r = bench('nope', '--json');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /benchmarks: store, batch, pipeline, startup, api, models, ingest, ingest-insert/);
    const o = bench('store', '--rowz', '5');
    assert.equal(o.status, 1);
    assert.match(o.stderr, /unknown option --rowz/);
  });
});
