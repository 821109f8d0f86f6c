// Cell states through Arrow: encode/decode are inverses, the served trajectory included; a blob
// written without the served columns decodes as "no served trajectory".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tableToIPC } from 'apache-arrow';
import { tableOf } from './arrow-strings.ts';
import { decodeCellStates, encodeCellStates, HISTORY_STEPS, SERVED_STEPS, type CellStateSet } from './artefacts.ts';

function states(n: number): CellStateSet {
  return {
    cell: Array.from({ length: n }, (_, i) => `c${i}`),
    biasK: Float64Array.from({ length: n }, (_, i) => 0.1 * i), varK2: Float64Array.from({ length: n }, (_, i) => 0.5 + i), validMs: Float64Array.from({ length: n }, (_, i) => 1e12 + i),
    history: Float32Array.from({ length: n * HISTORY_STEPS }, (_, k) => (k % 5 === 0 ? NaN : k / 4)),
  };
}

describe('cell state artefacts', () => {
  it('round-trip with and without served trajectories', () => {
    const plain = states(3);
    const back = decodeCellStates(encodeCellStates(plain));
    assert.deepEqual(back, plain);
    assert.equal(back.served, undefined);
    const withServed = { ...states(3), served: Float32Array.from({ length: 3 * SERVED_STEPS }, (_, k) => (k === 14 ? NaN : 10 + k / 8)) };
    assert.deepEqual(decodeCellStates(encodeCellStates(withServed)), withServed);
  });

  it('a blob of the columns before served trajectories existed decodes with none', () => {
    const s = states(2);
    const cols: Record<string, Float64Array | Float32Array | string[]> = { cell: s.cell, bias_k: s.biasK, var_k2: s.varK2, valid_ms: s.validMs };
    for (let k = 0; k < HISTORY_STEPS; k++) cols[`h${k}`] = Float32Array.from({ length: 2 }, (_, i) => s.history[i * HISTORY_STEPS + k]!);
    const back = decodeCellStates(tableToIPC(tableOf(cols), 'stream'));
    assert.deepEqual(back, s);
    assert.equal(back.served, undefined);
  });
});
