/**
 * The bus on Apache Kafka, through kafkajs.
 *
 * - Producer: idempotent (kafkajs then requires acks=-1 and retries without limit), one request in
 *   flight so retries cannot reorder, Java-compatible murmur2 partitioner (same partition as
 *   murmur2.ts and the memory bus). Topics are never auto-created: publishing to or subscribing to a
 *   topic that does not exist fails at once (checked with a metadata request, then cached).
 * - Consumer: one kafkajs consumer per subscription, `eachBatch` with autoCommit and auto-resolve off.
 *   A fetched partition batch is cut into slices of ≤ maxBatchSize; each slice goes to the handler and
 *   its next offset is committed when the handler resolves (at-least-once). A throwing handler gets the
 *   same slice again after a short backoff. While a handler runs, the member keeps heartbeating so a
 *   slow handler is not mistaken for a dead member.
 * - A consumer that kafkajs gives up on (a crash it does not restart) or that stalls (no fetch and no
 *   handler call for `stallTimeoutMs`) is replaced by a new member of the same group; its batch in
 *   flight is abandoned uncommitted, as in `abort()`, so the replacement starts from the last commit.
 * - `abort()` (a member dying): the in-flight handler's promise is abandoned — eachBatch stops waiting
 *   for it through an abort signal and returns without resolving or committing — then the consumer
 *   disconnects and leaves the group, so the group's next owner of the partition starts at the last
 *   committed offset. JavaScript cannot cancel the handler itself: it keeps running in the background
 *   and whatever it does when it ends is ignored (in particular, nothing is committed).
 */
import kafkajs from 'kafkajs';
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, LogEntry, logLevel as KafkaJsLogLevel, Producer } from 'kafkajs';
import type {
  Bus,
  BusMessage,
  MessageBatch,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from './bus.ts';
import { MAX_RETRY_BACKOFF_MS, retryDelayMs } from './bus.ts';
import { KafkaMember } from './kafka-member.ts';
import type { BusLogger } from './bus-logger.ts';

const { Kafka: KafkaClient, Partitioners, logLevel: LogLevel } = kafkajs;

/** How long ensureTopics waits for new topics to have leaders [ms]. */
const TOPIC_READY_TIMEOUT_MS = 30_000;
export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaBusOptions {
  brokers: string[];
  clientId?: string;
  /** Receives kafkajs's own log lines and handler failures; without it kafkajs logs JSON to stdout. */
  logger?: BusLogger;
  /** kafkajs log level (default warn). */
  logLevel?: KafkaLogLevel;
  /** A member that sends no heartbeat for this long is removed from its group [ms] (default 10000). */
  sessionTimeoutMs?: number;
  /** [ms] (default 1000); also how soon an idle member notices a rebalance. */
  heartbeatIntervalMs?: number;
  /** How long the group waits for members to rejoin during a rebalance [ms] (default 30000). */
  rebalanceTimeoutMs?: number;
  /** Fetch long-poll [ms] (default 1000). */
  maxWaitTimeMs?: number;
  /** Delay before a batch whose handler threw is delivered again [ms] (default 100). */
  retryBackoffMs?: number;
  /**
   * A joined consumer that neither fetches nor runs its handler for this long is replaced by a new
   * member of its group [ms] (default: the longer of 60 s and a rebalance plus a session).
   */
  stallTimeoutMs?: number;
}

/** `kafka://host:port[,host:port...]` → broker list. */
export function parseKafkaUrl(url: string): string[] {
  const m = /^kafka:\/\/([^/?#]+)\/?$/.exec(url.trim());
  if (!m) throw new Error(`bus url "${url}": expected kafka://host:port[,host:port...]`);
  const brokers = m[1]!.split(',').map((b) => b.trim());
  for (const b of brokers) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(b)) throw new Error(`bus url "${url}": broker "${b}" is not host:port`);
  }
  return brokers;
}

const kafkaLevels: Record<KafkaLogLevel, KafkaJsLogLevel> = {
  nothing: LogLevel.NOTHING,
  error: LogLevel.ERROR,
  warn: LogLevel.WARN,
  info: LogLevel.INFO,
  debug: LogLevel.DEBUG,
};

/**
 * Routes kafkajs log entries to a pino-like logger. kafkajs logs every error response of the protocol at
 * ERROR on its Connection namespace, including routine ones its callers retry ("The group is rebalancing",
 * "The coordinator is loading"); those go to debug, since the error also reaches the caller.
 */
function logCreatorFor(logger: BusLogger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const obj = { kafkajs: namespace, ...extra };
      if (namespace === 'Connection' && level <= LogLevel.WARN) logger.debug(obj, message);
      else if (level <= LogLevel.ERROR) logger.error(obj, message);
      else if (level === LogLevel.WARN) logger.warn(obj, message);
      else if (level === LogLevel.INFO) logger.info(obj, message);
      else logger.debug(obj, message);
    };
}

