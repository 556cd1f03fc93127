// 64-bit values in chunks live as two u32 columns (hi, lo): exact for 0..2^64-1, and plain integers
// for the hot path. These are the only conversions between the two halves and bigint.

const U32 = 0x1_0000_0000n;

export function u64(hi: Uint32Array, lo: Uint32Array, i: number): bigint {
  return (BigInt(hi[i]!) << 32n) | BigInt(lo[i]!);
}

export function setU64(hi: Uint32Array, lo: Uint32Array, i: number, value: bigint): void {
  hi[i] = Number(value >> 32n);
  lo[i] = Number(value % U32);
}

/** The value as a JS number when it is exact (<= 2^53), else NaN. */
export function u64Number(hi: Uint32Array, lo: Uint32Array, i: number): number {
  const h = hi[i]!;
  return h < 0x200000 ? h * 0x1_0000_0000 + lo[i]! : NaN;
}
