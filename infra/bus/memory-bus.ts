/**
 * The in-process bus of the embedded mode: Kafka's model kept in memory, with the same semantics the
 * contract (bus.contract.ts) proves for the Kafka adapter.
 *
 * - A topic is N append-only partitions; a message's offset is its index in its partition.
 * - The partition of a key is Kafka's (murmur2, see murmur2.ts), so keys land as they would on Kafka.
 * - Consumer groups are per (groupId, topic). Members share the partitions round-robin over their sorted
 *   ids (partition p goes to member p mod n); every join or leave reassigns. A partition whose batch is
 *   still in a handler stays with that handler until it settles (as Kafka waits for members to rejoin);
 *   the new owner then starts from the committed offset.
 * - A member hands one partition's batch (≤ maxBatchSize messages) at a time to its handler and commits
 *   the next offset when the handler resolves. A throwing handler gets the same batch again after a short
 *   backoff. `abort()` leaves at once without committing, so the batch goes to the next owner.
 * - Members sleep on a promise that publish and rebalances resolve: an idle consumer costs nothing.
 * - Retention, like Kafka's: a partition drops its oldest messages once they are older than
 *   `retentionMs` or the partition holds more than `retentionBytes` (per topic, shared evenly by its
 *   partitions) — but never a message that a group with members has not committed yet, so memory is
 *   bounded by the retention plus what consumers still owe. Offsets keep counting; a member whose
 *   position fell below the log's start (its group had no members meanwhile) resumes at the start.
 *
 * Nothing is persisted: committed offsets and messages live as long as the MemoryBus object.
 */