interface Settings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxWaitTimeMs: number;
  retryBackoffMs: number;
  stallTimeoutMs: number;
  logger: BusLogger | undefined;
}

/** Messages per produce request (a few hundred kB of readings; the broker refuses record batches over 1 MB by default). */
const PUBLISH_CHUNK = 1000;

export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  /** Sends go one at a time: an idempotent producer's sequence numbers break under overlapping sends. */
  private sending: Promise<unknown> = Promise.resolve();
  private readonly admin: Admin;
  private producerConnected: Promise<void> | undefined;
  private adminConnected: Promise<void> | undefined;
  /** Topics known to exist (created or seen in metadata); topics are never deleted by this bus. */
  private readonly knownTopics = new Set<string>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly settings: Settings;
  private closed = false;

  constructor(options: KafkaBusOptions) {
    if (options.brokers.length === 0) throw new Error('kafka bus: no brokers');
    const level = kafkaLevels[options.logLevel ?? 'warn'];
    this.kafka = new KafkaClient({
      clientId: options.clientId ?? 'nowcast',
      brokers: options.brokers,
      logLevel: level,
      ...(options.logger ? { logCreator: logCreatorFor(options.logger) } : {}),
      connectionTimeout: 3000,
      retry: { initialRetryTime: 100, retries: 8 },
    });
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // An idempotent producer retries without limit (kafkajs's default for it; capping it would void the
      // guarantee): while no broker is reachable, publish waits instead of failing.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100 },
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.admin = this.kafka.admin();
    this.settings = {
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 30_000,
      maxWaitTimeMs: options.maxWaitTimeMs ?? 1000,
      retryBackoffMs: options.retryBackoffMs ?? 100,
      stallTimeoutMs: 0,
      logger: options.logger,
    };
    this.settings.stallTimeoutMs = options.stallTimeoutMs ?? stallTimeoutMs(this.settings);
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    this.assertOpen();
    if (topics.length === 0) return;
    for (const { name, partitions } of topics) {
      if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`topic ${name}: partitions must be a positive integer`);
    }
    const admin = await this.adminReady();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      // Resolves false when a topic already exists (e.g. created concurrently): that is fine.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions })),
      });
    }
    // Confirms every topic is in the metadata with a leader for each partition before anyone
    // publishes to it. A broker that has just created a topic (or just started) may for a moment
    // answer UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE: both are retriable, so wait.
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
    for (;;) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.name) });
        if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) break;
        if (Date.now() > deadline) throw new Error(`kafka bus: topics ${topics.map((t) => t.name).join(', ')} have no leaders after ${TOPIC_READY_TIMEOUT_MS} ms`);
      } catch (err) {
        const retriable = (err as { retriable?: boolean }).retriable === true;
        if (!retriable || Date.now() > deadline) throw err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const t of topics) this.knownTopics.add(t.name);
  }

  async publish(topic: string, messages: OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    await this.assertTopic(topic);
    if (messages.length === 0) return;
    await this.producerReady();
    const now = Date.now();
    const send = async () => {
      // Requests of at most PUBLISH_CHUNK messages keep each record batch under the broker's size limit.
      for (let i = 0; i < messages.length; i += PUBLISH_CHUNK) {
        await this.producer.send({
          topic,
          acks: -1,
          messages: messages.slice(i, i + PUBLISH_CHUNK).map((m) => ({
            key: m.key,
            value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength),
            timestamp: String(m.timestampMs ?? now),
          })),
        });
      }
    };
    const done = this.sending.then(send, send);
    this.sending = done.catch(() => undefined);
    await done;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    await this.assertTopic(options.topic);
    const sub = new KafkaSubscription(this.kafka, options, this.settings, () => this.subscriptions.delete(sub));
    this.subscriptions.add(sub);
    try {
      await sub.start();
    } catch (err) {
      await sub.abort().catch(() => {});
      throw err;
    }
    return sub;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    await Promise.allSettled([
      this.producerConnected ? this.producer.disconnect() : undefined,
      this.adminConnected ? this.admin.disconnect() : undefined,
    ]);
  }

  private async assertTopic(topic: string): Promise<void> {
    if (this.knownTopics.has(topic)) return;
    const admin = await this.adminReady();
    if (!(await admin.listTopics()).includes(topic)) {
      throw new Error(`kafka bus: topic "${topic}" does not exist (call ensureTopics first)`);
    }
    this.knownTopics.add(topic);
  }

  private producerReady(): Promise<void> {
    this.producerConnected ??= this.producer.connect().catch((err: unknown) => {
      this.producerConnected = undefined;
      throw err;
    });
    return this.producerConnected;
  }

  private adminReady(): Promise<Admin> {
    this.adminConnected ??= this.admin.connect().catch((err: unknown) => {
      this.adminConnected = undefined;
      throw err;
    });
    return this.adminConnected.then(() => this.admin);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('kafka bus: closed');
  }
}

