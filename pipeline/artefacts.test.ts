// Cell states through Arrow: encode/decode are inverses, the two-scale filter state and the served
// trajectory included; a blob written before either existed (one bias and its variance, no served
// columns) decodes as that bias in the fast part and no served trajectory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tableToIPC } from 'apache-arrow';
import { tableOf } from './arrow-strings.ts';
import { decodeCellStates, encodeCellStates, HISTORY_STEPS, SERVED_STEPS, type CellStateSet } from './artefacts.ts';

function states(n: number): CellStateSet {
  return {
    cell: Array.from({ length: n }, (_, i) => `c${i}`),
    fastK: Float64Array.from({ length: n }, (_, i) => 0.1 * i), slowK: Float64Array.from({ length: n }, (_, i) => -0.2 * i),
    fastVarK2: Float64Array.from({ length: n }, (_, i) => 0.5 + i), slowVarK2: Float64Array.from({ length: n }, (_, i) => 0.25 + i), crossVarK2: Float64Array.from({ length: n }, (_, i) => -0.01 * i),
    validMs: Float64Array.from({ length: n }, (_, i) => 1e12 + i),
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

  it('a blob of the columns before two-scale states and served trajectories existed decodes as the fast part, with none served', () => {
    const s = states(2);
    const cols: Record<string, Float64Array | Float32Array | string[]> = { cell: s.cell, bias_k: s.fastK, var_k2: s.fastVarK2, valid_ms: s.validMs };
    for (let k = 0; k < HISTORY_STEPS; k++) cols[`h${k}`] = Float32Array.from({ length: 2 }, (_, i) => s.history[i * HISTORY_STEPS + k]!);
    const back = decodeCellStates(tableToIPC(tableOf(cols), 'stream'));
    assert.deepEqual(back, { ...s, slowK: new Float64Array(2), slowVarK2: new Float64Array(2), crossVarK2: new Float64Array(2) });
    assert.equal(back.served, undefined);
  });
});
