/**
 * The bus port: a partitioned, replayable log with consumer groups (Kafka's model).
 *
 * Semantics every adapter must keep (proved by bus.contract.ts against each adapter):
 * - Messages with the same key land in the same partition and are delivered in publish order.
 * - At-least-once: a batch's offsets are committed only after its handler resolves. If the handler
 *   throws, or the consumer dies (is closed with `{ commit: false }` semantics, i.e. `abort()`) before
 *   the handler resolves, the batch is delivered again to a member of the same group.
 * - Consumers in one group share the topic's partitions; each partition has one owner at a time.
 */

export interface OutgoingMessage {
  /** Partitioning key (in this system: the H3 parent cell of a reading). */
  key: string;
  value: Uint8Array;
  /** Producer time [epoch ms]; defaults to now. */
  timestampMs?: number;
}

export interface BusMessage {
  topic: string;
  partition: number;
  /** Offset within the partition, as a decimal string (Kafka offsets are 64-bit). */
  offset: string;
  key: string;
  value: Uint8Array;
  timestampMs: number;
}

export interface MessageBatch {
  topic: string;
  partition: number;
  messages: BusMessage[];
}

export interface SubscribeOptions {
  groupId: string;
  topic: string;
  /** Called with batches of one partition at a time; offsets are committed when it resolves. */
  handler: (batch: MessageBatch) => Promise<void>;
  /** Where a group with no committed offset starts (default: earliest). */
  fromBeginning?: boolean;
  /** Upper bound on messages handed to one handler call (default 1000). */
  maxBatchSize?: number;
}

export interface Subscription {
  /** Resolves once the member has joined its group and received its assignment. */
  readonly ready: Promise<void>;
  /** Leaves the group cleanly after the running handler (if any) finishes and commits. */
  close(): Promise<void>;
  /** Dies: leaves without committing the batch in flight (used to prove redelivery). */
  abort(): Promise<void>;
}

export interface TopicSpec {
  name: string;
  partitions: number;
}

export interface Bus {
  readonly kind: 'memory' | 'kafka';
  /** Creates topics that do not exist yet (idempotent). */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  publish(topic: string, messages: OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /**
   * Messages of `topic` that `groupId` has not committed yet, where the bus can tell cheaply and must:
   * the in-process log, which dies with its process (Kafka keeps what is not committed).
   */
  backlog?(groupId: string, topic: string): number;
  close(): Promise<void>;
}

/** The longest wait between deliveries of a batch whose handler keeps failing [ms]. */
export const MAX_RETRY_BACKOFF_MS = 5000;

/**
 * The wait before the next delivery of a batch whose handler failed `attempt` times (1, 2, …): `baseMs`
 * doubled on each further failure, at most `capMs`, so a store down for minutes is retried a few times
 * a minute, not ten times a second.
 */
export function retryDelayMs(baseMs: number, attempt: number, capMs = MAX_RETRY_BACKOFF_MS): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 20));
}
