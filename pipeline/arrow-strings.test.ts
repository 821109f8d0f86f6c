import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { columnStrings, stringColumn, tableOf } from './arrow-strings.ts';

describe('bulk Arrow string columns', () => {
  const ids = ['st-b', 'st-b', 'st-a', 'st-a', 'st-a', 'st-c', 'st-b', 'Zürich-1', 'Zürich-1', '東京', ''];

  it('hold the same values as Arrow’s own builder, through IPC, in a table with numbers', () => {
    const t = tableOf({ sensor_id: ids, time_ms: Float64Array.from(ids, (_, i) => i * 1000), flag: Uint8Array.from(ids, (_, i) => i % 2) });
    const back = tableFromIPC(tableToIPC(t, 'stream'));
    assert.deepEqual(columnStrings(back.getChild('sensor_id')!), ids);
    assert.deepEqual(Array.from(back.getChild('time_ms')!.toArray() as Float64Array), ids.map((_, i) => i * 1000));
    assert.deepEqual(Array.from(back.getChild('flag')!.toArray() as Uint8Array), ids.map((_, i) => i % 2));
    // Arrow's generic reader reads ours, and ours reads Arrow's builder's.
    assert.deepEqual(Array.from(back.getChild('sensor_id')!.toArray() as ArrayLike<string>), ids);
    const theirs = tableFromIPC(tableToIPC(tableFromArrays({ sensor_id: ids }), 'stream'));
    assert.deepEqual(columnStrings(theirs.getChild('sensor_id')!), ids);
  });

  it('encode each distinct value once, in order of first appearance', () => {
    const v = stringColumn(ids);
    const dict = v.data[0]!.dictionary!;
    assert.deepEqual(Array.from(dict.toArray() as ArrayLike<string>), ['st-b', 'st-a', 'st-c', 'Zürich-1', '東京', '']);
    assert.deepEqual(Array.from(v.data[0]!.values as Int32Array), [0, 0, 1, 1, 1, 2, 0, 3, 3, 4, 5]);
  });

  it('an empty column, and a slice of one', () => {
    assert.deepEqual(columnStrings(tableFromIPC(tableToIPC(tableOf({ sensor_id: [] as string[], x: new Float64Array(0) }), 'stream')).getChild('sensor_id')!), []);
    assert.deepEqual(columnStrings(stringColumn(ids).slice(2, 6)), ids.slice(2, 6));
  });
});
