// A map from page numbers (gfn or guest_memfd page offset) to a small value, stored as sorted, disjoint
// [start, end) runs in typed arrays. A trace may claim terabytes of guest memory, so state is kept per
// run, never per page. Touching runs with the same value are always coalesced, which keeps the
// representation canonical: two maps with equal contents have equal arrays.
//
// Page numbers go up to 2^52 (a 64-bit gpa >> 12), so they live in Float64Arrays, exact below 2^53.

import { ensureModelMemory } from './model-memory.js';

const INITIAL_RUNS = 16;
/** Bytes a run takes: start and end (Float64) and value (Uint8). */
const RUN_BYTES = 17;

export class RangeMap {
  starts = new Float64Array(INITIAL_RUNS);
  ends = new Float64Array(INITIAL_RUNS);
  /** Value of each run, >= 1; a page in no run has value 0. */
  values = new Uint8Array(INITIAL_RUNS);
  count = 0;
  /** The run the last lookup landed in: accesses are local, so it is usually the next one's too. */
  private hint = 0;
  // Scratch for set(): at most three replacement runs.
  private readonly newStarts = new Float64Array(3);
  private readonly newEnds = new Float64Array(3);
  private readonly newValues = new Uint8Array(3);

  /** Index of the run containing `page`, or -1. No allocation. */
  find(page: number): number {
    const h = this.hint;
    if (h < this.count && this.starts[h]! <= page && page < this.ends[h]!) return h;
    const i = this.firstEndAfter(page);
    if (i < this.count && this.starts[i]! <= page) {
      this.hint = i;
      return i;
    }
    return -1;
  }

  /** The value at `page` (0 when no run holds it). */
  get(page: number): number {
    const i = this.find(page);
    return i < 0 ? 0 : this.values[i]!;
  }

  /**
   * The one value every page of [start, end) has (0 for none held), or -1 when they differ. A range
   * partly outside every run and partly inside one is mixed.
   */
  classify(start: number, end: number): number {
    const i = this.firstEndAfter(start);
    if (i === this.count || this.starts[i]! >= end) return 0;
    if (this.starts[i]! <= start && this.ends[i]! >= end) return this.values[i]!;
    return -1;
  }

  /** How many pages of [start, end) hold value `value` (>= 1). Cold path. */
  countValue(start: number, end: number, value: number): number {
    let n = 0;
    for (let i = this.firstEndAfter(start); i < this.count && this.starts[i]! < end; i++) {
      if (this.values[i] !== value) continue;
      n += Math.min(end, this.ends[i]!) - Math.max(start, this.starts[i]!);
    }
    return n;
  }

  /** Whether any page of [start, end) is held by a run. */
  any(start: number, end: number): boolean {
    const i = this.firstEndAfter(start);
    return i < this.count && this.starts[i]! < end;
  }

  /** Give every page of [start, end) the value `value` (0 removes them from the map). */
  set(start: number, end: number, value: number): void {
    if (start >= end) return;
    // Fast path: growing the last-used run forward (faults and allocations walk memory in order).
    const h = this.hint;
    if (
      value !== 0 &&
      h < this.count &&
      this.ends[h] === start &&
      this.values[h] === value &&
      (h + 1 === this.count || this.starts[h + 1]! > end)
    ) {
      this.ends[h] = end;
      return;
    }
    // Runs [lo, hi) overlap [start, end); runs lo-1 and hi may touch it and coalesce.
    let lo = this.firstEndAfter(start);
    let hi = lo;
    while (hi < this.count && this.starts[hi]! < end) hi++;
    const ns = this.newStarts;
    const ne = this.newEnds;
    const nv = this.newValues;
    let n = 0;
    if (lo < hi && this.starts[lo]! < start) {
      ns[n] = this.starts[lo]!;
      ne[n] = start;
      nv[n++] = this.values[lo]!;
    }
    if (value !== 0) {
      ns[n] = start;
      ne[n] = end;
      nv[n++] = value;
    }
    if (lo < hi && this.ends[hi - 1]! > end) {
      ns[n] = end;
      ne[n] = this.ends[hi - 1]!;
      nv[n++] = this.values[hi - 1]!;
    }
    // Coalesce with touching neighbours of the same value.
    if (n > 0 && lo > 0 && this.ends[lo - 1] === ns[0] && this.values[lo - 1] === nv[0]) {
      lo--;
      ns[0] = this.starts[lo]!;
    }
    if (n > 0 && hi < this.count && this.starts[hi] === ne[n - 1] && this.values[hi] === nv[n - 1]) {
      ne[n - 1] = this.ends[hi]!;
      hi++;
    }
    // Coalesce among the new runs (a value equal to what was there already).
    let m = 0;
    for (let k = 0; k < n; k++) {
      if (m > 0 && ne[m - 1] === ns[k] && nv[m - 1] === nv[k]) {
        ne[m - 1] = ne[k]!;
      } else {
        ns[m] = ns[k]!;
        ne[m] = ne[k]!;
        nv[m++] = nv[k]!;
      }
    }
    this.splice(lo, hi, m);
    this.hint = lo < this.count ? lo : 0;
  }

  /** Remove every run. */
  clear(): void {
    this.count = 0;
    this.hint = 0;
  }

  /** Replace runs [lo, hi) by the first `m` scratch runs. */
  private splice(lo: number, hi: number, m: number): void {
    const newCount = this.count - (hi - lo) + m;
    if (newCount > this.starts.length) this.grow(newCount);
    if (hi - lo !== m) {
      this.starts.copyWithin(lo + m, hi, this.count);
      this.ends.copyWithin(lo + m, hi, this.count);
      this.values.copyWithin(lo + m, hi, this.count);
    }
    for (let k = 0; k < m; k++) {
      this.starts[lo + k] = this.newStarts[k]!;
      this.ends[lo + k] = this.newEnds[k]!;
      this.values[lo + k] = this.newValues[k]!;
    }
    this.count = newCount;
  }

  private grow(min: number): void {
    let cap = this.starts.length * 2;
    while (cap < min) cap *= 2;
    ensureModelMemory(cap * RUN_BYTES, 'range map');
    const s = new Float64Array(cap);
    const e = new Float64Array(cap);
    const v = new Uint8Array(cap);
    s.set(this.starts.subarray(0, this.count));
    e.set(this.ends.subarray(0, this.count));
    v.set(this.values.subarray(0, this.count));
    this.starts = s;
    this.ends = e;
    this.values = v;
  }

  /** Bytes of the run arrays (src/core/model-memory.ts). */
  bytes(): number {
    return this.starts.byteLength + this.ends.byteLength + this.values.byteLength;
  }

  /** First run whose end is after `page` (runs are disjoint, so ends are sorted too). */
  firstEndAfter(page: number): number {
    let lo = 0;
    let hi = this.count;
    const ends = this.ends;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! > page) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
