/**
 * A character device in the embedded engine's file system that `COPY … TO '<path>'` writes into, kept
 * as one growing byte buffer.
 *
 * PGlite's own `/dev/blob` keeps every write as a separate copy and joins them in a `Blob`: COPY TO a
 * file writes once per row, so a million-row window became a million small arrays, a Blob of a million
 * parts and a read of it back (3.5 s of the million-reading window's read, and much of its garbage). Here each write is
 * appended in place to a buffer that doubles when full; what COPY wrote is taken as one Uint8Array.
 *
 * One device per engine; the writes of one COPY at a time: `collect` runs its callbacks one after the
 * other, and the engine runs one statement at a time anyway.
 */

/** The part of Emscripten's FS that a device needs (PGlite's `Module.FS`). */
export interface EmscriptenFs {
  makedev(major: number, minor: number): number;
  getDevice(dev: number): unknown;
  registerDevice(dev: number, ops: DeviceOps): void;
  mkdev(path: string, dev: number): void;
  analyzePath(path: string): { exists: boolean };
}

interface DeviceOps {
  open(stream: unknown): void;
  close(stream: unknown): void;
  read(stream: unknown, buffer: Uint8Array, offset: number, length: number, position: number): number;
  write(stream: unknown, buffer: Uint8Array, offset: number, length: number, position?: number): number;
}

/**
 * Where the search for a free device number starts. Emscripten numbers the devices it creates from
 * major 64 up (/dev/random, /dev/urandom, ...), and PGlite puts /dev/blob on (64, 0), over /dev/random:
 * taking (65, 0) would have replaced /dev/urandom, which the engine reads for gen_random_uuid() and
 * its other strong random numbers. So the first number nobody registered, from well above those.
 */
const FIRST_MAJOR = 200;

export class CopySink {
  readonly path: string;
  #buf = new Uint8Array(0);
  #len = 0;
  #collecting = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(fs: EmscriptenFs, path = '/dev/copy-sink') {
    this.path = path;
    if (fs.analyzePath(path).exists) throw new Error(`${path} already exists in the engine's file system`);
    let major = FIRST_MAJOR;
    while (fs.getDevice(fs.makedev(major, 0)) !== undefined) major++;
    const dev = fs.makedev(major, 0);
    fs.registerDevice(dev, {
      open: () => undefined,
      close: () => undefined,
      read: () => 0,
      write: (_stream, buffer, offset, length) => {
        if (!this.#collecting) throw new Error(`${path} written outside a collect()`);
        this.#append(buffer, offset, length);
        return length;
      },
    });
    fs.mkdev(path, dev);
  }

  #append(buffer: Uint8Array, offset: number, length: number): void {
    const need = this.#len + length;
    if (need > this.#buf.length) {
      const grown = new Uint8Array(Math.max(need, this.#buf.length * 2, 1 << 16));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    if (length < 64) {
      // Most writes are one row of a few dozen bytes: a loop is cheaper than a subarray view each.
      const b = this.#buf;
      for (let i = 0; i < length; i++) b[this.#len + i] = buffer[offset + i]!;
    } else {
      this.#buf.set(buffer.subarray(offset, offset + length), this.#len);
    }
    this.#len = need;
  }

  /**
   * Runs `write` (which makes the engine write to `path`) and returns what it wrote, a copy the size of
   * the data. Calls are queued, so concurrent ones never mix their bytes.
   */
  collect(write: (path: string) => Promise<unknown>): Promise<Uint8Array> {
    const run = async (): Promise<Uint8Array> => {
      this.#len = 0;
      this.#collecting = true;
      try {
        await write(this.path);
        return this.#buf.slice(0, this.#len);
      } finally {
        this.#collecting = false;
        // Keep a buffer of a typical window for the next call, not the largest ever seen.
        if (this.#buf.length > 64 << 20) this.#buf = new Uint8Array(0);
        this.#len = 0;
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
