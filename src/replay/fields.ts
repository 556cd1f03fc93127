// Small readers of a chunk's columns on the replay path (the 64-bit bigint reader is trace/columns.ts).

import type { TraceChunk } from '../trace/schema.js';

/** Whether field `f` (F_* id) was given on row i. */
export function has(chunk: TraceChunk, i: number, f: number): boolean {
  return (chunk.present[i]! & (1 << f)) !== 0;
}

/** gfn of a gpa given as hi/lo u32 halves: exact for any 64-bit gpa (the result is < 2^52). */
export function gfnAt(hi: Uint32Array, lo: Uint32Array, i: number): number {
  return hi[i]! * 0x100000 + (lo[i]! >>> 12);
}
