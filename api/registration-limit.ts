/**
 * How many stations one client address may register per window (a fixed window per address).
 * Small and in-process on purpose: each api process counts its own clients.
 */
export class RegistrationLimit {
  readonly #windows = new Map<string, { startMs: number; count: number }>();

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly maxAddresses = 100_000,
  ) {}

  /** Takes one registration for `address`; returns 0 when allowed, else the seconds until it would be. */
  take(address: string, nowMs: number): number {
    let w = this.#windows.get(address);
    if (!w || nowMs - w.startMs >= this.windowMs) {
      if (!w && this.#windows.size >= this.maxAddresses) this.#prune(nowMs);
      w = { startMs: nowMs, count: 0 };
      this.#windows.set(address, w);
    }
    if (w.count >= this.perWindow) return Math.max(1, Math.ceil((w.startMs + this.windowMs - nowMs) / 1000));
    w.count++;
    return 0;
  }

  #prune(nowMs: number): void {
    for (const [a, w] of this.#windows) if (nowMs - w.startMs >= this.windowMs) this.#windows.delete(a);
    // Still full (a flood of addresses): forget the oldest half rather than grow without bound.
    if (this.#windows.size >= this.maxAddresses) {
      let n = Math.floor(this.#windows.size / 2);
      for (const a of this.#windows.keys()) {
        if (n-- <= 0) break;
        this.#windows.delete(a);
      }
    }
  }
}
