import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CopyBinaryReader, CopyBinaryWriter, CopyFormatError, PG_EPOCH_MS } from './copy-binary.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('binary COPY writer', () => {
  it('writes the layout of PostgreSQL\'s documentation byte for byte', () => {
    const w = new CopyBinaryWriter(5, 8); // a tiny first buffer: it must grow
    w.tuple().text('ab').float8(1.5).null().timestamptzMs(PG_EPOCH_MS + 1).timestamptzMs(PG_EPOCH_MS - 1);
    w.tuple().text('ü').float8(null).float8(-0).timestamptzMs(Date.UTC(2026, 0, 1)).text('');
    const expected = [
      '5047434f50590aff0d0a00', // signature "PGCOPY\n\377\r\n\0"
      '00000000', // flags
      '00000000', // header extension length
      '0005', // fields of the first tuple
      '00000002' + '6162', // text 'ab'
      '00000008' + '3ff8000000000000', // float8 1.5 (IEEE 754, big-endian)
      'ffffffff', // NULL
      '00000008' + '00000000000003e8', // 1 ms after 2000-01-01 = 1000 µs
      '00000008' + 'fffffffffffffc18', // 1 ms before it = -1000 µs, two's complement
      '0005',
      '00000002' + 'c3bc', // 'ü' in UTF-8
      'ffffffff', // float8 null
      '00000008' + '8000000000000000', // -0
      // 2026-01-01T00:00Z: 9,497 days after 2000-01-01 = 820,540,800 s = 820,540,800,000,000 µs
      '00000008' + (820_540_800_000_000).toString(16).padStart(16, '0'),
      '00000000', // empty text
      'ffff', // trailer
    ].join('');
    assert.equal(w.tuples, 2);
    assert.equal(hex(w.finish()), expected);
  });

  it('grows its buffer over many tuples and refuses what it cannot write exactly', () => {
    const w = new CopyBinaryWriter(1, 64);
    for (let i = 0; i < 10_000; i++) w.tuple().text(`sensor-${i}`);
    const bytes = w.finish();
    // header 19 + per tuple (2 + 4 + length) + trailer 2
    let n = 19 + 2;
    for (let i = 0; i < 10_000; i++) n += 6 + `sensor-${i}`.length;
    assert.equal(bytes.length, n);
    assert.throws(() => w.tuple(), /finished/);
    assert.throws(() => new CopyBinaryWriter(1).timestamptzMs(1.5), RangeError);
    assert.throws(() => new CopyBinaryWriter(0), RangeError);
  });
});

describe('binary COPY reader', () => {
  it('reads back what the writer wrote: text (repeated runs too), float8, NULLs, timestamps either side of 2000', () => {
    const w = new CopyBinaryWriter(3, 64);
    const times = [PG_EPOCH_MS + 1, PG_EPOCH_MS - 1, Date.UTC(2026, 0, 1, 12, 34, 56, 789), Date.UTC(1970, 0, 1)];
    times.forEach((t, i) => w.tuple().text(i < 2 ? 'same' : `s${i}ü`).float8(i === 1 ? null : i * 0.1).timestamptzMs(t));
    const r = new CopyBinaryReader(w.finish());
    const back: [string | null, number, number][] = [];
    for (let n = r.next(); n !== -1; n = r.next()) {
      assert.equal(n, 3);
      back.push([r.text(), r.float8(), r.timestampMs()]);
    }
    assert.deepEqual(back, [['same', 0, times[0]], ['same', NaN, times[1]], ['s2ü', 0.2, times[2]], ['s3ü', 0.30000000000000004, times[3]]]);
  });

  it('reads a bool from its one byte and refuses bytes that are not binary COPY, or fields of the wrong size', () => {
    // One tuple with a bool true, a NULL bool, then the trailer.
    const bytes = Buffer.from('5047434f50590aff0d0a00' + '00000000' + '00000000' + '0002' + '00000001' + '01' + 'ffffffff' + 'ffff', 'hex');
    const r = new CopyBinaryReader(bytes);
    assert.equal(r.next(), 2);
    assert.equal(r.bool(), true);
    assert.equal(r.bool(), null);
    assert.equal(r.next(), -1);
    assert.throws(() => new CopyBinaryReader(Buffer.from('hello, world, not copy')), CopyFormatError);
    const w = new CopyBinaryWriter(1, 64);
    w.tuple().text('abc');
    const bad = new CopyBinaryReader(w.finish());
    bad.next();
    assert.throws(() => bad.float8(), /float8 field of 3 bytes/);
    const cut = new CopyBinaryReader(bytes.subarray(0, bytes.length - 2)); // no trailer
    cut.next();
    cut.bool();
    cut.bool();
    assert.throws(() => cut.next(), /ends without its trailer/);
  });
});
