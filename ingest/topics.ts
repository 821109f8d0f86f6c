/** The bus topics and how messages are keyed. */
import { cellOf, type LatLon } from '../infra/geo/index.ts';
import type { TopicSpec } from '../infra/bus/index.ts';

export interface Topics {
  /** Readings from stations and sensors (JSON, see reading.ts), keyed by the H3 parent cell. */
  readings: string;
  /** Records ingest could not accept, with the cause (JSON `{ reason, topic, partition, offset, payload }`). */
  deadLetters: string;
  /** Background forecast values (JSON, see reading.ts), keyed by the H3 parent cell of the grid point. */
  background: string;
}

/** Topic names, with an optional prefix so several deployments can share one cluster. */
export function topicNames(prefix = ''): Topics {
  return { readings: `${prefix}readings.v1`, deadLetters: `${prefix}readings.dlq.v1`, background: `${prefix}background.v1` };
}

export function topicSpecs(topics: Topics, partitions: number): TopicSpec[] {
  return [
    { name: topics.readings, partitions },
    { name: topics.deadLetters, partitions: 1 },
    { name: topics.background, partitions },
  ];
}

/** The partition key of a position: its H3 parent cell, so one area's readings stay in order together. */
export function partitionKey(p: LatLon, partitionResolution: number): string {
  return cellOf(p, partitionResolution);
}
