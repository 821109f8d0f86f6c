import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { T0, iso, tempDir, writeBaselineFixture } from '../fixtures.ts';
import { qcCommand } from './command.ts';
import { READING_COLUMNS, readingLine } from './readings-table.ts';

const H = 3_600_000;

function io() {
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  const sink = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n')) if (l) logs.push(JSON.parse(l)); done(); } });
  return { io: { log: pino({ level: 'info' }, sink), stderr: (t: string) => { stderr += t; } }, logs, stderr: () => stderr };
}

/** Twelve sensors 400 m apart at 10 °C, one of them at 40 °C, two windows of 5 minutes. */
function writeReadings(path: string): string[] {
  const lines = [READING_COLUMNS.join(',')];
  for (let w = 0; w < 2; w++) {
    for (let k = 0; k < 12; k++) {
      lines.push(readingLine({ sensorId: `s${k}`, timeMs: T0 + w * 300_000 + 1000 * k, lat: 52.5 + 0.0036 * Math.floor(k / 4), lon: 13.4 + 0.0059 * (k % 4), elevationM: 40, tempC: k === 5 && w === 1 ? 40 : 10 + 0.1 * (k % 3), official: k === 0 }));
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return lines;
}

test('qc: the same rows plus flag and reason; the flat background is said in the log', async () => {
  const dir = tempDir('qc-cli-');
  const input = join(dir, 'in.csv'), out = join(dir, 'out.csv');
  const lines = writeReadings(input);
  const c = io();
  assert.equal(await qcCommand(['--readings', input, '--out', out], c.io), 0, c.stderr());
  const got = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(got[0], `${lines[0]},flag,reason`);
  assert.equal(got.length, lines.length);
  got.slice(1).forEach((l, i) => assert.ok(l.startsWith(`${lines[i + 1]},`), `row ${i} kept as given`));
  assert.equal(got.filter((l) => l.endsWith(',1,gross')).length, 1, 'the 40 °C reading is a gross error against the window median');
  assert.ok(got[lines.findIndex((l) => l.startsWith('s5,') && l.includes(iso(T0 + 300_000 + 5000).slice(0, 19)))]!.endsWith(',1,gross'));
  assert.equal(got.filter((l) => l.endsWith(',0,ok')).length, lines.length - 2);
  assert.ok(c.logs.some((l) => l.background === 'window median' && /median of that window's readings \(a flat field\)/.test(String(l.msg))));
  const done = c.logs.find((l) => l.msg === 'qc done')!;
  assert.deepEqual([done.windows, done.flagged, done.sensors], [2, 1, 12]);
});

test('qc --background: an ERA5-format folder found by its columns', async () => {
  const dir = tempDir('qc-cli-');
  const input = join(dir, 'in.csv'), out = join(dir, 'out.csv');
  writeReadings(input);
  const c = io();
  // The fixture's background is 10 °C at T0 everywhere: the 40 °C reading is again the only gross error.
  assert.equal(await qcCommand(['--readings', input, '--out', out, '--window', '10', '--background', writeBaselineFixture()], c.io), 0, c.stderr());
  assert.ok(c.logs.some((l) => /ERA5 format/.test(String(l.msg))));
  assert.equal(c.logs.find((l) => l.msg === 'qc done')!.windows, 1);
  assert.equal(readFileSync(out, 'utf8').split('\n').filter((l) => l.endsWith(',1,gross')).length, 1);
});

test('qc: bad input exits 2 naming the line and field; bad arguments exit 2 with the usage', async () => {
  const dir = tempDir('qc-cli-');
  const input = join(dir, 'in.csv');
  writeFileSync(input, `${READING_COLUMNS.join(',')}\ns1,2017-01-10T00:00:00Z,52.5,13.4,40,10,amateur\ns2,2017-01-10T00:00:00Z,52.5,13.4,40,ten,amateur\n`);
  const good = join(dir, 'good.csv');
  writeReadings(good);
  const runs: [string[], RegExp][] = [
    [['--readings', input, '--out', join(dir, 'o.csv')], /in\.csv: line 3, field temp_c: "ten" is not a number/],
    [['--readings', join(dir, 'nope.csv'), '--out', join(dir, 'o.csv')], /no such file/],
    [['--readings', input], /--out is required/],
    [['--readings', input, '--out', join(dir, 'o.csv'), '--window', 'x'], /--window "x" must be a number/],
    [['--readings', good, '--out', join(dir, 'o.csv'), '--background', dir], /no ERA5-format data set/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['--export-from', dir, '--from', 'then', '--to', iso(T0), '--out', join(dir, 'o.csv')], /--from "then" is not an ISO 8601 time/],
  ];
  for (const [args, message] of runs) {
    const c = io();
    assert.equal(await qcCommand(args, c.io), 2, args.join(' '));
    assert.match(c.stderr(), message);
  }
});

test('qc --export-from: the standard columns for [from, to), which the qc reads back', async () => {
  const dir = tempDir('qc-cli-');
  const exported = join(dir, 'x.csv'), out = join(dir, 'out.csv');
  const c = io();
  assert.equal(await qcCommand(['--export-from', writeBaselineFixture(), '--from', iso(T0), '--to', iso(T0 + 2 * H), '--out', exported], c.io), 0, c.stderr());
  const lines = readFileSync(exported, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], READING_COLUMNS.join(','));
  assert.equal(lines[1], '1,2017-01-10T00:00:00.000Z,52.5,13.4,34,11,amateur');
  assert.equal(lines.length, 8);
  assert.equal(await qcCommand(['--readings', exported, '--out', out, '--window', '60'], io().io), 0);
  assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 8);
});
