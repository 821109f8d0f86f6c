// The registry: loading, validation, hot reload under load without a failed request, health.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError, ModelRegistry } from './registry.ts';
import { createOnnxSmoother } from './onnx-smoother.ts';
import { tempModelDir, writeAffine, writeTestBilstm } from './test-artifacts.ts';
import { HISTORY_STEPS, TRAJECTORY_STEPS } from '../bilstm/features.ts';

const x = (n: number) => ({ dims: [n, 3], data: Float32Array.from({ length: n * 3 }, (_, i) => i) });

async function until(cond: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('model registry', () => {
  it('serves a model with its card, validates shapes, and reports a missing expected model as degraded', async () => {
    const dir = tempModelDir();
    writeAffine(dir, 'affine', 2, '1');
    const r = await ModelRegistry.open(dir, { expected: ['bilstm'] });
    try {
      assert.deepEqual(r.list().map((m) => [m.name, m.status, m.version]), [['affine', 'ok', '1'], ['bilstm', 'missing', undefined]]);
      const out = await r.run('affine', { x: x(2) });
      assert.deepEqual(Array.from(out.outputs['y']!.data), [1, 3, 5, 7, 9, 11]);
      assert.deepEqual(out.outputs['y']!.dims, [2, 3]);
      await assert.rejects(r.run('affine', { x: { dims: [2, 4], data: new Float32Array(8) } }), (e: unknown) => e instanceof ModelError && e.code === 'MODEL_INPUT_INVALID' && /dimension 1 is 4, the model takes 3/.test(e.message));
      await assert.rejects(r.run('affine', { x: { dims: [2, 3], data: new Float32Array(5) } }), /has 5 values, its dimensions \[2, 3\] make 6/);
      await assert.rejects(r.run('affine', { z: x(1) }), /no input "z"/);
      await assert.rejects(r.run('nope', { x: x(1) }), (e: unknown) => e instanceof ModelError && e.code === 'MODEL_NOT_FOUND');
      const h = r.health();
      assert.equal(h.status, 'degraded');
      assert.equal(h.models.find((m) => m.name === 'bilstm')!.status, 'missing');
    } finally {
      await r.close();
    }
  });

  it('hot reload: a new version replaces the old while requests keep succeeding; a broken artifact leaves the old one serving', async () => {
    const dir = tempModelDir();
    writeAffine(dir, 'affine', 2, '1');
    const r = await ModelRegistry.open(dir, { pollMs: 25 });
    try {
      let failures = 0, done = 0;
      const seen = new Set<string>();
      let stop = false;
      const load = (async () => {
        while (!stop) {
          const batch = await Promise.allSettled(Array.from({ length: 4 }, () => r.run('affine', { x: x(64) })));
          for (const b of batch) {
            if (b.status === 'rejected') failures++;
            else {
              done++;
              seen.add(b.value.version);
              const y1 = b.value.outputs['y']!.data[1]!; // x = 1
              assert.ok((b.value.version === '1' && y1 === 3) || (b.value.version === '2' && y1 === 4), `version ${b.value.version} answered ${y1}`);
            }
          }
        }
      })();
      await until(() => done > 20, 'requests on version 1');
      writeAffine(dir, 'affine', 3, '2');
      await until(() => r.version('affine') === '2', 'version 2 loaded');
      const after = done;
      await until(() => done > after + 20, 'requests on version 2');
      // a model file that does not match its card's checksum: retried, then reported; version 2 keeps serving
      writeFileSync(join(dir, 'affine.onnx'), 'not a model');
      await until(() => r.health().status === 'degraded', 'the broken artifact reported');
      assert.equal(r.version('affine'), '2');
      stop = true;
      await load;
      assert.equal(failures, 0, 'no request failed during the reload');
      assert.deepEqual([...seen].sort(), ['1', '2']);
      assert.match(r.health().models[0]!.error ?? '', /does not match the sha256/);
      // fixed again: healthy
      writeAffine(dir, 'affine', 4, '3');
      await until(() => r.version('affine') === '3' && r.health().status === 'ok', 'version 3 loaded and healthy');
    } finally {
      await r.close();
    }
  });

  it('the ONNX smoother: batched over cells, its version the registry\'s, rejects when the model is missing', async () => {
    const dir = tempModelDir();
    writeTestBilstm(dir);
    const r = await ModelRegistry.open(dir, { expected: ['bilstm'] });
    try {
      const s = createOnnxSmoother(r, 'bilstm', { batchCells: 3 });
      assert.equal(s.version, 'test.5');
      const n = 7;
      const input = {
        runTimeMs: Date.UTC(2020, 5, 1, 12), n, historySteps: HISTORY_STEPS,
        history: Float32Array.from({ length: n * HISTORY_STEPS }, (_, i) => 10 + (i % HISTORY_STEPS) / 10),
        trajectorySteps: TRAJECTORY_STEPS, filter: Float32Array.from({ length: n * TRAJECTORY_STEPS }, (_, i) => 12 + (i % TRAJECTORY_STEPS) / 20),
        filterSigma: new Float32Array(n * TRAJECTORY_STEPS), lat: new Float32Array(n).fill(52.5), lon: new Float32Array(n).fill(13.4),
      };
      input.filter.fill(NaN, 6 * TRAJECTORY_STEPS); // the last cell: no background, persistence of its history
      const y = await s.smooth(input);
      assert.equal(y.length, n * TRAJECTORY_STEPS);
      assert.ok(y.every(Number.isFinite));
      // identical cells give identical rows whatever batch they fell in (batches of 3)
      for (let i = 1; i < 6; i++) for (let k = 0; k < TRAJECTORY_STEPS; k++) assert.equal(y[i * TRAJECTORY_STEPS + k], y[k]);
      const whole = await createOnnxSmoother(r, 'bilstm').smooth(input);
      assert.deepEqual(Array.from(whole), Array.from(y));
      const concurrent = await createOnnxSmoother(r, 'bilstm', { batchCells: 2, concurrency: 3 }).smooth(input);
      assert.deepEqual(Array.from(concurrent), Array.from(y), 'batches in flight together: the same rows');
      await assert.rejects(s.smooth({ ...input, filter: new Float32Array(5) }), /filter has 5 values, expected 91/);
      rmSync(join(dir, 'bilstm.card.json'));
      rmSync(join(dir, 'bilstm.onnx'));
      const empty = await ModelRegistry.open(tempModelDir(), { expected: ['bilstm'] });
      try {
        await assert.rejects(createOnnxSmoother(empty, 'bilstm').smooth(input), (e: unknown) => e instanceof ModelError && e.code === 'MODEL_NOT_FOUND');
        assert.equal(empty.health().status, 'degraded');
      } finally {
        await empty.close();
      }
    } finally {
      await r.close();
    }
  });

  it('the shipped BiLSTM gives the same rows, bit for bit, on one or two onnxruntime threads and in batches of any size', async () => {
    // Pipeline workers may differ in MODEL_THREADS; their nowcasts must not.
    const shipped = fileURLToPath(new URL('../artifacts/', import.meta.url));
    const n = 3000;
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const input = {
      runTimeMs: Date.UTC(2017, 5, 3, 14), n, historySteps: HISTORY_STEPS,
      history: Float32Array.from({ length: n * HISTORY_STEPS }, () => (rand() < 0.1 ? NaN : 15 + 8 * rand())),
      trajectorySteps: TRAJECTORY_STEPS, filter: Float32Array.from({ length: n * TRAJECTORY_STEPS }, () => 15 + 8 * rand()),
      filterSigma: new Float32Array(n * TRAJECTORY_STEPS).fill(0.8),
      lat: Float32Array.from({ length: n }, () => 52.35 + 0.33 * rand()), lon: Float32Array.from({ length: n }, () => 13.08 + 0.68 * rand()),
    };
    const rows: Float32Array[] = [];
    for (const [threads, batchCells] of [[1, 4096], [2, 4096], [2, 700]] as const) {
      const r = await ModelRegistry.open(shipped, { expected: ['bilstm'], pollMs: 0, intraOpThreads: threads });
      try {
        rows.push(await createOnnxSmoother(r, 'bilstm', { batchCells }).smooth(input));
      } finally {
        await r.close();
      }
    }
    assert.ok(rows[0]!.every(Number.isFinite));
    assert.deepEqual(Array.from(rows[1]!), Array.from(rows[0]!), 'two threads: the same rows as one');
    assert.deepEqual(Array.from(rows[2]!), Array.from(rows[0]!), 'batches of 700: the same rows');
  });
});