import type {
  Bus,
  BusMessage,
  MessageBatch,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from './bus.ts';
import { retryDelayMs } from './bus.ts';
import type { BusLogger } from './bus-logger.ts';
import { partitionForKey } from './murmur2.ts';

export interface MemoryBusOptions {
  /**
   * Delay before a batch whose handler threw is delivered again [ms] (default 100), doubled on each
   * further failure of the same batch up to MAX_RETRY_BACKOFF_MS (retryDelayMs).
   */
  retryBackoffMs?: number;
  logger?: BusLogger;
  /** Messages older than this are dropped once consumed [ms] (default 1 h). */
  retentionMs?: number;
  /** A topic keeps at most about this many bytes of consumed messages (default 64 MiB). */
  retentionBytes?: number;
  /** Clock for retention (tests). */
  now?: () => number;
  /**
   * How long a member waits for a partition's batch to fill before taking what there is [ms]
   * (default 10), like Kafka's fetch.max.wait.ms with fetch.min.bytes at a full batch: under a
   * trickle of single messages the handler gets them a few at a time, not one store write each.
   */
  fetchWaitMs?: number;
}

export const DEFAULT_FETCH_WAIT_MS = 10;

export const DEFAULT_RETENTION_MS = 3_600_000;
export const DEFAULT_RETENTION_BYTES = 64 * 1024 * 1024;
/** Per-message overhead counted against retentionBytes besides key and value [bytes]. */
const MESSAGE_OVERHEAD_BYTES = 64;

/** One partition's log: `messages[i]` has offset `base + i`; `appendedMs[i]` is when it was appended. */
interface PartitionLog {
  base: number;
  messages: BusMessage[];
  appendedMs: number[];
  bytes: number;
}

interface MemoryTopic {
  name: string;
  partitions: PartitionLog[];
}

/** The offset after the partition's last message. */
function endOffset(log: PartitionLog): number {
  return log.base + log.messages.length;
}

interface Group {
  groupId: string;
  topic: MemoryTopic;
  /** Sorted by id; the index decides the assignment. */
  members: Member[];
  /** Next offset to consume, per partition (absent: never committed). */
  committed: Map<number, number>;
  /** Partitions whose batch is in a handler (or waiting to be retried), and by whom. */
  busy: Map<number, Member>;
}

const DEFAULT_MAX_BATCH = 1000;
/**
 * Most bytes of messages handed to one handler call (at least one message), like Kafka's
 * max.partition.fetch.bytes (1 MiB by default): messages may carry many readings each.
 */
export const MAX_BATCH_BYTES = 1024 * 1024;

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, MemoryTopic>();
  private readonly groups = new Map<string, Group>();
  private readonly members = new Set<Member>();
  private readonly retryBackoffMs: number;
  private readonly logger: BusLogger | undefined;
  private memberSeq = 0;
  private closed = false;
  private readonly retentionMs: number;
  private readonly retentionBytes: number;
  private readonly now: () => number;
  private readonly fetchWaitMs: number;

  constructor(options: MemoryBusOptions = {}) {
    this.retryBackoffMs = options.retryBackoffMs ?? 100;
    this.logger = options.logger;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.retentionBytes = options.retentionBytes ?? DEFAULT_RETENTION_BYTES;
    this.now = options.now ?? Date.now;
    this.fetchWaitMs = options.fetchWaitMs ?? DEFAULT_FETCH_WAIT_MS;
  }

  /** Messages and bytes a topic holds now (for tests and monitoring). */
  held(topic: string): { messages: number; bytes: number } {
    const t = this.topic(topic);
    return { messages: t.partitions.reduce((a, p) => a + p.messages.length, 0), bytes: t.partitions.reduce((a, p) => a + p.bytes, 0) };
  }

  /**
   * Drops a partition's head messages past retention that every group with members has committed.
   * Cheap when there is nothing to drop; drops in bulk (one splice) when there is.
   */
  private trim(t: MemoryTopic, partition: number): void {
    const log = t.partitions[partition]!;
    if (log.messages.length === 0) return;
    const capBytes = this.retentionBytes / t.partitions.length;
    const oldestAllowedMs = this.now() - this.retentionMs;
    if (log.bytes <= capBytes && log.appendedMs[0]! >= oldestAllowedMs) return;
    let pinned = endOffset(log);
    for (const g of this.groups.values()) {
      if (g.topic !== t || g.members.length === 0) continue;
      pinned = Math.min(pinned, g.committed.get(partition) ?? log.base);
    }
    let drop = 0;
    let bytes = log.bytes;
    while (drop < log.messages.length && log.base + drop < pinned && (bytes > capBytes || log.appendedMs[drop]! < oldestAllowedMs)) {
      bytes -= sizeOf(log.messages[drop]!);
      drop++;
    }
    if (drop === 0) return;
    log.messages.splice(0, drop);
    log.appendedMs.splice(0, drop);
    log.base += drop;
    log.bytes = bytes;
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    this.assertOpen();
    for (const { name, partitions } of topics) {
      if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`topic ${name}: partitions must be a positive integer`);
      // Like Kafka's createTopics: an existing topic is left as it is.
      if (!this.topics.has(name)) this.topics.set(name, { name, partitions: Array.from({ length: partitions }, () => ({ base: 0, messages: [], appendedMs: [], bytes: 0 })) });
    }
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    const t = this.topic(topic);
    const now = Date.now();
    const appendedMs = this.now();
    const touched = new Set<number>();
    for (const m of messages) {
      const partition = partitionForKey(m.key, t.partitions.length);
      const log = t.partitions[partition]!;
      const message: BusMessage = Object.freeze({
        topic,
        partition,
        offset: String(endOffset(log)),
        key: m.key,
        value: m.value.slice(), // the log keeps its own bytes
        timestampMs: m.timestampMs ?? now,
      });
      log.messages.push(message);
      log.appendedMs.push(appendedMs);
      log.bytes += sizeOf(message);
      touched.add(partition);
    }
    for (const p of touched) this.trim(t, p);
    if (messages.length > 0) for (const g of this.groups.values()) if (g.topic === t) for (const member of g.members) member.wake();
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    const topic = this.topic(options.topic);
    const key = `${options.groupId}\u0000${options.topic}`;
    let group = this.groups.get(key);
    if (!group) {
      group = { groupId: options.groupId, topic, members: [], committed: new Map(), busy: new Map() };
      this.groups.set(key, group);
    }
    const id = `member-${String(++this.memberSeq).padStart(9, '0')}`;
    const member = new Member(id, group, options, this.retryBackoffMs, this.logger, () => this.members.delete(member), (p) => this.trim(topic, p), this.fetchWaitMs);
    this.members.add(member);
    group.members.push(member);
    rebalance(group);
    member.start();
    return member;
  }

  /**
   * Messages of `topic` that group `groupId` has not committed yet (from the log's start where it has
   * committed nothing): what a graceful stop waits for, since this log dies with its process.
   */
  backlog(groupId: string, topic: string): number {
    const g = this.groups.get(`${groupId}\u0000${topic}`);
    const t = this.topics.get(topic);
    if (!g || !t) return 0;
    let n = 0;
    t.partitions.forEach((log, p) => { n += Math.max(0, endOffset(log) - (g.committed.get(p) ?? log.base)); });
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.members].map((m) => m.close()));
  }

  private topic(name: string): MemoryTopic {
    const t = this.topics.get(name);
    if (!t) throw new Error(`memory bus: topic "${name}" does not exist (call ensureTopics first)`);
    return t;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('memory bus: closed');
  }
}

/** Reassigns the group's partitions round-robin over its members sorted by id, then wakes them all. */
function rebalance(group: Group): void {
  group.members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const n = group.members.length;
  group.members.forEach((member, index) => {
    const assignment: number[] = [];
    for (let p = index; p < group.topic.partitions.length; p += n) assignment.push(p);
    member.assign(assignment);
  });
  for (const m of group.members) m.wake();
}

type State = 'active' | 'closing' | 'closed' | 'aborted';

class Member implements Subscription {
  readonly ready: Promise<void> = Promise.resolve();
  private state: State = 'active';
  private assignment: number[] = [];
  /** Where to start a partition that has no committed offset ("latest" is fixed when it is assigned). */
  private readonly resetOffsets = new Map<number, number>();
  private cursor = 0;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly maxBatchSize: number;

