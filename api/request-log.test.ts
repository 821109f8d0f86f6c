import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loggedPath } from './request-log.ts';

test('logged paths never carry a station key (the end of an Ecowitt upload path)', () => {
  assert.equal(loggedPath('/data/report/st_abc.SECRETKEYSECRETKEY'), '/data/report/…');
  assert.equal(loggedPath('/v1/forecast'), '/v1/forecast');
  assert.equal(loggedPath(`/x${'y'.repeat(500)}`).length, 200);
});
