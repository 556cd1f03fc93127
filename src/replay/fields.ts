// Reading a chunk's 64-bit hi/lo columns on the replay path: bigint for the cold ioctl arguments,
// and the few number forms the hot access path needs (exact below 2^53).

import type { TraceChunk } from '../trace/schema.js';

export function u64At(hi: Uint32Array, lo: Uint32Array, i: number): bigint {
  return (BigInt(hi[i]!) << 32n) | BigInt(lo[i]!);
}

/** Whether field `f` (F_* id) was given on row i. */
export function has(chunk: TraceChunk, i: number, f: number): boolean {
  return (chunk.present[i]! & (1 << f)) !== 0;
}

/** gfn of a gpa given as hi/lo u32 halves: exact for any 64-bit gpa (the result is < 2^52). */
export function gfnAt(hi: Uint32Array, lo: Uint32Array, i: number): number {
  return hi[i]! * 0x100000 + (lo[i]! >>> 12);
}