const ABORTED = Symbol('aborted');
type Outcome = { ok: true } | { ok: false; err: unknown } | typeof ABORTED;

class KafkaSubscription implements Subscription {
  readonly ready: Promise<void>;
  private state: 'active' | 'closing' | 'closed' | 'aborted' = 'active';
  /** The current kafkajs consumer: replaced when it dies or stalls (see `revive`). */
  private consumer: Consumer;
  /** Fires when the subscription is aborted, or when the consumer of this generation is replaced. */
  private aborted: Promise<typeof ABORTED>;
  private fireAbort!: () => void;
  private generation = 0;
  private stopping: Promise<void> | undefined;
  private reviving: Promise<void> | undefined;
  private joined = false;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private readonly maxBatchSize: number;
  /** When the consumer last fetched or ran the handler [epoch ms]; a handler in flight counts as alive. */
  private lastActivityMs = Date.now();
  private inHandler = false;
  private watchdog: NodeJS.Timeout | undefined;
  /** Every consumer of this subscription not yet known to have left, with its generation and lifecycle. */
  private readonly members = new Map<Consumer, { generation: number; member: KafkaMember }>();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: SubscribeOptions,
    private readonly settings: Settings,
    private readonly onGone: () => void,
  ) {
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? 1000);
    this.aborted = this.newAbort();
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    this.consumer = this.createConsumer();
  }

  private newAbort(): Promise<typeof ABORTED> {
    return new Promise((resolve) => (this.fireAbort = () => resolve(ABORTED)));
  }

  private createConsumer(): Consumer {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: this.settings.heartbeatIntervalMs,
      rebalanceTimeout: this.settings.rebalanceTimeoutMs,
      maxWaitTimeInMs: this.settings.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    });
    const generation = ++this.generation; // each consumer its own: only the newest is current
    const member = new KafkaMember(() => consumer.disconnect());
    this.members.set(consumer, { generation, member });
    void member.left.then(() => this.members.delete(consumer));
    const current = () => generation === this.generation;
    // GROUP_JOIN is emitted after JoinGroup and SyncGroup: the member has its assignment. A replaced
    // consumer that still joins (it was starting when replaced) leaves once it fetches (KafkaMember).
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (!current()) return;
      this.joined = true;
      this.lastActivityMs = Date.now();
      this.resolveReady();
    });
    consumer.on(consumer.events.FETCH_START, () => {
      member.fetching();
      if (current()) this.lastActivityMs = Date.now();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      member.crashed(payload.restart);
      if (!current()) return;
      this.settings.logger?.error({ err: payload.error, groupId: this.options.groupId, restart: payload.restart }, 'kafka consumer crashed');
      if (payload.restart) return; // kafkajs restarts it
      // kafkajs gave up on this consumer (a non-retriable error): before the member ever joined, that
      // is the subscription's failure; afterwards a new consumer takes over, so the role keeps consuming.
      if (!this.joined) this.rejectReady(payload.error);
      else this.revive('the consumer crashed and kafkajs does not restart it');
    });
    return consumer;
  }

  async start(): Promise<void> {
    await this.run(this.consumer);
    // A consumer that neither fetches nor runs the handler for this long is stuck (kafkajs can hang
    // on a broker that vanished mid-request): it is replaced. Fetches come every maxWaitTimeMs when idle.
    const stallMs = this.settings.stallTimeoutMs;
    this.watchdog = setInterval(() => {
      if (this.state === 'active' && this.joined && !this.reviving && isStalled(this.lastActivityMs, this.inHandler, Date.now(), stallMs)) {
        this.revive(`no fetch for ${Math.round((Date.now() - this.lastActivityMs) / 1000)} s`);
      }
    }, Math.max(250, stallMs / 4));
    this.watchdog.unref();
  }

  private async run(consumer: Consumer): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: [this.options.topic], fromBeginning: this.options.fromBeginning ?? true });
    const { generation, member } = this.members.get(consumer)!;
    member.starting();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload, generation, consumer),
    });
  }

  /**
   * Replaces a dead or stuck consumer with a new member of the same group. The old one's in-flight
   * handler is abandoned uncommitted (as in `abort`), so the new member starts from the last committed
   * offset: at-least-once, as after any rebalance. Retries with backoff until it runs or the
   * subscription ends.
   */
  private revive(why: string): void {
    if (this.state !== 'active' || this.reviving) return;
    this.settings.logger?.warn({ topic: this.options.topic, groupId: this.options.groupId, why }, 'kafka consumer replaced');
    this.reviving = (async () => {
      const old = this.consumer;
      this.generation++; // the old consumer is no longer current from here on
      this.fireAbort();
      this.aborted = this.newAbort();
      this.inHandler = false;
      void this.retire(old);
      for (let attempt = 1; this.state === 'active'; attempt++) {
        const next = this.createConsumer();
        this.consumer = next;
        try {
          await this.run(next);
          this.lastActivityMs = Date.now();
          return;
        } catch (err) {
          this.settings.logger?.warn({ err, topic: this.options.topic, groupId: this.options.groupId, attempt }, 'kafka consumer could not be replaced yet');
          this.generation++;
          void this.retire(next);
          await new Promise((r) => setTimeout(r, retryDelayMs(500, attempt)));
        }
      }
    })().finally(() => (this.reviving = undefined));
  }

  /** Retires a consumer: it leaves the group as soon as that is safe (KafkaMember), and is then forgotten. */
  private retire(consumer: Consumer): Promise<void> {
    return this.members.get(consumer)?.member.retire() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.state === 'active') this.state = 'closing';
    await this.stop();
    if (this.state === 'closing') this.state = 'closed';
  }

  async abort(): Promise<void> {
    if (this.state !== 'closed') {
      this.state = 'aborted';
      this.fireAbort(); // eachBatch stops waiting for the handler and returns without committing
    }
    await this.stop();
  }

  private isAborted(): boolean {
    return this.state === 'aborted';
  }

  /** Disconnects once: kafkajs waits for eachBatch to return, then leaves the group. */
  private stop(): Promise<void> {
    clearInterval(this.watchdog);
    this.stopping ??= (async () => {
      await this.reviving; // makes no new attempt now that the state is no longer active
      // Every consumer leaves; one still starting leaves once it runs or crashes. The wait is bounded:
      // a consumer that cannot reach the broker is dropped by the coordinator after its session.
      const leaving = [...this.members.keys()].map((c) => this.retire(c));
      await withTimeout(Promise.all(leaving), this.settings.rebalanceTimeoutMs + this.settings.sessionTimeoutMs);
    })().finally(() => {
      if (!this.joined) this.rejectReady(new Error(`subscription to ${this.options.topic} ended before it joined group ${this.options.groupId}`));
      this.onGone();
    });
    return this.stopping;
  }

  private async eachBatch(payload: EachBatchPayload, generation: number, consumer: Consumer): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    if (generation !== this.generation) {
      // A replaced consumer still fetching: it leaves (asynchronously: disconnect waits for this batch).
      setImmediate(() => void this.retire(consumer));
      return;
    }
    this.lastActivityMs = Date.now();
    for (let i = 0; i < batch.messages.length; i += this.maxBatchSize) {
      if (this.state !== 'active' || generation !== this.generation || !isRunning() || isStale()) return;
      const slice = batch.messages.slice(i, i + this.maxBatchSize);
      const delivered = await this.handle({ topic, partition, messages: slice.map((m) => toBusMessage(topic, partition, m)) }, heartbeat, generation);
      if (!delivered) return; // aborted, replaced, or closing after a failure: stays uncommitted
      const last = slice[slice.length - 1]!.offset;
      // Straight to the coordinator (also while closing, when kafkajs's consumer.commitOffsets is a no-op).
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: (BigInt(last) + 1n).toString() }] }] });
      resolveOffset(last);
      this.lastActivityMs = Date.now();
      await heartbeat();
    }
  }

  /** Runs the handler until it resolves (true) or the member is aborted, replaced, or closing after a failure (false). */
  private async handle(batch: MessageBatch, heartbeat: () => Promise<void>, generation: number): Promise<boolean> {
    const aborted = this.aborted;
    const gone = () => this.state === 'aborted' || generation !== this.generation;
    for (let attempt = 1; ; attempt++) {
      if (gone()) return false;
      // kafkajs only heartbeats between batches; keep the membership alive during a long handler.
      const beat = setInterval(() => heartbeat().catch(() => {}), this.settings.heartbeatIntervalMs);
      let outcome: Outcome;
      this.inHandler = true;
      try {
        outcome = await Promise.race([
          Promise.resolve()
            .then(() => this.options.handler(batch))
            .then(
              (): Outcome => ({ ok: true }),
              (err: unknown): Outcome => ({ ok: false, err }),
            ),
          aborted,
        ]);
      } finally {
        clearInterval(beat);
        if (generation === this.generation) {
          this.inHandler = false;
          this.lastActivityMs = Date.now();
        }
      }
      if (outcome === ABORTED || gone()) return false; // (state may change while awaiting)
      if (outcome.ok) return true;
      this.settings.logger?.warn(
        { err: outcome.err, topic: batch.topic, partition: batch.partition, offset: batch.messages[0]?.offset, attempt },
        'bus handler failed; the batch will be delivered again',
      );
      if (this.state !== 'active') return false;
      let timer: NodeJS.Timeout | undefined;
      // Growing with the failures (retryDelayMs), and short enough to heartbeat within the session.
      const waitMs = retryDelayMs(this.settings.retryBackoffMs, attempt, Math.min(MAX_RETRY_BACKOFF_MS, this.settings.sessionTimeoutMs / 3));
      await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, waitMs))), aborted]);
      clearTimeout(timer);
      if (gone()) return false;
      this.lastActivityMs = Date.now();
      await heartbeat(); // throws if the group is rebalancing: kafkajs rejoins and the batch is fetched again
    }
  }
}

/** How long a joined consumer may go without a fetch or a handler call before it is replaced [ms]. */
export function stallTimeoutMs(s: Pick<Settings, 'sessionTimeoutMs' | 'rebalanceTimeoutMs' | 'maxWaitTimeMs'>): number {
  // Longer than a rebalance (no fetches while the group re-forms) and than kafkajs's own retries of a
  // lost broker (about 30 s), so only a consumer that will not recover by itself is replaced.
  return Math.max(60_000, s.rebalanceTimeoutMs + s.sessionTimeoutMs, 20 * s.maxWaitTimeMs);
}

/** A stalled consumer: outside the handler, and no fetch or handler activity for `stallMs`. */
export function isStalled(lastActivityMs: number, inHandler: boolean, nowMs: number, stallMs: number): boolean {
  return !inHandler && nowMs - lastActivityMs > stallMs;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}

const EMPTY = new Uint8Array(0);

function toBusMessage(topic: string, partition: number, m: KafkaMessage): BusMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString('utf8') : '',
    value: m.value ?? EMPTY,
    timestampMs: Number(m.timestamp),
  };
}
