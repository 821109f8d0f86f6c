import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runQcChain, type QcInput } from './chain.ts';
import { DEFAULT_QC } from './defaults.ts';
import { NEW_RECORD } from './sensor-record.ts';

/** 64 amateur sensors on an 8 × 8 grid 300 m apart, each with 5 readings a minute apart; two run warm. */
function crowd(): QcInput {
  const n = 64, per = 5, start = Date.UTC(2024, 6, 1, 12, 0);
  const x = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) { x[i] = (i % 8) * 300; y[i] = Math.floor(i / 8) * 300; }
  const sensor = new Int32Array(n * per), timeMs = new Float64Array(n * per), tempC = new Float64Array(n * per), backgroundC = new Float64Array(n * per);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < per; k++) {
      const j = i * per + k;
      sensor[j] = i;
      timeMs[j] = start + k * 60_000;
      // A smooth field with a little sensor noise; sensors 9 and 42 read 6 K warm.
      tempC[j] = 20 + x[i]! / 2000 + Math.sin(i * 1.7 + k) * 0.2 + (i === 9 || i === 42 ? 6 : 0);
      backgroundC[j] = 19.5;
    }
  }
  const ids = Array.from({ length: n }, (_, i) => `s${i}`);
  return {
    windowStartMs: start, windowEndMs: start + 5 * 60_000,
    sensors: { id: ids, official: new Uint8Array(n), x, y, z: new Float64Array(n).fill(40), lat: new Float64Array(n).fill(52.5), lon: new Float64Array(n).fill(13.4) },
    readings: { sensor, timeMs, tempC, backgroundC },
    records: ids.map((_, i) => (i % 3 === 0 ? undefined : { ...NEW_RECORD, reliability: 0.9, windows: 10 })),
  };
}

describe('the QC chain', () => {
  it('flags the warm sensors by the spatial checks', () => {
    const out = runQcChain(crowd(), DEFAULT_QC);
    assert.notEqual(out.sensorReason[9], 0);
    assert.notEqual(out.sensorReason[42], 0);
    assert.ok(out.sensorReason.filter((r) => r !== 0).length <= 6, `${out.sensorReason.filter((r) => r !== 0).length} rejected`);
  });

  it('with updateRecords, the excluded sensors keep their records and everything else is as in a full run', () => {
    const input = crowd();
    const full = runQcChain(input, DEFAULT_QC);
    const update = Uint8Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? 1 : 0));
    const part = runQcChain({ ...input, updateRecords: update }, DEFAULT_QC);
    assert.deepEqual(part.reason, full.reason);
    assert.deepEqual(part.sensorReason, full.sensorReason);
    assert.deepEqual(part.innovationK, full.innovationK);
    for (let i = 0; i < 64; i++) {
      if (update[i]) assert.deepEqual(part.records[i], full.records[i], `sensor ${i} updated as in the full run`);
      else {
        assert.deepEqual(part.records[i], { ...(input.records[i] ?? NEW_RECORD) }, `sensor ${i} keeps its record`);
        assert.notDeepEqual(full.records[i], part.records[i], `sensor ${i}: the full run does change it`);
      }
    }
  });

  it('refuses an updateRecords of the wrong length', () => {
    assert.throws(() => runQcChain({ ...crowd(), updateRecords: new Uint8Array(3) }, DEFAULT_QC), /updateRecords has 3/);
  });
});
