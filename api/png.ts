/**
 * A minimal PNG codec for 8-bit palette images (colour type 3 with a tRNS chunk): what map tiles
 * need. Encoding: filter type 0 per row, zlib (node:zlib). Decoding reads back what this encoder
 * writes (used by tests and the browser test to check tiles). CRC-32 from node:zlib.
 */
import { crc32, deflateSync, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** Encodes `indices` (width × height palette indices) with `palette` RGB triples; `alpha[i]` per entry. */
export function encodePalettePng(width: number, height: number, indices: Uint8Array, palette: Uint8Array, alpha: Uint8Array, level = 6): Buffer {
  if (indices.length !== width * height) throw new RangeError(`indices has ${indices.length} entries, expected ${width}×${height} = ${width * height}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 3; // palette
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(indices.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('PLTE', palette), chunk('tRNS', alpha), chunk('IDAT', deflateSync(raw, { level })), chunk('IEND', new Uint8Array(0))]);
}

/** Decodes a palette PNG written by encodePalettePng: its size, indices, palette and alpha. */
export function decodePalettePng(png: Uint8Array): { width: number; height: number; indices: Uint8Array; palette: Uint8Array; alpha: Uint8Array } {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (!buf.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  let pos = 8;
  let width = 0, height = 0;
  let palette = new Uint8Array(0), alpha = new Uint8Array(0);
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 3) throw new Error('only 8-bit palette PNGs are decoded');
    } else if (type === 'PLTE') palette = new Uint8Array(data);
    else if (type === 'tRNS') alpha = new Uint8Array(data);
    else if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const indices = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    if (raw[y * (width + 1)] !== 0) throw new Error('only filter type 0 is decoded');
    indices.set(raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1)), y * width);
  }
  return { width, height, indices, palette, alpha };
}
