/**
 * PostgreSQL's binary COPY format, written from JavaScript values (pure: values in, bytes out).
 *
 * Layout (PostgreSQL docs, "COPY … Binary Format"): the 11-byte signature `PGCOPY\n\377\r\n\0`, a
 * 32-bit flags field (0) and a 32-bit header-extension length (0); then per tuple a 16-bit field
 * count and per field a 32-bit byte length (-1 for NULL) followed by the value in its type's binary
 * send format; then the 16-bit trailer -1. Every integer is big-endian (network order).
 *
 * Types written: text (UTF-8 bytes), float8 (IEEE 754 double), timestamptz (64-bit microseconds since
 * 2000-01-01 00:00 UTC, PostgreSQL's integer datetimes). The server parses nothing, which is why
 * this loads rows for less CPU than COPY's text and CSV formats (no float or timestamp parsing).
 */

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
/** PostgreSQL's epoch, 2000-01-01T00:00:00Z, in Unix epoch milliseconds. */
export const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;

const utf8 = new TextEncoder();

export class CopyBinaryWriter {
  #buf: Uint8Array;
  #view: DataView;
  #at = 0;
  #tuples = 0;
  #finished = false;

  /** `fields`: the number of columns of every tuple; `expectedBytes`: a first guess of the size. */
  constructor(
    private readonly fields: number,
    expectedBytes = 64 * 1024,
  ) {
    if (!Number.isInteger(fields) || fields < 1 || fields > 1600) throw new RangeError(`fields must be an integer in 1..1600 (PostgreSQL's column limit), got ${fields}`);
    this.#buf = new Uint8Array(Math.max(64, expectedBytes));
    this.#view = new DataView(this.#buf.buffer);
    for (const b of SIGNATURE) this.#buf[this.#at++] = b;
    this.#view.setInt32(this.#at, 0); // flags: no OIDs
    this.#view.setInt32(this.#at + 4, 0); // no header extension
    this.#at += 8;
  }

  /** Tuples begun so far. */
  get tuples(): number {
    return this.#tuples;
  }

