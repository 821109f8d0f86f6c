// Listening: a taken port is a clear error; requests Node refuses before any handler still get a
// 400 or 413 with a reason; a 1,000-point URL fits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { listen, ListenError, MAX_HEAD_BYTES } from './server.ts';

function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(request));
    let out = '';
    s.on('data', (d) => { out += d.toString(); });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('listen', () => {
  it('a port in use is a ListenError naming it; oversized and malformed requests get the catalogue\'s JSON', async () => {
    const l = await listen((_req, res) => res.end('ok'), { host: '127.0.0.1', port: 0 });
    const port = Number(new URL(l.url).port);
    try {
      await assert.rejects(listen((_req, res) => res.end(), { host: '127.0.0.1', port }), (e: ListenError) => e.code === 'PORT_IN_USE' && e.message.includes(`port ${port} is already in use`));
      const big = await fetch(`${l.url}/v1/forecast?latitude=${'5'.repeat(MAX_HEAD_BYTES)}`);
      assert.equal(big.status, 413);
      assert.equal((await big.json()).code, 'PAYLOAD_TOO_LARGE');
      const fits = await fetch(`${l.url}/v1/forecast?latitude=${Array(1000).fill('52.51234').join(',')}&longitude=${Array(1000).fill('13.41234').join(',')}`);
      assert.equal(await fits.text(), 'ok');
      const bad = await raw(port, 'GARBAGE / HTTP/1.1\r\n\r\n');
      assert.match(bad, /^HTTP\/1.1 400 /);
      assert.match(bad, /"code":"INVALID_PARAMETER"/);
    } finally {
      await l.close();
    }
  });
});
