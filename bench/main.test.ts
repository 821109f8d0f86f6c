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

  it('an unknown benchmark or option is refused with the list of names', () => {
    const r = bench('nope', '--json');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /benchmarks: store, batch, pipeline, startup, api, models, ingest, ingest-insert/);
    const o = bench('store', '--rowz', '5');
    assert.equal(o.status, 1);
    assert.match(o.stderr, /unknown option --rowz/);
  });
});
