// Per-conversion cost records. A KVM_SET_MEMORY_ATTRIBUTES call that changes at least one gfn is a
// conversion: KVM zaps the range first (kvm_arch_pre_set_memory_attributes()), flushes TLBs, updates
// the attributes and the huge-page "mixed" state; with huge guest_memfd folios the folios the range
// cuts are split (and merged back when uniform). Each conversion's cost is kept in growable typed
// arrays so a run can report the distribution, not only the sum.

import { ensureModelMemory } from './model-memory.js';

const INITIAL = 64;

/** One conversion's cost, as the Vm measured it. */
export interface ConversionCost {
  /** gfns whose attribute changed. */
  pages: number;
  /** Stage-2 leaves zapped, per level (0 = 4K, 1 = 2M, 2 = 1G). */
  zaps4k: number;
  zaps2m: number;
  zaps1g: number;
  /** Huge guest_memfd folios split (a 1G folio split to 4K counts 1 + 512). */
  splits: number;
  /** Huge folios merged back. */
  merges: number;
  /** Stage-2 table pages freed. */
  tablesFreed: number;
  /** Whole-VM TLB flushes (x86 kvm_flush_remote_tlbs()). */
  tlbFull: number;
  /** Range TLB invalidations (arm64 kvm_tlb_flush_vmid_range()). */
  tlbRange: number;
  /** Wall time of the model's work for the call, in nanoseconds. */
  ns: number;
}

const FIELDS = [
  'pages',
  'zaps4k',
  'zaps2m',
  'zaps1g',
  'splits',
  'merges',
  'tablesFreed',
  'tlbFull',
  'tlbRange',
  'ns',
] as const satisfies ReadonlyArray<keyof ConversionCost>;

/** The distributions reported, by metric stem. */
const REPORTED: ReadonlyArray<readonly [string, (c: ConversionLog, i: number) => number]> = [
  ['zaps', (c, i) => c.column('zaps4k')[i]! + c.column('zaps2m')[i]! + c.column('zaps1g')[i]!],
  ['splits', (c, i) => c.column('splits')[i]!],
  ['flushes', (c, i) => c.column('tlbFull')[i]! + c.column('tlbRange')[i]!],
  ['tables_freed', (c, i) => c.column('tablesFreed')[i]!],
  ['pages', (c, i) => c.column('pages')[i]!],
];

export interface ConversionStats {
  /** conv.<what>.p50|p99|max: deterministic. */
  modeled: Record<string, number>;
  /** time.conversion_p50_ns, time.conversion_p99_ns, time.conversion_max_ns: measured. */
  timing: Record<string, number>;
}

export class ConversionLog {
  count = 0;
  private cols: Record<(typeof FIELDS)[number], Float64Array>;

  constructor() {
    this.cols = Object.fromEntries(FIELDS.map((f) => [f, new Float64Array(INITIAL)])) as Record<
      (typeof FIELDS)[number],
      Float64Array
    >;
  }

  /**
   * The clock for `ns`, in milliseconds with a fraction. performance.now() is the web platform's
   * monotonic clock (in browsers and workers as in Node), so the core stays free of Node APIs; tests
   * and tools may substitute their own.
   */
  now: () => number = () => performance.now();

  record(cost: ConversionCost): void {
    if (this.count === this.cols.pages.length) {
      ensureModelMemory(this.count * 2 * 8 * FIELDS.length, 'conversion log');
      for (const f of FIELDS) {
        const grown = new Float64Array(this.count * 2);
        grown.set(this.cols[f]);
        this.cols[f] = grown;
      }
    }
    for (const f of FIELDS) this.cols[f][this.count] = cost[f];
    this.count++;
  }

  /** Bytes of the cost columns (src/core/model-memory.ts). */
  bytes(): number {
    let n = 0;
    for (const f of FIELDS) n += this.cols[f].byteLength;
    return n;
  }

  /** Conversion `i`'s cost. */
  at(i: number): ConversionCost {
    return Object.fromEntries(FIELDS.map((f) => [f, this.cols[f][i]!])) as unknown as ConversionCost;
  }

  /** The raw column of one field (length >= count). */
  column(field: (typeof FIELDS)[number]): Float64Array {
    return this.cols[field];
  }

  /**
   * p50 / p99 / max of each reported quantity over all conversions (nearest-rank percentiles, so
   * every figure is a value some conversion really had). Empty when there was no conversion.
   */
  stats(): ConversionStats {
    const modeled: Record<string, number> = {};
    const timing: Record<string, number> = {};
    const n = this.count;
    if (n === 0) return { modeled, timing };
    const values = new Float64Array(n);
    for (const [stem, get] of REPORTED) {
      for (let i = 0; i < n; i++) values[i] = get(this, i);
      values.sort();
      modeled[`conv.${stem}.p50`] = nearestRank(values, 0.5);
      modeled[`conv.${stem}.p99`] = nearestRank(values, 0.99);
      modeled[`conv.${stem}.max`] = values[n - 1]!;
    }
    const ns = Float64Array.from(this.cols.ns.subarray(0, n)).sort();
    timing['time.conversion_p50_ns'] = nearestRank(ns, 0.5);
    timing['time.conversion_p99_ns'] = nearestRank(ns, 0.99);
    timing['time.conversion_max_ns'] = ns[n - 1]!;
    return { modeled, timing };
  }
}

/** The nearest-rank percentile of sorted values: the smallest value with >= p of them at or below. */
export function nearestRank(sorted: Float64Array, p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}
