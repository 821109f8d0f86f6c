/**
 * Kafka's key partitioner: murmur2 (32-bit, seed 0x9747b28c) over the key's UTF-8 bytes, made positive
 * by masking the sign bit, modulo the partition count. Identical to the Java client's
 * `BuiltInPartitioner.partitionForKey` (`Utils.toPositive(Utils.murmur2(key)) % n`) and kafkajs's
 * `Partitioners.DefaultPartitioner`, so a key lands in the same partition on the memory bus and on Kafka.
 */

const encoder = new TextEncoder();

/** Kafka's `Utils.murmur2`: signed 32-bit result. */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24)) | 0;
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  switch (length & 3) {
    case 3:
      h ^= data[tail + 2]! << 16;
    // falls through
    case 2:
      h ^= data[tail + 1]! << 8;
    // falls through
    case 1:
      h ^= data[tail]!;
      h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Partition of a (non-null) key among `partitions` partitions, as Kafka's default partitioner picks it. */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions;
}