  constructor(
    readonly id: string,
    private readonly group: Group,
    private readonly options: SubscribeOptions,
    private readonly retryBackoffMs: number,
    private readonly logger: BusLogger | undefined,
    private readonly onGone: () => void,
    /** Lets the bus drop what retention allows once a commit unpins it. */
    private readonly afterCommit: (partition: number) => void,
    private readonly fetchWaitMs: number,
  ) {
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? DEFAULT_MAX_BATCH);
  }

  start(): void {
    this.loop = this.run();
  }

  assign(partitions: number[]): void {
    this.assignment = partitions;
    this.resetOffsets.clear();
    const fromBeginning = this.options.fromBeginning ?? true;
    for (const p of partitions) {
      const log = this.group.topic.partitions[p]!;
      this.resetOffsets.set(p, fromBeginning ? log.base : endOffset(log));
    }
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  async close(): Promise<void> {
    if (this.state !== 'active') {
      if (this.state === 'closing') await this.loop;
      return;
    }
    this.state = 'closing';
    this.wake();
    await this.loop; // the running handler finishes and commits
    this.state = 'closed';
    this.leave();
  }

  async abort(): Promise<void> {
    if (this.state === 'closed' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.wake();
    // The batch in flight stays uncommitted; its partition is free for the next owner right away.
    for (const [p, owner] of this.group.busy) if (owner === this) this.group.busy.delete(p);
    this.leave();
  }

  private leave(): void {
    const i = this.group.members.indexOf(this);
    if (i >= 0) {
      this.group.members.splice(i, 1);
      rebalance(this.group);
    }
    this.onGone();
  }

  private async run(): Promise<void> {
    while (this.state === 'active') {
      const batch = this.nextBatch();
      if (!batch) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        continue;
      }
      if (!batch.full && this.fetchWaitMs > 0 && !this.lingered) {
        // A partial batch: give it fetchWaitMs to fill (publishes do not cut the wait short; close and
        // abort do).
        this.lingered = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.fetchWaitMs);
          this.wakeUp = () => {
            if (this.state === 'active') return;
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      this.lingered = false;
      await this.deliver({ topic: batch.topic, partition: batch.partition, messages: batch.messages });
    }
  }

  /** Whether the member already waited once for the partial batch it is about to take. */
  private lingered = false;

  /**
   * The next partition (round-robin over the assignment) with messages past its position, sliced to
   * maxBatchSize messages and MAX_BATCH_BYTES; `full` when either bound cut it.
   */
  private nextBatch(): (MessageBatch & { full: boolean }) | undefined {
    const n = this.assignment.length;
    for (let i = 0; i < n; i++) {
      const p = this.assignment[(this.cursor + i) % n]!;
      const busyWith = this.group.busy.get(p);
      if (busyWith && busyWith !== this) continue; // the previous owner's handler is still running
      const log = this.group.topic.partitions[p]!;
      // Below the log's start (trimmed while the group had no members): resume at the start, as Kafka's
      // auto.offset.reset=earliest does for an offset out of range.
      const from = Math.max(log.base, this.group.committed.get(p) ?? this.resetOffsets.get(p) ?? log.base);
      if (from >= endOffset(log)) continue;
      this.cursor = (this.cursor + i + 1) % n;
      const start = from - log.base;
      const stop = Math.min(log.messages.length, start + this.maxBatchSize);
      let end = start;
      let bytes = 0;
      while (end < stop && (end === start || bytes + sizeOf(log.messages[end]!) <= MAX_BATCH_BYTES)) bytes += sizeOf(log.messages[end++]!);
      const full = end - start === this.maxBatchSize || end < stop;
      return { topic: this.group.topic.name, partition: p, messages: log.messages.slice(start, end), full };
    }
    return undefined;
  }

  /** Runs the handler until it succeeds (then commits), the member stops, or it is aborted. */
  private async deliver(batch: MessageBatch): Promise<void> {
    const { busy, committed } = this.group;
    busy.set(batch.partition, this);
    try {
      for (let attempt = 1; ; attempt++) {
        let failure: unknown;
        let failed = false;
        try {
          await this.options.handler(batch);
        } catch (err) {
          failed = true;
          failure = err;
        }
        if (this.state === 'aborted') return; // died meanwhile: no commit, partition already released
        if (!failed) {
          const last = batch.messages[batch.messages.length - 1]!;
          committed.set(batch.partition, Number(last.offset) + 1);
          this.afterCommit(batch.partition);
          return;
        }
        this.logger?.warn(
          { err: failure, topic: batch.topic, partition: batch.partition, offset: batch.messages[0]?.offset, attempt },
          'bus handler failed; the batch will be delivered again',
        );
        if (this.state !== 'active') return; // closing: leave it uncommitted for the next owner
        await this.backoff(retryDelayMs(this.retryBackoffMs, attempt));
        if (this.state !== 'active') return;
      }
    } finally {
      if (busy.get(batch.partition) === this) {
        busy.delete(batch.partition);
        for (const m of this.group.members) if (m !== this) m.wake();
      }
    }
  }

  /** Waits `ms`, cut short only by close or abort. */
  private async backoff(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.state === 'active' && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

function sizeOf(m: BusMessage): number {
  return m.value.byteLength + m.key.length + MESSAGE_OVERHEAD_BYTES;
}
