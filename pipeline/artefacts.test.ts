// Cell states through Arrow: encode/decode are inverses, every part of the filter state and the served
// trajectory included; blobs written when the bias had one part or two parts (fast, slow) decode as
// those first parts, and a model with more parts resumes from them with its later parts at their priors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tableToIPC } from 'apache-arrow';
import { tableOf } from './arrow-strings.ts';
import { decodeCellStates, encodeCellStates, HISTORY_STEPS, SERVED_STEPS, type CellStateSet } from './artefacts.ts';
import { cellState, copyCellState, emptyCellStates } from './analysis/cell-analysis.ts';
import { DEFAULT_ANALYSIS } from './analysis/defaults.ts';
import { packedIndex, packedSize } from './analysis/kalman.ts';

function states(n: number, parts: number): CellStateSet {
  return {
    cell: Array.from({ length: n }, (_, i) => `c${i}`),
    meanK: Array.from({ length: parts }, (_, p) => Float64Array.from({ length: n }, (_, i) => 0.1 * i - 0.3 * p)),
    covK2: Array.from({ length: packedSize(parts) }, (_, k) => Float64Array.from({ length: n }, (_, i) => 0.5 + i + k / 7)),
    validMs: Float64Array.from({ length: n }, (_, i) => 1e12 + i),
    history: Float32Array.from({ length: n * HISTORY_STEPS }, (_, k) => (k % 5 === 0 ? NaN : k / 4)),
  };
}

function historyColumns(s: CellStateSet, n: number): Record<string, Float32Array> {
  const cols: Record<string, Float32Array> = {};
  for (let k = 0; k < HISTORY_STEPS; k++) cols[`h${k}`] = Float32Array.from({ length: n }, (_, i) => s.history[i * HISTORY_STEPS + k]!);
  return cols;
}

describe('cell state artefacts', () => {
  it('round-trip with and without served trajectories', () => {
    const plain = states(3, 4);
    const back = decodeCellStates(encodeCellStates(plain));
    assert.deepEqual(back, plain);
    assert.equal(back.served, undefined);
    const withServed = { ...states(3, 4), served: Float32Array.from({ length: 3 * SERVED_STEPS }, (_, k) => (k === 14 ? NaN : 10 + k / 8)) };
    assert.deepEqual(decodeCellStates(encodeCellStates(withServed)), withServed);
  });

  it('a blob of one bias and its variance (no served columns) decodes as one part, with none served', () => {
    const s = states(2, 1);
    const cols = { cell: s.cell, bias_k: s.meanK[0]!, var_k2: s.covK2[0]!, valid_ms: s.validMs, ...historyColumns(s, 2) };
    const back = decodeCellStates(tableToIPC(tableOf(cols), 'stream'));
    assert.deepEqual(back, s);
    assert.equal(back.served, undefined);
  });

  it('a blob of the two-part state (fast, slow) decodes as the first two parts; the batch resumes from it with its later parts at their priors', () => {
    const s = states(2, 2);
    const cols = {
      cell: s.cell, fast_k: s.meanK[0]!, slow_k: s.meanK[1]!,
      fast_var_k2: s.covK2[packedIndex(0, 0)]!, slow_var_k2: s.covK2[packedIndex(1, 1)]!, cross_var_k2: s.covK2[packedIndex(1, 0)]!,
      valid_ms: s.validMs, ...historyColumns(s, 2),
    };
    const back = decodeCellStates(tableToIPC(tableOf(cols), 'stream'));
    assert.deepEqual(back, s);
    const model = DEFAULT_ANALYSIS.process;
    assert.equal(model.length, 5);
    const prev = emptyCellStates(2, model.length);
    copyCellState(back, 1, prev, 0);
    const resumed = cellState(prev, 0, model);
    assert.deepEqual(Array.from(resumed.meanK), [s.meanK[0]![1], s.meanK[1]![1], 0, 0, 0]);
    for (let i = 0; i < model.length; i++) {
      for (let j = 0; j <= i; j++) {
        const expected = i < 2 ? s.covK2[packedIndex(i, j)]![1]! : i === j ? model[i]!.sigmaK ** 2 : 0;
        assert.equal(resumed.covK2[packedIndex(i, j)], expected, `cov(${i}, ${j})`);
      }
    }
    assert.equal(prev.validMs[0], s.validMs[1]);
  });
});
