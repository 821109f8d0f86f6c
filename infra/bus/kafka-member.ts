/**
 * One kafkajs consumer's lifecycle, as its instrumentation events show it, and its safe retirement.
 *
 * kafkajs's `disconnect()` stops only a runner that is already running. Called while the runner is
 * still connecting or joining (its first start, or a restart that kafkajs scheduled after a crash),
 * it forgets that runner, which then finishes joining and consumes as a group member that nothing
 * can stop any more: it holds partitions, never commits, and keeps its process alive. So a retired
 * consumer is disconnected only where that is safe:
 * - while it runs (it has fetched since it last started);
 * - while it is idle (never started, or crashed for good);
 * - right after a crash, before the restart that kafkajs schedules fires (the disconnect cancels it).
 * A retired consumer that shows life again (it fetches, or it crashes and would restart) is
 * disconnected again.
 */
export type MemberPhase = 'idle' | 'starting' | 'running';

export class KafkaMember {
  private phaseNow: MemberPhase = 'idle';
  private retired = false;
  private leaving: Promise<void> | undefined;
  private leaveAgain = false;
  private resolveLeft!: () => void;
  /** Resolves when the retired consumer has been disconnected from a safe phase. */
  readonly left: Promise<void>;

  constructor(
    private readonly disconnect: () => Promise<void>,
    /** Runs a callback once the current event has been handled (kafkajs sets a restart timer after its crash event). */
    private readonly defer: (fn: () => void) => void = (fn) => void setImmediate(fn),
  ) {
    this.left = new Promise((resolve) => (this.resolveLeft = resolve));
  }

  get phase(): MemberPhase {
    return this.phaseNow;
  }

  get isRetired(): boolean {
    return this.retired;
  }

  /** The runner is being started (our `run`); until it fetches or crashes, disconnecting is unsafe. */
  starting(): void {
    this.phaseNow = 'starting';
  }

  /** A fetch began: the runner is running. */
  fetching(): void {
    this.phaseNow = 'running';
    if (this.retired) this.leave();
  }

  /** kafkajs crashed the runner; with `restart` it has scheduled a new start. */
  crashed(restart: boolean): void {
    this.phaseNow = restart ? 'starting' : 'idle';
    // Deferred past the crash event: kafkajs sets its restart timer just after emitting it, and the
    // disconnect must clear that timer. The timer waits at least its initial retry time (300 ms).
    if (this.retired) {
      this.defer(() => {
        this.phaseNow = 'idle'; // the disconnect cancels the scheduled restart
        this.leave();
      });
    }
  }

  /** Marks the consumer as replaced: it leaves now if that is safe, else as soon as it becomes safe. */
  retire(): Promise<void> {
    this.retired = true;
    if (this.phaseNow !== 'starting') this.leave();
    return this.left;
  }

  private leave(): void {
    if (this.leaving) {
      this.leaveAgain = true;
      return;
    }
    this.leaving = this.disconnect()
      .catch(() => undefined)
      .then(() => {
        this.leaving = undefined;
        if (this.leaveAgain) {
          this.leaveAgain = false;
          this.leave();
          return;
        }
        if (this.phaseNow === 'running') this.phaseNow = 'idle';
        if (this.phaseNow === 'idle') this.resolveLeft();
      });
  }
}
