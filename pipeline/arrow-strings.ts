/**
 * String columns for the batch's Arrow artefacts, built and read in bulk. Arrow's generic builder
 * (`tableFromArrays` on a `string[]`) appends value by value through a hashing dictionary builder:
 * for a window of a million readings that was a second of the batch. Here a column is dictionary
 * encoded directly (the sensor ids of a window repeat: readings come sorted by sensor), its distinct
 * values encoded to UTF-8 in one pass; reading one back decodes each distinct value once and shares
 * the strings. The type is Arrow's own (Dictionary<Utf8, Int32>), so any Arrow reader reads it. Pure.
 */
import { Dictionary, Int32, makeData, makeVector, Table, Utf8, type DataType, type Vector } from 'apache-arrow';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A dictionary-encoded UTF-8 column of `values`, its dictionary in order of first appearance. */
export function stringColumn(values: readonly string[]): Vector<Dictionary<Utf8, Int32>> {
  const n = values.length;
  const indices = new Int32Array(n);
  const codeOf = new Map<string, number>();
  const distinct: string[] = [];
  let prev: string | undefined, prevCode = -1;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== prev) {
      let code = codeOf.get(v);
      if (code === undefined) {
        code = distinct.length;
        codeOf.set(v, code);
        distinct.push(v);
      }
      prev = v;
      prevCode = code;
    }
    indices[i] = prevCode;
  }
  const bytes = encoder.encode(distinct.join(''));
  const offsets = new Int32Array(distinct.length + 1);
  if (bytes.length === distinct.reduce((s, v) => s + v.length, 0)) {
    // All ASCII (the rule for ids): a character is a byte.
    for (let k = 0; k < distinct.length; k++) offsets[k + 1] = offsets[k]! + distinct[k]!.length;
  } else {
    for (let k = 0; k < distinct.length; k++) offsets[k + 1] = offsets[k]! + encoder.encode(distinct[k]!).length;
  }
  const type = new Dictionary(new Utf8(), new Int32());
  const dictionary = makeVector(makeData({ type: new Utf8(), length: distinct.length, nullCount: 0, valueOffsets: offsets, data: bytes }));
  return makeVector(makeData({ type, length: n, nullCount: 0, data: indices, dictionary }));
}

/** The strings of a column (dictionary-encoded or plain UTF-8, without nulls), each distinct value decoded once. */
export function columnStrings(column: Vector): string[] {
  const out: string[] = new Array(column.length);
  let at = 0;
  for (const data of column.data) {
    if (data.nullCount > 0) throw new Error('a string column with nulls');
    if (data.offset !== 0) {
      // A slice of another column: the generic path.
      for (const s of Array.from(makeVector(data).toArray() as ArrayLike<string>)) out[at++] = s;
      continue;
    }
    if (data.dictionary) {
      const dict = plainStrings(data.dictionary.data);
      const idx = data.values as Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
      for (let i = 0; i < data.length; i++) out[at++] = dict[idx[i]!]!;
    } else {
      for (const s of plainStrings([data])) out[at++] = s;
    }
  }
  return out;
}

function plainStrings(chunks: readonly { length: number; valueOffsets: ArrayLike<number>; values: Uint8Array }[]): string[] {
  const out: string[] = [];
  for (const c of chunks) {
    const off = c.valueOffsets, bytes = c.values;
    for (let i = 0; i < c.length; i++) out.push(decoder.decode(bytes.subarray(off[i]!, off[i + 1]!)));
  }
  return out;
}

/** A table of typed-array and string columns (strings dictionary-encoded as in `stringColumn`). */
export function tableOf(columns: Record<string, (ArrayLike<number> & { buffer: ArrayBufferLike }) | readonly string[]>): Table {
  const vectors: Record<string, Vector<DataType>> = {};
  for (const [name, c] of Object.entries(columns)) {
    if (!Array.isArray(c)) vectors[name] = makeVector(c as Float64Array);
    else if (c.every((v) => typeof v === 'string')) vectors[name] = stringColumn(c as readonly string[]);
    else throw new TypeError(`column ${name}: a plain array must hold strings (numbers go in a typed array)`);
  }
  return new Table(vectors);
}
