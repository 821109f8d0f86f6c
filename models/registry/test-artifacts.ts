/**
 * Test doubles for the registry, written to a temp folder by tests only (never shipped as models):
 * an "affine" model y = 2·x + 1 on [N, 3], and a BiLSTM of the product's shapes with seeded weights.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '../onnx/onnx-model.ts';
import { initParams, paramLayout } from '../bilstm/network.ts';
import { bilstmToOnnx } from '../bilstm/onnx-export.ts';
import { FEATURES, SEQUENCE_STEPS, TEMP_SCALE_K, TRAJECTORY_STEPS } from '../bilstm/features.ts';
import { seededRandom } from '../train/random.ts';
import { sha256Hex } from './model-card.ts';
import { tempDir } from '../../infra/testing/temp-dir.ts';

/** A new temp folder for artifacts, removed when the test process exits. */
export function tempModelDir(): string {
  return tempDir('models-test-');
}

/** y = scale·x + 1 over [N, 3]. */
export function affineModel(scale: number): Uint8Array {
  return encodeModel({
    graphName: 'affine',
    inputs: [{ name: 'x', dims: ['N', 3] }],
    outputs: [{ name: 'y', dims: ['N', 3] }],
    initializers: [{ name: 's', dims: [1], values: Float32Array.of(scale) }, { name: 'b', dims: [1], values: Float32Array.of(1) }],
    nodes: [{ op: 'Mul', inputs: ['x', 's'], outputs: ['sx'] }, { op: 'Add', inputs: ['sx', 'b'], outputs: ['y'] }],
  });
}

/** Writes model then card (through renames), like the training CLI. */
export function writeModel(dir: string, name: string, bytes: Uint8Array, card: Record<string, unknown>): void {
  writeFileSync(join(dir, `.${name}.tmp`), bytes);
  renameSync(join(dir, `.${name}.tmp`), join(dir, `${name}.onnx`));
  writeFileSync(join(dir, `.${name}.card.tmp`), JSON.stringify({ name, file: `${name}.onnx`, sha256: sha256Hex(bytes), ...card }));
  renameSync(join(dir, `.${name}.card.tmp`), join(dir, `${name}.card.json`));
}

export function writeAffine(dir: string, name: string, scale: number, version: string): void {
  writeModel(dir, name, affineModel(scale), {
    version, description: `test double: y = ${scale}·x + 1`,
    inputs: [{ name: 'x', dims: ['N', 3], type: 'float32' }], outputs: [{ name: 'y', dims: ['N', 3], type: 'float32' }],
  });
}

/** A BiLSTM test double with seeded weights, or with every weight 0 (`identity`: its output is the base trajectory). */
export function writeTestBilstm(dir: string, seed = 5, o: { identity?: boolean } = {}): void {
  const layout = paramLayout({ inputs: FEATURES, hidden: 4, dense: 3, steps: SEQUENCE_STEPS, outSteps: TRAJECTORY_STEPS });
  const params = initParams(layout, seededRandom(seed));
  if (o.identity) params.fill(0);
  writeModel(dir, 'bilstm', bilstmToOnnx({ layout, params, tempScaleK: TEMP_SCALE_K, metadata: { name: 'bilstm', version: `test.${seed}` } }), {
    version: `test.${seed}`, description: o.identity ? 'test double: every weight 0, so y = base' : 'test double with seeded weights',
    inputs: [{ name: 'x', dims: [SEQUENCE_STEPS, 'N', FEATURES], type: 'float32' }, { name: 'base', dims: ['N', TRAJECTORY_STEPS], type: 'float32' }],
    outputs: [{ name: 'y', dims: ['N', TRAJECTORY_STEPS], type: 'float32' }],
  });
}
