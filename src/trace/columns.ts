// 64-bit values in chunks live as two u32 columns (hi, lo): exact for 0..2^64-1, and plain integers
// for the hot path. These are the only conversions between the two halves and bigint.

import { F_FD, F_FLAGS, F_GPA, F_HVA, F_OFFSET, F_SIZE, F_VCPU } from './fields.js';
import type { TraceChunk } from './schema.js';

const U32 = 0x1_0000_0000n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function u64(hi: Uint32Array, lo: Uint32Array, i: number): bigint {
  return (BigInt(hi[i]!) << 32n) | BigInt(lo[i]!);
}

export function setU64(hi: Uint32Array, lo: Uint32Array, i: number, value: bigint): void {
  if (value <= SAFE) {
    // One conversion instead of two bigint operations: below 2^53 a number holds it exactly.
    const n = Number(value);
    hi[i] = Math.floor(n / 0x1_0000_0000);
    lo[i] = n % 0x1_0000_0000;
    return;
  }
  hi[i] = Number(value >> 32n);
  lo[i] = Number(value % U32);
}

// Readers of one row's fields, for the replay path and the op table's handlers. No allocation but
// the bigints of u64Field (ioctl rows only: the access path reads gfn and plain integers).

/** Whether field `f` (F_* id) was given on row i. */
export function has(chunk: TraceChunk, i: number, f: number): boolean {
  return (chunk.present[i]! & (1 << f)) !== 0;
}

/** The hi (or lo) column of 64-bit field `f`. */
export function hiColumn(chunk: TraceChunk, f: number): Uint32Array {
  return f === F_GPA ? chunk.gpaHi : f === F_SIZE ? chunk.sizeHi : f === F_HVA ? chunk.hvaHi : f === F_OFFSET ? chunk.offsetHi : f === F_FLAGS ? chunk.flagsHi : chunk.attrsHi;
}
export function loColumn(chunk: TraceChunk, f: number): Uint32Array {
  return f === F_GPA ? chunk.gpaLo : f === F_SIZE ? chunk.sizeLo : f === F_HVA ? chunk.hvaLo : f === F_OFFSET ? chunk.offsetLo : f === F_FLAGS ? chunk.flagsLo : chunk.attrsLo;
}

/** 64-bit field `f` of row i (0 when not given: the columns are zero-filled). */
export function u64Field(chunk: TraceChunk, f: number, i: number): bigint {
  return u64(hiColumn(chunk, f), loColumn(chunk, f), i);
}

/** The row's gfn: exact for any 64-bit gpa (the result is < 2^52). */
export function gfn(chunk: TraceChunk, i: number): number {
  return chunk.gpaHi[i]! * 0x100000 + (chunk.gpaLo[i]! >>> 12);
}

/** The row's fd; an absent fd is no file at all (-1), not fd 0, which a trace may name. */
export function fd(chunk: TraceChunk, i: number): number {
  return has(chunk, i, F_FD) ? chunk.fd[i]! : -1;
}

/** The row's offset, 0 when not given. */
export function offset(chunk: TraceChunk, i: number): bigint {
  return has(chunk, i, F_OFFSET) ? u64(chunk.offsetHi, chunk.offsetLo, i) : 0n;
}

/** The row's vCPU; an empty cell is vCPU 0. */
export function vcpu(chunk: TraceChunk, i: number): number {
  return has(chunk, i, F_VCPU) ? chunk.vcpu[i]! : 0;
}

/** 4K pages an access row touches: its size from the gpa's page offset, rounded up; one without a size. */
export function accessPages(chunk: TraceChunk, i: number): number {
  if (!has(chunk, i, F_SIZE)) return 1;
  const size = chunk.sizeHi[i]! * 0x1_0000_0000 + chunk.sizeLo[i]!;
  if (size === 0) return 1;
  return Math.floor(((chunk.gpaLo[i]! & 0xfff) + size - 1) / 4096) + 1;
}
