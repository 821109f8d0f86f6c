import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReadings, ReadingsInputError, readingLine } from './readings-table.ts';

const HEADER = 'sensor_id,time,lat,lon,elevation_m,temp_c,kind';

test('parses the standard columns in any order, keeps extra columns and the lines as given', () => {
  const t = parseReadings(['kind,temp_c,note,sensor_id,time,lon,lat,elevation_m', 'amateur,12.5,"x, y",s1,2017-06-01T12:00:00Z,13.4,52.5,34', 'OFFICIAL,-3,,dwd,2017-06-01T12:10Z,13.3,52.45,', ''].join('\r\n'));
  assert.deepEqual(t.sensorId, ['s1', 'dwd']);
  assert.deepEqual(Array.from(t.timeMs), [Date.UTC(2017, 5, 1, 12), Date.UTC(2017, 5, 1, 12, 10)]);
  assert.deepEqual(Array.from(t.tempC), [12.5, -3]);
  assert.deepEqual(Array.from(t.official), [0, 1]);
  assert.ok(Number.isNaN(t.elevationM[1]!), 'an empty elevation is unknown');
  assert.equal(t.lines[0], 'amateur,12.5,"x, y",s1,2017-06-01T12:00:00Z,13.4,52.5,34');
  assert.equal(t.headerLine, 'kind,temp_c,note,sensor_id,time,lon,lat,elevation_m');
});

test('bad input names the line and the field', () => {
  const cases: [string, RegExp, string, string?][] = [
    ['sensor_id,time,lat,lon,temp_c\ns,2017-06-01T00:00Z,1,2,3', /line 1: missing columns elevation_m, kind/, 'MISSING_COLUMN'],
    [`${HEADER}\ns,2017-06-01T00:00Z,52,13,30,10,amateur\ns,yesterday,52,13,30,10,amateur`, /line 3, field time: "yesterday" is not an ISO 8601 time/, 'BAD_VALUE', 'time'],
    [`${HEADER}\ns,2017-06-01T00:00Z,52,13,30,warm,amateur`, /line 2, field temp_c: "warm" is not a number/, 'BAD_VALUE', 'temp_c'],
    [`${HEADER}\ns,2017-06-01T00:00Z,52,13,30,,amateur`, /line 2, field temp_c: "" is not a number/, 'BAD_VALUE', 'temp_c'],
    [`${HEADER}\ns,2017-06-01T00:00Z,95,13,30,10,amateur`, /line 2, field lat: "95" is outside -90..90 degrees/, 'BAD_VALUE', 'lat'],
    [`${HEADER}\ns,2017-06-01T00:00Z,52,13,30,10,pro`, /line 2, field kind: "pro" is neither official nor amateur/, 'BAD_VALUE', 'kind'],
    [`${HEADER}\n,2017-06-01T00:00Z,52,13,30,10,amateur`, /line 2, field sensor_id: "" is empty/, 'BAD_VALUE', 'sensor_id'],
    [`${HEADER}\n\ns,2017-06-01T00:00Z,52,13,30,10`, /line 3: 6 fields, the header has 7/, 'FIELD_COUNT'],
    ['', /line 1: no header line/, 'EMPTY_INPUT'],
    [`\n${HEADER},flag,reason`, /line 2: the input already has a "flag" column and a "reason" column/, 'RESERVED_COLUMN'],
  ];
  for (const [text, message, code, field] of cases) {
    assert.throws(() => parseReadings(text), (err: unknown) => {
      assert.ok(err instanceof ReadingsInputError);
      assert.match(err.message, message);
      assert.equal(err.code, code);
      assert.equal(err.field, field);
      return true;
    });
  }
});

test('a written row reads back to the same values', () => {
  const line = readingLine({ sensorId: 'a,b', timeMs: Date.UTC(2017, 0, 1, 5), lat: 52.5, lon: 13.4, elevationM: NaN, tempC: -1.25, official: true });
  assert.equal(line, '"a,b",2017-01-01T05:00:00.000Z,52.5,13.4,,-1.25,official');
  const t = parseReadings(`${HEADER}\n${line}`);
  assert.deepEqual([t.sensorId[0], t.timeMs[0], t.lat[0], t.lon[0], t.tempC[0], t.official[0]], ['a,b', Date.UTC(2017, 0, 1, 5), 52.5, 13.4, -1.25, 1]);
});
