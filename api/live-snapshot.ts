/**
 * The snapshot the API serves, kept current: a poll of the ledger (or a nudge when a batch
 * finishes in this process) loads the newest finished run and swaps the reference atomically.
 * Requests read `current` once and use that object throughout, so a swap never mixes two runs.
 * The store stays the source of truth; losing the store leaves the last snapshot served.
 */
import type { LeadZero, LedgerState, RunColumns, Store } from '../infra/store/index.ts';
import { doneRunTimesSince, latestDoneRunTime, ledgerState, readLeadZero, readRunColumns } from '../infra/store/index.ts';
import type { Logger } from '../infra/log.ts';
import { MINUTE_MS } from '../infra/time.ts';
import { Snapshot } from './snapshot.ts';

/** Where runs come from: the store directly, or the thread that owns the embedded store. */
export interface RunSource {
  ledger(): Promise<LedgerState>;
  latestDoneRunTime(): Promise<number | null>;
  readRun(runTimeMs: number): Promise<RunColumns | null>;
  /** Lead-0 values of finished runs in [sinceMs, beforeMs) on `everyMs` boundaries. */
  readPast(sinceMs: number, beforeMs: number, everyMs: number): Promise<LeadZero[]>;
}

/** Past values are kept at this spacing (15-minute steps, hence hours too) [ms]. */
export const PAST_EVERY_MS = 15 * MINUTE_MS;

/** A RunSource reading a store on this thread. */
export function storeRunSource(store: Store): RunSource {
  return {
    ledger: () => ledgerState(store),
    latestDoneRunTime: () => latestDoneRunTime(store),
    readRun: (t) => readRunColumns(store, t),
    async readPast(sinceMs, beforeMs, everyMs) {
      const times = (await doneRunTimesSince(store, sinceMs, everyMs)).filter((t) => t < beforeMs);
      return readLeadZero(store, times);
    },
  };
}

export interface LiveSnapshotOptions {
  source: RunSource;
  log: Logger;
  /** How often the ledger is polled [ms]. */
  pollMs: number;
  /** How far back past values are kept [ms]. */
  keepPastMs: number;
  now?: () => number;
}

export interface SnapshotStatus {
  /** The last poll reached the store. */
  storeOk: boolean;
  /** When the ledger read now in flight started [epoch ms]; null when none is. */
  pendingSinceMs: number | null;
  storeError: string | null;
  ledger: LedgerState | null;
  loadedAtMs: number | null;
}

export class LiveSnapshot {
  #current: Snapshot | null = null;
  #status: SnapshotStatus = { storeOk: false, pendingSinceMs: null, storeError: null, ledger: null, loadedAtMs: null };
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  readonly #o: LiveSnapshotOptions;
  readonly #listeners: ((s: Snapshot) => void)[] = [];

  constructor(o: LiveSnapshotOptions) {
    this.#o = o;
  }

  /** The snapshot of the newest finished run loaded so far (null before the first). */
  get current(): Snapshot | null {
    return this.#current;
  }

  get status(): Readonly<SnapshotStatus> {
    return this.#status;
  }

  /** Called after each swap with the new snapshot. */
  onSwap(listener: (s: Snapshot) => void): void {
    this.#listeners.push(listener);
  }

  /** Replaces the snapshot (used by tests and by refresh). */
  swap(s: Snapshot): void {
    this.#current = s;
    for (const l of this.#listeners) l(s);
  }

  /** Starts polling; the first refresh runs at once. */
  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      void this.refresh().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(tick, this.#o.pollMs);
      });
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  /** Loads the newest finished run if it is newer than the current one. Never throws. */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = this.#load().finally(() => {
      this.#refreshing = null;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.refresh();
      }
    });
    return this.#refreshing;
  }

  async #load(): Promise<void> {
    const { source, log } = this.#o;
    try {
      this.#status = { ...this.#status, pendingSinceMs: (this.#o.now ?? Date.now)() };
      const ledger = await source.ledger();
      this.#status = { ...this.#status, pendingSinceMs: null, storeOk: true, storeError: null, ledger };
      const newest = ledger.lastDone?.windowEndMs ?? null;
      const cur = this.#current;
      if (newest === null || (cur && cur.runTimeMs >= newest)) return;
      const t0 = performance.now();
      const run = await source.readRun(newest);
      if (!run) return; // its nowcasts were dropped already; the next run will come
      const past = cur ? [] : await source.readPast(newest - this.#o.keepPastMs, newest, PAST_EVERY_MS);
      const snap = Snapshot.build(run, { past, previous: cur, keepPastMs: this.#o.keepPastMs, pastEveryMs: PAST_EVERY_MS });
      if (this.#current && this.#current.runTimeMs >= snap.runTimeMs) return;
      this.swap(snap);
      this.#status = { ...this.#status, loadedAtMs: (this.#o.now ?? Date.now)() };
      log.info({ run: new Date(newest).toISOString(), cells: snap.size, past: snap.pastTimesMs.length, loadMs: Math.round(performance.now() - t0) }, 'snapshot swapped');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.#status.storeOk) log.warn({ err: message }, 'snapshot refresh failed');
      this.#status = { ...this.#status, pendingSinceMs: null, storeOk: false, storeError: message };
    }
  }
}
