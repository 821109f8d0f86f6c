/**
 * A progress bar on a stream (stderr): redrawn in place on a terminal at most ten times a second;
 * elsewhere (logs, CI) one line per tenth of the way.
 */
export class ProgressBar {
  private label = '';
  private total = 1;
  private lastDraw = 0;
  private lastDecile = -1;
  private startedMs = 0;

  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean }, private readonly prefix = '', private readonly width = 28) {}

  start(label: string, total: number): void {
    this.label = label;
    this.total = Math.max(1, total);
    this.lastDraw = 0;
    this.lastDecile = -1;
    this.startedMs = Date.now();
  }

  update(done: number, note = ''): void {
    const frac = Math.min(1, done / this.total);
    const now = Date.now();
    if (this.stream.isTTY) {
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.line(frac, note)}\x1b[K`);
    } else {
      const decile = Math.floor(frac * 10);
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.stream.write(`${this.line(frac, note)}\n`);
    }
  }

  finish(note = ''): void {
    this.stream.write(`${this.stream.isTTY ? '\r' : ''}${this.line(1, note)}${this.stream.isTTY ? '\x1b[K' : ''}\n`);
  }

  private line(frac: number, note: string): string {
    const filled = Math.round(frac * this.width);
    const elapsed = (Date.now() - this.startedMs) / 1000;
    const eta = frac > 0 && frac < 1 ? ` eta ${Math.round((elapsed / frac) * (1 - frac))} s` : '';
    return `${this.prefix}${this.label} [${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%${eta} ${note}`;
  }
}
