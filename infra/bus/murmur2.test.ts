import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { murmur2, partitionForKey } from './murmur2.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * [key, Utils.murmur2(key UTF-8), Utils.toPositive(hash) % 12] computed with the Java client
 * (org.apache.kafka.common.utils.Utils from kafka-clients 3.9.1); the first ones are also in Kafka's UtilsTest.
 */
const javaReference: Array<[string, number, number]> = [
  ['', 275646681, 9],
  ['a', -1563381124, 4],
  ['ab', 316155434, 2],
  ['abc', 479470107, 3],
  ['21', -973932308, 0],
  ['foobar', -790332482, 6],
  ['a-little-bit-long-string', -985981536, 8],
  ['a-little-bit-longer-string', -1486304829, 11],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 5],
  ['851f1ebffffffff', 401059492, 4],
  ['ключ-ü-日本', 1829280034, 10],
  ['sensor-0042', 662573077, 1],
];

describe('murmur2 (Kafka partitioner)', () => {
  it('matches the Java client on reference keys', () => {
    for (const [key, hash, partition] of javaReference) {
      assert.equal(murmur2(utf8(key)), hash, `murmur2(${JSON.stringify(key)})`);
      assert.equal(partitionForKey(key, 12), partition, `partition of ${JSON.stringify(key)}`);
    }
  });

  it("agrees with kafkajs's DefaultPartitioner on many keys and partition counts", () => {
    const partitioner = kafkajs.Partitioners.DefaultPartitioner();
    for (const partitions of [1, 2, 3, 4, 7, 12, 64]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
        partitionId,
        leader: 1,
        partitionErrorCode: 0,
        replicas: [1],
        isr: [1],
      }));
      for (let i = 0; i < 500; i++) {
        const key = `k${i}-${(i * 2654435761) % 1000003}${'x'.repeat(i % 7)}`;
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
        assert.equal(partitionForKey(key, partitions), expected, `key ${key} over ${partitions}`);
      }
    }
  });

  it('rejects a non-positive partition count', () => {
    assert.throws(() => partitionForKey('a', 0), RangeError);
  });
});