  #reserve(bytes: number): void {
    if (this.#finished) throw new Error('CopyBinaryWriter: finished');
    const need = this.#at + bytes;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#at));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  /** Begins a tuple; exactly `fields` values must follow. */
  tuple(): this {
    this.#reserve(2);
    this.#view.setInt16(this.#at, this.fields);
    this.#at += 2;
    this.#tuples++;
    return this;
  }

  null(): this {
    this.#reserve(4);
    this.#view.setInt32(this.#at, -1);
    this.#at += 4;
    return this;
  }

  /** A text (or varchar) value as UTF-8. */
  text(s: string): this {
    // UTF-16 code units to UTF-8 take at most 3 bytes each.
    this.#reserve(4 + 3 * s.length);
    const { written } = utf8.encodeInto(s, this.#buf.subarray(this.#at + 4));
    this.#view.setInt32(this.#at, written);
    this.#at += 4 + written;
    return this;
  }

  /** A float8 (double precision) value, or NULL for null. */
  float8(x: number | null): this {
    if (x === null) return this.null();
    this.#reserve(12);
    this.#view.setInt32(this.#at, 8);
    this.#view.setFloat64(this.#at + 4, x);
    this.#at += 12;
    return this;
  }

  /**
   * A timestamptz from Unix epoch milliseconds (a whole number: PostgreSQL keeps microseconds, so
   * milliseconds are exact; fractions would be rounded to the microsecond by the caller's choice).
   */
  timestamptzMs(ms: number): this {
    if (!Number.isInteger(ms)) throw new RangeError(`timestamptzMs expects whole milliseconds, got ${ms}`);
    const us = (ms - PG_EPOCH_MS) * 1000; // exact below 2^53 µs (about year 2285)
    if (!Number.isSafeInteger(us)) throw new RangeError(`timestamptzMs: ${ms} is out of range`);
    this.#reserve(12);
    this.#view.setInt32(this.#at, 8);
    const hi = Math.floor(us / TWO_32);
    this.#view.setInt32(this.#at + 4, hi);
    this.#view.setUint32(this.#at + 8, us - hi * TWO_32);
    this.#at += 12;
    return this;
  }

  /** Writes the trailer and returns the bytes (a view of the writer's buffer); the writer is done. */
  finish(): Uint8Array {
    this.#reserve(2);
    this.#view.setInt16(this.#at, -1);
    this.#at += 2;
    this.#finished = true;
    return this.#buf.subarray(0, this.#at);
  }
}

/** Thrown when bytes are not PostgreSQL's binary COPY format, or not the shape the reader expects. */
export class CopyFormatError extends Error {
  override readonly name = 'CopyFormatError';
  readonly code = 'COPY_FORMAT';
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads PostgreSQL's binary COPY format (the layout above), tuple by tuple: `next()` moves to the next
 * tuple and says how many fields it has (-1 at the trailer), then the field readers take its fields in
 * order. Pure: bytes in, values out.
 */
export class CopyBinaryReader {
  readonly #v: DataView;
  readonly #b: Uint8Array;
  #p: number;
  /** The previous text field's bytes and value: a column sorted by its text repeats values in runs. */
  #lastStart = -1;
  #lastLen = -1;
  #lastText = '';

  constructor(bytes: Uint8Array) {
    this.#b = bytes;
    this.#v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 19 || SIGNATURE.some((x, i) => bytes[i] !== x)) throw new CopyFormatError('not PostgreSQL binary COPY data (no PGCOPY signature)');
    const ext = this.#v.getInt32(15);
    this.#p = 19 + ext;
  }

  /** Fields of the next tuple, or -1 at the trailer. */
  next(): number {
    if (this.#p + 2 > this.#b.length) throw new CopyFormatError('binary COPY data ends without its trailer');
    const n = this.#v.getInt16(this.#p);
    this.#p += 2;
    return n;
  }

  #len(): number {
    const len = this.#v.getInt32(this.#p);
    this.#p += 4;
    if (len > this.#b.length - this.#p) throw new CopyFormatError(`a field of ${len} bytes runs past the data`);
    return len;
  }

  #fixed(size: number, what: string): boolean {
    const len = this.#len();
    if (len === -1) return false;
    if (len !== size) throw new CopyFormatError(`${what} field of ${len} bytes, expected ${size}`);
    return true;
  }

  /** A text field (null for NULL). */
  text(): string | null {
    const len = this.#len();
    if (len === -1) return null;
    const start = this.#p;
    this.#p += len;
    if (len === this.#lastLen) {
      let same = true;
      for (let i = 0; i < len; i++) if (this.#b[start + i] !== this.#b[this.#lastStart + i]) { same = false; break; }
      if (same) { this.#lastStart = start; return this.#lastText; }
    }
    this.#lastStart = start;
    this.#lastLen = len;
    this.#lastText = utf8Decoder.decode(this.#b.subarray(start, start + len));
    return this.#lastText;
  }

  /** A float8 field (NaN for NULL). */
  float8(): number {
    if (!this.#fixed(8, 'float8')) return NaN;
    const x = this.#v.getFloat64(this.#p);
    this.#p += 8;
    return x;
  }

  /** A bool field (null for NULL). */
  bool(): boolean | null {
    if (!this.#fixed(1, 'bool')) return null;
    return this.#b[this.#p++] !== 0;
  }

  /** A timestamptz field in Unix epoch milliseconds, rounded to the millisecond (NaN for NULL). */
  timestampMs(): number {
    if (!this.#fixed(8, 'timestamptz')) return NaN;
    const micros = this.#v.getInt32(this.#p) * TWO_32 + this.#v.getUint32(this.#p + 4);
    this.#p += 8;
    return Math.round(micros / 1000) + PG_EPOCH_MS;
  }
}
