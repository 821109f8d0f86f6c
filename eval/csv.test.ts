import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { statSync, writeFileSync } from 'node:fs';
import { forEachCsvRow, normaliseHeader, parseCsvLine, parseNumber, parseUtcMs, readHeader } from './csv.ts';
import { tempDir, writeGz, writeText } from './fixtures.ts';

describe('csv: line parsing', () => {
  it('splits plain lines, keeps empty fields, drops a trailing \\r', () => {
    assert.deepEqual(parseCsvLine('1,2017-01-01T00:00:00Z,'), ['1', '2017-01-01T00:00:00Z', '']);
    assert.deepEqual(parseCsvLine('a,,c\r'), ['a', '', 'c']);
  });

  it('honours quotes: commas and doubled quotes inside a quoted field', () => {
    assert.deepEqual(parseCsvLine('airporttxl,52.5644,13.3088,DWD,"Berlin-Tegel (DWD station 430), inferred"'), ['airporttxl', '52.5644', '13.3088', 'DWD', 'Berlin-Tegel (DWD station 430), inferred']);
    assert.deepEqual(parseCsvLine('"say ""hi""",x'), ['say "hi"', 'x']);
  });

  it('normalises header names (BOM, blanks, quotes, case)', () => {
    assert.deepEqual(normaliseHeader(['\uFEFFTime', ' "Station" ', 'TA']), ['time', 'station', 'ta']);
  });

  it('parseNumber: empty or junk is NaN (never the 0 of Number(""))', () => {
    assert.ok(Number.isNaN(parseNumber('')));
    assert.ok(Number.isNaN(parseNumber('  ')));
    assert.ok(Number.isNaN(parseNumber('n/a')));
    assert.ok(Number.isNaN(parseNumber(undefined)));
    assert.equal(parseNumber(' -1.25 '), -1.25);
    assert.equal(parseNumber('0'), 0);
  });

  it('parseUtcMs: zone-less dates and times are UTC, junk is NaN', () => {
    assert.equal(parseUtcMs('2017-01-01T00:00:00Z'), Date.UTC(2017, 0, 1));
    assert.equal(parseUtcMs('2017-06-01'), Date.UTC(2017, 5, 1));
    assert.equal(parseUtcMs('2017-06-01T05:00'), Date.UTC(2017, 5, 1, 5));
    assert.equal(parseUtcMs('2017-06-01T07:00+02:00'), Date.UTC(2017, 5, 1, 5));
    assert.ok(Number.isNaN(parseUtcMs('yesterday')));
    assert.ok(Number.isNaN(parseUtcMs('')));
  });
});

describe('csv: files', () => {
  it('readHeader reads only the header of a gzip and of a plain file', () => {
    const dir = tempDir();
    const rows = ['p_id,time,ta'];
    let x = 1;
    for (let i = 0; i < 40_000; i++) rows.push(`${i},2017-01-01T00:00:00Z,${((x = (x * 48_271) % 2_147_483_647) % 4000) / 100}`);
    writeGz(join(dir, 'a.csv.gz'), rows);
    assert.ok(statSync(join(dir, 'a.csv.gz')).size > 64 * 1024, 'the gzip is larger than the 64 kB peek: a truncated stream');
    writeText(join(dir, 'b.csv'), ['Station,LAT,lon']);
    writeFileSync(join(dir, 'empty.csv'), '');
    assert.deepEqual(readHeader(join(dir, 'a.csv.gz')), ['p_id', 'time', 'ta']);
    assert.deepEqual(readHeader(join(dir, 'b.csv')), ['station', 'lat', 'lon']);
    assert.deepEqual(readHeader(join(dir, 'empty.csv')), []);
  });

  it('forEachCsvRow streams rows, skips blank lines, counts rows with the wrong field count', async () => {
    const dir = tempDir();
    writeGz(join(dir, 'x.csv.gz'), ['time,station,ta', '2017-01-01T00:00:00Z,a,1.5', '', 'short,row', '2017-01-01T01:00:00Z,a,', '2017-01-01T02:00:00Z,"b, c",2\r']);
    const seen: string[][] = [];
    let header: string[] = [];
    const stats = await forEachCsvRow(join(dir, 'x.csv.gz'), (h) => {
      header = h;
      return (f) => seen.push(f);
    });
    assert.deepEqual(header, ['time', 'station', 'ta']);
    assert.deepEqual(stats, { rows: 4, malformed: 1 });
    assert.deepEqual(seen, [['2017-01-01T00:00:00Z', 'a', '1.5'], ['2017-01-01T01:00:00Z', 'a', ''], ['2017-01-01T02:00:00Z', 'b, c', '2']]);
  });

  it('forEachCsvRow rejects a corrupt or truncated gzip and a missing file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.csv.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5]));
    await assert.rejects(forEachCsvRow(join(dir, 'bad.csv.gz'), () => () => undefined));
    await assert.rejects(forEachCsvRow(join(dir, 'none.csv.gz'), () => () => undefined), /ENOENT/);
    const whole = gzipSync(Buffer.from('a,b\n1,2\n3,4\n'));
    writeFileSync(join(dir, 'cut.csv.gz'), whole.subarray(0, whole.length - 6)); // truncated: no trailer
    await assert.rejects(forEachCsvRow(join(dir, 'cut.csv.gz'), () => () => undefined), /unexpected end of file/);
  });
});
