// CRC32 (IEEE, as zlib computes it) for .s2t chunks. node:zlib has a native crc32 from Node 20.15 on;
// older Node 20 releases get the table-driven version below, which gives the same values, slower.

import * as zlib from 'node:zlib';

type Crc32 = (data: Uint8Array, value?: number) => number;

let table: Uint32Array | undefined;

function crc32Table(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** Table-driven CRC32; `value` continues an earlier checksum, as zlib.crc32's second argument does. */
export function crc32Portable(data: Uint8Array, value = 0): number {
  const t = (table ??= crc32Table());
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const native = (zlib as { crc32?: Crc32 }).crc32;

export const crc32: Crc32 = native ?? crc32Portable;
