/** The bus topics and how messages are keyed. */
import { cellOf, type LatLon } from '../infra/geo/grid.ts';
import type { TopicSpec } from '../infra/bus/bus.ts';

/** Readings from stations and sensors (JSON, see reading.ts), keyed by the H3 parent cell. */
export const READINGS_TOPIC = 'readings.v1';
/** Records ingest could not accept, with the cause (JSON `{ reason, topic, partition, offset, payload }`). */
export const DEAD_LETTER_TOPIC = 'readings.dlq.v1';
/** Background forecast values (JSON, see reading.ts), keyed by the H3 parent cell of the grid point. */
export const BACKGROUND_TOPIC = 'background.v1';

export function topicSpecs(partitions: number): TopicSpec[] {
  return [
    { name: READINGS_TOPIC, partitions },
    { name: DEAD_LETTER_TOPIC, partitions: 1 },
    { name: BACKGROUND_TOPIC, partitions },
  ];
}

/** The partition key of a position: its H3 parent cell, so one area's readings stay in order together. */
export function partitionKey(p: LatLon, partitionResolution: number): string {
  return cellOf(p, partitionResolution);
}
