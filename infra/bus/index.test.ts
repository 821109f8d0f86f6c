import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openBus } from './index.ts';
import { parseKafkaUrl } from './kafka-bus.ts';

describe('openBus', () => {
  it('picks the adapter by URL scheme', async () => {
    const memory = openBus('memory://', {});
    assert.equal(memory.kind, 'memory');
    await memory.close();
    const kafka = openBus('kafka://127.0.0.1:1', { clientId: 'test' }); // connects lazily: nothing is dialled here
    assert.equal(kafka.kind, 'kafka');
    await kafka.close();
  });

  it('names the problem with an unknown or malformed URL', () => {
    assert.throws(() => openBus('nats://x:4222', {}), /unknown scheme "nats"/);
    assert.throws(() => openBus('localhost:9092', {}), /unknown scheme/);
    assert.throws(() => openBus('memory://somewhere', {}), /memory bus takes no host/);
    assert.throws(() => openBus('kafka://', {}), /expected kafka:\/\/host:port/);
    assert.throws(() => openBus('kafka://a:1,b', {}), /"b" is not host:port/);
  });

  it('parses broker lists', () => {
    assert.deepEqual(parseKafkaUrl('kafka://a:9092,b.example:19092'), ['a:9092', 'b.example:19092']);
    assert.deepEqual(parseKafkaUrl('kafka://127.0.0.1:19092/'), ['127.0.0.1:19092']);
    assert.deepEqual(parseKafkaUrl('kafka://[::1]:9092'), ['[::1]:9092']);
  });
});
